"""Stages and their KPIs: add, edit, delete, move, reorder; who may, and what is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.forms import StageForm
from maps.gaps import find_gaps
from maps.models import (
    BuyingRole,
    Department,
    Flow,
    JourneyMap,
    Metric,
    Stage,
    Touchpoint,
)

from .web import (
    EDITING_ROLES,
    HX,
    Edit,
    assert_refused,
    assert_saved,
    assert_saved_without_htmx,
    assert_sent_to_login,
    client_events,
    current_form_data,
    edit_ids,
    field_errors,
    form_actions,
    html,
    login,
    snapshot,
)


def stage_keys(journey_map: JourneyMap) -> list[str]:
    return list(journey_map.stages.order_by("order", "id").values_list("key", flat=True))


def stage_data(journey_map: JourneyMap, stage_key: str | None = None, **changes) -> dict:
    """The stage form as a browser posts it: the stage's current values, then `changes`."""
    instance = journey_map.stages.get(key=stage_key) if stage_key else Stage(map=journey_map)
    data = current_form_data(StageForm(instance=instance, journey_map=journey_map))
    data.update(changes)
    return data


def dept(journey_map: JourneyMap, key: str) -> Department:
    return journey_map.workspace.departments.get(key=key)


def role(journey_map: JourneyMap, key: str) -> BuyingRole:
    return journey_map.workspace.roles.get(key=key)


def check_stage_added(jm: JourneyMap) -> None:
    stage = jm.stages.get(key="proof-of-value")
    assert stage.name == "Proof of value"
    assert stage.questions == ["Does it work with our data?", "Who signs off?"]
    assert stage.lead.key == "sales"
    assert [d.key for d in stage.contributors.all()] == ["service"]
    assert (stage.entered, stage.converted, stage.target_conversion) == (40, 12, 0.25)
    assert stage_keys(jm) == ["awareness", "decision", "proof-of-value"]


def check_stage_edited(jm: JourneyMap) -> None:
    stage = jm.stages.get(key="awareness")
    assert stage.name == "Discovery"
    assert stage.goal == "Be found by the buying group"
    assert stage.lead.key == "sales"
    assert {r.key for r in stage.required_roles.all()} == {"decision-maker", "technical-evaluator"}
    assert (stage.entered, stage.converted) == (1000, 150)
    # What the form did not touch stays as it was.
    assert stage.handoff_sla == "MQL within 2 days"
    assert stage.metrics.get().name == "Visits"
    assert list(stage.touchpoints.values_list("key", flat=True)) == ["ad", "webinar"]


def check_stage_deleted(jm: JourneyMap) -> None:
    assert stage_keys(jm) == ["awareness"]
    assert not Touchpoint.objects.filter(map=jm, key="demo").exists()
    assert not Flow.objects.filter(source__map=jm, target__key="demo").exists()
    assert Flow.objects.filter(source__key="ad", target__key="webinar").exists()


def check_swapped(jm: JourneyMap) -> None:
    assert stage_keys(jm) == ["decision", "awareness"]


def check_metric_added(jm: JourneyMap) -> None:
    metric = Metric.objects.get(stage__map=jm, name="MQLs")
    assert (metric.stage.key, metric.target, metric.actual, metric.unit) == ("awareness", 300, 240, "leads")
    assert list(metric.stage.metrics.values_list("name", flat=True)) == ["Visits", "MQLs"]


def check_metric_edited(jm: JourneyMap) -> None:
    metric = Metric.objects.get(stage__map=jm)
    assert (metric.name, metric.target, metric.actual, metric.unit) == ("Unique visits", 6000, 4500, "visits")


def check_metric_deleted(jm: JourneyMap) -> None:
    assert not Metric.objects.filter(stage__map=jm).exists()
    assert jm.stages.filter(key="awareness").exists()


def visits_pk(jm: JourneyMap) -> int:
    return Metric.objects.get(stage__map=jm, name="Visits").pk


