"""The live check every open map page polls: 204 from the cache alone (no query) while
nothing changed; who changed what, who else is here and the events that refresh the
page's regions when something did; a pass that is not the page's own is refused."""

from __future__ import annotations

import time

import lxml.html
import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode

from maps import changes, live
from maps.models import JourneyMap, Membership, Workspace
from tests.web import HX, client_events, login, snapshot


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _page_state(client: Client, journey_map: JourneyMap, **headers) -> dict:
    """What the map page drew for the poll: its URL (with the pass), stamp and presence."""
    response = client.get(journey_map.get_absolute_url(), **headers)
    assert response.status_code == 200
    doc = lxml.html.fromstring(response.content.decode())
    (box,) = doc.xpath('//*[@id="live"]')
    (state,) = doc.xpath('//*[@id="live-state"]')
    assert box.get("hx-trigger") == "every 2s"
    return {"url": box.get("hx-get"), "stamp": state.get("data-stamp"), "presence": state.get("data-presence")}


def _poll(client: Client, state: dict, **extra):
    """As htmx asks: the page's URL, its pass in the query, and the stamp and presence added."""
    path, query = state["url"].split("?", 1)
    return client.get(
        f"{path}?{query}&{urlencode({'stamp': state['stamp'], 'presence': state['presence']})}", **HX, **extra
    )


def _answer(response) -> dict:
    """The parts a 200 answer sends out of band, and the state for the next poll."""
    doc = lxml.html.fromstring(f"<div>{response.content.decode()}</div>")
    line = doc.xpath('//*[@id="live-line"]')
    (state,) = doc.xpath('//*[@id="live-state"]')
    return {
        "line": " ".join(line[0].text_content().split()) if line else None,
        "avatars": [
            (a.text_content(), a.get("title"), a.get("aria-label"))
            for a in doc.xpath('//*[@class and contains(@class, "avatar")]')
        ],
        "stamp": state.get("data-stamp"),
        "presence": state.get("data-presence"),
    }


def _move_webinar(journey_map: JourneyMap, user, capture) -> None:
    """Bob moves Webinar to the next stage, committed (the live stamp moves on commit)."""
    with capture(execute=True):
        changes.move_touchpoint(journey_map, journey_map.touchpoints.get(key="webinar"), "right", user=user)


def test_every_map_page_carries_the_live_check(client, owner, small_map):
    login(client, owner)
    ws, key = small_map.workspace.slug, small_map.key
    for name in ("map_detail", "coverage", "accountability", "funnel", "map_history", "map_present"):
        response = client.get(reverse(name, args=[ws, key]))
        assert 'id="live"' in response.content.decode(), name
        assert "js/live.js" in response.content.decode(), name


def test_an_unchanged_poll_answers_204_without_one_query(client, owner, small_map, django_assert_num_queries):
    login(client, owner)
    state = _page_state(client, small_map)
    with django_assert_num_queries(0):
        response = _poll(client, state)
    assert response.status_code == 204
    assert response.content == b""
    assert "no-cache" in response["Cache-Control"]
    # The session was never opened: no cookie set again, no Vary: Cookie.
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")


def test_an_unchanged_poll_needs_no_session_at_all(owner, small_map, django_assert_num_queries):
    signed_in = login(Client(), owner)
    state = _page_state(signed_in, small_map)
    with django_assert_num_queries(0):
        assert _poll(Client(), state).status_code == 204


def test_a_change_answers_who_changed_what_and_refreshes_the_board(
    client, owner, editor, small_map, django_capture_on_commit_callbacks, django_assert_num_queries
):
    login(client, owner)
    state = _page_state(client, small_map)
    _move_webinar(small_map, editor, django_capture_on_commit_callbacks)
    # One query: is the reader still a member of the map's workspace?
    with django_assert_num_queries(1):
        response = _poll(client, state)
    assert response.status_code == 200
    assert client_events(response) == {"map-changed"}
    answer = _answer(response)
    assert answer["line"] == "bob: moved ‘Webinar’ from ‘Awareness’ to ‘Decision’"
    assert answer["stamp"] == str(live.stamp(small_map.pk)) != state["stamp"]
    # With the new stamp the next poll is quiet again.
    assert _poll(client, {**state, "stamp": answer["stamp"], "presence": answer["presence"]}).status_code == 204


