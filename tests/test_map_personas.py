"""The personas of a map: added from the library, scoped to stages, removed again."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.gaps import find_gaps
from maps.models import JourneyMap, MapPersona, Persona, Stage

from .web import (
    EDITING_ROLES,
    HX,
    Edit,
    assert_refused,
    assert_saved,
    assert_saved_without_htmx,
    assert_sent_to_login,
    edit_ids,
    field_errors,
    html,
    login,
    snapshot,
)


@pytest.fixture
def procurement(workspace, small_map) -> Persona:
    """A library persona that is not in the map yet."""
    return Persona.objects.create(workspace=workspace, key="procurement", name="Paula Procurement", order=2)


def entries(jm: JourneyMap) -> dict[str, list[str]]:
    """Persona key -> the stage keys it is scoped to, in the map's order."""
    return {
        e.persona.key: [s.key for s in e.stages.order_by("order")]
        for e in MapPersona.objects.filter(map=jm).order_by("order", "id")
    }


def entry_pk(jm: JourneyMap, persona_key: str) -> int:
    return MapPersona.objects.get(map=jm, persona__key=persona_key).pk


def stage_pk(jm: JourneyMap, key: str) -> int:
    return jm.stages.get(key=key).pk


def content_gaps(jm: JourneyMap) -> set[tuple[str, str]]:
    return {
        (g.stage, g.persona) for g in find_gaps(JourneyMap.objects.loaded().get(pk=jm.pk)) if g.code == "content-gap"
    }


def check_added(jm: JourneyMap) -> None:
    assert entries(jm) == {"cfo": [], "it-lead": ["decision"], "procurement": ["awareness"]}


def check_rescoped(jm: JourneyMap) -> None:
    assert entries(jm) == {"cfo": [], "it-lead": []}


def check_removed(jm: JourneyMap) -> None:
    assert entries(jm) == {"cfo": []}
    assert Persona.objects.filter(workspace=jm.workspace, key="it-lead").exists()  # the library keeps it


