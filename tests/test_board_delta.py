"""Small refreshes: after an edit the board is brought up to date column by column.

The board says which stamp it shows; asked what changed since, the server answers 204
(nothing), the changed stage columns as out-of-band swaps, or the whole board when the
stages themselves changed. The editor's own save answers with the changed columns and,
if it changed, the gap list, so that the board is current with the save's answer.
"""

from __future__ import annotations

import io

import lxml.html
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from maps import board as board_rules
from maps.forms import StageForm, TouchpointForm
from maps.models import JourneyMap, Membership, Workspace

from .web import HX, current_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_map(client) -> JourneyMap:
    call_command("seed_demo", stdout=io.StringIO())
    client.force_login(get_user_model().objects.get(username="demo"))
    return JourneyMap.objects.get(workspace__slug="demo", key="acme-b2b")


def board_url(jm: JourneyMap) -> str:
    return reverse("map_board", args=[jm.workspace.slug, jm.key])


def shown_stamp(client, jm: JourneyMap) -> str:
    """The stamp of the board a page shows now."""
    board = lxml.html.fromstring(client.get(board_url(jm), **HX).content)
    return board.get("data-stamp")


def oob_columns(response) -> list[str]:
    """The stage keys of the board columns an answer swaps out of band."""
    if not response.content.strip():
        return []
    doc = lxml.html.fragment_fromstring(response.content.decode(), create_parent="div")
    return [el.get("data-key") for el in doc.xpath('//div[contains(@class, "stage-col")][@hx-swap-oob]')]


def save_touchpoint(client, jm: JourneyMap, key: str, stamp: str, **changes):
    tp = jm.touchpoints.get(key=key)
    data = current_form_data(TouchpointForm(instance=tp, journey_map=jm))
    data.update(changes)
    url = reverse("touchpoint_edit", args=[jm.workspace.slug, jm.key, key])
    return client.post(url, data, HTTP_X_BOARD_STAMP=stamp, **HX)


def test_a_board_that_is_up_to_date_gets_204_without_loading_the_map(client, demo_map):
    stamp = shown_stamp(client, demo_map)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(board_url(demo_map), {"since": stamp}, **HX)
    assert response.status_code == 204
    assert not [q for q in queries.captured_queries if "maps_touchpoint" in q["sql"]]


def test_a_save_answers_with_the_changed_columns_and_the_gap_list(client, demo_map):
    stamp = shown_stamp(client, demo_map)
    # The renamed touchpoint is a flow target of two cards in the stage before it.
    response = save_touchpoint(client, demo_map, "discovery-call", stamp, name="Discovery call (30 min)")
    assert response.status_code == 200
    assert sorted(oob_columns(response)) == ["convert", "nurture"]
    body = response.content.decode()
    assert 'id="gaps" hx-swap-oob="innerHTML"' in body
    assert body.count("Discovery call (30 min)") >= 3  # its card and the two flows to it
    now = response["X-Board-Stamp"]
    assert now != stamp and now == shown_stamp(client, demo_map)
    # The board's own refresh after the save finds it current.
    assert client.get(board_url(demo_map), {"since": now}, **HX).status_code == 204


def test_another_board_gets_only_the_columns_that_changed(client, demo_map):
    stamp = shown_stamp(client, demo_map)
    save_touchpoint(client, demo_map, "kickoff", stamp, pain_point="Nobody owns the kick-off agenda")
    viewer = get_user_model().objects.create_user("vic", password="x")
    Membership.objects.create(
        workspace=Workspace.objects.get(slug="demo"), user=viewer, role=Membership.EDITOR
    )  # same role as the editor: the columns drawn by the save are theirs too
    other = client.__class__()
    other.force_login(viewer)
    response = other.get(board_url(demo_map), {"since": stamp}, **HX)
    assert response.status_code == 200 and response["HX-Reswap"] == "none"
    assert oob_columns(response) == ["expand"]
    assert "Nobody owns the kick-off agenda" in response.content.decode()
    # An unknown or very old stamp gets the whole board.
    whole = other.get(board_url(demo_map), {"since": "1.unknown"}, **HX)
    assert "HX-Reswap" not in whole and lxml.html.fromstring(whole.content).get("id") == "board"


