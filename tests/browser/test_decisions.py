"""From map to decisions in one sitting, as a workshop does it: a guiding question is
answered on the board, a weakness goes into the SWOT, the SWOT item and a pain point
become actions whose ranking follows their impact and effort, and a change of the
funnel's figures changes what the what-if says to fix first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from maps.models import Action, StageAnswer, SwotItem

from .conftest import DEMO_MAP_URL, settle, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def tab(page, name: str):
    page.get_by_role("navigation", name="Map views").get_by_role("link", name=name, exact=True).click()
    settle(page)


def ranked_titles(page) -> list[str]:
    return [re.sub(r"^Rank \d+:\s*", "", t) for t in page.locator(".action-list > li .action-title").all_inner_texts()]


def test_answers_swot_actions_and_the_what_if_lead_to_a_ranked_list(page, demo):
    sign_in_to_demo(page)
    page.goto(DEMO_MAP_URL)
    editor = page.locator("#editor")

    # A guiding question of Capture, answered on the board.
    questions = page.locator("#questions-capture")
    expect(questions.locator("summary")).to_contain_text("3 of 3 open")
    questions.locator("summary").click()
    questions.get_by_role("link", name="Answer").first.click()
    editor.get_by_label("Answer").fill("About one in eight, from the benchmark report.")
    editor.get_by_label("Evidence").fill("https://example.com/benchmark-funnel")
    editor.get_by_role("button", name="Save the answer").click()
    settle(page)
    expect(questions.locator("summary")).to_contain_text("2 of 3 open")
    # The column came back with the answer, its details still open, focus on the answer.
    answered = questions.locator("li.answered")
    expect(answered).to_contain_text("About one in eight, from the benchmark report.")
    expect(answered.get_by_role("link", name="Evidence")).to_be_visible()
    expect(answered.get_by_role("link", name="Edit the answer")).to_be_focused()

    # A weakness in the SWOT, then an action made from it.
    tab(page, "SWOT")
    weaknesses = page.locator("#swot-w")
    weaknesses.get_by_label("Add a weakness").fill("No pricing page: buyers ask sales for a quote")
    weaknesses.get_by_role("button", name="Add").click()
    settle(page)
    item = weaknesses.locator(".swot-item", has_text="No pricing page")
    expect(item).to_have_count(1)
    item.get_by_role("link", name=re.compile("^Make an action from: No pricing page")).click()
    expect(editor.get_by_role("textbox", name="Title")).to_have_value("No pricing page: buyers ask sales for a quote")
    editor.get_by_role("textbox", name="Title").fill("Publish a pricing page")
    editor.get_by_role("spinbutton", name="Impact").fill("3")
    editor.get_by_role("spinbutton", name="Effort").fill("2")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)

    tab(page, "Actions")
    assert ranked_titles(page) == ["Publish a pricing page"]

    # A pain point of the board becomes an action of more impact for less effort: it goes first.
    tab(page, "Board & diagram")
    page.locator("#tp-benchmark-download a.name").click()
    editor.get_by_role("link", name="Action from the pain point").click()
    title = editor.get_by_role("textbox", name="Title")
    expect(title).to_have_value("An eleven-field form: a third of visitors abandon it before submitting.")
    expect(editor.get_by_text("Made from the Pain point of Benchmark report download")).to_be_visible()
    title.fill("Cut the benchmark form to three fields")
    editor.get_by_role("spinbutton", name="Impact").fill("5")
    editor.get_by_role("spinbutton", name="Effort").fill("1")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)
    tab(page, "Actions")
    assert ranked_titles(page) == ["Cut the benchmark form to three fields", "Publish a pricing page"]
    expect(page.locator(".formula")).to_contain_text("impact")
    expect(page.locator(".quadrant.q-quick-wins .q-title")).to_have_text(
        ["Cut the benchmark form to three fields", "Publish a pricing page"]
    )
    page.screenshot(path="/tmp/shots/decisions-actions.png", full_page=True)

    # The what-if: only Capture is below its target; Convert then falls below its own.
    tab(page, "Funnel")
    ranking = page.locator(".whatif-ranking li")
    expect(ranking).to_have_count(1)
    expect(ranking.first).to_contain_text("Capture")
    page.locator("#whatif").get_by_role("link", name=re.compile("drop-off")).first.click()  # Capture's stage editor
    expect(editor.get_by_role("heading", name="Stage: Capture")).to_be_visible()
    page.keyboard.press("Escape")
    expect(editor).to_be_empty()
    tab(page, "Board & diagram")
    page.locator("#col-convert h3 a").click()
    editor.get_by_label("Converted", exact=False).first.fill("30")
    editor.get_by_role("button", name="Save").first.click()
    expect(editor).to_be_empty()
    settle(page)
    tab(page, "Funnel")
    expect(ranking).to_have_count(2)
    expect(ranking.first).to_contain_text("Convert")
    expect(ranking.nth(1)).to_contain_text("Capture")
    page.screenshot(path="/tmp/shots/decisions-funnel.png", full_page=True)

    assert StageAnswer.objects.get().by == "demo"
    assert SwotItem.objects.get().kind == "W"
    assert sorted(Action.objects.values_list("source", flat=True)) == [
        "pain:benchmark-download",
        f"swot:{SwotItem.objects.get().key}",
    ]