EDITS = [
    Edit(
        "add stage",
        "stage_create",
        lambda jm: [],
        lambda jm: stage_data(
            jm,
            name="Proof of value",
            questions="Does it work with our data?\nWho signs off?\n",
            lead=dept(jm, "sales").pk,
            contributors=[dept(jm, "service").pk],
            entered=40,
            converted=12,
            target_conversion="25 %",
        ),
        check_stage_added,
    ),
    Edit(
        "edit stage",
        "stage_edit",
        lambda jm: ["awareness"],
        lambda jm: stage_data(
            jm,
            "awareness",
            name="Discovery",
            goal="Be found by the buying group",
            lead=dept(jm, "sales").pk,
            converted=150,
            required_roles=[role(jm, "decision-maker").pk, role(jm, "technical-evaluator").pk],
        ),
        check_stage_edited,
    ),
    Edit("delete stage", "stage_delete", lambda jm: ["decision"], lambda jm: {}, check_stage_deleted),
    Edit("move stage right", "stage_move", lambda jm: ["awareness", "right"], lambda jm: {}, check_swapped),
    Edit("move stage left", "stage_move", lambda jm: ["decision", "left"], lambda jm: {}, check_swapped),
    Edit(
        "reorder stages", "stage_reorder", lambda jm: [], lambda jm: {"order": ["decision", "awareness"]}, check_swapped
    ),
    Edit(
        "add KPI",
        "metric_create",
        lambda jm: ["awareness"],
        lambda jm: {"kpi-name": "MQLs", "kpi-target": "300", "kpi-actual": "240", "kpi-unit": "leads"},
        check_metric_added,
    ),
    Edit(
        "edit KPI",
        "metric_edit",
        lambda jm: [visits_pk(jm)],
        lambda jm: {"name": "Unique visits", "target": "6000", "actual": "4500", "unit": "visits"},
        check_metric_edited,
    ),
    Edit("delete KPI", "metric_delete", lambda jm: [visits_pk(jm)], lambda jm: {}, check_metric_deleted),
]


