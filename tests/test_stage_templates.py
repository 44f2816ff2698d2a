from __future__ import annotations

import pytest

from maps.models import BuyingRole, Department, JourneyMap, Stage
from maps.stage_templates import (
    DEFAULT_DEPARTMENTS,
    DEFAULT_ROLES,
    LANGUAGES,
    TEMPLATES,
    apply_template,
    ensure_workspace_defaults,
    template_choices,
)

EXPECTED_KEYS = {
    "act-on-lifecycle": ["attract", "capture", "nurture", "convert", "expand"],
    "b2b-five-stage": ["awareness", "consideration", "conversion", "loyalty", "advocacy"],
}


@pytest.fixture
def empty_map(workspace) -> JourneyMap:
    return JourneyMap.objects.create(workspace=workspace, key="new", name="New map")


@pytest.mark.parametrize("template_key", list(EXPECTED_KEYS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_template_creates_five_stages_in_order_with_questions(empty_map, template_key, language):
    apply_template(empty_map, template_key, language)

    stages = list(empty_map.stages.all())
    assert [stage.key for stage in stages] == EXPECTED_KEYS[template_key]
    for stage in stages:
        assert stage.name and stage.goal
        assert len(stage.questions) >= 2
        assert all(isinstance(q, str) and q.strip() for q in stage.questions)


@pytest.mark.parametrize("template_key", list(EXPECTED_KEYS))
def test_stage_names_and_questions_differ_by_language(workspace, template_key):
    english = JourneyMap.objects.create(workspace=workspace, key="en", name="English")
    japanese = JourneyMap.objects.create(workspace=workspace, key="ja", name="Japanese")

    en_stages = apply_template(english, template_key, "en")
    ja_stages = apply_template(japanese, template_key, "ja")

    assert [s.key for s in en_stages] == [s.key for s in ja_stages]
    for en, ja in zip(en_stages, ja_stages):
        assert en.name != ja.name
        assert en.questions != ja.questions
        assert len(en.questions) == len(ja.questions)
        assert en.name.isascii()
        assert not ja.name.isascii() and not ja.questions[0].isascii()


def test_act_on_template_carries_the_seed_questions(empty_map):
    stages = {s.key: s for s in apply_template(empty_map, "act-on-lifecycle", "en")}

    assert stages["attract"].questions[0] == "Which channels are being used?"
    assert "How many marketing qualified leads are being generated?" in stages["nurture"].questions
    assert len(stages["expand"].questions) == 5


def test_template_stages_are_appended_after_existing_stages(empty_map):
    Stage.objects.create(map=empty_map, key="research", name="Research", order=7)

    created = apply_template(empty_map, "b2b-five-stage", "en")

    keys = [stage.key for stage in empty_map.stages.all()]
    assert keys == ["research", *EXPECTED_KEYS["b2b-five-stage"]]
    assert all(stage.order > 7 for stage in created)


def test_applying_a_template_twice_adds_suffixed_keys_instead_of_failing(empty_map):
    apply_template(empty_map, "act-on-lifecycle", "en")
    second = apply_template(empty_map, "act-on-lifecycle", "ja")

    assert [s.key for s in second][:2] == ["attract-2", "capture-2"]
    assert empty_map.stages.count() == 10


def test_template_sets_lead_department_when_the_workspace_has_it(empty_map):
    ensure_workspace_defaults(empty_map.workspace)

    stages = {s.key: s for s in apply_template(empty_map, "act-on-lifecycle", "en")}

    assert stages["attract"].lead.key == "marketing"
    assert stages["convert"].lead.key == "sales"
    assert stages["expand"].lead.key == "service"
    assert {d.key for d in stages["convert"].contributors.all()} == {"marketing"}


def test_template_leaves_lead_empty_without_departments(empty_map):
    stages = apply_template(empty_map, "act-on-lifecycle", "en")

    assert all(stage.lead is None for stage in stages)


def test_unknown_template_is_refused_and_writes_nothing(empty_map):
    with pytest.raises(ValueError, match='unknown stage template "journey-x"'):
        apply_template(empty_map, "journey-x", "en")
    assert not empty_map.stages.exists()


def test_unknown_language_is_refused_and_writes_nothing(empty_map):
    with pytest.raises(ValueError, match='unknown language "de"'):
        apply_template(empty_map, "act-on-lifecycle", "de")
    assert not empty_map.stages.exists()


def test_template_choices_list_every_template_by_key():
    choices = template_choices()

    assert [key for key, _ in choices] == list(TEMPLATES)
    assert all(label for _, label in choices)
    assert dict(template_choices("ja"))["b2b-five-stage"].startswith("B2B 5段階")


def test_workspace_defaults_create_departments_and_roles_in_order(workspace):
    ensure_workspace_defaults(workspace)

    assert [d.key for d in Department.objects.filter(workspace=workspace)] == [row[0] for row in DEFAULT_DEPARTMENTS]
    assert [r.key for r in BuyingRole.objects.filter(workspace=workspace)] == [row[0] for row in DEFAULT_ROLES]
    assert Department.objects.get(workspace=workspace, key="sales").name == "Sales"


def test_workspace_defaults_in_japanese_use_japanese_names(workspace):
    ensure_workspace_defaults(workspace, language="ja")

    assert Department.objects.get(workspace=workspace, key="sales").name == "営業"
    assert BuyingRole.objects.get(workspace=workspace, key="decision-maker").name == "意思決定者"


def test_workspace_defaults_are_idempotent_and_never_rename(workspace):
    Department.objects.create(workspace=workspace, key="service", name="Customer success", order=9)
    ensure_workspace_defaults(workspace)

    ensure_workspace_defaults(workspace)

    assert Department.objects.filter(workspace=workspace).count() == len(DEFAULT_DEPARTMENTS)
    assert BuyingRole.objects.filter(workspace=workspace).count() == len(DEFAULT_ROLES)
    service = Department.objects.get(workspace=workspace, key="service")
    assert (service.name, service.order) == ("Customer success", 9)


def test_workspace_defaults_refuse_an_unknown_language(workspace):
    with pytest.raises(ValueError, match="unknown language"):
        ensure_workspace_defaults(workspace, language="fr")
