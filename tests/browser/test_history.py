"""Undo and the trash in a real browser: a change taken back with Ctrl+Z puts the board
and the diagram back as they were; a deleted touchpoint comes back from the trash with
its flows and content."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from maps import changes
from maps.models import Touchpoint
from tests.conftest import PASSWORD

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def settle(page) -> None:
    """Wait until the regions that refresh after an edit have finished refreshing."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def lane(page, stage: str) -> list[str]:
    return page.locator(f'.tp-list[data-stage="{stage}"] .tp-card').evaluate_all(
        "cards => cards.map(card => card.dataset.key)"
    )


def diagram_text(page) -> list[str]:
    """What the diagram says, in drawing order (node ids, which a person never sees, aside)."""
    expect(page.locator("#diagram svg")).to_be_visible()
    return page.locator("#diagram svg text").evaluate_all("texts => texts.map(t => t.textContent)")


def as_js(texts: list[str]) -> str:
    """The texts as JSON.stringify writes them, to compare in the page."""
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))


def test_ctrl_z_puts_the_board_and_the_diagram_back(page, small_map, owner):
    changes.record_creation(small_map, owner)
    sign_in(page, "alice", PASSWORD)
    page.goto(small_map.get_absolute_url())
    settle(page)
    board_before = (lane(page, "awareness"), lane(page, "decision"))
    diagram_before = diagram_text(page)

    page.get_by_role("button", name="Move LinkedIn ad to the next stage").click()
    settle(page)
    expect(page.locator('.tp-list[data-stage="decision"] [data-key="ad"]')).to_be_visible()
    page.wait_for_function(
        "before => JSON.stringify(Array.from(document.querySelectorAll('#diagram svg text'),"
        " t => t.textContent)) !== before",
        arg=as_js(diagram_before),
    )

    page.keyboard.press("Control+z")
    settle(page)
    expect(page.locator('.tp-list[data-stage="awareness"] [data-key="ad"]')).to_be_visible()
    assert (lane(page, "awareness"), lane(page, "decision")) == board_before
    # The diagram is laid out again after the board: wait for it rather than race it.
    page.wait_for_function(
        "before => JSON.stringify(Array.from(document.querySelectorAll('#diagram svg text'),"
        " t => t.textContent)) === before",
        arg=as_js(diagram_before),
    )
    assert diagram_text(page) == diagram_before
    expect(page.locator("#toast")).to_contain_text("Undone")


def test_a_deleted_touchpoint_comes_back_from_the_trash_with_its_flows_and_content(page, small_map, owner):
    changes.record_creation(small_map, owner)
    sign_in(page, "alice", PASSWORD)
    page.goto(small_map.get_absolute_url())
    settle(page)
    page.locator("#tp-webinar a.name").click()
    editor = page.locator("#editor")
    editor.get_by_role("link", name="Delete").click()
    expect(editor).to_contain_text("trash")
    editor.get_by_role("button", name="Delete").click()
    settle(page)
    expect(page.locator("#tp-webinar")).to_have_count(0)

    page.goto("/w/acme/trash/")
    row = page.locator("tr", has_text="Webinar")
    expect(row).to_contain_text("Launch journey")
    row.get_by_role("button", name="Bring back").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("Brought back the touchpoint ‘Webinar’ from the trash")

    page.goto(small_map.get_absolute_url())
    settle(page)
    card = page.locator("#tp-webinar")
    expect(card).to_be_visible()
    expect(card.locator(".flows")).to_contain_text("Live demo")  # its flow out
    expect(page.locator("#tp-ad .flows")).to_contain_text("Webinar")  # the flow into it
    webinar = Touchpoint.objects.get(map=small_map, key="webinar")
    assert list(webinar.content.values_list("key", flat=True)) == ["guide"]
    assert sorted(webinar.personas.values_list("key", flat=True)) == ["cfo", "it-lead"]
