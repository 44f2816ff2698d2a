"""A workshop's findings written down as they come: an answer to a stage's guiding
question shows on the board where it was asked, and a SWOT item in its quadrant, both
without reloading the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import StageAnswer, SwotItem

from .conftest import DEMO_MAP_URL, settle, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_answer_and_a_swot_item_show_without_a_reload(page, demo):
    sign_in_to_demo(page)
    page.goto(DEMO_MAP_URL)
    questions = page.locator("#questions-capture")
    expect(questions.locator("summary")).to_contain_text("3 of 3 open")
    questions.locator("summary").click()
    questions.get_by_role("link", name="Answer").first.click()

    editor = page.locator("#editor")
    editor.get_by_label("Answer").fill("About one in eight, from the benchmark report.")
    editor.get_by_label("Evidence").fill("https://example.com/benchmark-funnel")
    editor.get_by_role("button", name="Save the answer").click()
    settle(page)

    # The column came back with the answer, its details still open, one question fewer open.
    expect(questions.locator("summary")).to_contain_text("2 of 3 open")
    answered = questions.locator("li.answered")
    expect(answered).to_contain_text("About one in eight, from the benchmark report.")
    expect(answered.get_by_role("link", name="Evidence")).to_be_visible()
    expect(answered.get_by_role("link", name="Edit the answer")).to_be_focused()
    assert StageAnswer.objects.get().by == "demo"

    page.get_by_role("link", name="SWOT", exact=True).click()
    threats = page.locator("#swot-t")
    threats.get_by_label("Add a threat").fill("A rival bundles the tool for free")
    threats.get_by_role("button", name="Add").click()
    settle(page)
    expect(page.locator("#swot-t .swot-item")).to_contain_text(["A rival bundles the tool for free"])
    expect(page.locator("#swot-t").get_by_label("Add a threat")).to_have_value("")
    assert SwotItem.objects.get().kind == "T"
