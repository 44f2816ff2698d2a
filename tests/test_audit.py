"""The security log: each event is written by the code path that does the thing, with who,
when and from which address; owners read it newest first, page by page; editors and
viewers are refused, strangers told nothing."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maps import audit, changes, members
from maps.models import AuditEvent, Invitation, JourneyMap, Membership, ShareLink, TrashItem

from .conftest import PASSWORD, make_user
from .web import HX, html, login

pytestmark = pytest.mark.django_db

LOG = reverse("audit_log", args=["acme"])
ADDRESS = "203.0.113.44"


def only_event(**filters) -> AuditEvent:
    found = list(AuditEvent.objects.filter(**filters))
    assert len(found) == 1, found
    return found[0]


def rows(response) -> list[list[str]]:
    """The log's rows: when, who, what (kind and sentence), address; as text."""
    return [
        [" ".join(cell.text_content().split()) for cell in row.findall("td")]
        for row in html(response).xpath("//table[contains(@class, 'audit-table')]/tbody/tr")
    ]


# --- who may read it ------------------------------------------------------------------------------


def test_owners_find_the_log_on_the_settings_page(client, owner):
    login(client, owner)
    page = client.get(reverse("workspace_settings", args=["acme"]))
    assert LOG in html(page).xpath("//a/@href")


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_editors_and_viewers_neither_see_the_link_nor_open_the_log(client, request, role, owner):
    login(client, request.getfixturevalue(role))
    assert LOG not in html(client.get(reverse("workspace_settings", args=["acme"]))).xpath("//a/@href")
    assert client.get(LOG).status_code == 403


def test_a_stranger_learns_nothing(client, stranger, owner):
    login(client, stranger)
    assert client.get(LOG).status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, owner):
    response = client.get(LOG)
    assert response.status_code == 302 and reverse("login") in response["Location"]


# --- what it shows ------------------------------------------------------------------------------


def test_the_log_lists_who_when_what_and_from_where_newest_first(client, owner, editor, viewer):
    login(client, owner)  # a sign-in too, from no address (the test signs in directly)
    membership = Membership.objects.get(user=viewer)
    members.set_role(owner.memberships.first().workspace, membership.pk, "editor", by=owner)
    Client().post(reverse("login"), {"username": "bob", "password": PASSWORD}, REMOTE_ADDR=ADDRESS)
    listed = rows(client.get(LOG))
    assert [row[1:] for row in listed] == [
        ["bob", "Sign-inSigned in.", ADDRESS],
        ["alice", "Role changedMade charlie editor (was viewer).", "unknown"],
        ["alice", "Sign-inSigned in.", "unknown"],
    ]
    when = AuditEvent.objects.get(kind=AuditEvent.SIGN_IN, user=editor).created
    assert listed[0][0] == timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S")


def test_account_events_of_people_outside_the_workspace_are_not_shown(client, owner, stranger):
    Client().post(reverse("login"), {"username": "mallory", "password": PASSWORD}, REMOTE_ADDR=ADDRESS)
    Client().post(reverse("login"), {"username": "alice", "password": "nope"}, REMOTE_ADDR=ADDRESS)
    assert AuditEvent.objects.filter(user=stranger, kind=AuditEvent.SIGN_IN).exists()
    login(client, owner)
    listed = rows(client.get(LOG))
    assert [(row[1], row[2]) for row in listed] == [
        ("alice", "Sign-inSigned in."),
        ("alice", "Failed sign-inSign-in refused: wrong password or the sign-in was locked."),
    ]


def test_the_log_is_paged(client, owner):
    workspace = owner.memberships.first().workspace
    for n in range(audit.PER_PAGE + 2):  # and the owner's sign-in: 3 on the second page
        AuditEvent.objects.create(
            kind=AuditEvent.INVITED,
            user=owner,
            workspace=workspace,
            data={"role": "viewer", "days": 7},
            created=timezone.now() - datetime.timedelta(minutes=n + 1),
        )
    login(client, owner)
    first = client.get(LOG)
    assert len(rows(first)) == audit.PER_PAGE
    assert html(first).xpath("//a[@rel='next']/@href") == ["?page=2"]
    second = client.get(LOG, {"page": 2})
    assert len(rows(second)) == 3
    assert "Page 2 of 2" in second.content.decode()
    # A page past the end shows the last one rather than an error.
    assert len(rows(client.get(LOG, {"page": 99}))) == 3


def test_a_name_typed_for_no_account_is_shown_as_such(client, owner):
    Client().post(reverse("login"), {"username": "alice", "password": "nope"}, REMOTE_ADDR=ADDRESS)
    AuditEvent.objects.filter(kind=AuditEvent.SIGN_IN_FAILED).update(username="<b>alice</b>")
    login(client, owner)
    response = client.get(LOG)
    assert "<b>alice</b>" not in response.content.decode()


# --- each path records its event -----------------------------------------------------------------


def test_changing_a_role_on_the_settings_page_is_recorded(client, owner, viewer):
    login(client, owner)
    pk = Membership.objects.get(user=viewer).pk
    client.post(reverse("member_role", args=["acme", pk]), {"role": "editor"}, REMOTE_ADDR=ADDRESS, **HX)
    event = only_event(kind=AuditEvent.ROLE_CHANGED)
    assert (event.user, event.address, event.workspace.slug) == (owner, ADDRESS, "acme")
    assert event.data == {"member": "charlie", "role": "editor", "old": "viewer"}


