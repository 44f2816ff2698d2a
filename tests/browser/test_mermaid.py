"""Mermaid's own library (vendored, see vendor/README.md) draws the journeys that
`render_map --format mermaid` writes: the demo maps and a map full of hostile text. Each
parses with no directive read, draws with no error one section per stage and one task per
touchpoint, shows every name as the text it is, and leaves nothing in the SVG that runs.

No live server: the journeys are made in the test and drawn in an empty page that may
load nothing from the network."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from maps import mermaid
from maps.models import JourneyMap
from tests.test_mermaid import HOSTILE, make_hostile_journey

from .conftest import Watch

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

MERMAID = Path(__file__).parent / "vendor" / "mermaid-12.3.0.min.js.gz"

# Draws a journey and reads the SVG back in an inert document (DOMParser runs no script
# and loads no image), so whatever the SVG holds is looked at, never run.
DRAW = """
async ([text, securityLevel]) => {
  mermaid.initialize({startOnLoad: false, securityLevel});
  const parsed = await mermaid.parse(text);
  window.__journeys = (window.__journeys || 0) + 1;
  const {svg} = await mermaid.render("journey-" + window.__journeys, text);
  const doc = new DOMParser().parseFromString(svg, "text/html");
  const texts = (selector) => [...doc.querySelectorAll(selector)].map((el) => el.textContent);
  const all = [...doc.querySelectorAll("*")];
  const attributes = all.flatMap((el) => [...el.attributes]);
  return {
    config: parsed.config,
    role: doc.querySelector("svg").getAttribute("aria-roledescription"),
    sections: texts("text.journey-section"),
    tasks: texts("text.task"),
    // The legend wraps long names; each task's actor circles carry the whole name.
    actors: [...new Set(texts("circle > title"))],
    text: texts("svg > text").join("\\n"),
    elements: [...new Set(all.map((el) => el.localName))],
    handlers: attributes.filter((a) => a.name.toLowerCase().startsWith("on")).map((a) => a.name),
    scriptUrls: attributes.filter((a) => /^\\s*(javascript|data|vbscript):/i.test(a.value)).map((a) => a.value),
  };
}
"""


@pytest.fixture(scope="module")
def mermaid_page(browser):
    """A blank page with Mermaid loaded, shared by the tests of this file; it must ask
    the network for nothing."""
    context = browser.new_context()
    watched = Watch(context)
    asked: list[str] = []
    context.route("**/*", lambda route: (asked.append(route.request.url), route.abort()))
    page = context.new_page()
    page.add_script_tag(content=gzip.decompress(MERMAID.read_bytes()).decode())
    yield page
    context.close()
    watched.check()
    assert asked == [], f"Mermaid asked the network for {asked}"


def draw(page, jm: JourneyMap, security_level: str = "strict", view: str = "stages") -> dict:
    text = mermaid.journey(JourneyMap.objects.loaded().get(pk=jm.pk), view)
    return page.evaluate(DRAW, [text, security_level])


def assert_nothing_runs(drawn: dict) -> None:
    assert drawn["config"] == {}, "a directive in the text changed Mermaid's configuration"
    assert drawn["role"] == "journey"
    assert not {"script", "iframe", "img", "object", "embed"} & set(drawn["elements"])
    assert drawn["handlers"] == [] and drawn["scriptUrls"] == []


@pytest.fixture
def hostile_journey(workspace) -> JourneyMap:
    return make_hostile_journey(workspace)


@pytest.fixture
def demo_maps(db) -> list[JourneyMap]:
    call_command("seed_demo", stdout=io.StringIO())
    return list(JourneyMap.objects.filter(workspace__slug__in=["demo", "demo-ja"]).order_by("pk"))


def test_demo_maps_draw_a_section_per_stage_and_a_task_per_touchpoint(mermaid_page, demo_maps):
    assert len(demo_maps) >= 2  # the English and the Japanese example
    for jm in demo_maps:
        stages = list(jm.stages.prefetch_related("touchpoints"))
        drawn = draw(mermaid_page, jm)
        assert_nothing_runs(drawn)
        # Mermaid draws a section's box once for its run of tasks; an empty stage has none.
        assert drawn["sections"] == [stage.name for stage in stages if stage.touchpoints.all()]
        assert drawn["tasks"] == [tp.name for stage in stages for tp in stage.touchpoints.all()]
        assert jm.name in drawn["text"]
        personas = {p.name for stage in stages for tp in stage.touchpoints.all() for p in tp.personas.all()}
        assert sorted(drawn["actors"]) == sorted(personas)


def test_persona_view_of_the_demo_draws_the_persona_path(mermaid_page, demo_maps):
    jm = next(jm for jm in demo_maps if jm.key == "acme-b2b")
    persona = jm.map_personas.select_related("persona").first().persona
    drawn = draw(mermaid_page, jm, view=f"persona:{persona.key}")
    assert_nothing_runs(drawn)
    assert drawn["tasks"] and persona.name in drawn["actors"]
    assert f"{jm.name} – {persona.name}" in drawn["text"]


@pytest.mark.parametrize("security_level", ["strict", "loose"])
def test_hostile_map_draws_every_name_as_text_and_nothing_that_runs(mermaid_page, hostile_journey, security_level):
    # "loose" lets Mermaid put HTML into labels: the names must be harmless even there.
    drawn = draw(mermaid_page, hostile_journey, security_level)
    assert_nothing_runs(drawn)
    shown = list(HOSTILE.values())
    assert drawn["sections"] == shown
    assert drawn["tasks"] == shown
    assert sorted(drawn["actors"]) == sorted(name for name in shown if name != mermaid.NO_NAME)
    assert shown[0] in drawn["text"]  # the title
