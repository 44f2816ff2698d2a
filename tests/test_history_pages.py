"""The history, undo and trash as people use them: pages, who may, what a refusal says."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps import changes
from maps.models import JourneyMap, Touchpoint, TrashItem

from .web import HX, client_events, html, login, snapshot


@pytest.fixture
def edited(small_map, owner, editor):
    """The small map with a history: created by alice, then bob and alice edit it."""
    changes.record_creation(small_map, owner)
    changes.move_touchpoint(small_map, small_map.touchpoints.get(key="ad"), "right", user=editor)
    changes.move_stage(small_map, "decision", -1, user=owner)
    return small_map


def history_rows(response) -> list[str]:
    return [
        " ".join(row.text_content().split()) for row in html(response).xpath('//li[contains(@class, "history-row")]')
    ]


def test_history_lists_changes_newest_first_with_who_and_what(client, viewer, edited):
    login(client, viewer)
    rows = history_rows(client.get(reverse("map_history", args=["acme", "launch"])))
    assert len(rows) == 3
    assert rows[0].startswith("#3 alice moved the stage ‘Decision’ left")
    assert rows[1].startswith("#2 bob moved ‘LinkedIn ad’ from ‘Awareness’ to ‘Decision’")


def test_history_filters_by_person_and_by_stage(client, viewer, edited):
    login(client, viewer)
    url = reverse("map_history", args=["acme", "launch"])
    assert [row[:2] for row in history_rows(client.get(url, {"user": "bob"}))] == ["#2"]
    assert [row[:2] for row in history_rows(client.get(url, {"stage": "decision"}))] == ["#3"]


def test_a_revision_shows_the_diagram_and_gaps_as_they_were(client, viewer, edited):
    login(client, viewer)
    page = client.get(reverse("map_revision", args=["acme", "launch", 1]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "LinkedIn ad" in body
    assert "The map as it was at revision 1" in body
    assert JourneyMap.objects.count() == 1  # the look back left nothing behind


def test_restore_from_the_history_brings_the_map_back_as_a_new_revision(client, editor, edited):
    login(client, editor)
    response = client.post(reverse("map_restore", args=["acme", "launch", 1]), **HX)
    assert response.status_code == 200, response.content.decode()
    assert "map-changed" in client_events(response)
    edited.refresh_from_db()
    assert edited.version == 4
    assert Touchpoint.objects.get(map=edited, key="ad").stage.key == "awareness"


def test_undo_takes_back_my_own_last_change_only(client, editor, edited):
    login(client, editor)
    response = client.post(reverse("map_undo", args=["acme", "launch"]), **HX)
    assert response.status_code == 200
    assert Touchpoint.objects.get(map=edited, key="ad").stage.key == "awareness"
    assert list(edited.stages.values_list("key", flat=True)) == ["decision", "awareness"]  # alice's move stays


def test_undo_with_nothing_to_undo_says_so_and_changes_nothing(client, owner, small_map):
    changes.record_creation(small_map)
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("map_undo", args=["acme", "launch"]), **HX)
    assert response.status_code == 400
    assert "no change of this map to undo" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("url_name, args", [("map_undo", []), ("map_restore", [1])])
def test_viewer_cannot_undo_or_restore(client, viewer, edited, url_name, args):
    login(client, viewer)
    before = snapshot()
    assert client.post(reverse(url_name, args=["acme", "launch", *args]), **HX).status_code == 403
    assert snapshot() == before


def test_stranger_cannot_see_the_history(client, stranger, edited):
    login(client, stranger)
    assert client.get(reverse("map_history", args=["acme", "launch"])).status_code == 404
    assert client.get(reverse("map_revision", args=["acme", "launch", 1])).status_code == 404


def test_the_trash_lists_a_deleted_touchpoint_and_brings_it_back(client, editor, edited):
    login(client, editor)
    client.post(reverse("touchpoint_delete", args=["acme", "launch", "webinar"]), **HX)
    page = client.get(reverse("trash", args=["acme"]))
    assert "Webinar" in page.content.decode()
    item = TrashItem.objects.get()
    response = client.post(reverse("trash_restore", args=["acme", item.pk]))
    assert response.status_code == 302
    webinar = Touchpoint.objects.get(map=edited, key="webinar")
    assert list(webinar.flows_out.values_list("target__key", flat=True)) == ["demo"]
    assert list(webinar.content.values_list("key", flat=True)) == ["guide"]


def test_only_owners_can_empty_the_trash(client, editor, owner, edited):
    changes.delete_touchpoint(edited, edited.touchpoints.get(key="ad"), user=editor)
    login(client, editor)
    assert client.post(reverse("trash_empty", args=["acme"])).status_code == 403
    assert TrashItem.objects.count() == 1
    login(client, owner)
    assert client.post(reverse("trash_empty", args=["acme"])).status_code == 302
    assert TrashItem.objects.count() == 0
