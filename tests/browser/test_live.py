"""Two people on one map, each in their own browser: one saves a touchpoint, the other
sees it on the board and in the diagram within 2 seconds, without losing what they were
typing in their own editor or where they had scrolled the board to."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_others_change_shows_while_your_typing_and_scrolling_stay(two_people):
    watcher, editor = two_people
    # The watcher starts a new touchpoint in the drawer, then scrolls the board sideways
    # and the page down.
    watcher.locator("#add-tp-attract").click()
    name = watcher.locator('#editor input[name="name"]')
    name.fill("Half-typed idea")
    watcher.locator("#board").evaluate("b => { b.scrollLeft = 320; }")
    watcher.evaluate("() => window.scrollTo(0, 120)")
    # Each sees the other, by initials.
    expect(watcher.locator("#live-people .avatar")).to_have_attribute("title", "Sam Rivera", timeout=2500)
    expect(watcher.locator("#live-people .avatar")).to_have_text("SR")

    # Small refreshes: each page marks two of its board's columns, to see which are drawn anew.
    for page in two_people:
        page.evaluate("() => ['capture', 'expand'].forEach(k => { document.getElementById('col-' + k)._kept = true; })")

    # The editor renames the webinar and saves.
    editor.locator("#tp-webinar a.name").click()
    field = editor.locator('#editor input[name="name"]')
    field.fill("Webinar v2")
    field.press("Enter")
    expect(editor.locator("#editor form")).to_have_count(0)

    card = watcher.locator("#tp-webinar a.name")
    expect(card).to_have_text("Webinar v2", timeout=2500)
    node = watcher.locator('#diagram a[*|href$="/t/webinar/"] text').first
    expect(node).to_have_text("Webinar v2", timeout=2500)
    expect(watcher.locator("#live-line")).to_contain_text("sam:")

    # Only the webinar's column (and those with flows to it) was drawn anew, on both pages.
    for page in two_people:
        kept = page.evaluate("() => ['capture', 'expand'].map(k => !!document.getElementById('col-' + k)._kept)")
        assert kept == [False, True]

    # What the watcher typed is still there, focused, and the board and page did not jump.
    expect(name).to_have_value("Half-typed idea")
    expect(name).to_be_focused()
    assert watcher.locator("#board").evaluate("b => b.scrollLeft") == 320
    assert watcher.evaluate("() => window.scrollY") == 120

    # The editor's own change is not news to them.
    settle(editor)
    editor.wait_for_timeout(2500)
    expect(editor.locator("#live-line")).to_have_text("")
    expect(editor.locator("#tp-webinar a.name")).to_have_text("Webinar v2")
