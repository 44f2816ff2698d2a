from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.test import RequestFactory

from maps import gaps
from maps.models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    Membership,
    Persona,
    Stage,
    Touchpoint,
    Workspace,
)

pytestmark = pytest.mark.django_db

# The demo's stale-content rows depend on the date; the map was written for this one.
DEMO_TODAY = datetime.date(2026, 11, 23)

# Each gap the demo shows on purpose: (stage, code, the persona/touchpoint/content/role key).
INTENDED_GAPS = {
    ("capture", "drop-off", None),
    ("nurture", "content-gap", "it-lead"),
    ("convert", "no-handoff", None),
    ("convert", "role-missing", "gatekeeper"),
    ("convert", "stale-content", "integration-guide"),
    ("expand", "no-metric", None),
    ("expand", "pain-hotspot", "data-migration"),
    ("expand", "stale-content", "referral-program-2024"),
}


def seed() -> list[str]:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue().splitlines()


def row_counts() -> dict[str, int]:
    models = (
        Workspace,
        Membership,
        Department,
        BuyingRole,
        Persona,
        ContentAsset,
        JourneyMap,
        Stage,
        Touchpoint,
        Flow,
        get_user_model(),
    )
    return {model.__name__: model.objects.count() for model in models}


def demo_map(key: str = "acme-b2b") -> JourneyMap:
    return JourneyMap.objects.loaded().get(workspace__slug="demo", key=key)


def test_seed_demo_creates_a_workspace_whose_user_can_sign_in():
    seed()

    workspace = Workspace.objects.get(slug="demo")
    assert workspace.name == "Demo workspace"
    user = authenticate(RequestFactory().post("/accounts/login/"), username="demo", password="demo-journeymap")
    assert user is not None
    # Its password is published: it must not open the admin.
    assert not user.is_staff and not user.is_superuser
    assert Membership.objects.get(workspace=workspace, user=user).role == Membership.OWNER


def test_seed_demo_ends_by_telling_how_to_sign_in():
    lines = seed()

    assert lines[-1] == "Sign in as demo / demo-journeymap"
    assert 'Created map "demo/acme-b2b"' in lines


def test_seed_demo_gives_the_workspace_its_default_departments_and_roles():
    seed()

    workspace = Workspace.objects.get(slug="demo")
    assert {d.key for d in workspace.departments.all()} == {"marketing", "sales", "service"}
    assert workspace.roles.count() == 7


def test_demo_map_is_a_filled_act_on_lifecycle_map():
    seed()

    journey_map = demo_map()
    assert [s.key for s in journey_map.stages.all()] == ["attract", "capture", "nurture", "convert", "expand"]
    assert journey_map.touchpoints.count() >= 12
    assert journey_map.map_personas.count() >= 4
    assert all(stage.questions for stage in journey_map.stages.all())


def test_demo_map_shows_the_intended_gaps_and_no_empty_stage():
    seed()

    rows = gaps.find_gaps(demo_map(), today=DEMO_TODAY)

    found = {(g.stage, g.code, g.persona or g.touchpoint or g.content or g.role) for g in rows}
    assert found == INTENDED_GAPS
    assert "stage-empty" not in {g.code for g in rows}


def test_demo_map_leaves_most_stages_healthy():
    seed()

    rows = gaps.find_gaps(demo_map(), today=DEMO_TODAY)

    assert not [g for g in rows if g.stage == "attract"]
    assert all(len([g for g in rows if g.stage == stage]) <= 3 for stage in ("capture", "nurture", "convert", "expand"))


def test_seed_demo_adds_a_japanese_map_from_the_b2b_template():
    seed()

    journey_map = demo_map("b2b-five-stage-ja")
    assert journey_map.name == "B2Bジャーニー（5段階テンプレート）"
    stages = list(journey_map.stages.all())
    assert [s.key for s in stages] == ["awareness", "consideration", "conversion", "loyalty", "advocacy"]
    assert stages[0].name == "認知"
    assert all(stage.questions and not stage.questions[0].isascii() for stage in stages)


def test_running_seed_demo_twice_changes_nothing():
    seed()
    before = row_counts()

    lines = seed()

    assert row_counts() == before
    assert not [line for line in lines if line.startswith("Created")]


def test_running_seed_demo_again_keeps_the_users_edits():
    seed()
    stage = Stage.objects.get(map__workspace__slug="demo", map__key="acme-b2b", key="convert")
    stage.name = "Close the deal"
    stage.save()
    Touchpoint.objects.get(map=stage.map, key="contract").delete()
    user = get_user_model().objects.get(username="demo")
    user.set_password("a-new-secret")
    user.save()

    seed()

    assert Stage.objects.get(pk=stage.pk).name == "Close the deal"
    assert not Touchpoint.objects.filter(map=stage.map, key="contract").exists()
    assert authenticate(RequestFactory().post("/accounts/login/"), username="demo", password="a-new-secret") is not None
    assert authenticate(RequestFactory().post("/accounts/login/"), username="demo", password="demo-journeymap") is None


def test_seed_demo_keeps_a_renamed_workspace_and_department():
    seed()
    Workspace.objects.filter(slug="demo").update(name="Acme marketing")
    Department.objects.filter(workspace__slug="demo", key="service").update(name="Customer success")

    seed()

    assert Workspace.objects.get(slug="demo").name == "Acme marketing"
    assert Department.objects.get(workspace__slug="demo", key="service").name == "Customer success"