def test_a_refused_role_change_records_nothing(client, owner):
    login(client, owner)
    pk = Membership.objects.get(user=owner).pk
    client.post(reverse("member_role", args=["acme", pk]), {"role": "viewer"}, **HX)
    assert not AuditEvent.objects.filter(kind=AuditEvent.ROLE_CHANGED).exists()


def test_invitations_made_revoked_and_accepted_are_recorded(client, owner):
    login(client, owner)
    client.post(reverse("invitation_create", args=["acme"]), {"role": "viewer", "days": 7}, REMOTE_ADDR=ADDRESS, **HX)
    made = only_event(kind=AuditEvent.INVITED)
    assert (made.user, made.address, made.data) == (owner, ADDRESS, {"role": "viewer", "days": 7})
    invitation = Invitation.objects.get()
    client.post(reverse("invitation_revoke", args=["acme", invitation.pk]), **HX)
    assert only_event(kind=AuditEvent.INVITATION_REVOKED).data == {"role": "viewer"}
    _invitation, token = members.invite(invitation.workspace, "editor", 1, by=owner)
    newcomer = make_user("nina")
    login(Client(), newcomer).post(reverse("invite_accept", args=[token]))
    joined = only_event(kind=AuditEvent.INVITATION_ACCEPTED)
    assert (joined.user, joined.data) == (newcomer, {"role": "editor"})


def test_removing_a_member_and_leaving_are_recorded(client, owner, editor, viewer):
    login(client, owner)
    client.post(reverse("member_remove", args=["acme", Membership.objects.get(user=viewer).pk]), **HX)
    assert only_event(kind=AuditEvent.MEMBER_REMOVED).data == {"member": "charlie"}
    login(Client(), editor).post(reverse("workspace_leave", args=["acme"]))
    assert only_event(kind=AuditEvent.MEMBER_LEFT).user == editor


def test_share_links_created_and_revoked_are_recorded(client, editor, small_map):
    login(client, editor)
    shares = reverse("map_shares", args=["acme", "launch"])
    client.post(shares, {"label": "For the agency", "password": "s3cret-pass", "ends": ""}, REMOTE_ADDR=ADDRESS, **HX)
    made = only_event(kind=AuditEvent.SHARE_CREATED)
    assert (made.user, made.address, made.workspace) == (editor, ADDRESS, small_map.workspace)
    assert made.data == {"map": "Launch journey", "label": "For the agency", "password": True}
    link = ShareLink.objects.get()
    client.post(reverse("share_revoke", args=["acme", "launch", link.pk]), **HX)
    revoked = only_event(kind=AuditEvent.SHARE_REVOKED)
    assert (revoked.user, revoked.data["label"]) == (editor, "For the agency")
    # Revoking again changes nothing and records nothing.
    client.post(reverse("share_revoke", args=["acme", "launch", link.pk]), **HX)
    assert AuditEvent.objects.filter(kind=AuditEvent.SHARE_REVOKED).count() == 1


def test_exporting_a_map_is_recorded(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_export_json", args=["acme", "launch"]), REMOTE_ADDR=ADDRESS)
    assert response.status_code == 200
    event = only_event(kind=AuditEvent.EXPORTED)
    assert (event.user, event.address, event.data) == (viewer, ADDRESS, {"map": "Launch journey"})


def test_restoring_a_revision_is_recorded(client, owner, editor, small_map):
    changes.record_creation(small_map, owner)
    changes.move_stage(small_map, "decision", -1, user=owner)
    login(client, editor)
    client.post(reverse("map_restore", args=["acme", "launch", 1]), REMOTE_ADDR=ADDRESS, **HX)
    event = only_event(kind=AuditEvent.RESTORED)
    assert (event.user, event.address, event.data) == (editor, ADDRESS, {"map": "Launch journey", "revision": 1})


def test_bringing_something_back_from_the_trash_is_recorded(client, owner, editor, workspace):
    old = JourneyMap.objects.create(workspace=workspace, key="old-plan", name="Old plan")
    changes.delete_map(old, owner)
    login(client, editor)
    client.post(reverse("trash_restore", args=["acme", TrashItem.objects.get().pk]), REMOTE_ADDR=ADDRESS)
    event = only_event(kind=AuditEvent.RESTORED)
    assert (event.user, event.address, event.data) == (editor, ADDRESS, {"name": "Old plan", "what": "map"})
    login(client, owner)
    assert "Brought “Old plan” back from the trash." in client.get(LOG).content.decode()


def test_a_role_changed_in_the_admin_is_recorded(client, owner, viewer):
    admin = make_user("root")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    login(client, admin)
    membership = Membership.objects.get(user=viewer)
    url = reverse("admin:maps_membership_change", args=[membership.pk])
    response = client.post(url, {"user": viewer.pk, "workspace": membership.workspace_id, "role": "owner"})
    assert response.status_code == 302
    event = only_event(kind=AuditEvent.ROLE_CHANGED)
    assert (event.user, event.data) == (admin, {"member": "charlie", "role": "owner", "old": "viewer"})
