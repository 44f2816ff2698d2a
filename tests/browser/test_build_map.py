"""The main path a person takes, in a real browser: sign in, create a map from a
template, add personas, touchpoints, content and flows, reorder, and watch the diagram
and the gap list follow every edit without a page reload."""

from __future__ import annotations

import datetime
import re

import pytest
from playwright.sync_api import expect
from pptx import Presentation

from maps.models import ContentAsset, JourneyMap, Persona, Touchpoint
from maps.stage_templates import ensure_workspace_defaults
from tests.conftest import PASSWORD

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def library(workspace, owner):
    ensure_workspace_defaults(workspace)
    persona = Persona.objects.create(
        workspace=workspace, key="cfo", name="Carla CFO", role=workspace.roles.get(key="decision-maker")
    )
    ContentAsset.objects.create(
        workspace=workspace,
        key="roi-guide",
        title="ROI guide",
        type="ebook",
        status=ContentAsset.LIVE,
        last_reviewed=datetime.date.today(),
    )
    return persona


def mark_page(page) -> None:
    """A marker that a full reload would wipe: proves the page was only updated in place."""
    page.evaluate("window.__noReload = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.__noReload === true"), "the page was reloaded"


def open_editor_and_save(page, opener, fill) -> None:
    opener.click()
    editor = page.locator("#editor")
    expect(editor.locator("form").first).to_be_visible()
    fill(editor)
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)


