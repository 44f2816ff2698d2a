"""Who belongs to a workspace, and the rules for changing that: invitation links, roles,
removing a member, leaving.

Every change runs in one transaction that first locks the workspace's row and then all
its memberships, in a fixed order (by primary key), and checks its rules on what it
locked: two owners demoting each other at the same moment queue up, and the second sees
that the first left only one owner. A workspace always keeps at least one owner.

A change that cannot be made as asked raises `Refused` with a message for a person,
before anything is written. Members are not map content: no revisions are recorded, but
each change is an event of the audit log (maps/audit.py), in the same transaction.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit
from .models import AuditEvent, Invitation, Membership, Workspace

# How long an invitation link works, in days: the choices the settings page offers.
EXPIRY_DAYS = (1, 7, 30)
ROLES = [role for role, _label in Membership.ROLE_CHOICES]
# Higher first: how the member list is sorted.
RANK = {Membership.OWNER: 0, Membership.EDITOR: 1, Membership.VIEWER: 2}


class Refused(Exception):
    """A change to the members that the rules do not allow; nothing was written."""


class InvitationGone(Refused):
    """The link expired or was revoked (410); an unknown link is `InvitationUnknown` (404)."""


class InvitationUnknown(Refused):
    pass


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def members(workspace: Workspace) -> list[Membership]:
    """The members, owners first, then editors, then viewers; by name within each."""
    found = Membership.objects.filter(workspace=workspace).select_related("user")
    return sorted(found, key=lambda m: (RANK.get(m.role, 9), m.user.get_username().lower()))


def active_invitations(workspace: Workspace) -> list[Invitation]:
    now = timezone.now()
    return list(workspace.invitations.filter(revoked=None, expires__gt=now).order_by("-created"))


def _locked(workspace: Workspace) -> list[Membership]:
    """Lock the workspace and every membership of it, always in the same order."""
    list(Workspace.objects.select_for_update().filter(pk=workspace.pk).values_list("pk", flat=True))
    return list(Membership.objects.select_for_update().filter(workspace_id=workspace.pk).order_by("pk"))


def _owner_in(memberships: list[Membership], user) -> Membership:
    """`user`'s membership, which must (still) be an owner's."""
    for membership in memberships:
        if membership.user_id == user.pk and membership.role == Membership.OWNER:
            return membership
    raise Refused(_("Only an owner of the workspace can do this."))


def _member_in(memberships: list[Membership], pk: int) -> Membership:
    for membership in memberships:
        if membership.pk == pk:
            return membership
    raise Refused(_("That person is no longer a member of this workspace."))


def _is_last_owner(memberships: list[Membership], membership: Membership) -> bool:
    owners = [m for m in memberships if m.role == Membership.OWNER]
    return membership.role == Membership.OWNER and len(owners) == 1


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise Refused(_("Choose a role: owner, editor or viewer."))


def invite(workspace: Workspace, role: str, days: int, by) -> tuple[Invitation, str]:
    """A new invitation link for `role`, valid `days` days; returns it and its secret,
    which is not stored (only its hash) and so can be shown only this once."""
    _check_role(role)
    if days not in EXPIRY_DAYS:
        raise Refused(_("Choose how long the link works: 1, 7 or 30 days."))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _owner_in(_locked(workspace), by)
        invitation = Invitation.objects.create(
            workspace=workspace,
            role=role,
            token_hash=token_hash(token),
            created_by=by,
            expires=timezone.now() + datetime.timedelta(days=days),
        )
        audit.record(AuditEvent.INVITED, user=by, workspace=workspace, role=role, days=days)
    return invitation, token


def revoke(workspace: Workspace, pk: int, by) -> Invitation:
    with transaction.atomic():
        _owner_in(_locked(workspace), by)
        invitation = Invitation.objects.filter(workspace=workspace, pk=pk).first()
        if invitation is None:
            raise Refused(_("That invitation does not exist."))
        if invitation.revoked is None:
            invitation.revoked = timezone.now()
            invitation.save(update_fields=["revoked"])
            audit.record(AuditEvent.INVITATION_REVOKED, user=by, workspace=workspace, role=invitation.role)
    return invitation


def find_invitation(token: str) -> Invitation:
    """The invitation a link names, if it still works: InvitationUnknown for a link that
    never was, InvitationGone for one that expired or was revoked."""
    invitation = Invitation.objects.select_related("workspace").filter(token_hash=token_hash(token)).first()
    if invitation is None:
        raise InvitationUnknown(_("This invitation link is not valid. Ask an owner of the workspace for a new one."))
    if invitation.revoked is not None:
        raise InvitationGone(_("This invitation link was revoked. Ask an owner of the workspace for a new one."))
    if invitation.expires <= timezone.now():
        raise InvitationGone(_("This invitation link has expired. Ask an owner of the workspace for a new one."))
    return invitation


def accept(token: str, user) -> tuple[Membership, bool]:
    """Make `user` a member with the invitation's role; (membership, True) if they joined.
    Someone already a member stays as they are, whatever the role: (membership, False)."""
    invitation = find_invitation(token)
    with transaction.atomic():
        memberships = _locked(invitation.workspace)
        invitation = find_invitation(token)  # again, under the lock: revoked meanwhile?
        for membership in memberships:
            if membership.user_id == user.pk:
                return membership, False
        membership = Membership.objects.create(workspace=invitation.workspace, user=user, role=invitation.role)
        Invitation.objects.filter(pk=invitation.pk).update(accepted=F("accepted") + 1)
        audit.record(AuditEvent.INVITATION_ACCEPTED, user=user, workspace=invitation.workspace, role=invitation.role)
    return membership, True


def set_role(workspace: Workspace, pk: int, role: str, by) -> Membership:
    _check_role(role)
    with transaction.atomic():
        memberships = _locked(workspace)
        _owner_in(memberships, by)
        membership = _member_in(memberships, pk)
        if membership.role == role:
            return membership
        if _is_last_owner(memberships, membership):
            raise Refused(
                _(
                    "%(user)s is the last owner of the workspace and cannot stop being one. Make someone else an owner first."
                )
                % {"user": membership.user.get_username()}
            )
        old = membership.role
        membership.role = role
        membership.save(update_fields=["role"])
        audit.record(
            AuditEvent.ROLE_CHANGED,
            user=by,
            workspace=workspace,
            member=membership.user.get_username(),
            role=role,
            old=old,
        )
    return membership


def remove(workspace: Workspace, pk: int, by) -> Membership:
    with transaction.atomic():
        memberships = _locked(workspace)
        _owner_in(memberships, by)
        membership = _member_in(memberships, pk)
        if _is_last_owner(memberships, membership):
            raise Refused(
                _(
                    "%(user)s is the last owner of the workspace and cannot be removed. Make someone else an owner first."
                )
                % {"user": membership.user.get_username()}
            )
        membership.delete()
        audit.record(AuditEvent.MEMBER_REMOVED, user=by, workspace=workspace, member=membership.user.get_username())
    return membership


def leave(workspace: Workspace, user) -> None:
    with transaction.atomic():
        memberships = _locked(workspace)
        mine = next((m for m in memberships if m.user_id == user.pk), None)
        if mine is None:
            raise Refused(_("You are not a member of this workspace."))
        if _is_last_owner(memberships, mine):
            raise Refused(
                _("You are the last owner of the workspace and cannot leave it. Make someone else an owner first.")
            )
        mine.delete()
        audit.record(AuditEvent.MEMBER_LEFT, user=user, workspace=workspace)
