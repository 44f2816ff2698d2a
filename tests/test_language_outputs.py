"""The Japanese demo map through the command line, in each language: the words of the
interface follow `--language`, the team's own text stays as written, codes never change.

"Words of the interface" come from the catalogue itself: an English word of a msgid
that the Japanese translations do not keep (KPI, SLA and PowerPoint they keep), and a
run of Japanese of a translation. Whatever the map's own text contains is left out of
both, since a Japanese team may well write "ROI" or a stage called 「検討」.
"""

from __future__ import annotations

import html
import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from pptx import Presentation

from maps import interchange
from maps.models import Workspace
from tests.decks import deck_text, pdf_text
from tests.test_i18n import PO_FILE, parse_po

pytestmark = pytest.mark.django_db

DEMO = Path(__file__).resolve().parent.parent / "maps" / "demo" / "acme-b2b-ja.json"
PLACEHOLDER = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[a-zA-Z%]|\{[^{}]*\}")
ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
JAPANESE_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u9fff々]{2,}")


def _texts(value) -> list[str]:
    """Every text of a journeymap/1 document: names, descriptions, keys, questions..."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


@pytest.fixture(scope="module")
def vocabulary() -> dict[str, set[str]]:
    entries = [entry for entry in parse_po(PO_FILE.read_text(encoding="utf-8")) if entry.msgid]
    data = _texts(json.loads(DEMO.read_text(encoding="utf-8")))
    data_words = {word.lower() for text in data for word in ENGLISH_WORD.findall(text)}
    english = {word.lower() for e in entries for word in ENGLISH_WORD.findall(PLACEHOLDER.sub(" ", e.msgid))}
    kept = {word.lower() for e in entries for text in e.msgstr.values() for word in ENGLISH_WORD.findall(text)}
    japanese = {run for e in entries for text in e.msgstr.values() for run in JAPANESE_RUN.findall(text)}
    return {
        "english": english - kept - data_words,
        "japanese": {run for run in japanese if not any(run in text for text in data)},
    }


@pytest.fixture
def ref() -> str:
    workspace = Workspace.objects.create(slug="tokyo", name="東京チーム")
    journey_map = interchange.import_map(interchange.parse(DEMO.read_text(encoding="utf-8")), workspace)
    assert journey_map.language == "ja"
    return journey_map.ref


def _gaps(ref: str, *language: str) -> list[dict]:
    out = io.StringIO()
    call_command("gaps", ref, "--json", *language, stdout=out)
    return json.loads(out.getvalue())


def _svg_text(ref: str, language: str, tmp_path: Path) -> str:
    path = tmp_path / f"map-{language}.svg"
    call_command("render_map", ref, "--format", "svg", "-o", str(path), "--language", language)
    svg = path.read_text(encoding="utf-8")
    # What a person reads: the labels, and the tooltips a pointer shows.
    shown = re.findall(r"<text[^>]*>(.*?)</text>", svg) + re.findall(r'xlink:title="([^"]*)"', svg)
    return "\n".join(html.unescape(text) for text in shown)


def _deck_text(ref: str, language: str, tmp_path: Path) -> str:
    path = tmp_path / f"map-{language}.pptx"
    call_command("render_map", ref, "--format", "pptx", "-o", str(path), "--language", language)
    return deck_text(Presentation(str(path)))


def _handout_text(ref: str, language: str, tmp_path: Path) -> str:
    path = tmp_path / f"map-{language}.handout.pdf"
    call_command("render_map", ref, "--format", "handout", "-o", str(path), "--language", language)
    return pdf_text(path.read_bytes())


def _outputs(ref: str, language: str, tmp_path: Path) -> dict[str, str]:
    return {
        "gaps --json": "\n".join(row["message"] for row in _gaps(ref, "--language", language)),
        "render_map --format svg": _svg_text(ref, language, tmp_path),
        "render_map --format pptx": _deck_text(ref, language, tmp_path),
        "render_map --format handout": _handout_text(ref, language, tmp_path),
    }


def test_in_japanese_no_english_word_of_the_interface_is_left(ref, vocabulary, tmp_path):
    for output, text in _outputs(ref, "ja", tmp_path).items():
        leaked = sorted({word for word in ENGLISH_WORD.findall(text) if word.lower() in vocabulary["english"]})
        assert not leaked, f"{output} --language ja still says: {leaked}"


def test_in_english_no_japanese_word_of_the_interface_is_left(ref, vocabulary, tmp_path):
    for output, text in _outputs(ref, "en", tmp_path).items():
        leaked = sorted(run for run in vocabulary["japanese"] if run in text)
        assert not leaked, f"{output} --language en still says: {leaked}"


def test_the_vocabularies_are_not_empty_so_the_checks_above_can_fail(vocabulary):
    assert {"touchpoints", "legend", "gaps"} <= vocabulary["english"]
    assert {"タッチポイント", "ギャップ"} <= vocabulary["japanese"]


def test_gap_rows_are_the_same_in_every_language_but_for_their_message(ref):
    def without_message(rows: list[dict]) -> list[dict]:
        return [{key: value for key, value in row.items() if key != "message"} for row in rows]

    english, japanese = _gaps(ref, "--language", "en"), _gaps(ref, "--language", "ja")
    assert without_message(english) == without_message(japanese)
    assert all(e["message"] != j["message"] for e, j in zip(english, japanese))


def test_the_command_line_speaks_the_maps_language_unless_told_otherwise(ref):
    assert _gaps(ref) == _gaps(ref, "--language", "ja")
