"""Home and the workspace's map list: who sees which maps, archived maps apart."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from maps.models import (
    JourneyMap,
    Membership,
    Workspace,
)

from .conftest import PASSWORD
from .web import html, login

# --- home and the workspace ------------------------------------------------------------------


def test_home_goes_straight_to_the_only_workspace(client, owner):
    login(client, owner)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace", args=["acme"])


def test_home_lists_every_workspace_of_a_member_of_several(client, owner):
    second = Workspace.objects.create(slug="beta", name="Beta team")
    Membership.objects.create(workspace=second, user=owner, role=Membership.VIEWER)
    login(client, owner)
    response = client.get(reverse("home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme" in body and "Beta team" in body
    assert reverse("workspace", args=["beta"]) in body


def test_home_of_a_user_without_workspace_says_what_to_do(client, db):
    login(client, get_user_model().objects.create_user("newbie"))
    body = client.get(reverse("home")).content.decode()
    assert "You are not a member of any workspace yet." in body


def test_anonymous_is_sent_to_login_from_home(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_signing_in_leads_to_the_workspace(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302), (reverse("workspace", args=["acme"]), 302)]
    assert response.status_code == 200


def test_wrong_password_does_not_sign_in(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_workspace_lists_its_active_maps_with_their_size(client, request, small_map, role_name):
    JourneyMap.objects.create(workspace=small_map.workspace, key="old", name="Old journey", archived=True)
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse("workspace", args=["acme"]))
    cards = [
        " ".join(card.text_content().split()) for card in html(response).xpath('//a[contains(@class, "map-card")]')
    ]
    assert response.status_code == 200
    assert len(cards) == 1
    assert cards[0].startswith("Launch journey 2 stages · 3 touchpoints · updated")


def test_archived_maps_are_listed_apart(client, viewer, small_map):
    JourneyMap.objects.create(workspace=small_map.workspace, key="old", name="Old journey", archived=True)
    login(client, viewer)
    response = client.get(reverse("workspace", args=["acme"]), {"archived": "1"})
    cards = html(response).xpath('//a[contains(@class, "map-card")]/h2/text()')
    assert cards == ["Old journey"]


def test_only_editors_see_the_new_map_form(client, viewer, editor, small_map):
    login(client, viewer)
    assert 'id="map-create-form"' not in client.get(reverse("workspace", args=["acme"])).content.decode()
    login(client, editor)
    assert 'id="map-create-form"' in client.get(reverse("workspace", args=["acme"])).content.decode()


def test_stranger_cannot_see_the_workspace(client, stranger, small_map):
    login(client, stranger)
    assert client.get(reverse("workspace", args=["acme"])).status_code == 404


def test_workspace_lists_only_its_own_maps(client, stranger, small_map):
    their_ws = stranger.memberships.get().workspace
    JourneyMap.objects.create(workspace=their_ws, key="secret", name="Secret plan")
    login(client, stranger)
    body = client.get(reverse("workspace", args=["elsewhere"])).content.decode()
    assert "Secret plan" in body and "Launch journey" not in body
