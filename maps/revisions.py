"""Revisions stored compactly: journeymap/1 documents and the differences between them.

A map's history is the sequence of its journeymap/1 documents (docs/format.md), one per
revision. Storing each whole would cost a 2,000-touchpoint map 30 KB a revision, so a
revision keeps the *difference* from the one before it, and every CHECKPOINT_EVERY-th
revision also keeps the whole document. The document of any revision is its nearest
checkpoint at or before it with the differences after it applied: a few milliseconds.

A difference names items by their list and key, as the document does, with the item
before and after (None where it did not exist) and, where the order of a list changed,
the keys before and after. That is also what undo needs (apply it backwards) and what a
conflict check needs (did a later revision touch the same item, and which fields).
Documents are compared and rebuilt as parsed JSON, so a rebuilt document is exactly the
export it was made from.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable

CHECKPOINT_EVERY = 25
MAP = "map"

# {"map": [before, after]?,
#  "lists": {name: {"items": {key: [b, a]}, "order": [keys_b, keys_a]?, "groups": [stage keys]?}}}
Delta = dict


def pack(data: object) -> bytes:
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def unpack(blob: bytes | memoryview) -> object:
    return json.loads(zlib.decompress(bytes(blob)))


def _lists(doc: dict) -> Iterable[str]:
    return [name for name, value in doc.items() if isinstance(value, list)]


def diff(before: dict, after: dict) -> Delta:
    """What changed from `before` to `after`; {} when they are the same document."""
    delta: Delta = {}
    if before.get(MAP) != after.get(MAP):
        delta[MAP] = [before.get(MAP), after.get(MAP)]
    lists = {}
    for name in dict.fromkeys([*_lists(before), *_lists(after)]):
        old = {item["key"]: item for item in before.get(name, [])}
        new = {item["key"]: item for item in after.get(name, [])}
        items = {
            key: [old.get(key), new.get(key)] for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)
        }
        change = {"items": items} if items else {}
        if list(old) != list(new):
            change["order"] = [list(old), list(new)]
            groups = _groups_reordered(old, new)
            if groups is not None:
                change["groups"] = groups
        if change:
            lists[name] = change
    if lists:
        delta["lists"] = lists
    return delta


def _groups_reordered(old: dict[str, dict], new: dict[str, dict]) -> list[str] | None:
    """For a list grouped by stage (touchpoints), the stages whose own sequence changed:
    moving the stages around reorders the whole list but no stage's touchpoints."""
    items = [*old.values(), *new.values()]
    if not items or not all(isinstance(item.get("stage"), str) for item in items):
        return None
    stages = dict.fromkeys(item["stage"] for item in items)
    return [
        stage
        for stage in stages
        if [key for key, item in old.items() if item["stage"] == stage]
        != [key for key, item in new.items() if item["stage"] == stage]
    ]


def apply(doc: dict, delta: Delta, backwards: bool = False) -> dict:
    """`doc` with `delta` applied (or undone, `backwards`): a new document."""
    side = 0 if backwards else 1
    result = dict(doc)
    if MAP in delta:
        result[MAP] = delta[MAP][side]
    for name, change in delta.get("lists", {}).items():
        items = {item["key"]: item for item in doc.get(name, [])}
        for key, pair in change.get("items", {}).items():
            if pair[side] is None:
                items.pop(key, None)
            else:
                items[key] = pair[side]
        order = change["order"][side] if "order" in change else list(items)
        # Keys the order does not name (an item of a later revision kept by a partial
        # undo) stay, after the named ones.
        named = set(order)
        result[name] = [items[key] for key in order if key in items]
        result[name] += [item for key, item in items.items() if key not in named]
    return result


def touched(delta: Delta) -> set[tuple[str, str]]:
    """(list, key) of every item the delta changed; ("map", "") for the map's own fields;
    (list, "#order") for a reordered list, or (list, "#order:STAGE") for each stage whose
    touchpoints were reordered."""
    found = {(MAP, "")} if MAP in delta else set()
    for name, change in delta.get("lists", {}).items():
        found |= {(name, key) for key in change.get("items", {})}
        if "groups" in change:
            found |= {(name, f"#order:{group}") for group in change["groups"]}
        elif "order" in change:
            found.add((name, "#order"))
    return found


def changed_fields(delta: Delta, name: str, key: str) -> dict[str, tuple[object, object]]:
    """Field -> (before, after) for one item of the delta: what another person changed."""
    pair = delta.get("lists", {}).get(name, {}).get("items", {}).get(key)
    if name == MAP:
        pair = delta.get(MAP)
    if not pair:
        return {}
    before, after = pair[0] or {}, pair[1] or {}
    return {
        field: (before.get(field), after.get(field))
        for field in dict.fromkeys([*before, *after])
        if before.get(field) != after.get(field)
    }
