"""What a map shows, cached by the map's version: looked up before the map is loaded.

Every change to a map goes through maps.changes, which bumps `JourneyMap.version`; a
library change bumps the version of every map whose document it changes. So (map,
version) names what the map holds, and with the view, the format, the reader's
language, today's date (stale-content rules count days) and the renderer's own code it
names a rendering exactly. A page asks for the stamp (one small query, which is also
the access check), and on a hit answers without loading the map: from the cache, or a
304 to a matching ETag.

A rendering runs once per key (single flight), and one per map at a time: whoever finds
another one running waits for it, or, for a page fragment, says "drawing…" and asks again. A failure (a layout
Graphviz cannot make in time) is remembered for that key, so that it is not retried on
every page load of that version.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.http import Http404, HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import JourneyMap, Membership

# The code that draws: the app's modules and the templates of the cached parts. A new
# release that changes any of them makes new keys by itself.
_HERE = Path(__file__).resolve().parent
_RENDERER_FILES = sorted(_HERE.glob("*.py")) + sorted((_HERE.parent / "templates" / "maps").glob("_*.html"))
RENDERER = hashlib.sha256(b"".join(path.read_bytes() for path in _RENDERER_FILES)).hexdigest()[:12]

# A failed rendering is remembered this long for its key (the map's version): long
# enough to keep a map too complex to lay out from holding a worker on every page load.
FAILURE_SECONDS = 3600
# How long a rendering may hold its key's lock: past this, its worker is taken for gone.
_LOCK_MARGIN = 10


@dataclass(frozen=True)
class Stamp:
    """What the cache keys on, read in one query that is also the access check."""

    map_id: int
    version: int
    created: str
    ws: str
    key: str
    role: str

    @property
    def can_edit(self) -> bool:
        return self.role in (Membership.OWNER, Membership.EDITOR)


def stamp_of(journey_map: JourneyMap) -> Stamp:
    """The stamp of a map already fetched with its membership (maps.access)."""
    return Stamp(
        journey_map.pk,
        journey_map.version,
        journey_map.created.isoformat(),
        journey_map.workspace.slug,
        journey_map.key,
        journey_map.membership.role,
    )


def stamp(request: HttpRequest, ws: str, key: str) -> Stamp:
    """The map's stamp for a member of its workspace: 404 for anyone else, as
    maps.access does, and for a map in the trash."""
    row = (
        JourneyMap.objects.filter(workspace__slug=ws, key=key, deleted=None, workspace__memberships__user=request.user)
        .values_list("pk", "version", "created", "workspace__memberships__role")
        .first()
    )
    if row is None:
        raise Http404(_("No such map"))
    pk, version, created, role = row
    return Stamp(pk, version, created.isoformat(), ws, key, role)


def cache_key(stamp: Stamp, *parts: str) -> str:
    """The key of one rendering of the map at its version: `parts` say which (view,
    format, who reads it). The row's creation time tells apart two maps that got the same
    id (a database made anew beside a cache that was kept)."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    today = timezone.localdate().isoformat()
    named = "\0".join(
        [str(stamp.map_id), str(stamp.version), stamp.ws, stamp.key, stamp.created, language, today, RENDERER, *parts]
    )
    digest = hashlib.sha256(named.encode()).hexdigest()[:32]
    return f"map:{stamp.map_id}:{stamp.version}:{digest}"


def etag(key: str) -> str:
    return '"' + key.rsplit(":", 1)[1] + '"'


@dataclass(frozen=True)
class Entry:
    """A cached rendering: its bytes and what goes with them, or the failure's message."""

    body: bytes = b""
    content_type: str = ""
    filename: str = ""
    error: str = ""


class Busy(Exception):
    """Another request is drawing this key right now."""


def drawing_lock(key: str) -> str:
    """The lock a rendering of `key` holds: one per map, whatever the view or format, so
    that at most one rendering of a map runs at a time (a map too complex to lay out
    holds one worker, not one per view asked for)."""
    map_part = ":".join(key.split(":")[:2])  # "map:ID" of cache_key
    return map_part + ":drawing"


def get_or_render(key: str, make: Callable[[], Entry], wait: bool = True) -> Entry:
    """The entry for `key`, made once. While another request makes it, wait for its
    result (`wait`), or raise Busy at once for a page that can ask again."""
    entry = cache.get(key)
    if entry is not None:
        return entry
    lock = drawing_lock(key)
    hold = settings.GRAPHVIZ_TIMEOUT + _LOCK_MARGIN
    deadline = time.monotonic() + hold
    pause = 0.005  # most drawings take milliseconds: look again soon, then less often
    while not cache.add(lock, 1, timeout=hold):
        if not wait:
            raise Busy
        time.sleep(pause)
        pause = min(pause * 2, 0.1)
        entry = cache.get(key)
        if entry is not None:
            return entry
        if time.monotonic() > deadline:
            break  # the other worker is gone; draw it here
    try:
        entry = make()
        if entry.error:
            cache.set(key, entry, FAILURE_SECONDS)
        else:
            cache.set(key, entry)  # the cache's own lifetime (settings.CACHES)
        return entry
    finally:
        cache.delete(lock)
