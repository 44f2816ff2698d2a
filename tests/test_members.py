"""Members of a workspace: invitation links, roles, removing, leaving, and the rule that
a workspace always keeps an owner. Refusals answer clearly and write nothing."""

from __future__ import annotations

import datetime
import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from maps import members
from maps.models import Invitation, Membership, Workspace

from .conftest import make_user
from .web import HX, client_events, html, login, snapshot

SETTINGS = reverse("workspace_settings", args=["acme"])


def membership_of(user) -> Membership:
    return Membership.objects.get(workspace__slug="acme", user=user)


def roles() -> dict[str, str]:
    return dict(Membership.objects.filter(workspace__slug="acme").values_list("user__username", "role"))


def make_invitation(workspace, owner, role="editor", days=7) -> str:
    """A new invitation's link path."""
    _invitation, token = members.invite(workspace, role, days, by=owner)
    return reverse("invite_accept", args=[token])


@pytest.fixture
def team(owner, editor, viewer):
    return {"owner": owner, "editor": editor, "viewer": viewer}


# --- the settings page ----------------------------------------------------------------------


def test_the_workspace_page_links_to_its_settings_for_every_member(client, team):
    for user in team.values():
        login(client, user)
        links = html(client.get(reverse("workspace", args=["acme"]))).xpath("//a/@href")
        assert SETTINGS in links


def test_owner_sees_members_with_role_controls_and_invitations(client, team):
    login(client, team["owner"])
    response = client.get(SETTINGS)
    assert response.status_code == 200
    doc = html(response)
    names = [" ".join(s.text_content().split()) for s in doc.xpath('//div[@id="members"]//td[1]/strong')]
    assert names == ["alice", "bob", "charlie"]  # owners first, then editors, then viewers
    assert len(doc.xpath('//form[contains(@action, "/role/")]//select[@name="role"]')) == 3
    # No one removes themselves from the list: they leave.
    removes = doc.xpath('//form[contains(@action, "/remove/")]/@action')
    assert removes == [
        reverse("member_remove", args=["acme", membership_of(team["editor"]).pk]),
        reverse("member_remove", args=["acme", membership_of(team["viewer"]).pk]),
    ]
    assert doc.xpath(f'//form[@action="{reverse("invitation_create", args=["acme"])}"]')
    assert doc.xpath(f'//form[@action="{reverse("workspace_leave", args=["acme"])}"]')


@pytest.mark.parametrize("role_name", ["editor", "viewer"])
def test_editor_and_viewer_see_the_member_list_read_only(client, team, role_name):
    login(client, team[role_name])
    response = client.get(SETTINGS)
    assert response.status_code == 200
    doc = html(response)
    body = response.content.decode()
    assert "alice" in body and "bob" in body and "charlie" in body
    assert not doc.xpath('//select[@name="role"]')
    assert not doc.xpath('//form[contains(@action, "/remove/")]')
    assert not doc.xpath('//form[contains(@action, "/invitations/")]')
    assert doc.xpath(f'//form[@action="{reverse("workspace_leave", args=["acme"])}"]')


def test_stranger_cannot_see_the_settings_page(client, team, stranger):
    login(client, stranger)
    assert client.get(SETTINGS).status_code == 404


def test_anonymous_is_sent_to_sign_in_from_the_settings_page(client, team):
    response = client.get(SETTINGS)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={SETTINGS}")


# --- invitation links -----------------------------------------------------------------------


@pytest.mark.parametrize("days", [1, 7, 30])
def test_owner_creates_an_invitation_link_shown_once(client, team, days):
    login(client, team["owner"])
    response = client.post(reverse("invitation_create", args=["acme"]), {"role": "viewer", "days": days}, **HX)
    assert response.status_code == 200
    assert "journeymap-saved" in client_events(response)
    link = html(response).xpath('//input[@id="new-link"]/@value')[0]
    token = re.fullmatch(r"http://testserver/invite/([A-Za-z0-9_-]+)/", link).group(1)
    assert len(token) >= 43  # token_urlsafe(32)
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.created_by, invitation.accepted) == ("viewer", team["owner"], 0)
    assert invitation.token_hash == members.token_hash(token) and token not in invitation.token_hash
    expected = timezone.now() + datetime.timedelta(days=days)
    assert abs((invitation.expires - expected).total_seconds()) < 60
    # The list shows it; the page does not show the link again.
    page = client.get(SETTINGS).content.decode()
    assert token not in page
    assert "Viewer" in html(client.get(SETTINGS)).xpath('//div[@id="invitations"]//tbody')[0].text_content()


