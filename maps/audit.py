"""The audit log: the security events of a workspace, for its owners to look back on.

Each event is written by the code path that does the thing (maps/members.py for roles and
invitations, maps/sharing.py for share links, maps/history.py and maps/trash.py for
restores, maps/accounts.py for signing in), inside the same transaction, so a change that
is rolled back leaves no event and no change goes unrecorded. The address is the
request's (maps/request_context.py); from the command line there is none.

Events keep plain values (a map's name, a role); `describe` says them in the reader's
language when the page is shown.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.paginator import Page, Paginator
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import AuditEvent, Membership, Workspace
from .request_context import current_address

PER_PAGE = 50


def record(kind: str, user=None, workspace: Workspace | None = None, username: str = "", **data) -> AuditEvent:
    """Write one event about `user` (or, for an unknown account, the name typed)."""
    if user is not None and not user.is_authenticated:
        user = None
    name = user.get_username() if user is not None else username
    return AuditEvent.objects.create(
        kind=kind,
        user=user,
        username=name[:150],
        workspace=workspace,
        address=current_address(),
        data={key: value for key, value in data.items() if value is not None},
    )


def account_of(username: str):
    """The account a typed user name names, or None."""
    model = get_user_model()
    return model._default_manager.filter(**{model.USERNAME_FIELD: username}).first() if username else None


def events_of(workspace: Workspace):
    """The workspace's events and the account events of its members, newest first."""
    members = Membership.objects.filter(workspace=workspace).values("user_id")
    return (
        AuditEvent.objects.filter(Q(workspace=workspace) | Q(workspace=None, user__in=members))
        .select_related("user")
        .order_by("-created", "-pk")
    )


def page_of(workspace: Workspace, number) -> Page:
    return Paginator(events_of(workspace), PER_PAGE).get_page(number)


def _role(value: str) -> str:
    return str(dict(Membership.ROLE_CHOICES).get(value, value)).lower()


def describe(event: AuditEvent) -> str:
    """The event in a sentence, in the active language."""
    data = event.data or {}
    values = {
        "member": data.get("member", ""),
        "map": data.get("map", ""),
        "label": data.get("label") or _("without a label"),
        "role": _role(data.get("role", "")),
        "old": _role(data.get("old", "")),
        "name": data.get("name", ""),
        "number": data.get("revision", ""),
        "days": data.get("days", ""),
        "file": data.get("file", ""),
    }
    sentences = {
        AuditEvent.SIGN_IN: _("Signed in."),
        AuditEvent.SIGN_IN_FAILED: _("Sign-in refused: wrong password or the sign-in was locked."),
        AuditEvent.LOCKED_OUT: _("Too many failed sign-ins: signing in was locked for a while."),
        AuditEvent.PASSWORD_CHANGED: _("Changed their password."),
        AuditEvent.SIGNED_OUT_EVERYWHERE: _("Signed out on every device."),
        AuditEvent.ROLE_CHANGED: _("Made %(member)s %(role)s (was %(old)s)."),
        AuditEvent.MEMBER_REMOVED: _("Removed %(member)s from the workspace."),
        AuditEvent.MEMBER_LEFT: _("Left the workspace."),
        AuditEvent.INVITATION_REVOKED: _("Revoked an invitation link for a new %(role)s."),
        AuditEvent.INVITATION_ACCEPTED: _("Joined the workspace as %(role)s with an invitation link."),
        AuditEvent.SHARE_CREATED: _("Created the share link “%(label)s” to the map “%(map)s”."),
        AuditEvent.SHARE_REVOKED: _("Revoked the share link “%(label)s” to the map “%(map)s”."),
        AuditEvent.EXPORTED: _("Exported the map “%(map)s” as journeymap JSON."),
        AuditEvent.BACKED_UP: _("Downloaded a backup of the whole workspace."),
    }
    if event.kind == AuditEvent.INVITED:
        days = int(data.get("days") or 0)
        return (
            ngettext(
                "Created an invitation link for a new %(role)s, valid %(days)s day.",
                "Created an invitation link for a new %(role)s, valid %(days)s days.",
                days,
            )
            % values
        )
    if event.kind == AuditEvent.IMPORTED:
        if data.get("into"):
            return _("Replaced the content of the map “%(map)s” with the file “%(file)s”.") % values
        return _("Imported the map “%(map)s” from the file “%(file)s”.") % values
    if event.kind == AuditEvent.RESTORED:
        if data.get("revision"):
            return _("Restored the map “%(map)s” as it was at revision %(number)s.") % values
        return _("Brought “%(name)s” back from the trash.") % values
    sentence = sentences.get(event.kind)
    if sentence is None:
        return event.get_kind_display()
    return sentence % values
