"""The board as HTML, one column per stage, each drawn and cached on its own.

A column's HTML is keyed by a digest of everything it shows: its stage, cards, their
gaps and open comments, its place (first, last) and its stretch of the emotion curve.
After an edit only the columns whose digest changed are drawn again; a 500-card board
whose one card changed draws one column, not fifty.

The digests of the board as it stood at a stamp (the map's version and the open
comments it shows) are kept as well. A board on a page says which stamp it shows; asked
what changed since, the answer is only the changed columns, as htmx out-of-band swaps
(`delta`). The person's own edit answers that way too (`maps.views._saved`), so that
the board is up to date with the answer to the save, and the region's own refresh
after it costs nothing (204).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import is_dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Model
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from . import comments as talk
from . import versioned
from .models import JourneyMap, Workspace

COLUMN_TEMPLATE = "maps/_board_column.html"


def shown(version: int, counts: dict) -> str:
    """The stamp of a board: what it was drawn from (version, open comment counts)."""
    talked = hashlib.sha256(talk.counts_stamp(counts).encode()).hexdigest()[:10]
    return f"{version}.{talked}"


def draw(journey_map: JourneyMap, board: dict, can_edit: bool, csrf_mark: str) -> None:
    """Put the columns' HTML (`board["html"]`) and the board's stamp on `board` (from
    maps.board.build_board, with the open comments on it), drawing only the columns not
    in the cache, and remember the board's digests for `delta`."""
    stamp = versioned.stamp_of(journey_map)
    board["stamp"] = shown(journey_map.version, talk.open_counts(journey_map))
    columns = board["columns"]
    # The same board drawn again without controls (for viewers) keeps its digests.
    if board.get("digests") is None:
        memo: dict = {}
        board["digests"] = [_digest(column, memo) for column in columns]
    digests = board["digests"]
    keys = [_column_key(stamp, can_edit, digest) for digest in digests]
    found = cache.get_many(keys)
    drawn = {}
    if len(found) < len(keys):
        template = get_template(COLUMN_TEMPLATE)
        context = {
            "map": journey_map,
            "ws": journey_map.workspace.slug,
            "can_edit": can_edit,
            "comments_url": reverse("map_comments", args=[journey_map.workspace.slug, journey_map.key]),
            "csrf_token": csrf_mark,
        }
        for column, key in zip(columns, keys, strict=True):
            if key not in found:
                drawn[key] = found[key] = _tight(template.render({**context, "col": column}))
        cache.set_many(drawn)
    board["html"] = mark_safe("".join(found[key] for key in keys))
    layout = [(column.stage.key, key) for column, key in zip(columns, keys, strict=True)]
    cache.set(_layout_key(stamp, board["stamp"], can_edit), layout)


# The template's indentation between two tags: a tenth of a board of 500 cards. The column
# holds no <pre> or <textarea>, and a browser shows any run of it as one space anyway.
_BETWEEN_TAGS = re.compile(r">\s+<")


def _tight(html: str) -> str:
    return _BETWEEN_TAGS.sub("> <", html)


def delta(stamp: versioned.Stamp, since: str, now: str) -> SafeString | None:
    """The columns that changed between the board at stamp `since` and at `now`, each
    marked to be swapped out of band; None when either board is not known any more, or
    the stages themselves changed (added, removed, reordered): then the whole board."""
    before = cache.get(_layout_key(stamp, since, stamp.can_edit))
    after = cache.get(_layout_key(stamp, now, stamp.can_edit))
    if before is None or after is None or [k for k, _ in before] != [k for k, _ in after]:
        return None
    changed = [(stage, key) for (stage, key), (_, old) in zip(after, before, strict=True) if key != old]
    found = cache.get_many([key for _, key in changed])
    if len(found) < len(changed):
        return None
    version = now.split(".", 1)[0]
    parts = []
    for stage, key in changed:
        opening = f'<div class="col stage-col" id="col-{stage}"'  # i18n: not for people
        html = found[key]
        start = html.index(opening)
        # Our own template's first tag: the swap marker and the version it shows go in it.
        marked = f'{opening} hx-swap-oob="true" data-version="{version}"'  # i18n: not for people
        parts.append(html[:start] + marked + html[start + len(opening) :])
    return mark_safe("".join(parts))


def _column_key(stamp: versioned.Stamp, can_edit: bool, digest: str) -> str:
    named = "\0".join(_board_identity(stamp) + [str(can_edit), digest])
    return "board-col:" + hashlib.sha256(named.encode()).hexdigest()[:32]


def _layout_key(stamp: versioned.Stamp, board_stamp: str, can_edit: bool) -> str:
    named = "\0".join(_board_identity(stamp) + [str(can_edit), board_stamp, timezone.localdate().isoformat()])
    return f"board-layout:{stamp.map_id}:" + hashlib.sha256(named.encode()).hexdigest()[:32]


def _board_identity(stamp: versioned.Stamp) -> list[str]:
    language = translation.get_language() or settings.LANGUAGE_CODE
    return [str(stamp.map_id), stamp.created, stamp.ws, stamp.key, language, versioned.RENDERER]


def _digest(column, memo: dict) -> str:
    return hashlib.sha256(repr(_shape(column, 0, memo)).encode()).hexdigest()


# The map and the workspace are what every column belongs to; their fields (the map's
# version above all) are not what a column shows.
_NOT_SHOWN = (JourneyMap, Workspace)
# Values that are their own shape: most of a card's, taken without a call.
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _shape(value, depth: int, memo: dict):
    """Everything a column's template can read from `value`, as plain values: a model's
    fields and the related objects fetched with it (a card's owner, a stage's lead), a
    dataclass's attributes (with those set on it afterwards, as the comment counts),
    lists and dicts. Related objects are followed one step, not in circles.

    `memo` holds the shapes of the objects already walked in this drawing (a stage is
    every one of its cards' stage), by identity: they are alive, and the same, until the
    drawing ends."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, Model):
        if isinstance(value, _NOT_SHOWN):
            return (type(value).__name__, value.pk)
        known = memo.get((id(value), depth))
        if known is not None:
            return known
        fields = tuple(
            (name, v if type(v) in _PLAIN else _shape(v, depth + 1, memo))
            for name, v in sorted(vars(value).items())
            if name[0] != "_"
        )
        related = ()
        if depth < 2:
            cached = value._state.fields_cache
            related = tuple((name, _shape(cached[name], depth + 1, memo)) for name in sorted(cached))
        shaped = memo[id(value), depth] = (type(value).__name__, fields, related)
        return shaped
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, tuple((k, _shape(v, depth, memo)) for k, v in sorted(vars(value).items())))
    if isinstance(value, list | tuple):
        return tuple(_shape(v, depth, memo) for v in value)
    if isinstance(value, dict):
        return tuple((k, _shape(v, depth, memo)) for k, v in sorted(value.items()))
    return value