def test_the_line_is_in_the_readers_language(client, owner, editor, small_map, django_capture_on_commit_callbacks):
    login(client, owner)
    state = _page_state(client, small_map, HTTP_ACCEPT_LANGUAGE="ja")
    _move_webinar(small_map, editor, django_capture_on_commit_callbacks)
    # The poll itself asks in English: the page's language, in its pass, wins.
    response = _poll(client, state, HTTP_ACCEPT_LANGUAGE="en")
    with translation.override("ja"):
        moved = translation.gettext("moved ‘%(touchpoint)s’ from ‘%(old)s’ to ‘%(new)s’") % {
            "touchpoint": "Webinar",
            "old": "Awareness",
            "new": "Decision",
        }
    assert moved != "moved ‘Webinar’ from ‘Awareness’ to ‘Decision’"
    assert moved in _answer(response)["line"]


def test_your_own_change_refreshes_your_other_tabs_without_telling_you_about_it(
    client, owner, small_map, django_capture_on_commit_callbacks
):
    login(client, owner)
    state = _page_state(client, small_map)
    _move_webinar(small_map, owner, django_capture_on_commit_callbacks)
    response = _poll(client, state)
    assert response.status_code == 200
    assert client_events(response) == {"map-changed"}
    assert _answer(response)["line"] is None


def test_comments_and_votes_refresh_only_their_own_regions(
    client, owner, editor, small_map, django_capture_on_commit_callbacks
):
    login(client, owner)
    state = _page_state(client, small_map)
    with django_capture_on_commit_callbacks(execute=True):
        live.announce(small_map.pk, editor, "commented on Webinar", kind="comments")
    response = _poll(client, state)
    assert client_events(response) == {"comments-changed"}
    assert _answer(response)["line"] == "bob: commented on Webinar"
    with django_capture_on_commit_callbacks(execute=True):
        live.announce(small_map.pk, editor, "voted", kind="votes")
        live.announce(small_map.pk, editor, "moved a card", kind="map")
    # Two changes between two polls: both regions refresh, the line tells the last.
    response = _poll(client, state)
    assert client_events(response) == {"comments-changed", "votes-changed", "map-changed"}
    assert _answer(response)["line"] == "bob: moved a card"


def test_a_cache_that_lost_the_map_refreshes_everything_once(client, owner, small_map):
    login(client, owner)
    state = _page_state(client, small_map)
    cache.clear()
    response = _poll(client, state)
    assert response.status_code == 200
    assert client_events(response) == {"map-changed", "comments-changed", "votes-changed"}
    assert _answer(response)["line"] is None


def test_who_else_has_the_map_open_is_shown_by_initials_without_you(client, owner, editor, small_map):
    editor.first_name, editor.last_name = "Bob", "Builder"
    editor.save()
    login(client, owner)
    state = _page_state(client, small_map)
    assert state["presence"] == live.presence_hash([])
    bobs_page = _page_state(login(Client(), editor), small_map)
    response = _poll(client, state)
    assert response.status_code == 200
    assert client_events(response) == set()  # nothing changed on the map: nothing refreshes
    answer = _answer(response)
    assert answer["avatars"] == [("BB", "Bob Builder", "Bob Builder")]
    assert answer["line"] is None  # only the avatars come back, the last line stays
    # Bob's page, drawn after Alice's, showed her already (and not himself).
    assert bobs_page["presence"] == live.presence_hash([live.Person("alice", "alice")])
    assert _poll(client, {**state, "presence": answer["presence"]}).status_code == 204