def settle(page) -> None:
    """Wait until the regions that refresh after an edit have finished refreshing."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def stage_list(page, stage_key: str):
    return page.locator(f'.tp-list[data-stage="{stage_key}"]')


def test_a_team_builds_a_map_in_the_browser_without_reloading(page, live_server, library, owner):
    sign_in(page, "alice", PASSWORD)

    # Create a map from the English lifecycle template.
    page.goto("/w/acme/")
    page.get_by_label("Name").fill("Workshop journey")
    page.get_by_label("From a stage template").check()
    page.get_by_role("button", name="Create map").click()
    expect(page.get_by_role("heading", name="Workshop journey")).to_be_visible()
    for name in ("Attract", "Capture", "Nurture", "Convert", "Expand"):
        expect(page.locator(".stage-head h3", has_text=name)).to_be_visible()
    expect(page.locator("#diagram svg")).to_be_visible()
    mark_page(page)

    # Every stage starts empty: the gap list says so.
    gaps = page.locator("#gaps")
    expect(gaps.locator('[data-code="stage-empty"]')).to_have_count(5)

    # Add the CFO from the library, and create the IT lead from inside the map: the panel
    # stays open between the two and says what happened.
    page.get_by_role("button", name="Personas").click()
    editor = page.locator("#editor")
    editor.get_by_role("combobox", name=re.compile("^Persona")).select_option(label="Carla CFO")
    editor.get_by_role("button", name="Add persona").click()
    expect(editor.get_by_role("status")).to_have_text("Persona “Carla CFO” added to the map.")
    new_persona = editor.get_by_role("region", name="New persona")
    new_persona.get_by_role("textbox", name=re.compile("^Name")).fill("Ivan IT")
    new_persona.get_by_role("combobox", name="Role").select_option(label="Technical evaluator")
    new_persona.get_by_role("button", name="Create and add to the map").click()
    expect(editor.get_by_role("status")).to_have_text("Persona “Ivan IT” created and added to the map.")
    expect(editor.get_by_role("region", name="Personas in this map")).to_contain_text("Ivan IT · Technical evaluator")
    ivan = Persona.objects.get(workspace__slug="acme", name="Ivan IT")
    assert (ivan.role.key, list(ivan.map_entries.values_list("map__name", flat=True))) == (
        "technical-evaluator",
        ["Workshop journey"],
    )
    editor.get_by_role("link", name="Close").click()
    expect(editor).to_be_empty()
    settle(page)

    # Add a touchpoint to Attract that reaches the CFO.
    def fill_touchpoint(name, channel):
        def fill(ed):
            ed.get_by_role("textbox", name=re.compile("^Name")).fill(name)
            ed.get_by_role("textbox", name=re.compile("^Channel")).fill(channel)
            ed.get_by_role("combobox", name=re.compile("^Owner")).select_option(label="Marketing")
            ed.get_by_label("Carla CFO").check()

        return fill

    open_editor_and_save(
        page,
        page.get_by_role("button", name="Add a touchpoint to Attract"),
        fill_touchpoint("Industry webinar", "webinar"),
    )
    expect(stage_list(page, "attract").locator(".tp-card", has_text="Industry webinar")).to_be_visible()
    expect(gaps.locator('[data-code="stage-empty"]')).to_have_count(4)
    expect(page.locator("#diagram svg", has_text="Industry webinar")).to_be_visible()

    open_editor_and_save(
        page,
        page.get_by_role("button", name="Add a touchpoint to Attract"),
        fill_touchpoint("Search ad", "paid search"),
    )
    open_editor_and_save(
        page, page.get_by_role("button", name="Add a touchpoint to Capture"), fill_touchpoint("Pricing page", "website")
    )

    # Draw a flow from the webinar to the pricing page (a later stage).
    expect(gaps.locator('[data-code="no-path-forward"]', has_text="Attract")).to_have_count(1)
    open_editor_and_save(
        page,
        page.locator(".tp-card a.name", has_text="Industry webinar"),
        lambda ed: ed.get_by_label("Capture › Pricing page").check(),
    )
    webinar_card = page.locator(".tp-card", has_text="Industry webinar")
    expect(webinar_card.locator(".flows")).to_contain_text("Pricing page")
    expect(gaps.locator('[data-code="no-path-forward"]', has_text="Attract")).to_have_count(0)
    expect(page.locator("#diagram svg .edge")).not_to_have_count(0)

    # Clicking a node of the diagram opens that touchpoint's form beside the board.
    page.locator("#diagram svg g.node", has_text="Pricing page").locator("a").first.click()
    expect(page.locator("#editor h2")).to_have_text("Touchpoint: Pricing page")
    page.keyboard.press("Escape")
    expect(page.locator("#editor")).to_be_empty()

    # Reorder with the keyboard-usable buttons: the search ad moves above the webinar.
    page.get_by_role("button", name="Move Search ad up").click()
    settle(page)
    expect(stage_list(page, "attract").locator(".tp-card").first).to_contain_text("Search ad")

    # Reorder by drag and drop: the webinar goes to Capture, on top of the pricing page.
    source = stage_list(page, "attract").locator(".tp-card", has_text="Industry webinar").locator(".handle")
    target = stage_list(page, "capture").locator(".tp-card", has_text="Pricing page")
    source.drag_to(target, target_position={"x": 20, "y": 5})
    settle(page)
    expect(stage_list(page, "capture").locator(".tp-card").first).to_contain_text("Industry webinar")
    journey = JourneyMap.objects.get(name="Workshop journey")
    moved = Touchpoint.objects.get(map=journey, name="Industry webinar")
    assert moved.stage.key == "capture"

    assert_not_reloaded(page)

    # A content gap for the CFO in Attract disappears when its cell gets content.
    page.get_by_role("link", name="Content coverage").click()
    cell = page.locator("#cell-attract-cfo")
    expect(cell).to_have_class(re.compile(r"\bgap\b"))
    cell.get_by_label(re.compile("Link content to Attract")).select_option(label="ROI guide")
    cell.get_by_role("button", name="Link").click()
    expect(page.locator("#cell-attract-cfo")).not_to_have_class(re.compile(r"\bgap\b"))
    expect(page.locator("#cell-attract-cfo")).to_contain_text("ROI guide")
    cfo_gap = page.locator("#gaps [data-code='content-gap']", has_text="Attract: no live content for Carla CFO")
    expect(cfo_gap).to_have_count(0)
    assert_not_reloaded(page)

    # And the map goes into a deck, drawn in the view chosen for the diagram.
    page.get_by_role("link", name="Board & diagram").click()
    page.get_by_label("View", exact=True).select_option(label="Departments")
    page.locator("summary", has_text="Export").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="PowerPoint (.pptx)").click()
    deck = Presentation(download.value.path())
    assert download.value.url.endswith("/export/pptx/?view=departments")
    assert download.value.suggested_filename == "workshop-journey-departments.pptx"
    assert len(deck.slides) == 2 + 5
