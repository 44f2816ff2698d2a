"""Dot voting (maps.votes and its views): open a vote on the map's pain points and
opportunities, place and take back dots up to N each, hidden or shown counts, close,
the ranked result on the page, in CSV and on the deck."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pptx import Presentation

from maps import exports, live, votes
from maps.changes import Refused
from maps.gaps import find_gaps
from maps.models import JourneyMap, Touchpoint, VoteDot, VoteItem, VoteSession

from .decks import slide_text, titles
from .web import HX, client_events, field_errors, html, login, snapshot


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


@pytest.fixture
def voting_map(small_map) -> JourneyMap:
    """The small map with two pain points and one opportunity to vote on."""
    Touchpoint.objects.filter(map=small_map, key="ad").update(pain_point="Nobody  clicks")
    Touchpoint.objects.filter(map=small_map, key="webinar").update(opportunity="Record it")
    Touchpoint.objects.filter(map=small_map, key="demo").update(pain_point="Too long", opportunity="Shorter demo")
    return small_map


def url(name: str, journey_map: JourneyMap, *args) -> str:
    return reverse(name, args=[journey_map.workspace.slug, journey_map.key, *args])


def open_session(journey_map: JourneyMap, user, **options) -> VoteSession:
    return votes.open_vote(loaded(journey_map), user, options.pop("title", "Fix first?"), **options)


def item(session: VoteSession, key: str) -> VoteItem:
    return session.items.get(key=key)


def dot(client: Client, session: VoteSession, key: str, action: str = "add", htmx: bool = True):
    extra = HX if htmx else {}
    target = url("vote_dot", session.map, session.pk, action)
    return client.post(target, {"item": item(session, key).pk}, **extra)


# --- what a vote is on ------------------------------------------------------------------------


def test_a_vote_is_on_pain_points_then_opportunities_stage_by_stage(voting_map):
    items = votes.collect_items(loaded(voting_map))
    assert [(i.kind, i.key, i.stage_key, i.label) for i in items] == [
        ("pain", "pain:ad", "awareness", "LinkedIn ad: Nobody clicks"),
        ("opportunity", "opportunity:webinar", "awareness", "Webinar: Record it"),
        ("pain", "pain:demo", "decision", "Live demo: Too long"),
        ("opportunity", "opportunity:demo", "decision", "Live demo: Shorter demo"),
    ]
    assert [i.order for i in items] == [0, 1, 2, 3]


def test_a_vote_with_gaps_adds_each_gap_row_under_its_stage(voting_map):
    journey_map = loaded(voting_map)
    items = votes.collect_items(journey_map, include_gaps=True)
    gaps = find_gaps(journey_map)
    gap_items = [i for i in items if i.kind == "gap"]
    assert [i.key for i in gap_items] == [f"gap:{gap.id}" for gap in gaps]
    assert [i.label for i in gap_items] == [gap.message for gap in gaps]
    stage_order = [i.stage_key for i in items]
    assert stage_order == sorted(stage_order, key=["awareness", "decision"].index)


def test_opening_a_vote_writes_its_items_down(voting_map, owner):
    session = open_session(voting_map, owner, votes_each=2, include_gaps=True)
    assert session.items.filter(kind="pain").count() == 2
    assert session.items.filter(kind="gap").count() == len(find_gaps(loaded(voting_map)))
    Touchpoint.objects.filter(map=voting_map, key="ad").update(pain_point="Changed later")
    assert item(session, "pain:ad").label == "LinkedIn ad: Nobody clicks"


def test_opening_without_gaps_leaves_them_out(voting_map, owner):
    session = open_session(voting_map, owner)
    assert not session.items.filter(kind="gap").exists()
    assert session.items.count() == 4


# --- opening, by whom -----------------------------------------------------------------------


def open_data(**changes) -> dict:
    return {"title": "What hurts most?", "votes_each": "3", "hidden": "on", "ends": "", **changes}


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_facilitators_open_a_vote(client, voting_map, role, request):
    login(client, request.getfixturevalue(role))
    response = client.post(url("vote_open", voting_map), open_data(include_gaps="on"), **HX)
    assert response.status_code == 200
    assert "votes-changed" in client_events(response)
    session = VoteSession.objects.get(map=voting_map)
    assert (session.title, session.votes_each, session.hidden, session.ends) == ("What hurts most?", 3, True, None)
    assert session.items.filter(kind="gap").exists()
    assert session.created_by == request.getfixturevalue(role)


def test_opening_without_htmx_goes_back_to_the_votes_tab(client, voting_map, owner):
    login(client, owner)
    response = client.post(url("vote_open", voting_map), open_data(hidden=""))
    assert response.status_code == 302 and response["Location"] == url("map_votes", voting_map)
    assert VoteSession.objects.get(map=voting_map).hidden is False


def test_viewer_cannot_open_a_vote(client, voting_map, viewer):
    login(client, viewer)
    before = snapshot()
    assert client.post(url("vote_open", voting_map), open_data(), **HX).status_code == 403
    assert snapshot() == before


def test_stranger_gets_404_everywhere(client, voting_map, owner, stranger):
    session = open_session(voting_map, owner)
    login(client, stranger)
    before = snapshot()
    assert client.get(url("map_votes", voting_map)).status_code == 404
    assert client.get(url("vote_latest", voting_map)).status_code == 404
    assert client.get(url("vote_csv", voting_map, session.pk)).status_code == 404
    assert client.post(url("vote_open", voting_map), open_data(), **HX).status_code == 404
    assert dot(client, session, "pain:ad").status_code == 404
    assert client.post(url("vote_close", voting_map, session.pk), **HX).status_code == 404
    assert snapshot() == before


def test_anonymous_people_are_sent_to_sign_in(client, voting_map, owner):
    session = open_session(voting_map, owner)
    before = snapshot()
    for response, target in (
        (client.get(url("map_votes", voting_map)), url("map_votes", voting_map)),
        (client.post(url("vote_open", voting_map), open_data()), url("vote_open", voting_map)),
        (dot(client, session, "pain:ad", htmx=False), url("vote_dot", voting_map, session.pk, "add")),
        (client.post(url("vote_close", voting_map, session.pk)), url("vote_close", voting_map, session.pk)),
    ):
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={target}"
    assert snapshot() == before


@pytest.mark.parametrize(
    "data, field, message",
    [
        (open_data(votes_each="0"), "votes_each", "greater than or equal to 1"),
        (open_data(votes_each="21"), "votes_each", "less than or equal to 20"),
        (open_data(title=""), "title", "This field is required."),
        (open_data(ends="2001-01-01T10:00"), "ends", "The end time must be in the future."),
    ],
)
def test_bad_input_is_shown_on_its_field_and_writes_nothing(client, voting_map, owner, data, field, message):
    login(client, owner)
    before = snapshot()
    response = client.post(url("vote_open", voting_map), data, **HX)
    assert response.status_code == 422
    assert any(message in error for error in field_errors(response, field))
    assert snapshot() == before


def test_a_map_with_nothing_to_vote_on_refuses_a_vote(client, small_map, owner):
    login(client, owner)
    before = snapshot()
    response = client.post(url("vote_open", small_map), open_data(), **HX)
    assert response.status_code == 400
    assert "nothing to vote on" in response.content.decode()
    assert snapshot() == before


def test_a_second_vote_waits_until_the_first_is_closed(client, voting_map, owner):
    first = open_session(voting_map, owner)
    login(client, owner)
    before = snapshot()
    assert client.post(url("vote_open", voting_map), open_data(), **HX).status_code == 400
    assert snapshot() == before
    votes.close_vote(first, owner)
    assert client.post(url("vote_open", voting_map), open_data(), **HX).status_code == 200
    assert VoteSession.objects.filter(map=voting_map).count() == 2


def test_opening_with_an_end_time_keeps_it(client, voting_map, owner):
    login(client, owner)
    ends = timezone.localtime() + datetime.timedelta(hours=2)
    client.post(url("vote_open", voting_map), open_data(ends=ends.strftime("%Y-%m-%dT%H:%M")), **HX)
    session = VoteSession.objects.get(map=voting_map)
    assert abs(session.ends - ends) < datetime.timedelta(minutes=1)


# --- dots -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "editor", "viewer"])
def test_every_member_places_dots_viewers_too(client, voting_map, owner, role, request):
    session = open_session(voting_map, owner)
    user = request.getfixturevalue(role)
    login(client, user)
    response = dot(client, session, "pain:ad")
    assert response.status_code == 200
    assert "votes-changed" in client_events(response)
    assert VoteDot.objects.filter(item__session=session, user=user).count() == 1


def test_several_dots_may_go_on_one_item_up_to_n(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, votes_each=2)
    login(client, viewer)
    assert dot(client, session, "pain:ad").status_code == 200
    assert dot(client, session, "pain:ad").status_code == 200
    before = snapshot()
    response = dot(client, session, "pain:demo")
    assert response.status_code == 400
    assert "used all your 2 votes" in response.content.decode()
    assert snapshot() == before
    assert VoteDot.objects.filter(item__session=session, user=viewer).count() == 2


def test_a_double_click_on_the_last_dot_places_it_once(client, voting_map, owner, editor):
    session = open_session(voting_map, owner, votes_each=1)
    login(client, editor)
    first, second = dot(client, session, "pain:ad"), dot(client, session, "pain:ad")
    assert (first.status_code, second.status_code) == (200, 400)
    assert VoteDot.objects.filter(item__session=session, user=editor).count() == 1


def test_each_member_has_their_own_n_votes(voting_map, owner, editor):
    session = open_session(voting_map, owner, votes_each=1)
    votes.place_dot(session, editor, item(session, "pain:ad").pk)
    with pytest.raises(Refused):
        votes.place_dot(session, editor, item(session, "pain:demo").pk)
    votes.place_dot(session, owner, item(session, "pain:demo").pk)
    assert VoteDot.objects.filter(item__session=session).count() == 2


def test_each_member_sees_their_dots_and_how_many_are_left(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, votes_each=3)
    login(client, viewer)
    dot(client, session, "pain:ad")
    dot(client, session, "pain:ad")
    page = client.get(url("map_votes", voting_map))
    text = " ".join(html(page).text_content().split())
    assert "1 of 3 votes left" in text
    row = html(page).get_element_by_id(f"vote-item-{item(session, 'pain:ad').pk}")
    assert "●●" in row.text_content() and "You gave it 2 votes." in row.text_content()


def test_taking_back_a_dot_frees_it(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, votes_each=1)
    login(client, viewer)
    dot(client, session, "pain:ad")
    response = dot(client, session, "pain:ad", "remove")
    assert response.status_code == 200 and "votes-changed" in client_events(response)
    assert not VoteDot.objects.filter(item__session=session).exists()
    assert dot(client, session, "pain:demo").status_code == 200


def test_taking_back_what_one_did_not_place_is_refused_and_writes_nothing(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner)
    votes.place_dot(session, owner, item(session, "pain:ad").pk)
    login(client, viewer)
    before = snapshot()
    response = dot(client, session, "pain:ad", "remove")
    assert response.status_code == 400
    assert snapshot() == before


def test_an_item_of_another_vote_or_no_item_is_refused(client, voting_map, owner, viewer):
    old = open_session(voting_map, owner)
    votes.close_vote(old, owner)
    session = open_session(voting_map, owner)
    login(client, viewer)
    before = snapshot()
    target = url("vote_dot", voting_map, session.pk, "add")
    assert client.post(target, {"item": item(old, "pain:ad").pk}, **HX).status_code == 400
    assert client.post(target, {"item": "x"}, **HX).status_code == 400
    assert client.post(url("vote_dot", voting_map, session.pk, "bogus"), **HX).status_code == 404
    assert snapshot() == before


def test_a_dot_without_htmx_goes_back_to_the_votes_tab(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner)
    login(client, viewer)
    response = dot(client, session, "pain:ad", htmx=False)
    assert response.status_code == 302 and response["Location"] == url("map_votes", voting_map)


# --- hidden or shown; closing ----------------------------------------------------------------


def test_hidden_counts_stay_hidden_from_everyone_until_the_vote_closes(client, voting_map, owner, editor, viewer):
    session = open_session(voting_map, owner, hidden=True)
    for user in (editor, viewer, viewer):
        votes.place_dot(session, user, item(session, "pain:demo").pk)
    result = votes.tally(session, owner)
    assert not result.shown and {row.count for row in result.rows} == {None}
    login(client, owner)
    page = client.get(url("map_votes", voting_map))
    assert not html(page).find_class("vote-count")
    before = snapshot()
    refused = client.get(url("vote_csv", voting_map, session.pk))
    assert refused.status_code == 302 and refused["Location"] == url("map_votes", voting_map)
    assert snapshot() == before
    votes.close_vote(session, owner)
    result = votes.tally(session, owner)
    assert result.shown and result.ranked[0].item.key == "pain:demo" and result.ranked[0].count == 3


def test_shown_counts_are_seen_while_the_vote_is_open(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, hidden=False)
    votes.place_dot(session, viewer, item(session, "opportunity:demo").pk)
    login(client, owner)
    page = client.get(url("map_votes", voting_map))
    row = html(page).get_element_by_id(f"vote-item-{item(session, 'opportunity:demo').pk}")
    assert "1 vote" in row.text_content()
    assert votes.tally(session, owner).ranked[0].item.key == "opportunity:demo"


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_facilitators_close_a_vote_and_then_no_dot_changes(client, voting_map, owner, viewer, role, request):
    session = open_session(voting_map, owner)
    votes.place_dot(session, viewer, item(session, "pain:ad").pk)
    login(client, request.getfixturevalue(role))
    response = client.post(url("vote_close", voting_map, session.pk), **HX)
    assert response.status_code == 200 and "votes-changed" in client_events(response)
    session.refresh_from_db()
    assert session.closed is not None
    login(client, viewer)
    before = snapshot()
    assert dot(client, session, "pain:demo").status_code == 400
    assert dot(client, session, "pain:ad", "remove").status_code == 400
    assert snapshot() == before


def test_closing_twice_is_refused(client, voting_map, owner):
    session = open_session(voting_map, owner)
    votes.close_vote(session, owner)
    login(client, owner)
    before = snapshot()
    assert client.post(url("vote_close", voting_map, session.pk), **HX).status_code == 400
    assert snapshot() == before


def test_viewer_cannot_close_a_vote(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner)
    login(client, viewer)
    before = snapshot()
    assert client.post(url("vote_close", voting_map, session.pk), **HX).status_code == 403
    assert snapshot() == before


def test_after_the_end_time_no_dot_changes(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, ends=timezone.now() + datetime.timedelta(minutes=5))
    votes.place_dot(session, viewer, item(session, "pain:ad").pk)
    VoteSession.objects.filter(pk=session.pk).update(ends=timezone.now() - datetime.timedelta(seconds=1))
    login(client, viewer)
    before = snapshot()
    assert dot(client, session, "pain:demo").status_code == 400
    assert dot(client, session, "pain:ad", "remove").status_code == 400
    assert snapshot() == before
    assert votes.current_vote(voting_map) is None
    assert [s.pk for s in votes.past_votes(voting_map)] == [session.pk]
    assert votes.tally(VoteSession.objects.get(pk=session.pk), viewer).shown


def test_the_votes_page_shows_the_form_only_to_facilitators(client, voting_map, editor, viewer):
    login(client, editor)
    assert html(client.get(url("map_votes", voting_map))).xpath(f'//form[@action="{url("vote_open", voting_map)}"]')
    login(client, viewer)
    page = client.get(url("map_votes", voting_map))
    assert page.status_code == 200
    assert not html(page).xpath(f'//form[@action="{url("vote_open", voting_map)}"]')


def test_only_facilitators_see_the_close_button(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner)
    close = f'//form[@action="{url("vote_close", voting_map, session.pk)}"]'
    login(client, owner)
    assert html(client.get(url("map_votes", voting_map))).xpath(close)
    login(client, viewer)
    assert not html(client.get(url("map_votes", voting_map))).xpath(close)


def test_the_votes_fragment_is_what_htmx_gets(client, voting_map, owner):
    login(client, owner)
    response = client.get(url("map_votes", voting_map), **HX)
    assert response.content.decode().lstrip().startswith('<div id="votes"')


def test_the_map_tabs_lead_to_the_votes(client, voting_map, viewer):
    login(client, viewer)
    page = client.get(voting_map.get_absolute_url())
    assert html(page).xpath(f'//nav[contains(@class, "tabs")]//a[@href="{url("map_votes", voting_map)}"]')
    assert html(page).xpath(f'//*[@hx-get="{url("vote_latest", voting_map)}"]')


# --- the result -------------------------------------------------------------------------------


def test_the_ranking_is_by_dots_then_by_order(voting_map, owner, editor, viewer):
    session = open_session(voting_map, owner, votes_each=3, hidden=False)
    place = [(editor, "opportunity:demo"), (viewer, "opportunity:demo"), (editor, "pain:demo"), (viewer, "pain:ad")]
    for user, key in place:
        votes.place_dot(session, user, item(session, key).pk)
    ranked = votes.tally(session, owner).ranked
    assert [(row.item.key, row.count, row.rank) for row in ranked] == [
        ("opportunity:demo", 2, 1),
        ("pain:ad", 1, 2),  # ties go in the order the items were written down
        ("pain:demo", 1, 2),
        ("opportunity:webinar", 0, 4),
    ]
    result = votes.tally(session, owner)
    assert (result.total, result.voters) == (4, 2)


def test_the_board_shows_the_top_five_of_the_latest_closed_vote(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner, title="Old question")
    votes.place_dot(session, viewer, item(session, "pain:demo").pk)
    votes.close_vote(session, owner)
    login(client, viewer)
    panel = html(client.get(url("vote_latest", voting_map)))
    assert "Old question" in panel.text_content()
    rows = panel.xpath('//ol[contains(@class, "vote-ranking")]/li')
    assert [" ".join(li.text_content().split()) for li in rows] == ["1 Live demo: Too long 1"]


def test_the_board_panel_is_empty_without_votes(client, voting_map, viewer):
    login(client, viewer)
    assert client.get(url("vote_latest", voting_map)).content.decode().strip() == ""


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode()
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_of_a_result_is_ranked_and_cannot_run_a_formula(client, voting_map, owner, viewer):
    Touchpoint.objects.filter(map=voting_map, key="demo").update(name="=HYPERLINK(1)")
    session = open_session(voting_map, owner)
    votes.place_dot(session, viewer, item(session, "pain:demo").pk)
    votes.close_vote(session, owner)
    login(client, viewer)
    response = client.get(url("vote_csv", voting_map, session.pk))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f"launch.vote-{session.pk}.csv" in response["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0] == ["rank", "votes", "kind", "stage", "item", "key"]
    assert rows[1] == ["1", "1", "pain", "Decision", "'=HYPERLINK(1): Too long", "pain:demo"]
    assert [row[1] for row in rows[1:]] == ["1", "0", "0", "0"]


def test_the_votes_page_links_the_csv_of_past_votes(client, voting_map, owner):
    session = open_session(voting_map, owner)
    votes.close_vote(session, owner)
    login(client, owner)
    page = html(client.get(url("map_votes", voting_map)))
    assert page.xpath(f'//a[@href="{url("vote_csv", voting_map, session.pk)}"]')


def deck(journey_map: JourneyMap) -> Presentation:
    return Presentation(io.BytesIO(exports.export_pptx(loaded(journey_map))))


def test_the_deck_has_no_vote_slide_without_a_closed_vote(voting_map, owner):
    assert not [title for title in titles(deck(voting_map)) if title.startswith("Vote:")]
    open_session(voting_map, owner)
    assert not [title for title in titles(deck(voting_map)) if title.startswith("Vote:")]


def test_the_deck_ends_with_the_ranked_result_of_the_latest_closed_vote(voting_map, owner, viewer, editor):
    session = open_session(voting_map, owner, title="What hurts most?")
    for user in (viewer, editor):
        votes.place_dot(session, user, item(session, "pain:demo").pk)
    votes.place_dot(session, viewer, item(session, "opportunity:webinar").pk)
    votes.close_vote(session, owner)
    slides = deck(voting_map).slides
    assert titles(deck(voting_map))[-1] == "Vote: What hurts most?"
    text = slide_text(slides[-1])
    assert "Vote: What hurts most?" in text
    assert "3 votes from 2 members" in text
    assert "1. Live demo: Too long — 2 votes" in text
    assert "2. Webinar: Record it — 1 vote" in text
    assert "LinkedIn ad" not in text  # no dots, not on the slide
    assert "Launch journey" in slide_text(slides[0])  # the other slides stay as they were


# --- live ---------------------------------------------------------------------------------------


def test_every_vote_write_is_announced_for_the_open_pages(
    voting_map, owner, viewer, django_capture_on_commit_callbacks
):
    cache.clear()
    steps = [
        lambda: open_session(voting_map, owner, title="Q"),
        lambda: votes.place_dot(session(), viewer, item(session(), "pain:ad").pk),
        lambda: votes.take_back(session(), viewer, item(session(), "pain:ad").pk),
        lambda: votes.close_vote(session(), owner),
    ]

    def session() -> VoteSession:
        return VoteSession.objects.get(map=voting_map)

    said = []
    for step in steps:
        with django_capture_on_commit_callbacks(execute=True):
            step()
        event = live.last_event(voting_map.pk)
        assert event["kind"] == "votes"
        said.append((event["who"], event["what"]["msgid"]))
    assert said == [
        ("alice", "opened the vote ‘%(title)s’"),
        ("charlie", "voted in ‘%(title)s’"),
        ("charlie", "took back a vote in ‘%(title)s’"),
        ("alice", "closed the vote ‘%(title)s’"),
    ]


def test_votes_record_no_revision_of_the_map(voting_map, owner, viewer):
    versions = voting_map.revisions.count(), JourneyMap.objects.get(pk=voting_map.pk).version
    session = open_session(voting_map, owner)
    votes.place_dot(session, viewer, item(session, "pain:ad").pk)
    votes.close_vote(session, owner)
    assert (voting_map.revisions.count(), JourneyMap.objects.get(pk=voting_map.pk).version) == versions


def test_past_votes_rank_what_got_dots_and_count_the_rest(client, voting_map, owner, viewer):
    session = open_session(voting_map, owner)
    votes.place_dot(session, viewer, item(session, "pain:demo").pk)
    votes.close_vote(session, owner)
    login(client, viewer)
    page = html(client.get(url("map_votes", voting_map)))
    rows = page.xpath('//details[contains(@class, "past-vote")]//ol/li')
    assert [" ".join(li.text_content().split()) for li in rows] == ["1 Live demo: Too long 1 vote ●"]
    assert "3 more items got no vote." in page.text_content()


def test_bad_input_without_htmx_shows_the_votes_page_with_the_error(client, voting_map, owner):
    login(client, owner)
    before = snapshot()
    response = client.post(url("vote_open", voting_map), open_data(votes_each="99"))
    assert response.status_code == 200
    assert field_errors(response, "votes_each")
    assert snapshot() == before