def test_a_new_stage_redraws_the_whole_board(client, demo_map):
    stamp = shown_stamp(client, demo_map)
    data = current_form_data(StageForm(journey_map=demo_map))
    data.update(name="Advocacy", key="advocacy")
    url = reverse("stage_create", args=[demo_map.workspace.slug, demo_map.key])
    response = client.post(url, data, HTTP_X_BOARD_STAMP=stamp, **HX)
    assert response.status_code == 200 and oob_columns(response) == []
    board = client.get(board_url(demo_map), {"since": stamp}, **HX)
    doc = lxml.html.fromstring(board.content)
    assert doc.get("id") == "board" and doc.xpath('//div[@id="col-advocacy"]')


def test_a_card_moved_to_the_next_stage_redraws_both_columns(client, demo_map):
    stamp = shown_stamp(client, demo_map)
    url = reverse("touchpoint_move", args=[demo_map.workspace.slug, demo_map.key, "webinar", "right"])
    response = client.post(url, HTTP_X_BOARD_STAMP=stamp, **HX)
    assert response.status_code == 200
    # Both stages change, and their neighbours' stretches of the emotion curve (the two
    # stages' averages moved); the stage two away does not.
    assert oob_columns(response) == ["attract", "capture", "nurture", "convert"]
    doc = lxml.html.fragment_fromstring(response.content.decode(), create_parent="div")
    assert doc.xpath('//div[@id="col-nurture"]//article[@id="tp-webinar"]')
    assert not doc.xpath('//div[@id="col-capture"]//article[@id="tp-webinar"]')


def test_the_emotion_curve_is_continuous_across_columns(demo_map):
    from maps import gaps as gap_rules

    jm = JourneyMap.objects.loaded().get(pk=demo_map.pk)
    columns = board_rules.build_board(jm, gap_rules.find_gaps(jm))["columns"]
    rated = [c for c in columns if c.emotion is not None]
    assert len(rated) >= 2
    for left, right in zip(columns, columns[1:]):
        if left.curve and right.curve:
            end = left.curve.split()[-1].split(",")
            start = right.curve.split()[0].split(",")
            assert (float(end[0]), end[1]) == (100.0, start[1]) and float(start[0]) == 0.0
    for column in rated:
        centre = f"50,{50 - column.emotion * 20:.1f}"
        assert centre in column.curve.split()


def test_a_save_reads_the_map_once_for_its_revision_and_its_answer(client, demo_map):
    """The revision reads the whole map after the change; the changed columns and the gap
    list of the answer are drawn from that same reading, not from a second one."""
    stamp = shown_stamp(client, demo_map)
    with CaptureQueriesContext(connection) as queries:
        response = save_touchpoint(client, demo_map, "discovery-call", stamp, name="Discovery call (45 min)")
    assert response.status_code == 200 and oob_columns(response)
    # The prefetch of every touchpoint of the map's stages (`... WHERE stage_id IN (...)`).
    whole_map_reads = [q["sql"] for q in queries.captured_queries if '"maps_touchpoint"."stage_id" IN (' in q["sql"]]
    assert len(whole_map_reads) == 1


def gap_digest(client, jm: JourneyMap) -> str:
    """The digest of the gap list a page shows (the list's first element)."""
    page = lxml.html.fromstring(client.get(reverse("map_detail", args=[jm.workspace.slug, jm.key])).content)
    return page.xpath('//div[@id="gaps"]/span[@data-gaps-digest]')[0].get("data-gaps-digest")


def test_a_gap_list_the_page_shows_already_is_not_sent_again(client, demo_map):
    digest = gap_digest(client, demo_map)
    gaps_url = reverse("map_gaps", args=[demo_map.workspace.slug, demo_map.key])
    assert client.get(gaps_url, {"since": digest}, **HX).status_code == 204
    # A move within a stage changes no gap: the answer has the column, not the list.
    stamp = shown_stamp(client, demo_map)
    url = reverse("touchpoint_move", args=[demo_map.workspace.slug, demo_map.key, "webinar", "up"])
    response = client.post(url, HTTP_X_BOARD_STAMP=stamp, HTTP_X_GAPS_DIGEST=digest, **HX)
    assert response.status_code == 200 and oob_columns(response) == ["capture"]
    assert 'id="gaps"' not in response.content.decode()
    assert client.get(gaps_url, {"since": digest}, **HX).status_code == 204


