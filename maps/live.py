"""What lets everyone who has a map open see the others' changes: a stamp per map in
the shared cache (local memory, or Redis for several app servers), bumped after every
committed change to the map, its comments or its votes, with a line saying who did what.

The write paths call `announce`; the pages poll a check that reads only the cache. A
stamp lost from the cache (a restart, an eviction) comes back as a new one, which
the pages take as "something changed" and refresh once: never a missed change.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache
from django.db import transaction

from .said import Said

STAMP_TTL = 60 * 60 * 24 * 7  # a week: long after anyone still has the page open
# What changes, each with the event the regions showing it listen for.
KINDS = {"map": "map-changed", "comments": "comments-changed", "votes": "votes-changed"}


def _stamp_key(map_id: int) -> str:
    return f"live:{map_id}:stamp"


def _event_key(map_id: int) -> str:
    return f"live:{map_id}:event"


def _kind_key(map_id: int, kind: str) -> str:
    return f"live:{map_id}:kind:{kind}"


def announce(map_id: int, user=None, said: Said | str | None = None, kind: str = "map") -> None:
    """After the surrounding transaction commits: a new stamp for the map and the line
    that says what happened ("demo moved Webinar to Capture"). `kind` is what changed:
    map, comments or votes (the pages refresh only what they show of it)."""
    who = user.get_username() if getattr(user, "is_authenticated", False) else ""
    what = said.as_json() if isinstance(said, Said) else (str(said) if said else "")

    def publish() -> None:
        stamp = time.time_ns()
        cache.set(_event_key(map_id), {"stamp": stamp, "who": who, "what": what, "kind": kind}, STAMP_TTL)
        # Per kind too: two changes between two polls (a comment, then a move) refresh both.
        cache.set(_kind_key(map_id, kind), stamp, STAMP_TTL)
        cache.set(_stamp_key(map_id), stamp, STAMP_TTL)

    transaction.on_commit(publish)


def stamp(map_id: int) -> int:
    """The map's current stamp, from the cache alone; a missing one is made anew."""
    current = cache.get(_stamp_key(map_id))
    if current is None:
        current = time.time_ns()
        cache.add(_stamp_key(map_id), current, STAMP_TTL)
        current = cache.get(_stamp_key(map_id), current)
    return current


def last_event(map_id: int) -> dict | None:
    """{"stamp", "who", "what" (a Said's JSON or text), "kind"} of the latest change, if the cache has it."""
    return cache.get(_event_key(map_id))


def changed_kinds(map_id: int, since: int) -> list[str]:
    """The kinds changed after stamp `since`, as far as the cache knows. With the history
    lost (a restart, an eviction) every kind counts as changed: a refresh too many, never
    a change missed."""
    if last_event(map_id) is None:
        return list(KINDS)
    found = cache.get_many([_kind_key(map_id, kind) for kind in KINDS])
    return [kind for kind in KINDS if found.get(_kind_key(map_id, kind), 0) > since]


# --- the page's pass ------------------------------------------------------------------------
# The check is polled every 2 s by every open page: it must not load the session or the
# user (two queries each time). The page, drawn for a member, carries a signed pass
# instead, naming the map, the person and their language; it is good for a working day.

SALT = "journeymap.live"
PASS_MAX_AGE = 60 * 60 * 12


class Refused(Exception):
    """A pass that is not ours, or is not for this map."""


class Expired(Refused):
    """A pass older than PASS_MAX_AGE: the page must be loaded again."""


@dataclass(frozen=True)
class Reader:
    map_id: int
    workspace: str
    key: str
    user_id: int
    username: str
    name: str
    language: str
    stamp: int


def page_pass(journey_map, user, language: str) -> str:
    """The signed pass a map page drawn now for `user` polls with."""
    return signing.dumps(
        {
            "m": journey_map.pk,
            "w": journey_map.workspace.slug,
            "k": journey_map.key,
            "u": user.pk,
            "n": user.get_username(),
            "f": user.get_full_name() or user.get_username(),
            "l": language,
            "s": stamp(journey_map.pk),
        },
        salt=SALT,
        compress=True,
    )


def read_pass(token: str, workspace: str, key: str) -> Reader:
    """The reader a pass names, if it is ours, fresh and for this map; else Refused."""
    try:
        data = signing.loads(token, salt=SALT, max_age=PASS_MAX_AGE)
    except signing.SignatureExpired:
        raise Expired() from None
    except signing.BadSignature:
        raise Refused() from None
    try:
        reader = Reader(
            map_id=int(data["m"]),
            workspace=str(data["w"]),
            key=str(data["k"]),
            user_id=int(data["u"]),
            username=str(data["n"]),
            name=str(data["f"]),
            language=str(data["l"]),
            stamp=int(data["s"]),
        )
    except (KeyError, TypeError, ValueError):
        raise Refused() from None
    if (reader.workspace, reader.key) != (workspace, key):
        raise Refused()
    return reader


# --- who has the map open -------------------------------------------------------------------
# One cache entry per map, {user_id: (username, name, time)}: several app servers share
# it. Two polls at once may each write back the other's older entry; an entry is kept
# for PRESENT_FOR, five polls, so that never makes anyone vanish.

PRESENT_FOR = 10  # seconds
AVATAR_COLOURS = 6


def _presence_key(map_id: int) -> str:
    return f"live:{map_id}:present"


@dataclass(frozen=True)
class Person:
    username: str
    name: str

    @property
    def initials(self) -> str:
        words = self.name.split() or [self.username]
        return "".join(word[0] for word in words[:2]).upper()

    @property
    def colour(self) -> int:
        return int(hashlib.blake2s(self.username.encode(), digest_size=2).hexdigest(), 16) % AVATAR_COLOURS


def visit(map_id: int, user_id: int, username: str, name: str) -> list[Person]:
    """Note that the person has the map open now; the others who have it open."""
    now = time.time()
    present = cache.get(_presence_key(map_id)) or {}
    present = {uid: entry for uid, entry in present.items() if now - entry[-1] < PRESENT_FOR}
    present[user_id] = (username, name, now)
    cache.set(_presence_key(map_id), present, PRESENT_FOR * 6)
    others = [Person(entry[0], entry[1]) for uid, entry in present.items() if uid != user_id]
    return sorted(others, key=lambda person: (person.name.lower(), person.username))


def others_present(map_id: int, user_id: int) -> bool:
    """Whether anyone but this person has the map open now."""
    now = time.time()
    present = cache.get(_presence_key(map_id)) or {}
    return any(uid != user_id and now - entry[-1] < PRESENT_FOR for uid, entry in present.items())


def presence_hash(people: list[Person]) -> str:
    """A short fingerprint of who is there, for the page to send back."""
    text = "\n".join(f"{person.username}\t{person.name}" for person in people)
    return hashlib.blake2s(text.encode(), digest_size=6).hexdigest()
