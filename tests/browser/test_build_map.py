"""The main path a person takes, in a real browser: sign in, create a map from a
template, add personas, touchpoints, content and flows, reorder, and watch the diagram
and the gap list follow every edit without a page reload."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect
from pptx import Presentation

from maps.models import ContentAsset, JourneyMap, Persona, Touchpoint
from maps.stage_templates import TEMPLATES, ensure_workspace_defaults
from tests.conftest import PASSWORD
from tests.decks import slide_text, titles

from .conftest import Watch, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["en", "ja"])
def lang(request) -> str:
    """The main path runs once in each language of the interface."""
    return request.param


def t(lang: str, msgid: str, context: str | None = None, **values) -> str:
    """What the page says for `msgid` in `lang`: the test reads the same catalogue."""
    with translation.override(lang):
        text = pgettext(context, msgid) if context else gettext(msgid)
    return text % values if values else text


def label(lang: str, field_name: str, context: str | None = None) -> re.Pattern:
    """A form field's label as Django writes it (capitalised verbose name), at its start."""
    return re.compile("^" + re.escape(capfirst(t(lang, field_name, context))))


@pytest.fixture
def library(workspace, owner, lang):
    ensure_workspace_defaults(workspace, lang)
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


def open_editor_and_save(page, opener, fill, save: str = "Save") -> None:
    opener.click()
    editor = page.locator("#editor")
    expect(editor.locator("form").first).to_be_visible()
    fill(editor)
    editor.get_by_role("button", name=save).click()
    expect(editor).to_be_empty()
    settle(page)


