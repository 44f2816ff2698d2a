"""Creating a map: from a stage template (English or Japanese), blank, or as a copy;
who may, and what is refused."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.gaps import find_gaps
from maps.models import (
    ContentAsset,
    Flow,
    JourneyMap,
    Persona,
    Stage,
)
from maps.stage_templates import TEMPLATES

from .web import EDITING_ROLES, HX, field_errors, login, snapshot


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


def outline(jm: JourneyMap) -> dict:
    """What a copy must repeat: stages, their touchpoints, flows and personas, by key."""
    return {
        "stages": [(s.key, s.name, s.lead.key if s.lead else None) for s in jm.stages.order_by("order")],
        "touchpoints": [
            (t.stage.key, t.key, t.name, t.emotion) for t in jm.touchpoints.order_by("stage__order", "order")
        ],
        "flows": sorted(Flow.objects.filter(source__map=jm).values_list("source__key", "target__key")),
        "personas": [
            (e.persona.key, sorted(e.stages.values_list("key", flat=True))) for e in jm.map_personas.order_by("order")
        ],
    }


# --- creating a map ------------------------------------------------------------------------------


def create(client, data: dict, htmx: bool = True):
    return client.post(reverse("map_create", args=["acme"]), data, **(HX if htmx else {}))


@pytest.mark.parametrize("template_key", list(TEMPLATES))
@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_map_from_a_template_has_its_five_stages_in_the_chosen_language(
    client, request, workspace, role_name, template_key, language
):
    login(client, request.getfixturevalue(role_name))
    response = create(
        client, {"name": "Q3 campaign", "start": "template", "template": template_key, "language": language}
    )
    jm = JourneyMap.objects.get(workspace=workspace, name="Q3 campaign")
    assert response.status_code == 200
    assert response["HX-Redirect"] == jm.get_absolute_url()
    expected = [(s.key, s.text[language].name) for s in TEMPLATES[template_key].stages]
    assert len(expected) == 5
    assert list(jm.stages.order_by("order").values_list("key", "name")) == expected
    assert all(stage.questions for stage in jm.stages.all())


def test_japanese_template_gives_japanese_stage_names(client, owner, workspace):
    login(client, owner)
    create(client, {"name": "日本向け", "start": "template", "template": "act-on-lifecycle", "language": "ja"})
    jm = JourneyMap.objects.get(workspace=workspace, name="日本向け")
    assert jm.key == "nihonmuke"  # the Japanese name, romanised
    assert jm.language == "ja"
    assert list(jm.stages.values_list("name", flat=True)) == ["集客", "リード獲得", "育成", "コンバージョン", "拡大"]
    assert "どのチャネルが使われていますか？" in jm.stages.get(key="attract").questions


def test_a_map_created_in_japanese_in_a_new_workspace_gets_japanese_departments_and_roles(client, owner, workspace):
    login(client, owner)
    create(client, {"name": "認知から推奨まで", "start": "template", "template": "b2b-five-stage", "language": "ja"})
    jm = JourneyMap.objects.get(workspace=workspace, key="ninchi-kara-suishou-made")
    departments = list(workspace.departments.values_list("name", flat=True))
    assert departments == ["マーケティング", "営業", "カスタマーサクセス"]
    assert "意思決定者" in workspace.roles.values_list("name", flat=True)
    assert jm.stages.first().lead.name == "マーケティング"


def test_the_create_form_starts_in_the_language_of_the_person(client, owner, workspace):
    login(client, owner)
    page = client.get(reverse("workspace", args=[workspace.slug]), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<option value="ja" selected>' in page


def test_blank_map_has_no_stages(client, editor, workspace):
    login(client, editor)
    response = create(
        client, {"name": "Scratch", "key": "scratch", "start": "blank", "description": "Ideas"}, htmx=False
    )
    jm = JourneyMap.objects.get(workspace=workspace, key="scratch")
    assert response.status_code == 302
    assert response["Location"] == jm.get_absolute_url()
    assert (jm.name, jm.description, jm.stages.count()) == ("Scratch", "Ideas", 0)
    body = client.get(jm.get_absolute_url()).content.decode()
    assert "Map “Scratch” created." in body
    assert "This map has no stages yet." in body


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_copy_has_the_same_stages_and_touchpoints_under_the_new_name(client, request, small_map, role_name):
    before = outline(small_map)
    login(client, request.getfixturevalue(role_name))
    response = create(client, {"name": "Launch journey (copy)", "start": "copy", "source": small_map.pk})
    copy = JourneyMap.objects.get(workspace=small_map.workspace, name="Launch journey (copy)")
    assert response["HX-Redirect"] == copy.get_absolute_url()
    assert copy.pk != small_map.pk and copy.key == "launch-journey-copy"
    assert outline(copy) == before
    assert outline(small_map) == before
    # The library is shared, not duplicated.
    assert Persona.objects.filter(workspace=small_map.workspace).count() == 2
    assert ContentAsset.objects.filter(workspace=small_map.workspace).count() == 2


def test_copy_finds_the_same_gaps_as_its_source(client, owner, small_map):
    login(client, owner)
    create(client, {"name": "Twin", "key": "twin", "start": "copy", "source": small_map.pk})
    twin = JourneyMap.objects.get(workspace=small_map.workspace, key="twin")
    assert [g.as_dict() for g in find_gaps(loaded(twin))] == [g.as_dict() for g in find_gaps(loaded(small_map))]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"name": "", "start": "blank"}, "name", "This field is required."),
        ({"name": "X", "start": "template", "template": "", "language": "en"}, "template", "Pick a template."),
        (
            {"name": "X", "start": "template", "template": "act-on-lifecycle", "language": "fr"},
            "language",
            "Select a valid choice. fr is not one of the available choices.",
        ),
        ({"name": "X", "start": "copy"}, "source", "Pick the map to copy."),
        (
            {"name": "X", "key": "launch", "start": "blank"},
            "key",
            '"launch" is already used here; keys must be unique.',
        ),
        (
            {"name": "X", "key": "Not a slug!", "start": "blank"},
            "key",
            "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        ),
    ],
)
@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_invalid_new_map_is_refused_next_to_the_field(client, owner, small_map, data, field, message, htmx, status):
    login(client, owner)
    before = snapshot()
    response = create(client, data, htmx)
    assert response.status_code == status
    assert field_errors(response, field) == [message]
    assert ("<html" in response.content.decode()) is not htmx
    assert snapshot() == before


def test_map_of_another_workspace_cannot_be_copied(client, owner, small_map, stranger):
    theirs = JourneyMap.objects.create(workspace=stranger.memberships.get().workspace, key="secret", name="Secret")
    Stage.objects.create(map=theirs, key="s", name="Their stage")
    login(client, owner)
    before = snapshot()
    response = create(client, {"name": "Stolen", "start": "copy", "source": theirs.pk})
    assert response.status_code == 422
    assert field_errors(response, "source")
    assert snapshot() == before


def test_viewer_cannot_create_a_map(client, viewer, workspace):
    login(client, viewer)
    before = snapshot()
    response = create(client, {"name": "Mine", "start": "blank"})
    assert response.status_code == 403
    assert snapshot() == before


def test_stranger_cannot_create_a_map_in_the_workspace(client, stranger, workspace):
    login(client, stranger)
    before = snapshot()
    assert create(client, {"name": "Mine", "start": "blank"}).status_code == 404
    assert snapshot() == before


def test_anonymous_is_sent_to_login_before_creating_a_map(client, workspace):
    before = snapshot()
    response = create(client, {"name": "Mine", "start": "blank"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before
