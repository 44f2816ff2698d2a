"""Editing the demo map as a person does, by keyboard as well as by mouse: nothing typed
is lost without the person choosing to, focus stays where the person was while the board
redraws itself, menus behave like menus, and a renamed map shows its new name at once."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from maps.models import JourneyMap, Metric, Touchpoint

from .conftest import settle, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP_URL = "/w/demo/m/acme-b2b/"


def acme() -> JourneyMap:
    return JourneyMap.objects.get(workspace__slug="demo", key="acme-b2b")


def card_names(page, stage: str):
    return page.locator(f'.tp-list[data-stage="{stage}"] .tp-card a.name')


def press(page, locator) -> None:
    """Activate a control from the keyboard, as someone without a mouse does."""
    locator.focus()
    page.keyboard.press("Enter")
    settle(page)


def test_focus_stays_with_the_card_through_moves_saves_and_deletes(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP_URL)
    board = page.locator("#board")

    # Moves that cannot happen are not offered.
    for name in (
        "Move LinkedIn thought-leadership ads up",
        "Move LinkedIn thought-leadership ads to the previous stage",
        "Move Referral and review request down",
        "Move Referral and review request to the next stage",
    ):
        expect(board.get_by_role("button", name=name)).to_be_disabled()
    expect(board.get_by_role("button", name="Move LinkedIn thought-leadership ads to the next stage")).to_be_enabled()

    # A move redraws the board; focus stays on the button of the moved card.
    down = board.get_by_role("button", name="Move Welcome nurture track down")
    press(page, down)
    expect(card_names(page, "nurture")).to_have_text(
        ["IT asks about security", "Welcome nurture track", "MQL hand-over to sales"]
    )
    expect(down).to_be_focused()
    press(page, down)
    expect(card_names(page, "nurture").last).to_have_text("Welcome nurture track")
    # Now at the bottom, "down" is disabled: focus falls back to the card's name.
    expect(down).to_be_disabled()
    expect(page.locator("#tp-welcome-track a.name")).to_be_focused()
    right = board.get_by_role("button", name="Move Welcome nurture track to the next stage")
    press(page, right)
    expect(card_names(page, "convert").last).to_have_text("Welcome nurture track")
    expect(right).to_be_focused()

    # After a save the focus is on the saved card's name, in the redrawn board.
    press(page, page.locator("#tp-discovery-call a.name"))
    editor = page.locator("#editor")
    editor.get_by_role("textbox", name=re.compile("^Channel")).fill("video call with screen share")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)
    expect(page.locator("#tp-discovery-call a.name")).to_be_focused()
    assert Touchpoint.objects.get(map=acme(), key="discovery-call").channel == "video call with screen share"

    # After a delete it is on the next card of the stage, else the one before, else "+ Touchpoint".
    press(page, page.locator("#tp-tailored-demo a.name"))
    editor.get_by_role("link", name="Delete").click()
    editor.get_by_role("button", name="Delete").click()
    expect(editor).to_be_empty()
    settle(page)
    expect(page.locator("#tp-tailored-demo")).to_have_count(0)
    expect(page.locator("#tp-business-case a.name")).to_be_focused()
    for key in ("benchmark-download", "webinar"):
        # A click, not focus-then-Enter: the live poll may redraw the column between the two,
        # and a key pressed on a card that has just been replaced reaches nothing.
        page.locator(f"#tp-{key} a.name").click()
        settle(page)
        editor.get_by_role("link", name="Delete").click()
        editor.get_by_role("button", name="Delete").click()
        settle(page)
    expect(page.get_by_role("button", name="Add a touchpoint to Capture")).to_be_focused()


def test_menus_close_on_escape_and_outside_clicks_and_never_stack(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP_URL)
    export = page.locator("details.menu", has=page.locator("summary", has_text="Export"))
    more = page.locator("details.menu", has=page.get_by_text("More map actions"))

    export.locator("summary").click()
    expect(export).to_have_attribute("open", "")
    more.locator("summary").click()
    expect(more).to_have_attribute("open", "")
    expect(export).not_to_have_attribute("open", "")

    page.keyboard.press("Escape")
    expect(more).not_to_have_attribute("open", "")
    expect(more.locator("summary")).to_be_focused()

    export.locator("summary").click()
    page.get_by_role("heading", name="Journey board").click()
    expect(export).not_to_have_attribute("open", "")

    # The export links follow the view chosen for the diagram.
    page.get_by_label("View", exact=True).select_option(label="Departments")
    export.locator("summary").click()
    expect(export.get_by_role("link", name="Diagram as PDF")).to_have_attribute(
        "href", re.compile(r"/export/pdf/\?view=departments$")
    )
    expect(export.get_by_role("link", name="Gap list (.csv)")).to_have_attribute("href", re.compile(r"/export/csv/$"))


def test_nothing_typed_in_the_stage_editor_is_lost(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP_URL)
    page.locator("#stage-convert a", has_text="Convert").click()
    editor = page.locator("#editor")
    sla = editor.get_by_role("textbox", name="Hand-off SLA")
    sla.fill("Customer success joins the last call; kickoff within 5 days")

    # One label, one field: the stage's name and the KPI's name are told apart.
    expect(editor.locator("#id_name")).to_have_count(1)
    kpis = editor.get_by_role("region", name="KPIs")
    kpi_name = kpis.get_by_role("textbox", name=re.compile("^Name"))
    expect(kpi_name).to_have_attribute("id", "id_kpi-name")

    # Adding a KPI keeps the typed hand-off SLA; a refused KPI says why, and keeps it too.
    kpi_name.fill("Demo requests")
    kpis.get_by_role("spinbutton", name="Target").fill("40")
    kpis.get_by_role("button", name="Add KPI").click()
    expect(kpis.locator(".kpi", has_text="Demo requests")).to_be_visible()
    expect(kpi_name).to_be_focused()
    expect(kpi_name).to_have_value("")
    expect(sla).to_have_value("Customer success joins the last call; kickoff within 5 days")
    assert Metric.objects.filter(stage__map=acme(), stage__key="convert", name="Demo requests", target=40).exists()
    kpis.get_by_role("button", name="Add KPI").click()
    expect(kpis.get_by_text("This field is required.")).to_be_visible()
    expect(kpi_name).to_be_focused()
    expect(sla).to_have_value("Customer success joins the last call; kickoff within 5 days")

    # A refused save: a summary at the top says what to fix, and focus goes to the first
    # field to fix, far below the fold of the drawer.
    editor.get_by_role("spinbutton", name="Entered").fill("-5")
    editor.get_by_role("button", name="Save").click()
    summary = editor.get_by_role("alert")
    expect(summary).to_contain_text("Entered: Ensure this value is greater than or equal to 0.")
    expect(editor.get_by_role("spinbutton", name="Entered")).to_be_focused()
    expect(editor.get_by_role("textbox", name="Hand-off SLA")).to_have_value(
        "Customer success joins the last call; kickoff within 5 days"
    )
    assert acme().stages.get(key="convert").handoff_sla == ""

    # Escape asks first; "Keep editing" keeps the editor and its input.
    page.keyboard.press("Escape")
    dialog = page.get_by_role("dialog", name="Discard your changes?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Keep editing").click()
    expect(dialog).to_be_hidden()
    expect(editor.get_by_role("spinbutton", name="Entered")).to_have_value("-5")

    # Opening something else in the editor asks too.
    page.locator("#tp-contract a.name").click()
    dialog.get_by_role("button", name="Keep editing").click()
    expect(editor.get_by_role("heading", level=2)).to_have_text("Stage: Convert")

    editor.get_by_role("spinbutton", name="Entered").fill("400")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)
    assert acme().stages.get(key="convert").handoff_sla == "Customer success joins the last call; kickoff within 5 days"
    expect(page.locator("#stage-convert a", has_text="Convert")).to_be_focused()

    # Cancel on changed input asks; "Discard changes" closes and writes nothing.
    page.locator("#tp-contract a.name").click()
    editor.get_by_role("textbox", name=re.compile("^Name")).fill("Order form")
    editor.get_by_role("link", name="Cancel").click()
    dialog.get_by_role("button", name="Discard changes").click()
    expect(editor).to_be_empty()
    expect(page.locator("#tp-contract a.name")).to_be_focused()
    assert Touchpoint.objects.get(map=acme(), key="contract").name == "Order form and e-signature"

    # Nothing changed: Close and Escape close at once.
    page.locator("#tp-contract a.name").click()
    editor.get_by_role("link", name="Close").click()
    expect(editor).to_be_empty()
    page.locator("#tp-contract a.name").click()
    # Escape is for a drawer the person sees: wait until it has opened.
    expect(editor.get_by_role("heading", level=2)).to_have_text("Touchpoint: Order form and e-signature")
    page.keyboard.press("Escape")
    expect(editor).to_be_empty()
    expect(dialog).to_be_hidden()


def test_an_editor_opened_as_a_page_of_its_own_saves_and_cancels(page, demo):
    """A card opened in a new tab is an edit page, not a drawer: its buttons still work."""
    sign_in_to_demo(page)
    page.goto(MAP_URL + "t/webinar/")
    page.get_by_role("textbox", name=re.compile("^Channel")).fill("webinar series")
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(re.escape(MAP_URL) + "$"))
    expect(page.get_by_role("status")).to_contain_text("Touchpoint “Live webinar: MQL to revenue” saved.")
    assert Touchpoint.objects.get(map=acme(), key="webinar").channel == "webinar series"

    page.goto(MAP_URL + "t/webinar/")
    page.get_by_role("link", name="Delete").click()
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(MAP_URL) + "$"))
    assert Touchpoint.objects.filter(map=acme(), key="webinar").exists()


def test_renaming_a_map_shows_the_new_name_in_the_header_breadcrumb_and_title(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP_URL)
    page.locator("summary", has_text="More map actions").click()
    page.get_by_role("link", name="Rename / settings").click()
    editor = page.locator("#editor")
    editor.get_by_role("textbox", name=re.compile("^Name")).fill("Acme Pulse: 2027 buyer journey")
    editor.get_by_role("button", name="Save").click()

    expect(editor).to_be_empty()
    expect(page.locator("#map-header")).to_have_count(1)
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Pulse: 2027 buyer journey")
    expect(page.get_by_role("navigation", name="Breadcrumbs")).to_contain_text("Acme Pulse: 2027 buyer journey")
    expect(page).to_have_title("Acme Pulse: 2027 buyer journey · journeymap")
    expect(page.locator("summary", has_text="More map actions")).to_be_focused()
    assert acme().name == "Acme Pulse: 2027 buyer journey"

    # The new header works like the old one.
    page.locator("summary", has_text="More map actions").click()
    page.get_by_role("link", name="Rename / settings").click()
    expect(editor.get_by_role("textbox", name=re.compile("^Name"))).to_have_value("Acme Pulse: 2027 buyer journey")


def test_your_own_move_is_drawn_from_its_answer_and_the_board_asks_nothing_more(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP_URL)
    settle(page)
    boards, gap_lists = [], []
    page.on("response", lambda r: boards.append(r.status) if "/board/" in r.url else None)
    page.on("response", lambda r: gap_lists.append(r.status) if "/gaps/" in r.url else None)
    diagrams = []
    page.on("response", lambda r: diagrams.append(r.status) if "/diagram/" in r.url else None)
    page.evaluate(
        """() => { window.diagramSwaps = 0; document.body.addEventListener("htmx:afterSwap",
             (e) => { if (e.detail.target.id === "diagram") window.diagramSwaps += 1; }); }"""
    )

    # The move's answer is slow to arrive: the live poll (every 2 s) learns of the change
    # before the answer does, as it does on a busy server.
    def slow_answer(route):
        response = route.fetch()
        time.sleep(2.5)
        route.fulfill(response=response)

    page.route("**/move/down/", slow_answer)
    page.locator("#board").get_by_role("button", name="Move Welcome nurture track down").click()
    expect(card_names(page, "nurture")).to_have_text(
        ["IT asks about security", "Welcome nurture track", "MQL hand-over to sales"], timeout=6000
    )
    page.wait_for_timeout(2500)  # the next poll, and the refreshes it starts
    settle(page)
    # The answer brought the changed columns; the board never drew them a second time.
    assert boards and set(boards) == {204}
    # The move left the gap list as it was: it was never sent again.
    assert gap_lists and set(gap_lists) == {204}
    # The diagram may have been asked for twice (after the answer, and after a poll that
    # heard of the same change later); the drawing was put in once.
    assert diagrams and page.evaluate("window.diagramSwaps") == 1
    # Asked for again with nothing new, the diagram the page shows already stays as it is.
    asked = len(diagrams)
    with page.expect_response(lambda r: "/diagram/" in r.url):
        page.evaluate("htmx.trigger(document.body, 'map-changed')")
    settle(page)
    assert len(diagrams) == asked + 1 and page.evaluate("window.diagramSwaps") == 1