def test_a_change_that_changes_the_gaps_sends_the_new_list(client, demo_map):
    digest = gap_digest(client, demo_map)
    stamp = shown_stamp(client, demo_map)
    # Without an owner the card is a gap row it was not before.
    response = save_touchpoint(client, demo_map, "kickoff", stamp, owner="")
    body = response.content.decode()
    assert response.status_code == 200 and 'id="gaps" hx-swap-oob="innerHTML"' in body
    doc = lxml.html.fragment_fromstring(body, create_parent="div")
    new_digest = doc.xpath('//div[@id="gaps"]/span[@data-gaps-digest]')[0].get("data-gaps-digest")
    assert new_digest != digest and new_digest == gap_digest(client, demo_map)
    assert doc.xpath('//div[@id="gaps"]//a[contains(@href, "/t/kickoff/")]')
    # The page's own refresh of the list, asked with the old digest, gets the new list.
    gaps_url = reverse("map_gaps", args=[demo_map.workspace.slug, demo_map.key])
    refreshed = client.get(gaps_url, {"since": digest}, **HX)
    assert refreshed.status_code == 200 and new_digest in refreshed.content.decode()


def test_a_change_that_leaves_the_gaps_as_they_were_does_not_draw_the_list_again(client, demo_map):
    from unittest import mock

    from maps import views

    digest = gap_digest(client, demo_map)
    ws, key = demo_map.workspace.slug, demo_map.key
    # A first move draws the list once for viewers (without controls), who had not seen it.
    up, down = (reverse("touchpoint_move", args=[ws, key, "webinar", way]) for way in ("up", "down"))
    response = client.post(up, HTTP_X_BOARD_STAMP=shown_stamp(client, demo_map), HTTP_X_GAPS_DIGEST=digest, **HX)
    assert response.status_code == 200
    with mock.patch.object(views, "render_to_string", wraps=views.render_to_string) as drawn:
        response = client.post(down, HTTP_X_BOARD_STAMP=response["X-Board-Stamp"], HTTP_X_GAPS_DIGEST=digest, **HX)
    assert response.status_code == 200
    assert "maps/_gaps.html" not in [call.args[0] for call in drawn.call_args_list]
    assert gap_digest(client, demo_map) == digest


def test_after_a_save_the_viewers_refreshes_are_drawn_already_and_have_no_controls(client, demo_map):
    """The save's answer draws the board and gap list for the map's viewers too, from the
    map it read: a room of viewers refreshing after it does not read the map again."""
    viewer = get_user_model().objects.create_user("vera", password="x")
    Membership.objects.create(workspace=Workspace.objects.get(slug="demo"), user=viewer, role=Membership.VIEWER)
    other = client.__class__()
    other.force_login(viewer)
    seen = shown_stamp(other, demo_map)
    digest = gap_digest(other, demo_map)
    stamp = shown_stamp(client, demo_map)
    save_touchpoint(client, demo_map, "kickoff", stamp, owner="")
    gaps_url = reverse("map_gaps", args=[demo_map.workspace.slug, demo_map.key])
    with CaptureQueriesContext(connection) as queries:
        columns = other.get(board_url(demo_map), {"since": seen}, **HX)
        gaps = other.get(gaps_url, {"since": digest}, **HX)
    assert not [q for q in queries.captured_queries if "maps_touchpoint" in q["sql"]]
    assert oob_columns(columns) == ["expand"] and gaps.status_code == 200
    body = columns.content.decode() + gaps.content.decode()
    assert "/t/kickoff/" in body and "hx-post" not in body and "action-button" not in body


def test_an_editor_alone_on_the_map_draws_nothing_for_viewers(client, demo_map):
    """Nobody else has the map open: the save draws the editor's parts only, and a viewer
    who opens the map later has it drawn for them then."""
    from unittest import mock

    from maps import views

    stamp = shown_stamp(client, demo_map)
    with mock.patch.object(views, "_draw_for_readers") as for_readers:
        response = save_touchpoint(client, demo_map, "kickoff", stamp, owner="")
    assert response.status_code == 200 and oob_columns(response) == ["expand"]
    for_readers.assert_not_called()
    viewer = get_user_model().objects.create_user("walt", password="x")
    Membership.objects.create(workspace=Workspace.objects.get(slug="demo"), user=viewer, role=Membership.VIEWER)
    other = client.__class__()
    other.force_login(viewer)
    board = other.get(board_url(demo_map), **HX)
    assert "/t/kickoff/" in board.content.decode() and "hx-post" not in board.content.decode()
