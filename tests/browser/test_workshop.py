"""A workshop, each person in their own browser: the facilitator (demo) and a second
member (sam) discuss a stage in comments, vote on the pain points and opportunities,
the facilitator closes the vote, presents stage by stage with the keyboard, and exports
the ranked result."""

from __future__ import annotations

import csv
import re

import pytest
from playwright.sync_api import expect
from pptx import Presentation

from .conftest import DEMO_MAP_URL, settle

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Both are pain points of the demo map: the one sam and demo both vote for, and the one
# only demo votes for.
PROCUREMENT = "Order form and e-signature: Procurement first sees the deal at signature; its checks add four weeks."
QUESTIONNAIRE = "Security questionnaire: A 300-question questionnaire answered by hand adds three weeks to the deal."
LIVE = 2500  # ms: the others' changes show within 2 seconds, plus the time to draw them


def vote_for(page, label: str, times: int = 1) -> None:
    button = page.get_by_role("button", name=f"Vote for {label}")
    for _ in range(times):
        with page.expect_response(re.compile(r"/votes/\d+/add/$")):
            button.click()
        settle(page)


def test_a_workshop_discusses_votes_presents_and_exports(two_people):
    facilitator, sam = two_people

    # --- discuss: the facilitator asks sam about the Convert stage ----------------------
    facilitator.locator("#stage-convert .comment-button").click()
    drawer = facilitator.locator("#editor")
    expect(drawer.get_by_role("heading", level=2)).to_have_text("Comments · Stage: Convert")
    drawer.get_by_role("textbox", name="Comment").fill("@sam who runs the kickoff after signature?")
    drawer.get_by_role("button", name="Comment").click()
    expect(drawer.locator(".thread")).to_have_count(1)
    expect(drawer.locator(".thread .mention")).to_have_text("@sam")

    # sam sees the count on the stage without reloading, opens it, and is told it is for them.
    badge = sam.locator("#stage-convert .comment-button")
    expect(badge).to_have_accessible_name("Comments on Convert: 1 open", timeout=LIVE)
    badge.click()
    thread = sam.locator("#editor .thread")
    expect(thread.locator(".mention-you")).to_have_text("mentions you")
    thread.get_by_text("Reply", exact=True).click()
    thread.get_by_role("textbox", name="Your reply").fill("Customer success does, within 5 days.")
    thread.get_by_role("button", name="Post reply").click()
    expect(thread.locator(".reply .comment-text")).to_have_text("Customer success does, within 5 days.")
    sam.locator("#editor").get_by_role("link", name="Close").click()

    # The facilitator's open drawer shows the reply by itself.
    expect(drawer.locator(".reply .comment-text")).to_have_text("Customer success does, within 5 days.", timeout=LIVE)
    drawer.get_by_role("link", name="Close").click()
    expect(drawer).to_be_empty()

    # --- vote: two dots each, counts hidden until the vote closes ------------------------
    facilitator.get_by_role("navigation", name="Map views").get_by_role("link", name="Votes").click()
    facilitator.get_by_role("spinbutton", name="Votes per member").fill("2")
    facilitator.get_by_role("button", name="Open the vote").click()
    expect(facilitator.get_by_role("heading", name="What should we fix first?")).to_be_visible()

    # sam's board says a vote is open; sam follows it and places both dots on one item.
    sam.get_by_role("link", name="Vote now").click(timeout=LIVE + 5000)
    expect(sam.get_by_role("status").filter(has_text="votes left")).to_have_text("2 of 2 votes left")
    vote_for(sam, PROCUREMENT, times=2)
    expect(sam.get_by_role("status").filter(has_text="votes left")).to_have_text("0 of 2 votes left")
    expect(sam.get_by_role("button", name=f"Vote for {QUESTIONNAIRE}")).to_be_disabled()
    # Hidden until it closes: nobody sees the others' counts.
    expect(sam.locator(".vote-count")).to_have_count(0)

    vote_for(facilitator, PROCUREMENT)
    vote_for(facilitator, QUESTIONNAIRE)
    expect(facilitator.locator(".vote-count")).to_have_count(0)

    # --- the facilitator closes the vote; both see the ranking -------------------------
    facilitator.once("dialog", lambda dialog: dialog.accept())
    facilitator.get_by_role("button", name="Close the vote").click()
    for page in (facilitator, sam):
        ranking = page.locator(".past-vote[open] .vote-ranking li")
        expect(ranking).to_have_count(2, timeout=LIVE)
        expect(ranking.nth(0).locator(".vote-label")).to_have_text(PROCUREMENT)
        expect(ranking.nth(0).locator(".vote-count")).to_contain_text("3 votes")
        expect(ranking.nth(1).locator(".vote-label")).to_have_text(QUESTIONNAIRE)
        expect(ranking.nth(1).locator(".vote-count")).to_contain_text("1 vote")

    # The result stands on the board too, for everyone.
    sam.goto(DEMO_MAP_URL)
    expect(sam.locator(".vote-latest .vote-ranking li").first.locator(".vote-label")).to_have_text(PROCUREMENT)

    # --- export the ranked result: CSV and the deck ------------------------------------
    with facilitator.expect_download() as download:
        facilitator.get_by_role("link", name="Download the result (.csv)").click()
    with open(download.value.path(), encoding="utf-8-sig") as result:
        rows = list(csv.DictReader(result))
    assert [(row["rank"], row["votes"], row["item"]) for row in rows[:2]] == [
        ("1", "3", PROCUREMENT),
        ("2", "1", QUESTIONNAIRE),
    ]

    facilitator.goto(DEMO_MAP_URL)
    facilitator.locator("details.menu summary", has_text="Export").click()
    with facilitator.expect_download() as download:
        facilitator.get_by_role("link", name=re.compile("PowerPoint")).click()
    deck = Presentation(download.value.path())
    texts = [" ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame) for slide in deck.slides]
    ranked = [text for text in texts if "What should we fix first?" in text]
    assert ranked, "the deck has a slide with the vote's result"
    assert ranked[0].index("Procurement first sees the deal") < ranked[0].index("A 300-question questionnaire")

    # --- present: step through the stages with the keyboard ----------------------------
    facilitator.get_by_role("link", name="Present").click()
    counter = facilitator.locator(".present-count")
    expect(counter).to_have_text("Stage 1 of 5")
    expect(facilitator.locator(".present-stage:visible h2")).to_have_text("Attract")
    for _ in range(3):
        facilitator.keyboard.press("ArrowRight")
    expect(counter).to_have_text("Stage 4 of 5")
    slide = facilitator.locator(".present-stage:visible")
    expect(slide.locator("h2")).to_have_text("Convert")
    expect(slide.locator(".questions li").first).to_be_visible()
    expect(slide.locator(".present-gap").first).to_be_visible()
    expect(slide.locator(".present-comment")).to_contain_text("@sam who runs the kickoff after signature?")
    expect(slide.locator(".present-comment")).to_contain_text("1 reply")
    expect(facilitator.locator('.strip-stage[aria-current="step"]')).to_contain_text("Convert")

    # sam resolves the thread from the board: the slide on the projector follows, and
    # stays on Convert.
    sam.locator("#stage-convert .comment-button").click()
    sam.locator("#editor .thread").get_by_role("button", name="Resolve").click()
    expect(slide.locator(".present-comment")).to_have_count(0, timeout=LIVE)
    expect(facilitator.locator(".present-stage:visible h2")).to_have_text("Convert")
    expect(counter).to_have_text("Stage 4 of 5")

    facilitator.keyboard.press("ArrowLeft")
    expect(counter).to_have_text("Stage 3 of 5")
    facilitator.keyboard.press("End")
    expect(facilitator.locator(".present-stage:visible h2")).to_have_text("Expand")

    # Escape is the way back to editing.
    facilitator.keyboard.press("Escape")
    expect(facilitator).to_have_url(re.compile(re.escape(DEMO_MAP_URL) + "$"))
    expect(facilitator.locator("#board")).to_be_visible()
