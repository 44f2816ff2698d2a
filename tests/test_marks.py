"""One vocabulary of marks (maps.marks): a department, a severity and a feeling look the
same on the board, in the gap list, the diagram and the deck, and their colours read."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from pptx import Presentation

from maps import diagram, exports, marks
from maps.gaps import find_gaps
from maps.models import ContentAsset, JourneyMap

from .decks import slide_text
from .test_gaps import translated
from .web import html, login


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_is_measured_right():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast("#777777", "#FFFFFF") < 4.5 < contrast("#595959", "#FFFFFF")


@pytest.mark.parametrize("severity", [*marks.SEVERITIES, None])
def test_severity_text_reads_on_white_on_its_soft_colour_and_white_reads_on_it(severity):
    mark = marks.SEVERITY[severity]
    assert contrast(mark.color, "#FFFFFF") >= 4.5
    assert contrast(mark.color, mark.soft) >= 4.5


@pytest.mark.parametrize("colour", marks.DEPARTMENTS + [marks.NO_DEPARTMENT])
def test_department_text_reads_on_its_tint(colour):
    assert contrast(colour.ink, colour.tint) >= 4.5


@pytest.mark.parametrize("emotion", sorted(marks.EMOTIONS))
def test_feeling_text_reads_on_its_soft_colour(emotion):
    mood = marks.EMOTIONS[emotion]
    assert contrast(mood.color, mood.soft) >= 4.5


def css_value(name: str) -> str:
    return re.search(rf"--{name}: (#[0-9A-Fa-f]{{6}});", marks.css_properties()).group(1)


def test_a_department_has_the_same_colour_on_the_board_and_in_the_diagram(client, owner, small_map):
    login(client, owner)
    board = html(client.get(small_map.get_absolute_url()))
    (card,) = board.xpath('//article[@id="tp-demo"]')
    index = int(re.search(r"dept-c-(\d+)", card.get("class")).group(1))
    data = diagram.build_graph_data(loaded(small_map), find_gaps(loaded(small_map)))
    (demo,) = [tp for tp in data["touchpoints"] if tp["key"] == "demo"]
    assert demo["color"] == (css_value(f"dept-{index}-strong"), css_value(f"dept-{index}"))
    assert css_value(f"dept-{index}-strong") == marks.DEPARTMENTS[1].strong  # Sales, the second department


def test_the_page_gets_its_mark_colours_from_marks(client, owner, small_map):
    login(client, owner)
    page = html(client.get(small_map.get_absolute_url()))
    # A stylesheet of its own, not a <style> (the Content Security Policy refuses those).
    assert not page.xpath("//style")
    hrefs = [href for href in page.xpath("//link[@rel='stylesheet']/@href") if href.startswith(reverse("marks_css"))]
    assert len(hrefs) == 1
    sheet = client.get(hrefs[0])
    assert sheet["Content-Type"].startswith("text/css")
    assert f"--error: {marks.SEVERITY['error'].color};" in sheet.content.decode()
    assert "#b42318" not in open("static/css/app.css").read().lower()


def test_the_colour_stylesheet_is_named_by_its_content_so_browsers_may_keep_it(client):
    from maps.styles import marks_stylesheet

    text, fingerprint = marks_stylesheet()
    tag = Template("{% load marks %}{% marks_css %}").render(Context())
    assert f"?v={fingerprint}" in tag
    response = client.get(reverse("marks_css"))
    assert response.content.decode() == text
    assert "immutable" in response["Cache-Control"]


@pytest.fixture
def every_severity(small_map):
    """The small map with an error, a warning and an info gap in Decision."""
    calc = small_map.workspace.content.get(key="roi-calc")
    calc.status, calc.last_reviewed = ContentAsset.RETIRED, datetime.date(2020, 1, 1)
    calc.save()
    return small_map


def test_every_view_shows_each_severity_with_its_one_symbol(client, owner, every_severity):
    small_map = every_severity
    found = find_gaps(loaded(small_map))
    assert {g.severity for g in found if g.stage == "decision"} == {"error", "warning", "info"}
    login(client, owner)
    doc = html(client.get(small_map.get_absolute_url()))
    shown = {
        (row.get("data-code"), " ".join(row.xpath('.//span[contains(@class, "sev ")]//text()')).strip())
        for row in doc.xpath('//a[contains(@class, "gap-row")]')
    }
    for gap in found:
        assert (gap.code, marks.SEVERITY[gap.severity].symbol) in shown
    badge = " ".join(doc.xpath('//div[@id="stage-decision"]//span[contains(@class, "badge")]//text()'))
    assert badge.strip().startswith(marks.SEVERITY["error"].symbol)
    dot = exports.export_dot(loaded(small_map))
    decision_count = sum(1 for g in found if g.stage == "decision")
    assert f"{marks.SEVERITY['error'].symbol} {decision_count} gaps" in dot
    deck = Presentation(io.BytesIO(exports.export_pptx(loaded(small_map))))
    decision_slide = "\n".join(slide_text(slide) for slide in deck.slides if "2 · Decision" in slide_text(slide))
    for severity in marks.SEVERITIES:
        assert f"{marks.SEVERITY[severity].symbol} {marks.SEVERITY[severity].word}:" in decision_slide


def test_feelings_have_one_word_on_the_board_and_in_the_diagram(client, owner, small_map):
    login(client, owner)
    doc = html(client.get(small_map.get_absolute_url()))
    (face,) = doc.xpath('//article[@id="tp-demo"]//span[contains(@class, "emo")]')
    assert face.get("title").endswith(str(marks.EMOTIONS[-1].word))
    assert str(marks.EMOTIONS[-1].word) in exports.export_dot(loaded(small_map))


def test_the_gap_list_page_shows_no_handwritten_marks(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("map_gaps", args=["acme", "launch"]), HTTP_HX_REQUEST="true")
    text = " ".join(html(response).xpath('//span[contains(@class, "sev ")]//text()'))
    assert "!" not in text and " i " not in f" {text} "


def test_percent_follows_the_language():
    assert marks.percent(0.0595) == "5.95 %" and marks.percent(0.2) == "20 %"
    with translation.override("ja"):
        assert marks.percent(0.0595) == "5.95%" and marks.percent(0.001) == "0.1%"
    with translation.override("de"):
        assert marks.percent(0.0595) == "5,95 %"
    assert marks.percent(None) == "–"


def test_counted_looks_up_its_plural_in_the_active_language():
    assert marks.counted("warning", 1) == "1 warning" and marks.counted("warning", 2) == "2 warnings"
    with translated({("%(n)d warning", 0): "警告%(n)d件"}):
        assert marks.counted("warning", 2) == "警告2件"


def test_gap_label_filter_gives_the_codes_short_label():
    assert Template("{% load marks %}{{ code|gap_label }}").render(Context({"code": "no-handoff"})) == "no handoff"
