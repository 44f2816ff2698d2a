"""A map's settings, archive and delete (to the trash): who may, and what is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.models import (
    ContentAsset,
    JourneyMap,
    Persona,
    Stage,
    TrashItem,
)

from .web import EDITING_ROLES, HX, client_events, field_errors, html, login, snapshot


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


# --- settings, archive, delete -----------------------------------------------------------------------


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_rename_a_map(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    response = client.post(
        reverse("map_settings", args=["acme", "launch"]),
        {"name": "Launch 2026", "key": "launch", "description": "For the spring", "goal": "40 SQLs"},
        **HX,
    )
    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    assert "Launch 2026" in response.content.decode()  # the refreshed header
    jm = JourneyMap.objects.get(pk=small_map.pk)
    assert (jm.name, jm.key, jm.description, jm.goal) == ("Launch 2026", "launch", "For the spring", "40 SQLs")


def test_new_map_key_sends_the_browser_to_the_new_address(client, owner, small_map):
    login(client, owner)
    response = client.post(
        reverse("map_settings", args=["acme", "launch"]), {"name": "Launch journey", "key": "launch-2026"}, **HX
    )
    assert response["HX-Redirect"] == reverse("map_detail", args=["acme", "launch-2026"])
    assert client.get(reverse("map_detail", args=["acme", "launch-2026"])).status_code == 200
    assert client.get(reverse("map_detail", args=["acme", "launch"])).status_code == 404


def test_rename_without_htmx_redirects_to_the_map(client, owner, small_map):
    login(client, owner)
    response = client.post(reverse("map_settings", args=["acme", "launch"]), {"name": "Launch 2026", "key": "l26"})
    assert response.status_code == 302
    assert response["Location"] == reverse("map_detail", args=["acme", "l26"])


@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_map_key_taken_by_another_map_is_refused(client, owner, small_map, htmx, status):
    JourneyMap.objects.create(workspace=small_map.workspace, key="taken", name="Other")
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("map_settings", args=["acme", "launch"]), {"name": "New name", "key": "taken"}, **(HX if htmx else {})
    )
    assert response.status_code == status
    assert field_errors(response, "key") == ['"taken" is already used here; keys must be unique.']
    assert snapshot() == before


def test_invalid_settings_still_link_to_the_saved_map(client, owner, small_map):
    login(client, owner)
    response = client.post(reverse("map_settings", args=["acme", "launch"]), {"name": "", "key": "moved"}, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert reverse("map_settings", args=["acme", "launch"]) in html(response).xpath("//form/@action")
    assert f'href="{reverse("map_detail", args=["acme", "moved"])}"' not in body
    assert f'href="{small_map.get_absolute_url()}"' in body


def test_viewer_sees_settings_read_only(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_settings", args=["acme", "launch"]), **HX)
    assert response.status_code == 200
    assert "<fieldset disabled>" in response.content.decode()


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_archive_and_restore_a_map(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    url = reverse("map_archive", args=["acme", "launch"])
    response = client.post(url, **HX)
    assert response["HX-Redirect"] == reverse("workspace", args=["acme"])
    assert JourneyMap.objects.get(pk=small_map.pk).archived
    assert "Launch journey" in client.get(reverse("workspace", args=["acme"]), {"archived": "1"}).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert not JourneyMap.objects.get(pk=small_map.pk).archived


def test_archived_map_can_still_be_opened(client, viewer, small_map):
    JourneyMap.objects.filter(pk=small_map.pk).update(archived=True)
    login(client, viewer)
    response = client.get(small_map.get_absolute_url())
    assert response.status_code == 200
    assert "Archived" in response.content.decode()


def test_deleting_a_map_asks_first(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("map_delete", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert "Delete the map “Launch journey”?" in body
    assert "The library (personas, content) stays." in body
    assert JourneyMap.objects.filter(pk=small_map.pk).exists()


@pytest.mark.parametrize("htmx", [True, False])
def test_owner_can_delete_a_map_to_the_trash_and_the_library_stays(client, owner, small_map, htmx):
    login(client, owner)
    response = client.post(reverse("map_delete", args=["acme", "launch"]), **(HX if htmx else {}))
    workspace_url = reverse("workspace", args=["acme"])
    if htmx:
        assert response["HX-Redirect"] == workspace_url
    else:
        assert (response.status_code, response["Location"]) == (302, workspace_url)
    assert client.get(small_map.get_absolute_url()).status_code == 404
    assert TrashItem.objects.get().map_id == small_map.pk  # kept whole until the trash is emptied
    assert Stage.objects.filter(map=small_map).count() == 2
    assert Persona.objects.count() == 2 and ContentAsset.objects.count() == 2


@pytest.mark.parametrize("htmx", [True, False])
def test_editor_cannot_delete_a_map(client, editor, small_map, htmx):
    login(client, editor)
    before = snapshot()
    url = reverse("map_delete", args=["acme", "launch"])
    assert client.post(url, **(HX if htmx else {})).status_code == 403
    assert client.get(url, **(HX if htmx else {})).status_code == 403
    assert snapshot() == before


def test_only_an_owner_sees_delete_in_the_map_menu(client, owner, editor, small_map):
    url = reverse("map_delete", args=["acme", "launch"])
    login(client, editor)
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert reverse("map_settings", args=["acme", "launch"]) in body  # the menu is there
    assert url not in body
    login(client, owner)
    assert url in client.get(small_map.get_absolute_url()).content.decode()


MAP_WRITES = [
    ("map_settings", {"name": "Hijacked", "key": "launch"}),
    ("map_archive", {}),
    ("map_delete", {}),
]


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_viewer_cannot_rename_archive_or_delete_a_map(client, viewer, small_map, url_name, data):
    login(client, viewer)
    before = snapshot()
    assert client.post(reverse(url_name, args=["acme", "launch"]), data, **HX).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_stranger_cannot_rename_archive_or_delete_a_map(client, stranger, small_map, url_name, data):
    login(client, stranger)
    before = snapshot()
    assert client.post(reverse(url_name, args=["acme", "launch"]), data, **HX).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_anonymous_is_sent_to_login_before_changing_a_map(client, small_map, url_name, data):
    before = snapshot()
    url = reverse(url_name, args=["acme", "launch"])
    response = client.post(url, data, **HX)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


def test_viewer_cannot_open_the_delete_confirmation(client, viewer, small_map):
    login(client, viewer)
    assert client.get(reverse("map_delete", args=["acme", "launch"]), **HX).status_code == 403
