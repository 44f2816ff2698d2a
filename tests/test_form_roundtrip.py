"""Whatever the web forms can save, export writes and import takes back: a map built only
through the pages, every field filled with hostile values, exports, imports into an
empty workspace and exports again byte for byte."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.interchange import dumps, export_map, import_map
from maps.models import BuyingRole, ContentAsset, Department, JourneyMap, Persona, Stage, Touchpoint, Workspace

from .web import HX, login, snapshot

# Quotes, markup, a trailing backslash, Japanese, emoji, tabs and line breaks.
HOSTILE = 'Q4 "launch" <script>alert(1)</script> & ☕ 購買 \\'
LONG = "長" * 199 + "!"  # 200 characters: the longest name allowed
LINES = "First line\twith a tab\r\nSecond line ending in a backslash \\"


def post(client, name: str, args: list, data: dict):
    response = client.post(reverse(name, args=args), data, **HX)
    assert response.status_code == 200, (name, response.status_code, response.content.decode()[:500])
    return response


@pytest.fixture
def built(client, owner, workspace):
    """A map made only through the pages: library, stages, KPIs, personas, touchpoints, flows."""
    login(client, owner)
    post(
        client,
        "map_create",
        ["acme"],
        {"name": HOSTILE, "key": "hostile", "start": "blank", "description": LINES, "goal": HOSTILE},
    )
    for kind, data in [
        ("departments", {"name": HOSTILE, "key": "marketing"}),
        ("departments", {"name": "営業 / Sales", "key": "sales"}),
        ("roles", {"name": HOSTILE, "key": "decision-maker"}),
    ]:
        post(client, "library_create", ["acme", kind], data)
    role = BuyingRole.objects.get(workspace=workspace, key="decision-maker")
    post(
        client,
        "library_create",
        ["acme", "personas"],
        {
            "name": LONG,
            "key": "cfo",
            "role": role.pk,
            "title": HOSTILE,
            "influence": "5",
            "goals": LINES,
            "motivations": HOSTILE,
            "triggers": "🚀",
            "fears": LINES,
            "background": HOSTILE,
        },
    )
    cfo = Persona.objects.get(workspace=workspace, key="cfo")
    post(
        client,
        "library_create",
        ["acme", "content"],
        {
            "title": HOSTILE,
            "key": "guide",
            "type": "case-study",
            "status": "live",
            "url": 'https://example.com/a?b="c"&d=<e>',
            "personas": [cfo.pk],
            "questions": "Why now?\nWhat does it cost — really? \\",
            "last_reviewed": "2026-05-01",
        },
    )
    marketing = Department.objects.get(workspace=workspace, key="marketing")
    sales = Department.objects.get(workspace=workspace, key="sales")
    guide = ContentAsset.objects.get(workspace=workspace, key="guide")
    for key, lead in (("attract", marketing), ("convert", sales)):
        post(
            client,
            "stage_create",
            ["acme", "hostile"],
            {
                "name": f"{HOSTILE} {key}",
                "key": key,
                "goal": LINES,
                "questions": "Who decides?\nWith what budget?",
                "lead": lead.pk,
                "contributors": [marketing.pk, sales.pk],
                "required_roles": [role.pk],
                "content": [guide.pk],
                "entered": "2147483647",
                "converted": "2147483646",
                "target_conversion": "50",
                "handoff_sla": LINES,
            },
        )
        post(
            client,
            "metric_create",
            ["acme", "hostile", key],
            {"kpi-name": HOSTILE, "kpi-target": "1e6", "kpi-actual": "-0.25", "kpi-unit": "€"},
        )
    post(client, "map_personas", ["acme", "hostile"], {"persona": cfo.pk})
    journey_map = JourneyMap.objects.get(workspace=workspace, key="hostile")
    stages = {s.key: s for s in Stage.objects.filter(map=journey_map)}
    for key, stage in (("ad", "attract"), ("demo", "convert")):
        post(
            client,
            "touchpoint_create",
            ["acme", "hostile", stage],
            {
                "name": f"{HOSTILE} {key}",
                "key": key,
                "stage": stages[stage].pk,
                "description": LINES,
                "channel": HOSTILE[:100],
                "owner": marketing.pk,
                "personas": [cfo.pk],
                "emotion": "-2",
                "pain_point": LINES,
                "opportunity": HOSTILE,
                "content": [guide.pk],
            },
        )
    ad, demo = (Touchpoint.objects.get(map=journey_map, key=k) for k in ("ad", "demo"))
    post(
        client,
        "touchpoint_edit",
        ["acme", "hostile", "ad"],
        {
            "name": f"{HOSTILE} ad",
            "key": "ad",
            "stage": stages["attract"].pk,
            "owner": marketing.pk,
            "personas": [cfo.pk],
            "content": [guide.pk],
            "emotion": "-2",
            "description": LINES,
            "next_touchpoints": [demo.pk],
        },
    )
    post(client, "flow_add", ["acme", "hostile", "demo"], {"target": "ad"})  # a loop back
    return journey_map


def test_a_map_built_through_the_pages_exports_imports_and_exports_the_same(built):
    doc = export_map(built)
    assert doc["map"]["name"] == HOSTILE and doc["personas"][0]["name"] == LONG
    assert doc["stages"][0]["entered"] == 2147483647 and doc["touchpoints"][1]["next"] == ["ad"]
    first = dumps(doc)
    copy = import_map(export_map(built), Workspace.objects.create(slug="empty", name="Empty"))
    assert dumps(export_map(copy)) == first


@pytest.mark.parametrize(
    "name, args, data, field",
    [
        (
            "library_create",
            ["acme", "content"],
            {"title": "X", "type": "tool", "status": "live", "url": "ftp://example.com/x"},
            "url",
        ),
        (
            "stage_edit",
            ["acme", "hostile", "attract"],
            {"name": "X", "key": "attract", "entered": str(2**40)},
            "entered",
        ),
        (
            "stage_edit",
            ["acme", "hostile", "attract"],
            {"name": "X", "key": "attract", "questions": "Fine\nNot\x00fine"},
            "questions",
        ),
    ],
)
def test_what_the_import_would_refuse_the_forms_refuse_and_write_nothing(client, built, name, args, data, field):
    before = snapshot()
    response = client.post(reverse(name, args=args), data, **HX)
    assert response.status_code == 422
    assert f'name="{field}"' in response.content.decode()
    assert snapshot() == before


def test_a_flow_to_itself_is_refused_and_writes_nothing(client, built):
    before = snapshot()
    response = client.post(reverse("flow_add", args=["acme", "hostile", "ad"]), {"target": "ad"}, **HX)
    assert response.status_code == 400
    assert "cannot flow to itself" in response.content.decode()
    assert snapshot() == before