def test_someone_who_stopped_polling_leaves_the_avatars_after_ten_seconds(
    client, owner, editor, small_map, monkeypatch
):
    login(client, owner)
    _page_state(login(Client(), editor), small_map)
    state = _page_state(client, small_map)
    assert state["presence"] != live.presence_hash([])
    later = time.time() + live.PRESENT_FOR + 1
    monkeypatch.setattr(live.time, "time", lambda: later)
    response = _poll(client, state)
    assert response.status_code == 200
    assert _answer(response)["avatars"] == []


def test_a_poll_without_a_pass_is_refused(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("map_live", args=[small_map.workspace.slug, small_map.key]), HX)
    assert response.status_code == 403
    assert "reload" in response.content.decode()


def test_a_strangers_forged_pass_is_refused_and_writes_nothing(stranger, owner, small_map):
    client = login(Client(), stranger)
    url = reverse("map_live", args=[small_map.workspace.slug, small_map.key])
    claims = {
        "m": small_map.pk,
        "w": "acme",
        "k": "launch",
        "u": stranger.pk,
        "n": "mallory",
        "f": "mallory",
        "l": "en",
        "s": 1,
    }
    before = snapshot()
    for forged in (
        signing.dumps(claims, salt="journeymap.live", key="a key that is not the server's"),
        signing.dumps(claims, salt="another.salt"),
        signing.dumps(claims, salt="journeymap.live") + "x",
    ):
        response = client.get(url, {"token": forged, "stamp": "0"}, **HX)
        assert response.status_code == 403
        assert "bob" not in response.content.decode() and "Webinar" not in response.content.decode()
    assert snapshot() == before
    assert live.visit(small_map.pk, owner.pk, "alice", "alice") == []  # mallory was never "here"


def test_a_pass_for_another_map_is_refused(client, owner, stranger, small_map):
    elsewhere = Workspace.objects.get(slug="elsewhere")
    theirs = JourneyMap.objects.create(workspace=elsewhere, key="secret", name="Secret")
    login(client, stranger)
    state = _page_state(client, theirs)
    url = reverse("map_live", args=[small_map.workspace.slug, small_map.key]) + "?" + state["url"].split("?", 1)[1]
    assert client.get(url + "&stamp=0", **HX).status_code == 403


def test_an_expired_pass_asks_for_a_reload(client, owner, small_map, monkeypatch):
    login(client, owner)
    state = _page_state(client, small_map)
    later = time.time() + live.PASS_MAX_AGE + 60
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = _poll(client, state)
    assert response.status_code == 410
    assert "out of date" in response.content.decode()


def test_a_member_removed_since_the_page_was_drawn_learns_nothing_new(
    client, owner, viewer, editor, small_map, django_capture_on_commit_callbacks
):
    login(client, viewer)
    state = _page_state(client, small_map)
    Membership.objects.filter(user=viewer).delete()
    _move_webinar(small_map, editor, django_capture_on_commit_callbacks)
    response = _poll(client, state)
    assert response.status_code == 403
    assert "Webinar" not in response.content.decode()


def test_a_viewer_follows_the_map_too(client, viewer, editor, small_map, django_capture_on_commit_callbacks):
    login(client, viewer)
    state = _page_state(client, small_map)
    _move_webinar(small_map, editor, django_capture_on_commit_callbacks)
    assert client_events(_poll(client, state)) == {"map-changed"}


def test_a_bad_stamp_counts_as_the_pages_own(client, owner, small_map):
    login(client, owner)
    state = _page_state(client, small_map)
    assert _poll(client, {**state, "stamp": "not a number"}).status_code == 204


def test_other_pages_still_get_the_persons_language(client, owner, small_map):
    """The language middleware moved to process_view; a person's choice still wins."""
    login(client, owner)
    client.post(reverse("set_language"), {"language": "ja"})
    response = client.get(small_map.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en")
    assert response["Content-Language"] == "ja"
    assert '<html lang="ja">' in response.content.decode()
