"""The pages work under the Content Security Policy: every main page of the demo comes
with the header and the browser refuses nothing on it (conftest's Watch, which also fails
every other browser test on a refusal); what used to be inline script works from app.js."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from maps import sharing, votes
from maps.models import JourneyMap

from .conftest import DEMO_MAP_URL, Watch, settle, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MAP = DEMO_MAP_URL
# Every main page of the demo, signed in as the demo owner (a superuser: the admin too).
PAGES = [
    "/w/demo/",
    MAP,
    MAP + "coverage/",
    MAP + "coverage/?by=roles",
    MAP + "accountability/",
    MAP + "funnel/",
    MAP + "review/",
    MAP + "history/",
    MAP + "history/1/",
    MAP + "comments/",
    MAP + "votes/",
    MAP + "present/",
    MAP + "present/?show=board",
    MAP + "settings/",
    MAP + "share/",
    "/w/demo/library/personas/",
    "/w/demo/library/content/",
    "/w/demo/library/content/roi-calculator/",
    "/w/demo/settings/",
    "/w/demo/trash/",
    "/w/demo/m/no-such-map/",  # the 404 page
    "/admin/",
    "/admin/maps/journeymap/",
    "/admin/maps/journeymap/add/",
]


@pytest.fixture
def with_votes(demo):
    """An open vote with its counts shown, one dot placed: the votes page draws its bars."""
    from django.contrib.auth import get_user_model

    from maps.management.commands.seed_demo import USERNAME

    journey_map = JourneyMap.objects.get(key="acme-b2b")
    owner = get_user_model().objects.get(username=USERNAME)
    session = votes.open_vote(journey_map, owner, "What first?", hidden=False)
    votes.place_dot(session, owner, session.items.first().pk)
    return session


@pytest.fixture
def share_token(demo):
    journey_map = JourneyMap.objects.get(key="acme-b2b")
    _link, token = sharing.create_link(journey_map, None, label="For the board")
    return token


def _visit_all(page, urls: list[str]) -> list[str]:
    """Open each URL; the ones that came without the header."""
    missing = []
    for url in urls:
        response = page.goto(url)
        settle(page)
        # The share link's diagram sends a stricter one of its own (default-src 'none').
        if "default-src '" not in (response.headers.get("content-security-policy") or ""):
            missing.append(url)
    return missing


def test_every_main_page_works_under_the_policy(browser, live_server, with_votes, share_token):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
    watched = Watch(context)
    page = context.new_page()
    try:
        sign_in_to_demo(page)
        missing = _visit_all(page, PAGES)
        # The vote's bars and the funnel's take their widths from data-css-vars (app.js).
        page.goto(MAP + "votes/")
        assert page.locator(".vote-bar > span").first.evaluate("el => el.getBoundingClientRect().width") > 0
        page.goto(MAP + "funnel/")
        assert page.locator(".funnel-bar .entered").first.evaluate("el => el.getBoundingClientRect().width") > 0
        # The public side, signed out: the share page, its diagram, the sign-in page.
        page.context.clear_cookies()
        missing += _visit_all(page, [f"/s/{share_token}/", f"/s/{share_token}/diagram.svg", "/accounts/login/"])
    finally:
        context.close()
    assert not missing, f"pages without the Content Security Policy: {missing}"
    watched.check()


def test_the_diagram_picker_and_fit_width_work_without_inline_script(page, demo):
    sign_in_to_demo(page)
    page.goto(MAP)
    diagram = page.locator("#diagram")
    expect(diagram.locator("svg")).to_be_visible()
    # The view goes with the request through hx-include (no hx-vals='js:').
    with page.expect_response(lambda r: "/diagram/" in r.url and "view=departments" in r.url):
        page.locator("#diagram-view").select_option("departments")
    settle(page)
    page.get_by_label("Fit width").check()
    expect(diagram).to_have_class("diagram-box fit")
    page.get_by_label("Fit width").uncheck()
    expect(diagram).to_have_class("diagram-box")


def test_the_share_page_view_picker_shows_the_chosen_view(page, share_token):
    page.goto(f"/s/{share_token}/")
    page.locator("#diagram-view").select_option("departments")
    expect(page).to_have_url(f"/s/{share_token}/?view=departments#diagram-panel")
    expect(page.locator("#diagram img")).to_have_attribute("src", f"/s/{share_token}/diagram.svg?view=departments")
    page.get_by_label("Fit width").check()
    expect(page.locator("#diagram")).to_have_class("diagram-box fit")


def test_a_refused_style_attribute_fails_the_watch(browser, live_server, demo):
    """The watch every browser test relies on does see a refusal."""
    context = browser.new_context(base_url=live_server.url)
    watched = Watch(context)
    page = context.new_page()
    page.goto("/accounts/login/")
    # Answered once the browser has reported the refusal (to the watch first: it listens
    # on the window, in the capture phase).
    page.evaluate("""() => new Promise((resolve) => {
        document.addEventListener("securitypolicyviolation", () => resolve(), { once: true });
        document.querySelector("main").setAttribute("style", "color: red");
    })""")
    expect(page.locator("main")).not_to_have_css("color", "rgb(255, 0, 0)")
    context.close()
    assert [v["directive"] for v in watched.refused()] == ["style-src-attr"]
    with pytest.raises(AssertionError, match="Content Security Policy refused"):
        watched.check()
