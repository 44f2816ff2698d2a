"""maps.changes, the write path every view, command and import uses: keys, orders that
stay a permutation, refusals that write nothing."""

from __future__ import annotations

import pytest

from maps import changes
from maps.forms import MapCreateForm
from maps.models import JourneyMap, Stage, Touchpoint
from maps.stage_templates import TEMPLATES

from .web import snapshot


def order_of(stage: Stage) -> list[tuple[str, int]]:
    return list(Touchpoint.objects.filter(stage=stage).order_by("order").values_list("key", "order"))


def test_free_key_is_made_from_the_name_and_avoids_taken_keys():
    assert changes.free_key("Live demo", []) == "live-demo"
    assert changes.free_key("Live demo", ["live-demo", "live-demo-2"]) == "live-demo-3"


def test_free_key_of_a_japanese_name_is_romanised_and_of_no_letters_falls_back_to_the_given_word():
    assert changes.free_key("認知", ["stage"], fallback="stage") == "ninchi"
    assert changes.free_key("。", ["stage"], fallback="stage") == "stage-2"


def test_free_key_with_a_suffix_still_fits_the_key_length():
    long = "x" * 64
    key = changes.free_key(long, [long])
    assert key == "x" * 62 + "-2" and len(key) == 64


def test_moving_a_touchpoint_to_the_next_stage_closes_up_the_stage_it_left(small_map):
    awareness, decision = small_map.stages.all()
    ad = small_map.touchpoints.get(key="ad")
    changes.move_touchpoint(small_map, ad, "right")
    assert order_of(awareness) == [("webinar", 0)]
    assert order_of(decision) == [("demo", 0), ("ad", 1)]


def test_a_reorder_that_leaves_out_a_newer_touchpoint_keeps_it_after_the_named_ones(small_map):
    awareness, _decision = small_map.stages.all()
    Touchpoint.objects.create(map=small_map, stage=awareness, key="late", name="Added meanwhile", order=2)
    changes.reorder_touchpoints(small_map, awareness, ["webinar", "ad"])
    assert order_of(awareness) == [("webinar", 0), ("ad", 1), ("late", 2)]


def test_dragging_a_touchpoint_into_another_stage_renumbers_both(small_map):
    awareness, decision = small_map.stages.all()
    changes.reorder_touchpoints(small_map, decision, ["ad", "demo"])
    assert order_of(decision) == [("ad", 0), ("demo", 1)]
    assert order_of(awareness) == [("webinar", 0)]


def test_a_reorder_naming_an_unknown_touchpoint_is_refused_and_writes_nothing(small_map):
    awareness, _decision = small_map.stages.all()
    before = snapshot()
    with pytest.raises(changes.Refused, match="changed meanwhile"):
        changes.reorder_touchpoints(small_map, awareness, ["ad", "ghost"])
    assert snapshot() == before


def test_deleting_a_stage_leaves_the_other_stages_numbered_without_a_hole(small_map):
    Stage.objects.create(map=small_map, key="loyalty", name="Loyalty", order=2)
    changes.delete_stage(small_map, small_map.stages.get(key="decision"))
    assert list(small_map.stages.values_list("key", "order")) == [("awareness", 0), ("loyalty", 1)]


def test_a_flow_to_itself_is_refused(small_map):
    ad = small_map.touchpoints.get(key="ad")
    with pytest.raises(changes.Refused, match="cannot flow to itself"):
        changes.add_flow(small_map, ad, "ad")


def test_a_library_item_in_use_cannot_be_deleted_and_says_by_what(small_map, workspace):
    marketing = workspace.departments.get(key="marketing")
    with pytest.raises(changes.Refused, match="1 stage it leads, 2 touchpoints it owns"):
        changes.delete_library_item(marketing)
    assert workspace.departments.filter(key="marketing").exists()


def new_map_form(workspace, data: dict, language: str = "en") -> MapCreateForm:
    form = MapCreateForm(data, workspace=workspace, instance=JourneyMap(workspace=workspace, language=language))
    assert form.is_valid(), form.errors
    return form


def test_a_japanese_map_in_a_new_workspace_gets_the_defaults_in_japanese(workspace):
    form = new_map_form(workspace, {"name": "日本向け", "start": "template", "template": "b2b-five-stage"}, "ja")
    journey_map = changes.create_map(workspace, form)
    assert journey_map.language == "ja"
    assert list(workspace.departments.values_list("name", flat=True)) == [
        "マーケティング",
        "営業",
        "カスタマーサクセス",
    ]
    assert workspace.roles.get(key="decision-maker").name == "意思決定者"
    assert journey_map.stages.first().name == TEMPLATES["b2b-five-stage"].stages[0].text["ja"].name


def test_the_language_chosen_in_the_form_is_the_maps_and_its_templates(workspace):
    data = {"name": "Q3", "start": "template", "template": "act-on-lifecycle", "language": "en"}
    journey_map = changes.create_map(workspace, new_map_form(workspace, data, language="ja"))
    assert journey_map.language == "en"
    assert journey_map.stages.first().name == "Attract"
    assert workspace.departments.get(key="sales").name == "Sales"


def test_a_map_in_a_workspace_with_a_library_leaves_the_library_as_it_is(small_map, workspace):
    before = list(workspace.departments.values_list("key", "name"))
    form = new_map_form(workspace, {"name": "Japan", "start": "template", "template": "b2b-five-stage"}, "ja")
    changes.create_map(workspace, form)
    assert list(workspace.departments.values_list("key", "name")) == before
    assert not workspace.roles.filter(name="意思決定者").exists()