EDITS = [
    Edit(
        "add persona",
        "map_personas",
        lambda jm: [],
        lambda jm: {"persona": Persona.objects.get(key="procurement").pk, "stages": [stage_pk(jm, "awareness")]},
        check_added,
    ),
    Edit(
        "scope persona to every stage",
        "map_persona_edit",
        lambda jm: [entry_pk(jm, "it-lead")],
        lambda jm: {"stages": []},
        check_rescoped,
    ),
    Edit("remove persona", "map_persona_remove", lambda jm: [entry_pk(jm, "it-lead")], lambda jm: {}, check_removed),
]


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_change_the_maps_personas(client, request, procurement, role_name, edit):
    assert_saved(client, request.getfixturevalue(role_name), procurement.workspace.maps.get(), edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_persona_change_without_htmx_redirects_to_the_map(client, owner, procurement, edit):
    assert_saved_without_htmx(client, owner, procurement.workspace.maps.get(), edit)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_viewer_cannot_change_the_maps_personas(client, viewer, procurement, edit):
    assert_refused(client, viewer, procurement.workspace.maps.get(), edit, 403)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_stranger_cannot_even_see_the_maps_personas(client, stranger, procurement, edit):
    assert_refused(client, stranger, procurement.workspace.maps.get(), edit, 404)


@pytest.mark.parametrize("edit", EDITS, ids=edit_ids(EDITS))
def test_anonymous_is_sent_to_login_before_changing_the_maps_personas(client, procurement, edit):
    assert_sent_to_login(client, procurement.workspace.maps.get(), edit)


def test_persona_list_shows_each_persona_with_its_scope(client, editor, small_map):
    login(client, editor)
    response = client.get(reverse("map_personas", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Carla CFO" in body and "every stage" in body
    assert "Ivan IT" in body and "Decision" in body
    assert "Add persona" in body


def test_viewer_sees_the_personas_but_no_way_to_change_them(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_personas", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Carla CFO" in body
    assert "Remove" not in body
    assert "<fieldset disabled>" in body


def test_only_library_personas_not_yet_in_the_map_are_offered(client, editor, procurement):
    login(client, editor)
    response = client.get(reverse("map_personas", args=["acme", "launch"]), **HX)
    offered = html(response).xpath('//select[@name="persona"]/option[@value!=""]')
    assert [(o.get("value"), o.text_content()) for o in offered] == [(str(procurement.pk), "Paula Procurement")]


def test_adding_a_persona_twice_is_refused(client, editor, small_map):
    login(client, editor)
    before = snapshot()
    response = client.post(
        reverse("map_personas", args=["acme", "launch"]), {"persona": Persona.objects.get(key="cfo").pk}, **HX
    )
    assert response.status_code == 422
    assert field_errors(response, "persona")
    assert snapshot() == before


def test_persona_of_another_workspace_is_refused(client, editor, small_map, stranger):
    theirs = Persona.objects.create(workspace=stranger.memberships.get().workspace, key="spy", name="Spy")
    login(client, editor)
    before = snapshot()
    response = client.post(reverse("map_personas", args=["acme", "launch"]), {"persona": theirs.pk})
    assert response.status_code == 200  # without htmx the page shows the form again
    assert field_errors(response, "persona")
    assert snapshot() == before


def test_scope_to_a_stage_of_another_map_is_refused(client, editor, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    foreign = Stage.objects.create(map=other, key="retention", name="Retention")
    login(client, editor)
    before = snapshot()
    response = client.post(
        reverse("map_persona_edit", args=["acme", "launch", entry_pk(small_map, "cfo")]), {"stages": [foreign.pk]}, **HX
    )
    assert response.status_code == 422
    assert field_errors(response, "stages")
    assert snapshot() == before


def test_the_persona_of_an_entry_cannot_be_swapped(client, editor, procurement):
    small_map = procurement.workspace.maps.get()
    login(client, editor)
    response = client.post(
        reverse("map_persona_edit", args=["acme", "launch", entry_pk(small_map, "cfo")]),
        {"persona": procurement.pk, "stages": []},
        **HX,
    )
    assert response.status_code == 200
    assert list(entries(small_map)) == ["cfo", "it-lead"]


def test_entry_of_another_map_is_not_found(client, editor, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    theirs = MapPersona.objects.create(map=other, persona=Persona.objects.get(key="cfo"))
    login(client, editor)
    response = client.post(reverse("map_persona_remove", args=["acme", "launch", theirs.pk]), **HX)
    assert response.status_code == 404
    assert MapPersona.objects.filter(pk=theirs.pk).exists()


def test_scope_decides_where_a_persona_needs_content(client, editor, small_map):
    """Ivan IT lacks content only in Decision; scoped to Awareness, where the guide
    serves him, the gap goes; scoped to every stage, it comes back."""
    assert content_gaps(small_map) == {("decision", "it-lead")}
    login(client, editor)
    url = reverse("map_persona_edit", args=["acme", "launch", entry_pk(small_map, "it-lead")])
    client.post(url, {"stages": [stage_pk(small_map, "awareness")]}, **HX)
    assert content_gaps(small_map) == set()
    client.post(url, {"stages": []}, **HX)
    assert content_gaps(small_map) == {("decision", "it-lead")}


def test_added_persona_shows_on_the_coverage_matrix(client, editor, procurement):
    small_map = procurement.workspace.maps.get()
    login(client, editor)
    client.post(reverse("map_personas", args=["acme", "launch"]), {"persona": procurement.pk}, **HX)
    body = client.get(reverse("coverage", args=["acme", "launch"])).content.decode()
    assert "Paula Procurement" in body
    assert content_gaps(small_map) == {
        ("awareness", "procurement"),
        ("decision", "it-lead"),
        ("decision", "procurement"),
    }
