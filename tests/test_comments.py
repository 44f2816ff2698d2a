"""Comments on a map, its stages, touchpoints and gap rows: post, reply, mention,
resolve, reopen; the counts on the board, the gap list, the presenter and the deck."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pptx import Presentation

from maps import comments, exports, live
from maps.gaps import find_gaps
from maps.models import Comment, JourneyMap, Stage, Touchpoint

from .decks import slide_text, titles
from .web import HX, client_events, field_errors, html, login, snapshot

ALL_ROLES = ["owner", "editor", "viewer"]


def url(jm: JourneyMap, name: str, *args) -> str:
    return reverse(name, args=[jm.workspace.slug, jm.key, *args])


def on_stage(stage: str = "awareness", body: str = "Who owns the hand-off?") -> dict:
    return {"target": "stage", "stage": stage, "new-body": body, "where": "panel"}


def comment(jm: JourneyMap, author, body: str = "A thought", **target) -> Comment:
    target = target or {"target": "map"}
    return comments.post(jm, comments.target_from(target, jm), body, author)


def a_gap_id(jm: JourneyMap) -> str:
    return find_gaps(JourneyMap.objects.loaded().get(pk=jm.pk))[0].id


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


# --- posting ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_member_may_comment_on_a_stage_even_a_viewer(client, small_map, role, request):
    user = request.getfixturevalue(role)
    login(client, user)
    response = client.post(url(small_map, "comment_post"), on_stage(), **HX)
    assert response.status_code == 200
    assert "comments-changed" in client_events(response)
    assert "map-changed" not in client_events(response)  # comments are not map content
    posted = Comment.objects.get()
    assert (posted.target, posted.stage_key, posted.author, posted.body) == (
        "stage",
        "awareness",
        user,
        "Who owns the hand-off?",
    )
    assert html(response).xpath('//div[@id="comment-panel"]//p[@class="comment-text"]/text()') == [
        "Who owns the hand-off?"
    ]


def test_a_comment_writes_no_revision_of_the_map(client, small_map, editor):
    version = small_map.version
    login(client, editor)
    client.post(url(small_map, "comment_post"), on_stage(), **HX)
    small_map.refresh_from_db()
    assert small_map.version == version
    assert not small_map.revisions.exists()


def test_a_comment_is_announced_to_whoever_has_the_map_open(
    client, small_map, editor, django_capture_on_commit_callbacks
):
    login(client, editor)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(small_map, "comment_post"), on_stage(), **HX)
    event = live.last_event(small_map.pk)
    assert event["kind"] == "comments" and event["who"] == "bob"
    assert event["what"]["values"]["what"]["values"] == {"stage": "Awareness"}


def test_a_plain_form_post_goes_back_to_the_comments_page(client, small_map, viewer):
    login(client, viewer)
    data = {**on_stage(), "where": "page"}
    response = client.post(url(small_map, "comment_post"), data)
    posted = Comment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == (
        url(small_map, "map_comments") + f"?target=stage&stage=awareness&state=open#comment-{posted.pk}"
    )


def test_a_comment_on_a_touchpoint_and_on_a_gap_row_names_its_target(client, small_map, editor):
    login(client, editor)
    gap_id = a_gap_id(small_map)
    client.post(
        url(small_map, "comment_post"), {"target": "touchpoint", "touchpoint": "webinar", "new-body": "x"}, **HX
    )
    client.post(url(small_map, "comment_post"), {"target": "gap", "gap": gap_id, "new-body": "y"}, **HX)
    tp, gap = Comment.objects.order_by("id")
    assert (tp.target, tp.touchpoint_key) == ("touchpoint", "webinar")
    assert (gap.target, gap.gap, gap.stage_key) == ("gap", gap_id, gap_id.split("|")[1])


def test_a_comment_without_a_target_is_about_the_whole_map(client, small_map, editor):
    login(client, editor)
    client.post(url(small_map, "comment_post"), {"new-body": "Overall: good"}, **HX)
    assert Comment.objects.get().target == "map"


@pytest.mark.parametrize(
    "data",
    [
        {"target": "stage", "stage": "nope"},
        {"target": "touchpoint", "touchpoint": "nope"},
        {"target": "gap", "gap": "stage-empty|nope||||"},
        {"target": "gap", "gap": "not-a-gap-id"},
    ],
    ids=["stage", "touchpoint", "gap of no stage", "malformed gap"],
)
def test_a_comment_on_something_the_map_does_not_have_is_404_and_writes_nothing(client, small_map, editor, data):
    login(client, editor)
    before = snapshot()
    response = client.post(url(small_map, "comment_post"), {**data, "new-body": "x"}, **HX)
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "This field is required."),
        ("   \n ", "This field is required."),
        ("x" * 5001, "Ensure this value has at most 5000 characters (it has 5001)."),
        ("ring \x07 bell", "must not contain control characters (found U+0007)"),
    ],
    ids=["empty", "blank", "too long", "control character"],
)
def test_a_refused_comment_says_why_and_writes_nothing(client, small_map, viewer, body, message):
    login(client, viewer)
    before = snapshot()
    response = client.post(url(small_map, "comment_post"), on_stage(body=body), **HX)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(response, "new-body"))
    assert "comments-changed" not in client_events(response)
    assert snapshot() == before


def test_a_refused_comment_without_htmx_shows_the_page_with_the_error(client, small_map, viewer):
    login(client, viewer)
    before = snapshot()
    response = client.post(url(small_map, "comment_post"), {**on_stage(body=""), "where": "page"})
    assert response.status_code == 200
    assert field_errors(response, "new-body") == ["This field is required."]
    assert html(response).xpath('//div[@class="error-summary"]')
    assert snapshot() == before


# --- replies, resolving, reopening -----------------------------------------------------


def test_a_reply_belongs_to_its_parents_target_and_a_reply_to_a_reply_to_its_thread(client, small_map, owner, viewer):
    top = comment(small_map, owner, target="touchpoint", touchpoint="demo")
    login(client, viewer)
    response = client.post(url(small_map, "comment_reply", top.pk), {f"reply-{top.pk}-body": "Agreed"}, **HX)
    assert response.status_code == 200
    assert "comments-changed" in client_events(response)
    first = Comment.objects.get(parent=top)
    client.post(url(small_map, "comment_reply", first.pk), {f"reply-{top.pk}-body": "Me too"}, **HX)
    replies = list(top.replies.order_by("id"))
    assert [r.body for r in replies] == ["Agreed", "Me too"]
    assert all((r.target, r.touchpoint_key, r.parent_id) == ("touchpoint", "demo", top.pk) for r in replies)


def test_an_empty_reply_is_refused_in_its_own_thread(client, small_map, owner, viewer):
    top = comment(small_map, owner)
    login(client, viewer)
    before = snapshot()
    response = client.post(url(small_map, "comment_reply", top.pk), {f"reply-{top.pk}-body": ""}, **HX)
    assert response.status_code == 422
    assert field_errors(response, f"reply-{top.pk}-body") == ["This field is required."]
    assert html(response).xpath(f'//li[@id="comment-{top.pk}"]//details[@open]')
    assert snapshot() == before


def test_resolving_a_thread_resolves_its_top_comment_and_takes_the_replies_with_it(client, small_map, owner, editor):
    top = comment(small_map, owner, target="stage", stage="decision")
    answer = comments.reply(top, "ok", editor)
    login(client, editor)
    response = client.post(url(small_map, "comment_resolve", answer.pk), {"target": "stage", "stage": "decision"}, **HX)
    assert response.status_code == 200
    assert "comments-changed" in client_events(response)
    top.refresh_from_db()
    answer.refresh_from_db()
    assert top.resolved is not None and top.resolved_by == editor
    assert answer.resolved is None  # the thread is resolved on its top comment
    assert comments.threads(small_map) == []
    assert [t.pk for t in comments.threads(small_map, state="resolved")] == [top.pk]
    assert comments.open_counts(loaded(small_map)) == {}


def test_reopening_brings_the_thread_back(client, small_map, owner):
    top = comment(small_map, owner)
    comments.resolve(top, owner)
    login(client, owner)
    response = client.post(url(small_map, "comment_reopen", top.pk), {}, **HX)
    assert response.status_code == 200
    top.refresh_from_db()
    assert (top.resolved, top.resolved_by) == (None, None)


def test_a_viewer_resolves_and_reopens_their_own_comment(client, small_map, viewer):
    mine = comment(small_map, viewer)
    login(client, viewer)
    assert client.post(url(small_map, "comment_resolve", mine.pk), {}, **HX).status_code == 200
    assert client.post(url(small_map, "comment_reopen", mine.pk), {}, **HX).status_code == 200


@pytest.mark.parametrize("action", ["comment_resolve", "comment_reopen"])
def test_a_viewer_cannot_resolve_or_reopen_someone_elses_comment(client, small_map, owner, viewer, action):
    theirs = comment(small_map, owner)
    if action == "comment_reopen":
        comments.resolve(theirs, owner)
    login(client, viewer)
    before = snapshot()
    response = client.post(url(small_map, action, theirs.pk), {}, **HX)
    assert response.status_code == 403
    assert snapshot() == before


def test_a_viewer_sees_no_resolve_button_on_someone_elses_comment(client, small_map, owner, viewer):
    comment(small_map, owner, "theirs")
    comment(small_map, viewer, "mine")
    login(client, viewer)
    response = client.get(url(small_map, "map_comments"))
    doc = html(response)
    buttons = {
        " ".join(li.xpath('.//p[@class="comment-text"]//text()')): li.xpath('.//form[contains(@action, "resolve")]')
        for li in doc.xpath('//li[contains(@class, "thread")]')
    }
    assert bool(buttons["theirs"]) is False and bool(buttons["mine"]) is True


def test_a_comment_of_another_map_is_404(client, small_map, workspace, owner):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    elsewhere = comment(other, owner)
    login(client, owner)
    before = snapshot()
    for name in ("comment_reply", "comment_resolve", "comment_reopen"):
        response = client.post(url(small_map, name, elsewhere.pk), {f"reply-{elsewhere.pk}-body": "x"}, **HX)
        assert response.status_code == 404
    assert snapshot() == before


# --- who may see and write -------------------------------------------------------------


def stranger_requests(jm: JourneyMap, pk: int) -> list[tuple[str, str, dict]]:
    return [
        ("get", url(jm, "map_comments"), {}),
        ("post", url(jm, "comment_post"), on_stage()),
        ("post", url(jm, "comment_reply", pk), {f"reply-{pk}-body": "x"}),
        ("post", url(jm, "comment_resolve", pk), {}),
        ("post", url(jm, "comment_reopen", pk), {}),
    ]


def test_a_stranger_gets_404_everywhere_and_writes_nothing(client, small_map, owner, stranger):
    top = comment(small_map, owner)
    login(client, stranger)
    before = snapshot()
    for method, address, data in stranger_requests(small_map, top.pk):
        assert getattr(client, method)(address, data, **HX).status_code == 404, address
    assert snapshot() == before


def test_without_a_session_every_comment_address_goes_to_the_login_page(client, small_map, owner):
    top = comment(small_map, owner)
    before = snapshot()
    for method, address, data in stranger_requests(small_map, top.pk):
        response = getattr(client, method)(address, data)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={address}"
    assert snapshot() == before


# --- mentions --------------------------------------------------------------------------


def test_an_at_name_of_a_member_is_a_mention_and_other_names_stay_text(small_map, owner, editor, viewer, stranger):
    body = "@Bob and @charlie, see mail from x@alice.com; @mallory and @nobody are not here. Thanks @bob."
    posted = comment(small_map, owner, body)
    assert sorted(u.username for u in posted.mentions.all()) == ["bob", "charlie"]
    marked = [text for text, mention in comments.segments(posted) if mention]
    assert marked == ["@Bob", "@charlie", "@bob"]
    assert "".join(text for text, _ in comments.segments(posted)) == body


def test_mentions_are_highlighted_and_marked_for_the_person_mentioned(client, small_map, owner, editor):
    comment(small_map, owner, "@bob can you check <b>this</b>?")
    comment(small_map, owner, "nobody named")
    login(client, editor)
    doc = html(client.get(url(small_map, "map_comments")))
    assert doc.xpath('//span[@class="mention"]/text()') == ["@bob"]
    marked = doc.xpath('//li[contains(@class, "mentions-me")]')
    assert len(marked) == 1
    assert marked[0].xpath('.//span[contains(@class, "mention-you")]/text()') == ["mentions you"]
    # The text is escaped, never markup.
    assert "can you check <b>this</b>?" in marked[0].text_content()
    assert not doc.xpath("//li//b")
    login(client, owner)
    assert not html(client.get(url(small_map, "map_comments"))).xpath('//li[contains(@class, "mentions-me")]')


# --- lists and counts ------------------------------------------------------------------


def test_the_panel_shows_the_threads_of_its_target_only(client, small_map, owner):
    comment(small_map, owner, "on awareness", target="stage", stage="awareness")
    comment(small_map, owner, "on decision", target="stage", stage="decision")
    comment(small_map, owner, "on the ad", target="touchpoint", touchpoint="ad")
    login(client, owner)
    response = client.get(url(small_map, "map_comments") + "?target=stage&stage=awareness", **HX)
    doc = html(response)
    assert doc.xpath('//p[@class="comment-text"]/text()') == ["on awareness"]
    assert doc.xpath("//h2/text()") == ["Comments · Stage: Awareness"]
    everything = html(client.get(url(small_map, "map_comments"), **HX))
    assert len(everything.xpath('//p[@class="comment-text"]')) == 3


def test_the_comments_page_filters_open_and_resolved(client, small_map, owner):
    comment(small_map, owner, "still open")
    comments.resolve(comment(small_map, owner, "done"), owner)
    login(client, owner)
    texts = {}
    for state in ("open", "resolved", "all"):
        doc = html(client.get(url(small_map, "map_comments") + f"?state={state}"))
        texts[state] = doc.xpath('//p[@class="comment-text"]/text()')
    assert texts == {"open": ["still open"], "resolved": ["done"], "all": ["still open", "done"]}


def test_the_comments_tab_shows_the_open_count(client, small_map, owner):
    comment(small_map, owner)
    comment(small_map, owner, target="stage", stage="decision")
    comments.resolve(comment(small_map, owner), owner)
    login(client, owner)
    doc = html(client.get(small_map.get_absolute_url()))
    tab = doc.xpath(f'//nav[@class="tabs"]/a[@href="{url(small_map, "map_comments")}"]')[0]
    assert tab.xpath('.//span[@class="tab-count"]/text()') == ["2"]


def test_open_counts_take_one_query_and_count_threads_not_replies(small_map, owner, editor):
    top = comment(small_map, owner, target="stage", stage="awareness")
    comments.reply(top, "re", editor)
    comment(small_map, owner, target="touchpoint", touchpoint="ad")
    comment(small_map, owner, target="touchpoint", touchpoint="ad")
    comments.resolve(comment(small_map, owner, target="touchpoint", touchpoint="demo"), owner)
    jm = loaded(small_map)
    with CaptureQueriesContext(connection) as queries:
        counts = comments.open_counts(jm)
        comments.open_counts(jm)
    assert len(queries) == 1
    assert counts == {("stage", "awareness"): 1, ("touchpoint", "ad"): 2}


def badges(doc) -> dict[str, str]:
    return {
        button.getparent().getparent().get("id") or button.getparent().getparent().getparent().get("id"): "".join(
            button.xpath('.//span[@class="n"]/text()')
        )
        for button in doc.xpath('//a[contains(@class, "comment-button")]')
    }


def test_the_board_shows_open_counts_on_stage_heads_and_cards(client, small_map, owner):
    comment(small_map, owner, target="stage", stage="decision")
    comment(small_map, owner, target="touchpoint", touchpoint="webinar")
    comment(small_map, owner, target="touchpoint", touchpoint="webinar")
    login(client, owner)
    doc = html(client.get(url(small_map, "map_board"), **HX))
    assert badges(doc) == {"stage-awareness": "", "stage-decision": "1", "tp-ad": "", "tp-webinar": "2", "tp-demo": ""}
    link = doc.xpath('//article[@id="tp-webinar"]//a[contains(@class, "comment-button")]')[0]
    assert link.get("hx-get") == url(small_map, "map_comments") + "?target=touchpoint&touchpoint=webinar"
    assert link.get("hx-target") == "#editor"
    assert link.get("aria-label") == "Comments on Webinar: 2 open"
    assert "comments-changed from:body" in doc.xpath('//div[@id="board"]/@hx-trigger')[0]


def board_queries(client, jm: JourneyMap) -> int:
    """The queries of drawing the board (not of taking it from the cache)."""
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(jm, "map_board"), **HX).status_code == 200
    return len(queries)


def test_the_board_costs_the_same_queries_with_many_comments_as_with_none(client, small_map, owner):
    login(client, owner)
    board_queries(client, small_map)  # the first request of a session reads more (its settings)
    without = board_queries(client, small_map)
    extra = Stage.objects.create(map=small_map, key="extra", name="Extra", order=2)
    for n in range(5):
        Touchpoint.objects.create(map=small_map, stage=extra, key=f"tp{n}", name=f"TP {n}", order=n)
    with_more_cards = board_queries(client, small_map)
    for stage in small_map.stages.all():
        comment(small_map, owner, target="stage", stage=stage.key)
    for tp in small_map.touchpoints.all():
        comment(small_map, owner, target="touchpoint", touchpoint=tp.key)
    assert board_queries(client, small_map) == with_more_cards == without


def test_the_gap_list_shows_a_comment_button_with_its_count_on_each_row(client, small_map, owner):
    gap_id = a_gap_id(small_map)
    comment(small_map, owner, target="gap", gap=gap_id)
    login(client, owner)
    doc = html(client.get(url(small_map, "map_gaps"), **HX))
    buttons = doc.xpath('//div[@class="gap-line"]/a[contains(@class, "comment-button")]')
    assert len(buttons) == len(doc.xpath('//a[contains(@class, "gap-row")]')) > 0
    counted = [b for b in buttons if b.xpath('.//span[@class="n"]')]
    assert len(counted) == 1
    assert counted[0].get("hx-get").endswith("?target=gap&gap=" + gap_id.replace("|", "%7C"))


def test_the_gaps_region_refreshes_when_comments_change(client, small_map, owner):
    login(client, owner)
    doc = html(client.get(small_map.get_absolute_url()))
    assert "comments-changed from:body" in doc.xpath('//div[@id="gaps"]/@hx-trigger')[0]


def test_the_presenter_lists_each_stages_open_comments_under_its_gaps(client, small_map, owner, editor):
    top = comment(small_map, owner, "@bob please look", target="touchpoint", touchpoint="demo")
    comments.reply(top, "on it", editor)
    comment(small_map, owner, "stage note", target="stage", stage="decision")
    comments.resolve(comment(small_map, owner, "old", target="stage", stage="decision"), owner)
    comment(small_map, owner, "map note")
    login(client, owner)
    doc = html(client.get(url(small_map, "map_present")))
    decision = doc.xpath('//div[@id="present-comments-decision"]')[0]
    assert [" ".join(p.text_content().split()) for p in decision.xpath('.//p[@class="present-comment"]')] == [
        "alice: @bob please look · 1 reply",
        "alice: stage note",
    ]
    assert decision.xpath('.//span[contains(@class, "comment-count")]/text()') == ["2"]
    awareness = doc.xpath('//div[@id="present-comments-awareness"]')[0]
    assert "No open comments in this stage." in awareness.text_content()
    listener = doc.xpath("//div[@hx-select-oob]")[0]
    # Redrawn whole when comments or the map change: the slides hold both.
    assert listener.get("hx-select-oob") == "#present-strip,#present-slides"
    assert {"comments-changed from:body", "map-changed from:body"} <= {
        part.strip() for part in listener.get("hx-trigger").split(",")
    }
    assert doc.xpath('//div[@id="present-slides"]//div[@id="present-comments-decision"]')


def test_each_stage_slide_of_the_deck_shows_its_open_comments(small_map, owner):
    comment(small_map, owner, target="stage", stage="awareness")
    comment(small_map, owner, target="touchpoint", touchpoint="webinar")
    comment(small_map, owner, target="gap", gap="no-kpi|awareness||||")
    comments.resolve(comment(small_map, owner, target="stage", stage="decision"), owner)
    deck = Presentation(io.BytesIO(exports.export_pptx(loaded(small_map))))
    slides = dict(zip(titles(deck), deck.slides, strict=True))
    awareness, decision = slide_text(slides["1 · Awareness"]), slide_text(slides["2 · Decision"])
    assert "3 open comments" in awareness.splitlines()
    assert "open comment" not in decision


def test_an_answer_in_the_drawer_also_refreshes_the_counts_outside_it(client, small_map, owner):
    comment(small_map, owner)
    login(client, owner)
    doc = html(client.post(url(small_map, "comment_post"), on_stage(), **HX))
    assert "All comments of this map (2 open)" in doc.text_content()
    (tab,) = doc.xpath('//*[@id="comment-tab-count"]')
    assert (tab.get("hx-swap-oob"), tab.text) == ("true", "2")
    assert not doc.xpath('//*[@id="comment-filter"]')  # the drawer is not on the comments page


def test_an_answer_on_the_comments_page_refreshes_its_filter_counts(client, small_map, owner):
    login(client, owner)
    doc = html(client.post(url(small_map, "comment_post"), {**on_stage(), "where": "page"}, **HX))
    assert doc.xpath('//div[@id="comments"]')
    (nav,) = doc.xpath('//*[@id="comment-filter"]')
    assert nav.get("hx-swap-oob") == "true"
    assert "Open (1)" in nav.text_content()
