"""Read-only share links: a secret URL that shows one map to people outside the workspace.

Only the sha256 of a link's secret is stored, so the secret is shown once, when the link
is made, and a copy of the database opens nothing. A link may have a password (stored as
make_password's hash) and an end date, and can be revoked. Whatever is wrong with a
token (unknown, revoked, expired, its map in the trash), `find_link` answers None alike,
so a stranger cannot tell a revoked link from one that never existed.

Share links are not map content: making or revoking one writes no revision, but an event
of the audit log (maps/audit.py).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import MutableMapping

from django.contrib.auth.hashers import check_password as check_hash
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import audit
from .models import AuditEvent, JourneyMap, ShareLink

# Wrong passwords for one link: after MAX_FAILURES within FAILURE_WINDOW seconds, every
# try is refused for LOCK_SECONDS, right password or not.
MAX_FAILURES = 5
FAILURE_WINDOW = 10 * 60
LOCK_SECONDS = 10 * 60

# The session remembers which protected links this browser has opened with their password.
SESSION_KEY = "journeymap_share_links"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(
    journey_map: JourneyMap,
    user,
    label: str = "",
    password: str = "",
    expires: datetime.datetime | None = None,
) -> tuple[ShareLink, str]:
    """A new link to `journey_map` and its secret token (not stored: show it once)."""
    token = secrets.token_urlsafe(32)
    link = ShareLink(
        map=journey_map,
        token_hash=hash_token(token),
        label=label,
        password=make_password(password) if password else "",
        expires=expires,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    link.full_clean(exclude=["created_by"])  # made by a person, or by a script (None)
    with transaction.atomic():
        link.save()
        _record(AuditEvent.SHARE_CREATED, link, user)
    return link, token


def revoke(link: ShareLink, by=None) -> None:
    """The link stops working at once; it stays in the list, marked revoked."""
    if link.revoked is None:
        with transaction.atomic():
            link.revoked = timezone.now()
            link.save(update_fields=["revoked"])
            _record(AuditEvent.SHARE_REVOKED, link, by)


def _record(kind: str, link: ShareLink, user) -> None:
    audit.record(
        kind,
        user=user,
        workspace=link.map.workspace,
        map=link.map.name,
        label=link.label,
        password=bool(link.password),
        expires=link.expires.isoformat() if link.expires else None,
    )


def links_of(journey_map: JourneyMap) -> list[ShareLink]:
    return list(journey_map.share_links.select_related("created_by").order_by("-created", "-pk"))


def find_link(token: str) -> ShareLink | None:
    """The active link of `token`, with its map, or None for any token that opens nothing."""
    now = timezone.now()
    return (
        ShareLink.objects.select_related("map__workspace")
        .filter(token_hash=hash_token(token), revoked=None, map__deleted=None)
        .filter(Q(expires=None) | Q(expires__gt=now))
        .first()
    )


def count_view(link: ShareLink) -> None:
    # In the database, not `link.views += 1`: two readers at once must both be counted.
    ShareLink.objects.filter(pk=link.pk).update(views=F("views") + 1)


# --- passwords -------------------------------------------------------------------------


def needs_password(link: ShareLink) -> bool:
    return bool(link.password)


def is_unlocked(link: ShareLink, session: MutableMapping) -> bool:
    """Open without asking: no password, or this session gave the right one."""
    return not link.password or link.pk in session.get(SESSION_KEY, [])


def is_locked_out(link: ShareLink) -> bool:
    return bool(cache.get(_lock_key(link)))


def try_password(link: ShareLink, password: str, session: MutableMapping) -> bool:
    """Check a password typed for `link`. Right: this session is let in. Wrong: the try is
    counted, and the fifth in the window locks the link for a while. Callers check
    `is_locked_out` first: a locked link checks nothing."""
    if password and check_hash(password, link.password):
        cache.delete(_failures_key(link))
        session[SESSION_KEY] = [*session.get(SESSION_KEY, []), link.pk]
        return True
    _count_failure(link)
    return False


def _count_failure(link: ShareLink) -> None:
    key = _failures_key(link)
    # add() starts the window at the first failure; incr() never moves it on.
    cache.add(key, 0, timeout=FAILURE_WINDOW)
    try:
        failures = cache.incr(key)
    except ValueError:  # the window ended between add() and incr()
        cache.set(key, 1, timeout=FAILURE_WINDOW)
        failures = 1
    if failures >= MAX_FAILURES:
        cache.set(_lock_key(link), True, timeout=LOCK_SECONDS)
        cache.delete(key)


# Keys name the link's row, never its token.
def _failures_key(link: ShareLink) -> str:
    return f"share-link:{link.pk}:failures"


def _lock_key(link: ShareLink) -> str:
    return f"share-link:{link.pk}:locked"