def test_invitation_link_made_without_htmx_is_shown_on_the_next_page_only(client, team):
    login(client, team["owner"])
    response = client.post(reverse("invitation_create", args=["acme"]), {"role": "editor", "days": "7"})
    assert (response.status_code, response["Location"]) == (302, SETTINGS)
    first = html(client.get(SETTINGS)).xpath('//input[@id="new-link"]/@value')
    assert len(first) == 1 and "/invite/" in first[0]
    assert not html(client.get(SETTINGS)).xpath('//input[@id="new-link"]')


@pytest.mark.parametrize("data", [{"role": "admin", "days": "7"}, {"role": "editor", "days": "3"}, {"role": "editor"}])
def test_invitation_with_a_bad_role_or_expiry_is_refused(client, team, data):
    login(client, team["owner"])
    before = snapshot()
    response = client.post(reverse("invitation_create", args=["acme"]), data, **HX)
    assert response.status_code == 400
    assert "journeymap-error" in client_events(response)
    assert snapshot() == before


def test_owner_revokes_an_invitation_and_its_link_stops_working(client, team):
    path = make_invitation(team["owner"].memberships.get().workspace, team["owner"])
    invitation = Invitation.objects.get()
    login(client, team["owner"])
    response = client.post(reverse("invitation_revoke", args=["acme", invitation.pk]), **HX)
    assert response.status_code == 200
    assert Invitation.objects.get().revoked is not None
    assert not html(response).xpath("//tbody/tr")  # no longer listed
    newcomer = make_user("dora")
    login(client, newcomer)
    before = snapshot()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "revoked" in response.content.decode()
    assert snapshot() == before


def test_opening_an_invitation_signed_in_asks_to_join(client, workspace, owner):
    path = make_invitation(workspace, owner, role="viewer")
    login(client, make_user("dora"))
    before = snapshot()
    response = client.get(path)
    assert response.status_code == 200
    body = " ".join(html(response).text_content().split())
    assert "Join Acme" in body and "as viewer" in body
    assert html(response).xpath('//form[@method="post"]//button[normalize-space()="Join"]')
    assert snapshot() == before  # opening it changes nothing


def test_joining_makes_a_member_with_the_role_and_counts_the_acceptance(client, workspace, owner):
    path = make_invitation(workspace, owner, role="viewer")
    dora = make_user("dora")
    login(client, dora)
    response = client.post(path)
    assert (response.status_code, response["Location"]) == (302, reverse("workspace", args=["acme"]))
    assert membership_of(dora).role == "viewer"
    assert Invitation.objects.get().accepted == 1
    assert client.get(reverse("workspace", args=["acme"])).status_code == 200
    # The link works for more than one person until it expires.
    erin = make_user("erin")
    login(client, erin)
    client.post(path)
    assert membership_of(erin).role == "viewer"
    assert Invitation.objects.get().accepted == 2


def test_the_member_list_says_since_when_each_person_is_a_member(client, team):
    joined = timezone.make_aware(datetime.datetime(2026, 3, 4, 10, 0))
    Membership.objects.filter(user=team["editor"]).update(joined=joined)
    Membership.objects.filter(user=team["viewer"]).update(joined=None)  # from before it was recorded
    login(client, team["owner"])
    rows = html(client.get(SETTINGS)).xpath('//div[@id="members"]//tbody/tr')
    since = {
        row.xpath("./td[1]/strong/text()")[0]: " ".join(row.xpath("./td[3]")[0].text_content().split()) for row in rows
    }
    assert since["bob"] == "March 4, 2026"
    assert since["charlie"] == "—"
    # Joined when the test made her a member: today.
    assert since["alice"] == date_format(timezone.localdate(), "DATE_FORMAT")