def settle(page) -> None:
    """Wait until the regions that refresh after an edit have finished refreshing."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def stage_list(page, stage_key: str):
    return page.locator(f'.tp-list[data-stage="{stage_key}"]')


def test_a_team_builds_a_map_in_the_browser_without_reloading(browser, live_server, library, owner, lang):
    context = browser.new_context(
        viewport={"width": 1440, "height": 900}, base_url=live_server.url, locale={"en": "en-US", "ja": "ja-JP"}[lang]
    )
    context.set_default_timeout(15_000)
    watched = Watch(context)
    page = context.new_page()
    try:
        _build_a_map(page, lang)
    finally:
        context.close()
    watched.check()


def _build_a_map(page, lang: str) -> None:
    def tr(msgid: str, context: str | None = None, **values) -> str:
        return t(lang, msgid, context, **values)

    stages = [stage.text[lang].name for stage in TEMPLATES["act-on-lifecycle"].stages]
    attract, capture = stages[0], stages[1]
    marketing = {"en": "Marketing", "ja": "マーケティング"}[lang]
    sign_in(page, "alice", PASSWORD, lang)
    expect(page.locator("html")).to_have_attribute("lang", lang)

    # Create a map from the lifecycle template, in the language the browser speaks.
    page.goto("/w/acme/")
    page.get_by_label(label(lang, "name")).fill("Workshop journey")
    page.get_by_label(tr("From a stage template")).check()
    page.get_by_role("button", name=tr("Create map")).click()
    expect(page.get_by_role("heading", name="Workshop journey")).to_be_visible()
    for name in stages:
        expect(page.locator(".stage-head h3", has_text=name)).to_be_visible()
    expect(page.locator("#diagram svg")).to_be_visible()
    journey = JourneyMap.objects.get(name="Workshop journey")
    assert journey.language == lang
    mark_page(page)

    # Every stage starts empty: the gap list says so.
    gaps = page.locator("#gaps")
    expect(gaps.locator('[data-code="stage-empty"]')).to_have_count(5)

    # Add the CFO from the library, and create the IT lead from inside the map: the panel
    # stays open between the two and says what happened.
    page.get_by_role("button", name=tr("Personas")).click()
    editor = page.locator("#editor")
    editor.get_by_role("combobox", name=label(lang, "persona")).select_option(label="Carla CFO")
    editor.get_by_role("button", name=tr("Add persona")).click()
    expect(editor.get_by_role("status")).to_have_text(tr("Persona “%(name)s” added to the map.", name="Carla CFO"))
    new_persona = editor.get_by_role("region", name=tr("New persona"))
    new_persona.get_by_role("textbox", name=label(lang, "name")).fill("Ivan IT")
    evaluator = {"en": "Technical evaluator", "ja": "技術評価者"}[lang]
    new_persona.get_by_role("combobox", name=label(lang, "role", "the buying role of a persona")).select_option(
        label=evaluator
    )
    new_persona.get_by_role("button", name=tr("Create and add to the map")).click()
    expect(editor.get_by_role("status")).to_have_text(
        tr("Persona “%(name)s” created and added to the map.", name="Ivan IT")
    )
    expect(editor.get_by_role("region", name=tr("Personas in this map"))).to_contain_text(f"Ivan IT · {evaluator}")
    ivan = Persona.objects.get(workspace__slug="acme", name="Ivan IT")
    assert (ivan.role.key, list(ivan.map_entries.values_list("map__name", flat=True))) == (
        "technical-evaluator",
        ["Workshop journey"],
    )
    editor.get_by_role("link", name=tr("Close")).click()
    expect(editor).to_be_empty()
    settle(page)

    # Add a touchpoint to the first stage that reaches the CFO.
    def fill_touchpoint(name, channel):
        def fill(ed):
            ed.get_by_role("textbox", name=label(lang, "name")).fill(name)
            ed.get_by_role("textbox", name=label(lang, "channel")).fill(channel)
            ed.get_by_role("combobox", name=label(lang, "owner")).select_option(label=marketing)
            ed.get_by_label("Carla CFO").check()

        return fill

    def add_touchpoint(stage: str, name: str, channel: str) -> None:
        opener = page.get_by_role("button", name=tr("Add a touchpoint to %(name)s", name=stage))
        open_editor_and_save(page, opener, fill_touchpoint(name, channel), save=tr("Save"))

    add_touchpoint(attract, "Industry webinar", "webinar")
    expect(stage_list(page, "attract").locator(".tp-card", has_text="Industry webinar")).to_be_visible()
    expect(gaps.locator('[data-code="stage-empty"]')).to_have_count(4)
    expect(page.locator("#diagram svg", has_text="Industry webinar")).to_be_visible()
    add_touchpoint(attract, "Search ad", "paid search")
    add_touchpoint(capture, "Pricing page", "website")

    # Draw a flow from the webinar to the pricing page (a later stage).
    expect(gaps.locator('[data-code="no-path-forward"]', has_text=attract)).to_have_count(1)
    open_editor_and_save(
        page,
        page.locator(".tp-card a.name", has_text="Industry webinar"),
        lambda ed: ed.get_by_label(f"{capture} › Pricing page").check(),
        save=tr("Save"),
    )
    webinar_card = page.locator(".tp-card", has_text="Industry webinar")
    expect(webinar_card.locator(".flows")).to_contain_text("Pricing page")
    expect(gaps.locator('[data-code="no-path-forward"]', has_text=attract)).to_have_count(0)
    expect(page.locator("#diagram svg .edge")).not_to_have_count(0)

    # Clicking a node of the diagram opens that touchpoint's form beside the board.
    page.locator("#diagram svg g.node", has_text="Pricing page").locator("a").first.click()
    expect(page.locator("#editor h2")).to_have_text(tr("Touchpoint: %(name)s", name="Pricing page"))
    page.keyboard.press("Escape")
    expect(page.locator("#editor")).to_be_empty()

    # Reorder with the keyboard-usable buttons: the search ad moves above the webinar.
    page.get_by_role("button", name=tr("Move %(name)s up", name="Search ad")).click()
    settle(page)
    expect(stage_list(page, "attract").locator(".tp-card").first).to_contain_text("Search ad")

    # Reorder by drag and drop: the webinar goes to Capture, on top of the pricing page.
    source = stage_list(page, "attract").locator(".tp-card", has_text="Industry webinar").locator(".handle")
    target = stage_list(page, "capture").locator(".tp-card", has_text="Pricing page")
    source.drag_to(target, target_position={"x": 20, "y": 5})
    settle(page)
    expect(stage_list(page, "capture").locator(".tp-card").first).to_contain_text("Industry webinar")
    moved = Touchpoint.objects.get(map=journey, name="Industry webinar")
    assert moved.stage.key == "capture"

    assert_not_reloaded(page)

    # A content gap for the CFO in the first stage disappears when its cell gets content.
    page.get_by_role("link", name=tr("Content coverage")).click()
    cell = page.locator("#cell-attract-cfo")
    expect(cell).to_have_class(re.compile(r"\bgap\b"))
    cell.get_by_label(
        tr("Link content to %(stage)s for %(persona)s", stage=attract, persona="Carla CFO")
    ).select_option(label="ROI guide")
    cell.get_by_role("button", name=tr("Link", "verb: link content to a stage")).click()
    expect(page.locator("#cell-attract-cfo")).not_to_have_class(re.compile(r"\bgap\b"))
    expect(page.locator("#cell-attract-cfo")).to_contain_text("ROI guide")
    first_stage_gaps = gaps.get_by_role("region", name=tr("Gaps of %(name)s", name=attract))
    expect(first_stage_gaps.locator("[data-code='content-gap']", has_text="Carla CFO")).to_have_count(0)
    assert_not_reloaded(page)

    # The presenter mode steps through the stages with the keyboard, in the same language.
    page.get_by_role("link", name=tr("Board &amp; diagram").replace("&amp;", "&")).click()
    page.get_by_role("link", name=tr("Present")).click()
    # Stepping starts once the presenter's script has run (it counts the stages); until
    # then every stage shows, as it does without JavaScript.
    expect(page.locator(".present-count")).to_have_text(tr("Stage %(number)s of %(count)s", number=1, count=5))
    expect(page.locator(".present-stage:not([hidden]) h2")).to_have_text(attract)
    page.keyboard.press("ArrowRight")
    expect(page.locator(".present-stage:not([hidden]) h2")).to_have_text(capture)
    expect(page.locator(".present-count")).to_have_text(tr("Stage %(number)s of %(count)s", number=2, count=5))
    page.keyboard.press("Escape")
    expect(page.get_by_role("heading", name="Workshop journey")).to_be_visible()

    # And the map goes into a deck, drawn in the view chosen for the diagram and written
    # in the language of the person who asked for it.
    page.get_by_label(tr("View", "the diagram view to show"), exact=True).select_option(label=tr("Departments"))
    page.locator("summary", has_text=tr("Export")).click()
    with page.expect_download() as download:
        page.get_by_role("link", name=tr("PowerPoint (.pptx)")).click()
    deck = Presentation(download.value.path())
    assert download.value.url.endswith("/export/pptx/?view=departments")
    assert download.value.suggested_filename == "workshop-journey-departments.pptx"
    slides = {title: slide_text(slide) for title, slide in zip(titles(deck), deck.slides, strict=True)}
    assert sum(title.startswith(("1 · ", "2 · ", "3 · ", "4 · ", "5 · ")) for title in slides) >= 2 * 5, list(slides)
    assert tr("Lead and hand-off") in slides[f"1 · {attract}"], list(slides)
    assert tr("Touchpoint") in slides[tr("%(title)s: touchpoints", title=f"1 · {attract}")]
