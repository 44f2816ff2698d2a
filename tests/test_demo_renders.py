"""The demo map, as `seed_demo` loads it, renders in every view and every format."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image
from pptx import Presentation

from maps import interchange
from maps.diagram import diagram_for
from maps.exports import export_pptx
from maps.models import JourneyMap

from .decks import titles

DEMO = Path(__file__).resolve().parent.parent / "maps" / "demo" / "acme-b2b.json"


@pytest.fixture
def demo_map(workspace) -> JourneyMap:
    imported = interchange.import_map(interchange.parse(DEMO.read_text(encoding="utf-8")), workspace)
    return JourneyMap.objects.loaded().get(pk=imported.pk)


def demo_views(journey_map: JourneyMap) -> list[str]:
    return ["stages", "departments"] + [f"persona:{mp.persona.key}" for mp in journey_map.map_personas.all()]


def test_every_view_of_the_demo_map_renders_as_svg_png_pdf_and_dot(demo_map):
    views = demo_views(demo_map)
    assert len(views) >= 5
    for view in views:
        svg = etree.fromstring(diagram_for(demo_map, view, "svg"))
        assert svg.tag.endswith("svg")
        assert not svg.xpath("//*[local-name()='script' or local-name()='image' or local-name()='foreignObject']")
        with Image.open(BytesIO(diagram_for(demo_map, view, "png"))) as png:
            assert max(png.size) >= 1920, view
        assert diagram_for(demo_map, view, "pdf").startswith(b"%PDF")
        assert diagram_for(demo_map, view, "dot").startswith(b"digraph")


def test_the_demo_deck_has_a_slide_per_stage_in_every_view(demo_map):
    for view in ("stages", "departments", demo_views(demo_map)[-1]):
        deck = Presentation(BytesIO(export_pptx(demo_map, view)))
        shown = titles(deck)
        assert all(f"{n} · {stage.name}" in shown for n, stage in enumerate(demo_map.stages.all(), 1))
        assert deck.slide_width * 9 == deck.slide_height * 16