def test_anonymous_opening_an_invitation_is_sent_to_sign_in_and_back(client, workspace, owner):
    path = make_invitation(workspace, owner)
    before = snapshot()
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={path}")
    response = client.post(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert snapshot() == before


def test_an_existing_member_is_told_and_nothing_changes(client, workspace, owner, viewer):
    path = make_invitation(workspace, owner, role="owner")
    login(client, viewer)
    before = snapshot()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 200
        body = " ".join(html(response).text_content().split())
        assert "You are already a member of Acme" in body
        assert not html(response).xpath('//button[normalize-space()="Join"]')
    assert snapshot() == before
    assert membership_of(viewer).role == "viewer"


def test_an_expired_invitation_is_gone_and_changes_nothing(client, workspace, owner):
    path = make_invitation(workspace, owner)
    Invitation.objects.update(expires=timezone.now() - datetime.timedelta(seconds=1))
    login(client, make_user("dora"))
    before = snapshot()
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "expired" in response.content.decode()
    assert snapshot() == before


def test_an_unknown_invitation_is_not_found_and_changes_nothing(client, workspace, owner):
    make_invitation(workspace, owner)
    login(client, make_user("dora"))
    before = snapshot()
    path = reverse("invite_accept", args=["not-a-real-token-at-all"])
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 404
        assert "not valid" in response.content.decode()
    assert snapshot() == before


def test_an_invitation_revoked_between_opening_and_joining_is_refused(client, workspace, owner):
    path = make_invitation(workspace, owner)
    login(client, make_user("dora"))
    assert client.get(path).status_code == 200
    members.revoke(workspace, Invitation.objects.get().pk, by=owner)
    before = snapshot()
    assert client.post(path).status_code == 410
    assert snapshot() == before


def test_an_invitation_joins_only_its_own_workspace(client, workspace, owner, stranger):
    path = make_invitation(workspace, owner, role="editor")
    login(client, stranger)
    client.post(path)
    assert membership_of(stranger).role == "editor"
    assert Membership.objects.get(workspace__slug="elsewhere", user=stranger).role == "owner"


# --- roles and removing -----------------------------------------------------------------------


def test_owner_changes_a_members_role(client, team):
    login(client, team["owner"])
    pk = membership_of(team["viewer"]).pk
    response = client.post(reverse("member_role", args=["acme", pk]), {"role": "editor"}, **HX)
    assert response.status_code == 200
    assert "charlie is now editor." in response.headers["HX-Trigger"]
    assert html(response).xpath(f'//select[@id="role-{pk}"]/option[@selected]/@value') == ["editor"]
    assert roles() == {"alice": "owner", "bob": "editor", "charlie": "editor"}


def test_role_change_without_htmx_redirects_to_the_settings_page(client, team):
    login(client, team["owner"])
    response = client.post(reverse("member_role", args=["acme", membership_of(team["editor"]).pk]), {"role": "owner"})
    assert (response.status_code, response["Location"]) == (302, SETTINGS)
    assert roles()["bob"] == "owner"


def test_an_unknown_role_is_refused(client, team):
    login(client, team["owner"])
    before = snapshot()
    response = client.post(
        reverse("member_role", args=["acme", membership_of(team["editor"]).pk]), {"role": "god"}, **HX
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_owner_removes_a_member_who_then_cannot_open_the_workspace(client, team):
    login(client, team["owner"])
    response = client.post(reverse("member_remove", args=["acme", membership_of(team["editor"]).pk]), **HX)
    assert response.status_code == 200
    assert "bob is no longer a member of Acme." in response.headers["HX-Trigger"]
    assert "bob" not in roles()
    login(client, team["editor"])
    assert client.get(reverse("workspace", args=["acme"])).status_code == 404


def test_a_member_of_another_workspace_cannot_be_changed_from_this_one(client, team, stranger):
    login(client, team["owner"])
    other = Membership.objects.get(user=stranger)
    before = snapshot()
    assert client.post(reverse("member_role", args=["acme", other.pk]), {"role": "viewer"}, **HX).status_code == 400
    assert client.post(reverse("member_remove", args=["acme", other.pk]), **HX).status_code == 400
    assert snapshot() == before


# --- the last owner -----------------------------------------------------------------------------


def test_the_last_owner_cannot_be_demoted(client, team):
    login(client, team["owner"])
    before = snapshot()
    response = client.post(
        reverse("member_role", args=["acme", membership_of(team["owner"]).pk]), {"role": "editor"}, **HX
    )
    assert response.status_code == 400
    assert "alice is the last owner of the workspace" in response.content.decode()
    assert snapshot() == before


def test_the_last_owner_cannot_be_removed(team):
    workspace = Workspace.objects.get(slug="acme")
    before = snapshot()
    with pytest.raises(members.Refused, match="last owner"):
        members.remove(workspace, membership_of(team["owner"]).pk, by=team["owner"])
    assert snapshot() == before


@pytest.mark.parametrize("htmx", [True, False])
def test_the_last_owner_cannot_leave(client, team, htmx):
    login(client, team["owner"])
    before = snapshot()
    response = client.post(reverse("workspace_leave", args=["acme"]), **(HX if htmx else {}))
    if htmx:
        assert response.status_code == 400
        assert "You are the last owner of the workspace and cannot leave it." in response.content.decode()
    else:
        assert (response.status_code, response["Location"]) == (302, SETTINGS)
        page = client.get(SETTINGS).content.decode()
        assert "You are the last owner of the workspace and cannot leave it." in page
    assert snapshot() == before


def test_an_owner_can_step_down_when_another_owner_remains(client, team):
    Membership.objects.filter(user=team["editor"]).update(role="owner")
    login(client, team["owner"])
    response = client.post(
        reverse("member_role", args=["acme", membership_of(team["owner"]).pk]), {"role": "viewer"}, **HX
    )
    # The page becomes read-only for them: it is loaded again.
    assert response["HX-Redirect"] == SETTINGS
    assert roles() == {"alice": "viewer", "bob": "owner", "charlie": "viewer"}


def test_two_owners_demoting_each_other_leave_one_owner(team):
    workspace = Workspace.objects.get(slug="acme")
    Membership.objects.filter(user=team["editor"]).update(role="owner")
    members.set_role(workspace, membership_of(team["editor"]).pk, "editor", by=team["owner"])
    with pytest.raises(members.Refused):
        members.set_role(workspace, membership_of(team["owner"]).pk, "editor", by=team["editor"])
    assert roles()["alice"] == "owner"


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has one writer at a time")
def test_two_owners_demoting_each_other_at_the_same_moment_leave_one_owner():
    workspace = Workspace.objects.create(slug="acme", name="Acme")
    alice, bob = make_user("alice"), make_user("bob")
    a = Membership.objects.create(workspace=workspace, user=alice, role="owner")
    b = Membership.objects.create(workspace=workspace, user=bob, role="owner")
    barrier, outcomes = threading.Barrier(2), []

    def demote(pk, by):
        barrier.wait()
        try:
            members.set_role(workspace, pk, "editor", by=by)
            outcomes.append("done")
        except members.Refused:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=demote, args=(b.pk, alice)), threading.Thread(target=demote, args=(a.pk, bob))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["done", "refused"]
    assert Membership.objects.filter(workspace=workspace, role="owner").count() == 1


# --- leaving -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role_name", ["editor", "viewer"])
def test_a_member_leaves_the_workspace(client, team, role_name):
    user = team[role_name]
    login(client, user)
    response = client.post(reverse("workspace_leave", args=["acme"]))
    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert not Membership.objects.filter(workspace__slug="acme", user=user).exists()
    assert client.get(SETTINGS).status_code == 404


def test_an_owner_leaves_when_another_owner_remains(client, team):
    Membership.objects.filter(user=team["editor"]).update(role="owner")
    login(client, team["owner"])
    response = client.post(reverse("workspace_leave", args=["acme"]), **HX)
    assert response["HX-Redirect"] == reverse("home")
    assert roles() == {"bob": "owner", "charlie": "viewer"}


# --- who may manage ---------------------------------------------------------------------------


def manage_posts(team) -> list[tuple[str, list, dict]]:
    workspace = Workspace.objects.get(slug="acme")
    members.invite(workspace, "editor", 7, by=team["owner"])
    invitation = Invitation.objects.get()
    editor_pk, viewer_pk = membership_of(team["editor"]).pk, membership_of(team["viewer"]).pk
    return [
        ("member_role", [editor_pk], {"role": "owner"}),
        ("member_role", [viewer_pk], {"role": "owner"}),
        ("member_remove", [viewer_pk], {}),
        ("member_remove", [editor_pk], {}),
        ("invitation_create", [], {"role": "owner", "days": "30"}),
        ("invitation_revoke", [invitation.pk], {}),
    ]


@pytest.mark.parametrize("role_name", ["editor", "viewer"])
@pytest.mark.parametrize("htmx", [True, False])
def test_editor_and_viewer_cannot_manage_members_or_invitations(client, team, role_name, htmx):
    posts = manage_posts(team)
    login(client, team[role_name])
    before = snapshot()
    for url_name, args, data in posts:
        response = client.post(reverse(url_name, args=["acme", *args]), data, **(HX if htmx else {}))
        assert response.status_code == 403, url_name
    assert snapshot() == before


def test_stranger_cannot_manage_members_or_invitations(client, team, stranger):
    posts = manage_posts(team)
    login(client, stranger)
    before = snapshot()
    for url_name, args, data in posts:
        assert client.post(reverse(url_name, args=["acme", *args]), data, **HX).status_code == 404, url_name
    assert client.post(reverse("workspace_leave", args=["acme"])).status_code == 404
    assert snapshot() == before


def test_anonymous_is_sent_to_sign_in_before_managing_members(team):
    posts = manage_posts(team)
    client = Client()
    before = snapshot()
    for url_name, args, data in [*posts, ("workspace_leave", [], {})]:
        url = reverse(url_name, args=["acme", *args])
        response = client.post(url, data)
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?next={url}"), url_name
    assert snapshot() == before


def test_a_demoted_owner_cannot_manage_with_a_page_opened_before(team):
    """The rules are checked again under the lock, not only by the view."""
    workspace = Workspace.objects.get(slug="acme")
    Membership.objects.filter(user=team["owner"]).update(role="editor")
    before = snapshot()
    with pytest.raises(members.Refused, match="Only an owner"):
        members.invite(workspace, "owner", 7, by=team["owner"])
    assert snapshot() == before


def test_a_viewer_invited_again_as_owner_keeps_their_role(workspace, owner, viewer):
    _invitation, token = members.invite(workspace, "owner", 7, by=owner)
    membership, joined = members.accept(token, viewer)
    assert (joined, membership.role) == (False, "viewer")
    assert Invitation.objects.get().accepted == 0