# --- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_change_stages(client, request, small_map, role_name, edit):
    assert_saved(client, request.getfixturevalue(role_name), small_map, edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_stage_change_without_htmx_redirects_to_the_map(client, owner, small_map, edit):
    assert_saved_without_htmx(client, owner, small_map, edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_viewer_cannot_change_stages(client, viewer, small_map, edit):
    assert_refused(client, viewer, small_map, edit, 403)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_stranger_cannot_even_see_stages_to_change(client, stranger, small_map, edit):
    assert_refused(client, stranger, small_map, edit, 404)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_anonymous_is_sent_to_login_before_changing_stages(client, small_map, edit):
    assert_sent_to_login(client, small_map, edit)


def test_stage_form_opens_in_the_editor_for_htmx_and_as_a_page_without(client, editor, small_map):
    login(client, editor)
    url = reverse("stage_edit", args=["acme", "launch", "awareness"])
    fragment = client.get(url, **HX)
    page = client.get(url)
    assert fragment.status_code == page.status_code == 200
    assert "<html" not in fragment.content.decode()
    assert "<html" in page.content.decode()
    for response in (fragment, page):
        assert 'value="Awareness"' in response.content.decode()
        assert "Visits" in response.content.decode()  # the stage's KPIs are edited here too


def test_viewer_sees_the_stage_form_read_only(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("stage_edit", args=["acme", "launch", "awareness"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "<fieldset disabled>" in body
    assert "Add KPI" not in body
    assert "You can view this workspace but not change it." in body


@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_converted_above_entered_is_refused_next_to_the_field(client, editor, small_map, htmx, status):
    login(client, editor)
    before = snapshot()
    url = reverse("stage_edit", args=["acme", "launch", "awareness"])
    data = stage_data(small_map, "awareness", name="Renamed", entered=100, converted=150)
    response = client.post(url, data, **(HX if htmx else {}))
    assert response.status_code == status
    assert field_errors(response, "converted") == ["Cannot be more than entered (100)."]
    assert snapshot() == before


def test_duplicate_stage_key_is_refused_and_no_stage_is_added(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    data = stage_data(small_map, name="Decision again", key="decision")
    response = client.post(reverse("stage_create", args=["acme", "launch"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "key") == ['"decision" is already used here; keys must be unique.']
    assert snapshot() == before


@pytest.mark.parametrize("value", ["150", "-10", "lots"])
def test_target_conversion_outside_0_to_100_percent_is_refused(client, owner, small_map, value):
    login(client, owner)
    before = snapshot()
    data = stage_data(small_map, "awareness", target_conversion=value)
    response = client.post(reverse("stage_edit", args=["acme", "launch", "awareness"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "target_conversion")
    assert snapshot() == before


def test_stage_without_a_name_is_refused(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("stage_create", args=["acme", "launch"]), stage_data(small_map, name=""), **HX)
    assert response.status_code == 422
    assert field_errors(response, "name") == ["This field is required."]
    assert snapshot() == before


def test_empty_post_is_an_invalid_form_not_a_fresh_one(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("stage_create", args=["acme", "launch"]), {}, **HX)
    assert response.status_code == 422
    assert field_errors(response, "name") == ["This field is required."]
    assert snapshot() == before


def test_lead_department_of_another_workspace_is_refused(client, owner, small_map, stranger):
    elsewhere = Department.objects.create(
        workspace_id=stranger.memberships.get().workspace_id, key="elsewhere-sales", name="Their sales"
    )
    login(client, owner)
    before = snapshot()
    data = stage_data(small_map, "awareness", lead=elsewhere.pk)
    response = client.post(reverse("stage_edit", args=["acme", "launch", "awareness"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "lead")
    assert snapshot() == before


def test_invalid_stage_form_still_posts_to_the_saved_stage(client, owner, small_map):
    """A new key that has not been saved must not leak into the form's own address,
    or correcting the error and saving again would post to a stage that does not exist."""
    login(client, owner)
    url = reverse("stage_edit", args=["acme", "launch", "awareness"])
    data = stage_data(small_map, "awareness", key="discovery", entered=10, converted=20)
    response = client.post(url, data, **HX)
    assert response.status_code == 422
    assert url in form_actions(response)
    assert reverse("stage_delete", args=["acme", "launch", "awareness"]) in response.content.decode()

    data["converted"] = 5
    response = client.post(url, data, **HX)
    assert response.status_code == 200
    assert stage_keys(small_map) == ["discovery", "decision"]


def test_stage_key_is_made_from_the_name_when_left_blank(client, owner, small_map):
    login(client, owner)
    client.post(reverse("stage_create", args=["acme", "launch"]), stage_data(small_map, name="Decision"), **HX)
    client.post(reverse("stage_create", args=["acme", "launch"]), stage_data(small_map, name="導入"), **HX)
    assert stage_keys(small_map) == ["awareness", "decision", "decision-2", "dounyuu"]  # 導入, romanised


def test_stage_of_another_map_cannot_be_edited_through_this_map(client, owner, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    Stage.objects.create(map=other, key="retention", name="Retention")
    login(client, owner)
    response = client.post(reverse("stage_edit", args=["acme", "launch", "retention"]), {"name": "Hijacked"}, **HX)
    assert response.status_code == 404
    assert other.stages.get().name == "Retention"


def test_deleting_a_stage_asks_first_and_names_what_goes_with_it(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("stage_delete", args=["acme", "launch", "awareness"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Delete the stage “Awareness”?" in body
    assert "Its 2 touchpoints and their flows are deleted too." in body
    assert stage_keys(small_map) == ["awareness", "decision"]


# --- moving --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage_key, direction", [("awareness", "left"), ("decision", "right")])
def test_moving_the_end_stage_past_the_end_is_refused_and_changes_nothing(
    client, owner, small_map, stage_key, direction
):
    login(client, owner)
    response = client.post(reverse("stage_move", args=["acme", "launch", stage_key, direction]), **HX)
    assert response.status_code == 400
    assert "is already the" in response.content.decode()
    assert stage_keys(small_map) == ["awareness", "decision"]


def test_unknown_direction_or_stage_is_not_found(client, owner, small_map):
    login(client, owner)
    assert client.post(reverse("stage_move", args=["acme", "launch", "awareness", "up"]), **HX).status_code == 404
    assert client.post(reverse("stage_move", args=["acme", "launch", "nope", "left"]), **HX).status_code == 404


@pytest.mark.parametrize("order", [["decision"], ["decision", "awareness", "ghost"], ["decision", "decision"]])
def test_stage_reorder_that_does_not_name_every_stage_once_is_refused(client, owner, small_map, order):
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("stage_reorder", args=["acme", "launch"]), {"order": order}, **HX)
    assert response.status_code == 400
    assert "journeymap-error" in client_events(response)
    assert "reload the page" in response.content.decode()
    assert snapshot() == before


def test_stage_reorder_moves_three_stages_at_once(client, owner, small_map):
    Stage.objects.create(map=small_map, key="loyalty", name="Loyalty", order=2)
    login(client, owner)
    response = client.post(
        reverse("stage_reorder", args=["acme", "launch"]), {"order": ["loyalty", "awareness", "decision"]}, **HX
    )
    assert response.status_code == 200
    assert stage_keys(small_map) == ["loyalty", "awareness", "decision"]


def test_moved_stages_show_in_their_new_order_on_the_board(client, owner, small_map):
    login(client, owner)
    client.post(reverse("stage_move", args=["acme", "launch", "decision", "left"]), **HX)
    body = client.get(reverse("map_board", args=["acme", "launch"]), **HX).content.decode()
    assert body.index('id="stage-decision"') < body.index('id="stage-awareness"')


# --- KPIs ------------------------------------------------------------------------------------


def test_kpi_without_a_name_is_refused_next_to_the_field(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("metric_create", args=["acme", "launch", "decision"]), {"kpi-name": "", "kpi-target": "10"}, **HX
    )
    assert response.status_code == 422
    assert field_errors(response, "kpi-name") == ["This field is required."]
    assert snapshot() == before


def test_kpi_with_a_target_that_is_not_a_number_is_refused(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("metric_edit", args=["acme", "launch", visits_pk(small_map)]),
        {"name": "Visits", "target": "lots"},
        **HX,
    )
    assert response.status_code == 422
    assert field_errors(response, "target") == ["Enter a number."]
    assert snapshot() == before


def test_kpi_of_another_map_is_not_found(client, owner, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    metric = Metric.objects.create(stage=Stage.objects.create(map=other, key="s", name="S"), name="Theirs")
    login(client, owner)
    response = client.post(reverse("metric_delete", args=["acme", "launch", metric.pk]), **HX)
    assert response.status_code == 404
    assert Metric.objects.filter(pk=metric.pk).exists()


def test_adding_a_kpi_closes_the_no_metric_gap(client, owner, small_map):
    def codes():
        return {(g.stage, g.code) for g in find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))}

    assert ("decision", "no-metric") in codes()
    login(client, owner)
    client.post(reverse("metric_create", args=["acme", "launch", "decision"]), {"kpi-name": "Deals won"}, **HX)
    assert ("decision", "no-metric") not in codes()


@pytest.mark.parametrize("typed, stored", [("20", 0.2), ("20 %", 0.2), ("12.5", 0.125), ("0", 0.0), ("100", 1.0)])
def test_target_conversion_is_typed_as_a_percentage(client, owner, small_map, typed, stored):
    login(client, owner)
    response = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {"name": "Decision", "key": "decision", "target_conversion": typed},
        **HX,
    )
    assert response.status_code == 200
    assert Stage.objects.get(map=small_map, key="decision").target_conversion == pytest.approx(stored)


def test_a_percentage_above_100_is_refused_next_to_the_field(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {"name": "Decision", "key": "decision", "target_conversion": "150"},
        **HX,
    )
    assert response.status_code == 422
    assert field_errors(response, "target_conversion") == ["Enter a percentage from 0 to 100."]
    assert snapshot() == before


def test_the_stage_form_shows_the_target_as_a_percentage(client, owner, small_map):
    login(client, owner)
    page = html(client.get(reverse("stage_edit", args=["acme", "launch", "awareness"]), **HX))
    assert page.xpath('//input[@name="target_conversion"]/@value') == ["10"]
