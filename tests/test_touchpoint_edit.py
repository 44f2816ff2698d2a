"""Touchpoints and flows: add, edit, delete, move, drag and drop; who may, what is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.forms import TouchpointForm
from maps.models import ContentAsset, Flow, JourneyMap, Persona, Stage, Touchpoint

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
    login,
    snapshot,
)


def lane(jm: JourneyMap, stage_key: str) -> list[str]:
    """The touchpoint keys of one stage, in the order the board shows them."""
    return list(
        Touchpoint.objects.filter(map=jm, stage__key=stage_key).order_by("order", "id").values_list("key", flat=True)
    )


def flows(jm: JourneyMap) -> set[tuple[str, str]]:
    return set(Flow.objects.filter(source__map=jm).values_list("source__key", "target__key"))


def tp_pk(jm: JourneyMap, key: str) -> int:
    return jm.touchpoints.get(key=key).pk


def tp_data(jm: JourneyMap, tp_key: str | None = None, stage_key: str = "decision", **changes) -> dict:
    """The touchpoint form as a browser posts it: current values, then `changes`."""
    if tp_key:
        instance = jm.touchpoints.get(key=tp_key)
        form = TouchpointForm(instance=instance, journey_map=jm)
    else:
        stage = jm.stages.get(key=stage_key)
        form = TouchpointForm(instance=Touchpoint(map=jm, stage=stage), journey_map=jm, initial={"stage": stage})
    data = current_form_data(form)
    data.update(changes)
    return data


def pks(queryset, *keys: str) -> list[int]:
    return [queryset.get(key=key).pk for key in keys]


def check_added(jm: JourneyMap) -> None:
    tp = jm.touchpoints.get(key="proposal")
    assert (tp.name, tp.stage.key, tp.channel, tp.owner.key, tp.emotion) == (
        "Proposal",
        "decision",
        "email",
        "sales",
        -1,
    )
    assert [p.key for p in tp.personas.all()] == ["cfo"]
    assert [c.key for c in tp.content.all()] == ["roi-calc"]
    assert lane(jm, "decision") == ["demo", "proposal"]
    assert ("demo", "proposal") not in flows(jm)


def check_edited(jm: JourneyMap) -> None:
    tp = jm.touchpoints.get(key="webinar")
    assert (tp.name, tp.emotion, tp.pain_point) == ("Product webinar", 2, "Too long")
    assert {p.key for p in tp.personas.all()} == {"cfo", "it-lead"}
    assert [c.key for c in tp.content.all()] == ["guide"]
    # Flows the form left ticked stay, and the flow into it is not the form's to change.
    assert flows(jm) == {("ad", "webinar"), ("webinar", "demo")}


def check_deleted(jm: JourneyMap) -> None:
    assert lane(jm, "awareness") == ["ad"]
    assert flows(jm) == set()


def check_up(jm: JourneyMap) -> None:
    assert lane(jm, "awareness") == ["webinar", "ad"]


def check_moved_right(jm: JourneyMap) -> None:
    assert lane(jm, "awareness") == ["ad"]
    assert lane(jm, "decision") == ["demo", "webinar"]


def check_moved_left(jm: JourneyMap) -> None:
    assert lane(jm, "awareness") == ["ad", "webinar", "demo"]
    assert lane(jm, "decision") == []


def check_dropped_into_decision(jm: JourneyMap) -> None:
    assert lane(jm, "awareness") == ["webinar"]
    assert lane(jm, "decision") == ["ad", "demo"]
    assert flows(jm) == {("ad", "webinar"), ("webinar", "demo")}


def check_flow_added(jm: JourneyMap) -> None:
    assert flows(jm) == {("ad", "webinar"), ("ad", "demo"), ("webinar", "demo")}
    assert list(jm.touchpoints.get(key="ad").flows_out.values_list("target__key", flat=True)) == ["webinar", "demo"]


def check_flow_removed(jm: JourneyMap) -> None:
    assert flows(jm) == {("ad", "webinar")}
    assert lane(jm, "decision") == ["demo"]


def check_flows_set_by_form(jm: JourneyMap) -> None:
    assert flows(jm) == {("ad", "demo"), ("webinar", "demo")}


EDITS = [
    Edit(
        "add touchpoint",
        "touchpoint_create",
        lambda jm: ["decision"],
        lambda jm: tp_data(
            jm,
            name="Proposal",
            channel="email",
            owner=jm.workspace.departments.get(key="sales").pk,
            emotion="-1",
            personas=pks(jm.workspace.personas, "cfo"),
            content=pks(jm.workspace.content, "roi-calc"),
        ),
        check_added,
    ),
    Edit(
        "edit touchpoint",
        "touchpoint_edit",
        lambda jm: ["webinar"],
        lambda jm: tp_data(jm, "webinar", name="Product webinar", emotion="2", pain_point="Too long"),
        check_edited,
    ),
    Edit("delete touchpoint", "touchpoint_delete", lambda jm: ["webinar"], lambda jm: {}, check_deleted),
    Edit("move touchpoint up", "touchpoint_move", lambda jm: ["webinar", "up"], lambda jm: {}, check_up),
    Edit("move touchpoint down", "touchpoint_move", lambda jm: ["ad", "down"], lambda jm: {}, check_up),
    Edit("move touchpoint right", "touchpoint_move", lambda jm: ["webinar", "right"], lambda jm: {}, check_moved_right),
    Edit("move touchpoint left", "touchpoint_move", lambda jm: ["demo", "left"], lambda jm: {}, check_moved_left),
    Edit(
        "reorder within a stage",
        "touchpoint_reorder",
        lambda jm: [],
        lambda jm: {"stage": "awareness", "order": ["webinar", "ad"]},
        check_up,
    ),
    Edit(
        "drag into another stage",
        "touchpoint_reorder",
        lambda jm: [],
        lambda jm: {"stage": "decision", "order": ["ad", "demo"]},
        check_dropped_into_decision,
    ),
    Edit("add flow", "flow_add", lambda jm: ["ad"], lambda jm: {"target": "demo"}, check_flow_added),
    Edit("remove flow", "flow_delete", lambda jm: ["webinar", "demo"], lambda jm: {}, check_flow_removed),
    Edit(
        "set flows in the form",
        "touchpoint_edit",
        lambda jm: ["ad"],
        lambda jm: tp_data(jm, "ad", next_touchpoints=[tp_pk(jm, "demo")]),
        check_flows_set_by_form,
    ),
]


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_change_touchpoints(client, request, small_map, role_name, edit):
    assert_saved(client, request.getfixturevalue(role_name), small_map, edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_touchpoint_change_without_htmx_redirects_to_the_map(client, editor, small_map, edit):
    assert_saved_without_htmx(client, editor, small_map, edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_viewer_cannot_change_touchpoints(client, viewer, small_map, edit):
    assert_refused(client, viewer, small_map, edit, 403)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_stranger_cannot_even_see_touchpoints_to_change(client, stranger, small_map, edit):
    assert_refused(client, stranger, small_map, edit, 404)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_anonymous_is_sent_to_login_before_changing_touchpoints(client, small_map, edit):
    assert_sent_to_login(client, small_map, edit)


# --- the form: what is refused -------------------------------------------------------------------


@pytest.fixture
def other_map(workspace, small_map) -> JourneyMap:
    """A second map of the same workspace, with a stage and a touchpoint of its own."""
    jm = JourneyMap.objects.create(workspace=workspace, key="renewal", name="Renewal")
    stage = Stage.objects.create(map=jm, key="retention", name="Retention")
    Touchpoint.objects.create(map=jm, stage=stage, key="qbr", name="Quarterly review")
    return jm


def post_form(client, jm, data, tp_key=None, htmx=True):
    url = (
        reverse("touchpoint_edit", args=["acme", jm.key, tp_key])
        if tp_key
        else reverse("touchpoint_create", args=["acme", jm.key, "decision"])
    )
    return client.post(url, data, **(HX if htmx else {}))


@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_emotion_outside_minus_two_to_two_is_refused(client, editor, small_map, htmx, status):
    login(client, editor)
    before = snapshot()
    response = post_form(client, small_map, tp_data(small_map, "demo", emotion="5", name="Changed"), "demo", htmx)
    assert response.status_code == status
    assert field_errors(response, "emotion")
    assert snapshot() == before


def test_stage_of_another_map_is_refused_as_the_touchpoints_stage(client, editor, small_map, other_map):
    login(client, editor)
    before = snapshot()
    data = tp_data(small_map, name="Smuggled", stage=other_map.stages.get().pk)
    response = post_form(client, small_map, data)
    assert response.status_code == 422
    assert field_errors(response, "stage") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert snapshot() == before


def test_touchpoint_of_another_map_is_refused_as_a_flow_target(client, editor, small_map, other_map):
    login(client, editor)
    before = snapshot()
    data = tp_data(small_map, "demo", next_touchpoints=[other_map.touchpoints.get().pk])
    response = post_form(client, small_map, data, "demo")
    assert response.status_code == 422
    assert field_errors(response, "next_touchpoints")
    assert snapshot() == before


def test_content_of_another_workspace_is_refused(client, editor, small_map, stranger):
    theirs = ContentAsset.objects.create(
        workspace=stranger.memberships.get().workspace, key="their-guide", title="Their guide", status=ContentAsset.LIVE
    )
    login(client, editor)
    before = snapshot()
    data = tp_data(small_map, "demo", content=[theirs.pk])
    response = post_form(client, small_map, data, "demo")
    assert response.status_code == 422
    assert field_errors(response, "content")
    assert snapshot() == before


def test_library_persona_not_in_the_map_is_refused(client, editor, small_map, workspace):
    outsider = Persona.objects.create(workspace=workspace, key="cmo", name="Chris CMO")
    login(client, editor)
    before = snapshot()
    response = post_form(client, small_map, tp_data(small_map, "demo", personas=[outsider.pk]), "demo")
    assert response.status_code == 422
    assert field_errors(response, "personas")
    assert snapshot() == before


def test_duplicate_touchpoint_key_is_refused(client, editor, small_map):
    login(client, editor)
    before = snapshot()
    response = post_form(client, small_map, tp_data(small_map, name="Another demo", key="demo"))
    assert response.status_code == 422
    assert field_errors(response, "key") == ['"demo" is already used here; keys must be unique.']
    assert snapshot() == before


def test_touchpoint_key_is_unique_per_map_not_per_workspace(client, editor, small_map, other_map):
    login(client, editor)
    response = post_form(client, small_map, tp_data(small_map, name="QBR", key="qbr"))
    assert response.status_code == 200
    assert lane(small_map, "decision") == ["demo", "qbr"]


def test_invalid_touchpoint_form_still_links_to_the_saved_touchpoint(client, editor, small_map):
    login(client, editor)
    url = reverse("touchpoint_edit", args=["acme", "launch", "demo"])
    response = client.post(url, tp_data(small_map, "demo", key="live-demo", emotion="9"), **HX)
    assert response.status_code == 422
    assert url in form_actions(response)
    body = response.content.decode()
    assert reverse("touchpoint_delete", args=["acme", "launch", "demo"]) in body
    assert reverse("touchpoint_delete", args=["acme", "launch", "live-demo"]) not in body


def test_touchpoint_added_from_one_stage_can_be_placed_in_another(client, editor, small_map):
    login(client, editor)
    awareness = small_map.stages.get(key="awareness")
    response = post_form(client, small_map, tp_data(small_map, name="Retargeting", stage=awareness.pk))
    assert response.status_code == 200
    assert lane(small_map, "awareness") == ["ad", "webinar", "retargeting"]
    assert lane(small_map, "decision") == ["demo"]


def test_changing_the_stage_in_the_form_puts_the_touchpoint_last_there(client, editor, small_map):
    login(client, editor)
    decision = small_map.stages.get(key="decision")
    response = post_form(client, small_map, tp_data(small_map, "ad", stage=decision.pk), "ad")
    assert response.status_code == 200
    assert lane(small_map, "decision") == ["demo", "ad"]
    assert lane(small_map, "awareness") == ["webinar"]


def test_new_touchpoint_can_flow_to_touchpoints_at_once(client, editor, small_map):
    login(client, editor)
    data = tp_data(small_map, name="Trial", next_touchpoints=[tp_pk(small_map, "demo")])
    assert post_form(client, small_map, data).status_code == 200
    assert ("trial", "demo") in flows(small_map)


def test_unticking_every_flow_in_the_form_removes_them(client, editor, small_map):
    login(client, editor)
    data = tp_data(small_map, "webinar", next_touchpoints=[])
    assert post_form(client, small_map, data, "webinar").status_code == 200
    assert flows(small_map) == {("ad", "webinar")}


def test_touchpoint_form_ticks_the_flows_it_has(client, editor, small_map):
    login(client, editor)
    response = client.get(reverse("touchpoint_edit", args=["acme", "launch", "webinar"]), **HX)
    data = tp_data(small_map, "webinar")
    assert data["next_touchpoints"] == [str(tp_pk(small_map, "demo"))]
    assert "Decision › Live demo" in response.content.decode()
    assert "Awareness › Webinar" not in response.content.decode()  # never to itself


# --- flows through their own endpoints --------------------------------------------------------


@pytest.mark.parametrize(
    "target, message",
    [
        ("webinar", "“LinkedIn ad” already flows to “Webinar”."),
        ("ad", "A touchpoint cannot flow to itself."),
        ("ghost", "Pick the touchpoint the buyer goes to next."),
        ("qbr", "Pick the touchpoint the buyer goes to next."),  # a touchpoint of another map
    ],
)
def test_flow_that_cannot_be_added_is_refused_with_a_reason(client, editor, small_map, other_map, target, message):
    login(client, editor)
    before = snapshot()
    response = client.post(reverse("flow_add", args=["acme", "launch", "ad"]), {"target": target}, **HX)
    assert response.status_code == 400
    assert response.content.decode() == message
    assert "journeymap-error" in client_events(response)
    assert snapshot() == before


def test_refused_flow_without_htmx_goes_back_with_the_reason(client, editor, small_map):
    login(client, editor)
    map_url = small_map.get_absolute_url()
    response = client.post(
        reverse("flow_add", args=["acme", "launch", "ad"]), {"target": "ad"}, HTTP_REFERER=map_url, follow=True
    )
    assert response.redirect_chain == [(map_url, 302)]
    assert "A touchpoint cannot flow to itself." in response.content.decode()


def test_removing_a_flow_that_does_not_exist_is_not_found(client, editor, small_map):
    login(client, editor)
    before = snapshot()
    response = client.post(reverse("flow_delete", args=["acme", "launch", "ad", "demo"]), **HX)
    assert response.status_code == 404
    assert snapshot() == before


# --- moving and drag and drop ------------------------------------------------------------------


@pytest.mark.parametrize("tp_key, direction", [("ad", "up"), ("webinar", "down"), ("ad", "left"), ("demo", "right")])
def test_moving_past_the_edge_is_refused_and_changes_nothing(client, editor, small_map, tp_key, direction):
    login(client, editor)
    before = snapshot()
    response = client.post(reverse("touchpoint_move", args=["acme", "launch", tp_key, direction]), **HX)
    assert response.status_code == 400
    assert "is already" in response.content.decode()
    assert snapshot() == before


def test_unknown_move_direction_is_not_found(client, editor, small_map):
    login(client, editor)
    response = client.post(reverse("touchpoint_move", args=["acme", "launch", "ad", "sideways"]), **HX)
    assert response.status_code == 404
    assert lane(small_map, "awareness") == ["ad", "webinar"]


@pytest.mark.parametrize("order", [["webinar", "qbr"], ["webinar", "ghost"], ["ad", "ad"]])
def test_drop_naming_touchpoints_this_map_lacks_is_refused(client, editor, small_map, other_map, order):
    login(client, editor)
    before = snapshot()
    response = client.post(
        reverse("touchpoint_reorder", args=["acme", "launch"]), {"stage": "awareness", "order": order}, **HX
    )
    assert response.status_code == 400
    assert "reload the page" in response.content.decode()
    assert snapshot() == before


def test_drop_into_a_stage_of_another_map_is_not_found(client, editor, small_map, other_map):
    login(client, editor)
    before = snapshot()
    response = client.post(
        reverse("touchpoint_reorder", args=["acme", "launch"]), {"stage": "retention", "order": ["ad"]}, **HX
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_drop_into_an_empty_stage(client, editor, small_map):
    Stage.objects.create(map=small_map, key="loyalty", name="Loyalty", order=2)
    login(client, editor)
    response = client.post(
        reverse("touchpoint_reorder", args=["acme", "launch"]), {"stage": "loyalty", "order": ["demo"]}, **HX
    )
    assert response.status_code == 200
    assert lane(small_map, "loyalty") == ["demo"]
    assert lane(small_map, "decision") == []


def test_touchpoint_moved_to_another_stage_shows_there_on_the_board(client, editor, small_map):
    login(client, editor)
    client.post(reverse("touchpoint_move", args=["acme", "launch", "webinar", "right"]), **HX)
    body = client.get(reverse("map_board", args=["acme", "launch"]), **HX).content.decode()
    decision_list = body[body.index('data-stage="decision"') :]
    assert 'id="tp-demo"' in decision_list and 'id="tp-webinar"' in decision_list
    assert decision_list.index('id="tp-demo"') < decision_list.index('id="tp-webinar"')


def test_deleting_a_touchpoint_asks_first(client, editor, small_map):
    login(client, editor)
    response = client.get(reverse("touchpoint_delete", args=["acme", "launch", "demo"]), **HX)
    assert response.status_code == 200
    assert "Delete the touchpoint “Live demo”?" in response.content.decode()
    assert lane(small_map, "decision") == ["demo"]


def test_a_flow_back_to_an_earlier_stage_is_allowed_and_the_form_says_so(client, editor, small_map):
    login(client, editor)
    url = reverse("touchpoint_edit", args=["acme", "launch", "demo"])
    assert "or back to an earlier one (a loop)" in client.get(url, **HX).content.decode()
    demo = small_map.touchpoints.get(key="demo")
    ad = small_map.touchpoints.get(key="ad")
    response = client.post(
        url, {"name": "Live demo", "key": "demo", "stage": demo.stage_id, "next_touchpoints": [ad.pk]}, **HX
    )
    assert response.status_code == 200
    assert list(demo.flows_out.values_list("target__key", flat=True)) == ["ad"]
