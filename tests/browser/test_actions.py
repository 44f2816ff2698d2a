"""Priorities in the browser: a pain point on the board becomes an action, which then
stands in the ranked list of the Actions tab and in its quadrant."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps.models import Action

from .conftest import DEMO_MAP_URL, settle, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_pain_point_on_the_board_becomes_an_action_in_the_ranked_list(page, demo):
    sign_in_to_demo(page)
    page.goto(DEMO_MAP_URL)
    page.locator("#tp-benchmark-download a.name").click()
    editor = page.locator("#editor")
    editor.get_by_role("link", name="Action from the pain point").click()

    # The form is filled in from the pain point: its text, its stage, where it came from.
    title = editor.get_by_role("textbox", name="Title")
    expect(title).to_have_value("An eleven-field form: a third of visitors abandon it before submitting.")
    expect(editor.get_by_text("Made from the Pain point of Benchmark report download")).to_be_visible()
    title.fill("Cut the benchmark form to three fields")
    editor.get_by_role("spinbutton", name="Impact").fill("5")
    editor.get_by_role("spinbutton", name="Effort").fill("1")
    editor.get_by_role("button", name="Save").click()
    expect(editor).to_be_empty()
    settle(page)

    page.get_by_role("navigation", name="Map views").get_by_role("link", name="Actions").click()
    first = page.locator(".action-list > li").first
    expect(first.locator(".action-title")).to_have_text("Rank 1: Cut the benchmark form to three fields")
    expect(first).to_contain_text("pain point: Benchmark report download")
    expect(page.locator(".quadrant.q-quick-wins .q-title")).to_have_text(["Cut the benchmark form to three fields"])
    assert Action.objects.get().source == "pain:benchmark-download"
