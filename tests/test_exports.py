"""maps.exports: slide-sharp PNG, one-page PDF, a 16:9 deck and the gap list as CSV."""

from __future__ import annotations

import csv
import io
import re

from django.utils import translation
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Pt

from maps import exports
from maps.gaps import find_gaps
from maps.marks import counted
from maps.models import JourneyMap, Stage, Touchpoint

from .decks import deck_text, slide_text, titles


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


def test_png_is_sharp_enough_for_a_full_screen_slide(small_map):
    for view in ("stages", "departments", "persona:cfo"):
        with Image.open(io.BytesIO(exports.export_png(loaded(small_map), view))) as image:
            width, height = image.size
        assert width <= 3840 and height <= 2160
        assert width == 3840 or height == 2160  # fills the 16:9 box one way or the other
        assert 0.5 < width / height < 8


def test_pdf_is_one_page(small_map):
    pdf = exports.export_pdf(loaded(small_map))
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1


def test_svg_and_dot_exports(small_map):
    assert b"Launch journey" in exports.export_svg(loaded(small_map))
    assert exports.export_dot(loaded(small_map), "departments").startswith("digraph journeymap {")


def open_deck(journey_map: JourneyMap) -> Presentation:
    return Presentation(io.BytesIO(exports.export_pptx(loaded(journey_map))))


def stage_slide(deck: Presentation, title: str):
    return next(slide for slide, name in zip(deck.slides, titles(deck), strict=True) if name == title)


def test_deck_is_16_by_9_with_title_diagram_and_a_slide_per_stage(small_map):
    deck = open_deck(small_map)
    assert deck.slide_height == 6858000 and deck.slide_width * 9 == deck.slide_height * 16  # 16:9, 7.5 in high
    shown = titles(deck)
    assert shown[1:3] == ["Diagram", "1 · Awareness"] and shown.index("2 · Decision") > 2
    assert deck.core_properties.title == "Launch journey"
    title = slide_text(deck.slides[0])
    assert "Launch journey" in title and "Gaps: 1 error · 2 warnings · 0 info" in title


def test_deck_diagram_fits_the_slide_under_its_title_and_is_centred(small_map):
    deck = open_deck(small_map)
    (picture,) = [shape for shape in deck.slides[1].shapes if shape.shape_type == MSO_SHAPE_TYPE.PICTURE]
    assert picture.left >= 0 and picture.top >= Pt(72)  # below the title band
    assert picture.left + picture.width <= deck.slide_width
    assert picture.top + picture.height <= deck.slide_height
    assert abs(picture.left * 2 + picture.width - deck.slide_width) <= 2


def test_stage_slide_lists_touchpoints_content_and_gaps(small_map):
    deck = open_deck(small_map)
    text = (
        slide_text(stage_slide(deck, "2 · Decision"))
        + "\n"
        + slide_text(stage_slide(deck, "2 · Decision: touchpoints"))
    ).splitlines()
    assert ["Live demo", "video call", "Sales"] == text[text.index("Live demo") : text.index("Live demo") + 3]
    assert "• ROI calculator (live)" in text
    assert "• ✖ error: Decision: no live content for Ivan IT (Technical evaluator)." in text


def test_stage_slide_with_many_touchpoints_goes_on_and_stays_readable(small_map):
    awareness = Stage.objects.get(key="awareness")
    Touchpoint.objects.bulk_create(
        Touchpoint(map=small_map, stage=awareness, key=f"extra-{n}", name=f"Extra touchpoint {n} " * 4, order=10 + n)
        for n in range(40)
    )
    deck = open_deck(small_map)
    shown = deck_text(deck).splitlines()
    assert all(f"Extra touchpoint {n} " * 3 + f"Extra touchpoint {n}" in shown for n in range(40))
    assert "1 · Awareness: touchpoints (continued)" in titles(deck)
    runs = [
        run
        for slide in deck.slides
        for shape in slide.shapes
        for frame in (
            [shape.text_frame]
            if shape.has_text_frame
            else [cell.text_frame for row in shape.table.rows for cell in row.cells]
            if shape.has_table
            else []
        )
        for paragraph in frame.paragraphs
        for run in paragraph.runs
    ]
    assert min(run.font.size for run in runs) >= Pt(12)


def read_csv(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff")  # Excel then reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_gaps_csv_has_a_header_and_a_row_per_gap(small_map):
    journey_map = loaded(small_map)
    rows = read_csv(exports.gaps_csv(journey_map))
    assert rows[0] == ["code", "severity", "stage", "persona", "touchpoint", "content", "role", "message"]
    assert rows[1:] == [[_ or "" for _ in gap.as_dict().values()] for gap in find_gaps(journey_map)]


def test_gaps_csv_cannot_run_a_formula(small_map):
    Stage.objects.filter(key="decision").update(name='=HYPERLINK("http://evil")')
    Stage.objects.filter(key="awareness").update(name="@SUM(1)")
    rows = read_csv(exports.gaps_csv(loaded(small_map)))
    messages = [row[7] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil") has no KPI.' in messages
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_the_deck_speaks_the_active_language(small_map):
    with translation.override("ja"):
        deck = open_deck(small_map)
        decision_gaps = [gap.message for gap in find_gaps(loaded(small_map)) if gap.stage == "decision"]
        counts = [counted(severity, n) for severity, n in (("error", 1), ("warning", 2), ("info", 0))]
    title = slide_text(deck.slides[0])
    decision = "\n".join(
        slide_text(s) for s, name in zip(deck.slides, titles(deck), strict=True) if "2 · Decision" in name
    )
    assert all(count in title for count in counts) and "ギャップ" in title  # each count is its own message
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", title)  # the date as Japanese write it
    assert "タッチポイント" in decision
    assert all(message in decision for message in decision_gaps)  # the rows' own Japanese messages
    assert "ROI calculator（公開中）" in decision
    english = re.compile(r"\b(Gaps|Touchpoints|error|warning|info|Lead|Content)\b")
    assert not english.findall(title + decision)


def test_gaps_csv_headers_follow_the_language_and_its_cells_stay_codes(small_map):
    journey_map = loaded(small_map)
    english = read_csv(exports.gaps_csv(journey_map))
    with translation.override("ja"):
        japanese = read_csv(exports.gaps_csv(journey_map))
    assert japanese[0][0] == "コード" and japanese[0] != english[0] and len(japanese[0]) == len(english[0])
    assert [row[:7] for row in japanese[1:]] == [row[:7] for row in english[1:]]
