"""maps.revisions: the difference between two documents rebuilds either one exactly, and
says which items (and fields) it touched."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from maps import revisions

FULL = json.loads((Path(__file__).parent / "data" / "full_map.json").read_text(encoding="utf-8"))
LISTS = ["departments", "roles", "personas", "content", "stages", "touchpoints"]


@st.composite
def edited(draw, doc: dict) -> dict:
    """`doc` after a few random edits of the kinds people make: a field changed, an item
    added or removed, a list reordered, the map renamed."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(0, 6))):
        name = draw(st.sampled_from(LISTS))
        items = doc[name]
        kind = draw(st.sampled_from(["field", "add", "remove", "shuffle", "rename"]))
        if kind == "rename":
            doc["map"]["name"] = draw(st.text(max_size=20))
        elif kind == "add":
            items.insert(
                draw(st.integers(0, len(items))),
                {"key": f"new-{len(items)}-{draw(st.integers(0, 99))}", "name": draw(st.text(max_size=10))},
            )
        elif items and kind == "remove":
            items.pop(draw(st.integers(0, len(items) - 1)))
        elif items and kind == "shuffle":
            doc[name] = draw(st.permutations(items))
        elif items:
            item = items[draw(st.integers(0, len(items) - 1))]
            item[draw(st.sampled_from(["name", "goal", "extra"]))] = draw(st.text(max_size=10))
    # Keys stay unique within a list, as in every valid document.
    for name in LISTS:
        seen, unique = set(), []
        for item in doc[name]:
            if item["key"] not in seen:
                seen.add(item["key"])
                unique.append(item)
        doc[name] = unique
    return doc


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_a_difference_rebuilds_the_later_document_and_undoes_to_the_earlier(data):
    before = data.draw(edited(FULL))
    after = data.draw(edited(before))
    delta = revisions.diff(before, after)
    assert revisions.apply(before, delta) == after
    assert revisions.apply(after, delta, backwards=True) == before
    assert (delta == {}) == (before == after)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_a_packed_difference_is_the_same_difference(data):
    delta = revisions.diff(FULL, data.draw(edited(FULL)))
    assert revisions.unpack(revisions.pack(delta)) == delta


def test_renaming_one_touchpoint_touches_that_touchpoint_alone():
    after = copy.deepcopy(FULL)
    after["touchpoints"][2]["name"] = "Renamed"
    key = after["touchpoints"][2]["key"]
    delta = revisions.diff(FULL, after)
    assert revisions.touched(delta) == {("touchpoints", key)}
    assert revisions.changed_fields(delta, "touchpoints", key) == {"name": (FULL["touchpoints"][2]["name"], "Renamed")}


def test_reordering_stages_touches_their_order_and_nothing_else():
    after = copy.deepcopy(FULL)
    after["stages"].reverse()
    assert revisions.touched(revisions.diff(FULL, after)) == {("stages", "#order")}


def test_a_difference_of_one_field_is_far_smaller_than_the_document():
    after = copy.deepcopy(FULL)
    after["stages"][0]["goal"] = "A new goal"
    assert len(revisions.pack(revisions.diff(FULL, after))) * 4 < len(revisions.pack(FULL))


def test_moving_a_touchpoint_touches_the_order_of_its_stages_only():
    after = copy.deepcopy(FULL)
    first, second = after["touchpoints"][0], after["touchpoints"][1]
    assert first["stage"] == second["stage"]
    after["touchpoints"][0], after["touchpoints"][1] = second, first
    assert revisions.touched(revisions.diff(FULL, after)) == {("touchpoints", f"#order:{first['stage']}")}
