"""Gap analysis over loaded maps (maps/gaps.py), rule by rule against DESIGN.md.

Most tests start from `complete`, a two-stage map with no gap at all, and break one
thing, so each test shows exactly which change makes which row appear.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import trans_real

from maps import gaps as gap_rules
from maps.gaps import Gap, find_gaps, stage_summary, touchpoint_summary
from maps.models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Metric,
    Persona,
    Stage,
    Touchpoint,
)

TODAY = datetime.date(2026, 6, 1)


@contextmanager
def translated(entries: dict, language: str = "ja") -> Iterator[None]:
    """`language` active, its catalogue holding `entries` for the block: msgid -> text,
    (msgid, index) -> plural form, "context\x04msgid" -> text. The real catalogues come
    from the .po files; these tests only need to know that each sentence is looked up whole."""
    catalog = trans_real.translation(language)._catalog._catalogs[0]
    saved = {key: catalog[key] for key in entries if key in catalog}
    catalog.update(entries)
    try:
        with translation.override(language):
            yield
    finally:
        for key in entries:
            catalog.pop(key, None)
        catalog.update(saved)


def gaps_of(journey_map: JourneyMap) -> list[Gap]:
    return find_gaps(JourneyMap.objects.loaded().get(pk=journey_map.pk), today=TODAY)


def rows(gaps: list[Gap], code: str) -> list[tuple]:
    """The keys of the rows with this code: (stage, persona, touchpoint, content, role)."""
    return [(g.stage, g.persona, g.touchpoint, g.content, g.role) for g in gaps if g.code == code]


def codes(gaps: list[Gap], stage: str) -> list[str]:
    return [gap.code for gap in gaps if gap.stage == stage]


def add_stage(m: SimpleNamespace, key: str, order: int, lead: Department | None) -> Stage:
    stage = Stage.objects.create(map=m.map, key=key, name=key.title(), lead=lead, order=order)
    Metric.objects.create(stage=stage, name="Leads")
    stage.content.add(m.guide)
    return stage


def add_touchpoint(m: SimpleNamespace, stage: Stage, key: str, emotion: int | None = 0, order: int = 0) -> Touchpoint:
    touchpoint = Touchpoint.objects.create(
        map=m.map,
        stage=stage,
        key=key,
        name=key.replace("-", " ").title(),
        owner=m.marketing,
        emotion=emotion,
        order=order,
    )
    touchpoint.personas.add(m.cfo)
    return touchpoint


def add_content(
    m: SimpleNamespace, key: str, status: str, personas: list[Persona], last_reviewed: datetime.date | None = TODAY
) -> ContentAsset:
    asset = ContentAsset.objects.create(
        workspace=m.workspace,
        key=key,
        title=key.replace("-", " ").title(),
        status=status,
        last_reviewed=last_reviewed,
    )
    asset.personas.set(personas)
    return asset


@pytest.fixture
def complete(workspace) -> SimpleNamespace:
    """Awareness -> Evaluation, one persona, every rule satisfied."""
    m = SimpleNamespace(workspace=workspace)
    m.marketing = Department.objects.create(workspace=workspace, key="marketing", name="Marketing")
    m.sales = Department.objects.create(workspace=workspace, key="sales", name="Sales")
    m.dm = BuyingRole.objects.create(workspace=workspace, key="decision-maker", name="Decision maker")
    m.cfo = Persona.objects.create(workspace=workspace, key="cfo", name="Carla CFO", role=m.dm)
    m.guide = add_content(m, "guide", ContentAsset.LIVE, [m.cfo], TODAY - datetime.timedelta(days=10))
    m.map = JourneyMap.objects.create(workspace=workspace, key="journey", name="Journey")
    m.cfo_entry = MapPersona.objects.create(map=m.map, persona=m.cfo, order=0)
    m.awareness = add_stage(m, "awareness", 0, m.marketing)
    m.awareness.name = "Awareness"
    m.awareness.handoff_sla = "MQL within 2 days"
    m.awareness.entered, m.awareness.converted, m.awareness.target_conversion = 100, 20, 0.2
    m.awareness.save()
    m.awareness.required_roles.add(m.dm)
    m.evaluation = add_stage(m, "evaluation", 1, m.sales)
    m.ad = add_touchpoint(m, m.awareness, "ad")
    m.demo = add_touchpoint(m, m.evaluation, "demo")
    m.demo.owner = m.sales
    m.demo.save()
    m.flow = Flow.objects.create(source=m.ad, target=m.demo)
    return m


def test_complete_map_has_no_gaps(complete):
    assert gaps_of(complete.map) == []


# stage-empty, no-lead, no-metric


def test_stage_without_touchpoints_is_empty_and_gets_no_path_or_hotspot_rows(complete):
    complete.ad.delete()
    gaps = gaps_of(complete.map)
    assert codes(gaps, "awareness") == ["stage-empty", "role-missing"]


def test_stage_without_lead_is_reported(complete):
    complete.evaluation.lead = None
    complete.evaluation.save()
    assert rows(gaps_of(complete.map), "no-lead") == [("evaluation", None, None, None, None)]


def test_stage_without_kpi_is_reported(complete):
    complete.evaluation.metrics.all().delete()
    assert rows(gaps_of(complete.map), "no-metric") == [("evaluation", None, None, None, None)]


# content-gap


def test_persona_without_live_content_has_a_gap_in_every_stage_when_unscoped(complete):
    it = Persona.objects.create(workspace=complete.workspace, key="it-lead", name="Ivan IT")
    MapPersona.objects.create(map=complete.map, persona=it, order=1)
    assert rows(gaps_of(complete.map), "content-gap") == [
        ("awareness", "it-lead", None, None, None),
        ("evaluation", "it-lead", None, None, None),
    ]


def test_persona_out_of_scope_for_a_stage_has_no_gap_there(complete):
    complete.cfo_entry.stages.set([complete.evaluation])
    complete.evaluation.content.clear()
    assert rows(gaps_of(complete.map), "content-gap") == [("evaluation", "cfo", None, None, None)]


def test_scoped_persona_has_a_gap_in_the_stage_it_is_scoped_to(complete):
    complete.cfo_entry.stages.set([complete.awareness])
    complete.awareness.content.clear()
    complete.evaluation.content.clear()
    assert rows(gaps_of(complete.map), "content-gap") == [("awareness", "cfo", None, None, None)]


@pytest.mark.parametrize("status", [ContentAsset.DRAFT, ContentAsset.RETIRED])
def test_draft_and_retired_content_cover_nothing(complete, status):
    complete.guide.status = status
    complete.guide.save()
    assert rows(gaps_of(complete.map), "content-gap") == [
        ("awareness", "cfo", None, None, None),
        ("evaluation", "cfo", None, None, None),
    ]


def test_live_content_not_linked_to_the_stage_does_not_cover_it(complete):
    complete.evaluation.content.clear()
    add_content(complete, "unlinked", ContentAsset.LIVE, [complete.cfo])
    assert rows(gaps_of(complete.map), "content-gap") == [("evaluation", "cfo", None, None, None)]


def test_content_linked_to_the_stage_for_another_persona_does_not_cover_it(complete):
    other = Persona.objects.create(workspace=complete.workspace, key="other", name="Olga Ops")
    complete.guide.personas.set([other])
    assert [r[:2] for r in rows(gaps_of(complete.map), "content-gap")] == [
        ("awareness", "cfo"),
        ("evaluation", "cfo"),
    ]


def test_content_gap_message_names_stage_persona_and_role(complete):
    complete.guide.personas.clear()
    gap = gaps_of(complete.map)[0]
    assert gap.code == "content-gap"
    assert gap.message == "Awareness: no live content for Carla CFO (Decision maker)."


# drop-off


def set_funnel(stage: Stage, entered: int | None, converted: int | None, target: float | None) -> None:
    stage.entered, stage.converted, stage.target_conversion = entered, converted, target
    stage.save()


def test_equal_conversion_is_not_a_drop_off(complete):
    set_funnel(complete.awareness, 120, 30, 0.25)
    assert rows(gaps_of(complete.map), "drop-off") == []


def test_conversion_just_below_target_is_a_drop_off(complete):
    set_funnel(complete.awareness, 100, 19, 0.2)
    gaps = gaps_of(complete.map)
    assert rows(gaps, "drop-off") == [("awareness", None, None, None, None)]
    assert "19 of 100" in gaps[0].message


@pytest.mark.parametrize(
    "entered, converted, target",
    [
        (0, 0, 0.2),  # nobody entered: no rate to judge
        (100, None, 0.2),  # conversions not counted yet
        (100, 0, None),  # no target set
        (None, None, None),
    ],
)
def test_incomplete_funnel_figures_are_not_a_drop_off(complete, entered, converted, target):
    set_funnel(complete.awareness, entered, converted, target)
    assert rows(gaps_of(complete.map), "drop-off") == []


# role-missing


def test_required_role_held_only_by_a_persona_no_touchpoint_of_the_stage_reaches(complete):
    te = BuyingRole.objects.create(workspace=complete.workspace, key="tech-eval", name="Technical evaluator")
    it = Persona.objects.create(workspace=complete.workspace, key="it-lead", name="Ivan IT", role=te)
    MapPersona.objects.create(map=complete.map, persona=it, order=1)
    complete.guide.personas.add(it)
    complete.demo.personas.add(it)  # reached, but in the other stage
    complete.awareness.required_roles.add(te)
    complete.evaluation.required_roles.add(te)
    assert rows(gaps_of(complete.map), "role-missing") == [("awareness", None, None, None, "tech-eval")]


# no-path-forward


def test_stage_without_a_flow_to_a_later_stage_has_no_path_forward(complete):
    complete.flow.delete()
    assert rows(gaps_of(complete.map), "no-path-forward") == [("awareness", None, None, None, None)]


def test_flow_within_the_same_stage_is_no_path_forward(complete):
    complete.flow.delete()
    other = add_touchpoint(complete, complete.awareness, "webinar", order=1)
    Flow.objects.create(source=complete.ad, target=other)
    assert rows(gaps_of(complete.map), "no-path-forward") == [("awareness", None, None, None, None)]


def test_flow_back_to_an_earlier_stage_is_no_path_forward(complete):
    decision = add_stage(complete, "decision", 2, complete.sales)
    add_touchpoint(complete, decision, "contract")
    Flow.objects.create(source=complete.demo, target=complete.ad)
    assert rows(gaps_of(complete.map), "no-path-forward") == [("evaluation", None, None, None, None)]


def test_flow_that_skips_a_stage_is_a_path_forward(complete):
    complete.flow.delete()
    decision = add_stage(complete, "decision", 2, complete.sales)
    contract = add_touchpoint(complete, decision, "contract")
    Flow.objects.create(source=complete.ad, target=contract)
    Flow.objects.create(source=complete.demo, target=contract)
    assert rows(gaps_of(complete.map), "no-path-forward") == []


def test_last_stage_never_needs_a_path_forward(complete):
    assert not complete.demo.flows_out.exists()
    assert rows(gaps_of(complete.map), "no-path-forward") == []


# no-handoff


def test_different_leads_without_sla_is_a_missing_handoff(complete):
    complete.awareness.handoff_sla = ""
    complete.awareness.save()
    gaps = gaps_of(complete.map)
    assert rows(gaps, "no-handoff") == [("awareness", None, None, None, None)]
    assert "Marketing" in gaps[0].message and "Sales" in gaps[0].message


def test_same_lead_needs_no_handoff_sla(complete):
    complete.awareness.handoff_sla = ""
    complete.awareness.save()
    complete.evaluation.lead = complete.marketing
    complete.evaluation.save()
    assert rows(gaps_of(complete.map), "no-handoff") == []


def test_missing_next_lead_is_no_lead_not_a_missing_handoff(complete):
    complete.awareness.handoff_sla = ""
    complete.awareness.save()
    complete.evaluation.lead = None
    complete.evaluation.save()
    gaps = gaps_of(complete.map)
    assert rows(gaps, "no-handoff") == []
    assert rows(gaps, "no-lead") == [("evaluation", None, None, None, None)]


# touchpoint-no-owner


def test_touchpoint_without_owner_is_reported_by_touchpoint(complete):
    complete.demo.owner = None
    complete.demo.save()
    assert rows(gaps_of(complete.map), "touchpoint-no-owner") == [("evaluation", None, "demo", None, None)]


# pain-hotspot


def set_emotions(m: SimpleNamespace, *emotions: int | None) -> None:
    m.ad.emotion = emotions[0]
    m.ad.save()
    for order, emotion in enumerate(emotions[1:], start=1):
        add_touchpoint(m, m.awareness, f"extra-{order}", emotion=emotion, order=order)


def test_touchpoint_at_minus_two_is_a_hotspot_even_when_the_stage_average_is_fine(complete):
    set_emotions(complete, -2, 2)
    assert rows(gaps_of(complete.map), "pain-hotspot") == [("awareness", None, "ad", None, None)]


def test_stage_averaging_exactly_minus_one_is_a_hotspot(complete):
    set_emotions(complete, -1, -2, 0)
    assert rows(gaps_of(complete.map), "pain-hotspot") == [
        ("awareness", None, None, None, None),
        ("awareness", None, "extra-1", None, None),
    ]


def test_stage_averaging_minus_half_is_not_a_hotspot(complete):
    set_emotions(complete, -1, 0)
    assert rows(gaps_of(complete.map), "pain-hotspot") == []


def test_unrated_touchpoints_are_left_out_of_the_average(complete):
    set_emotions(complete, -1, None, None)
    assert rows(gaps_of(complete.map), "pain-hotspot") == [("awareness", None, None, None, None)]


def test_stage_with_no_rated_touchpoint_is_not_a_hotspot(complete):
    set_emotions(complete, None, None)
    assert rows(gaps_of(complete.map), "pain-hotspot") == []


# stale-content


def link(m: SimpleNamespace, asset: ContentAsset) -> None:
    m.awareness.content.add(asset)


def test_retired_content_linked_to_a_stage_is_stale(complete):
    link(complete, add_content(complete, "old-deck", ContentAsset.RETIRED, [complete.cfo]))
    assert rows(gaps_of(complete.map), "stale-content") == [("awareness", None, None, "old-deck", None)]


def test_content_reviewed_exactly_365_days_ago_is_not_stale(complete):
    link(complete, add_content(complete, "faq", ContentAsset.LIVE, [], TODAY - datetime.timedelta(days=365)))
    assert rows(gaps_of(complete.map), "stale-content") == []


def test_content_reviewed_366_days_ago_is_stale(complete):
    link(complete, add_content(complete, "faq", ContentAsset.LIVE, [], TODAY - datetime.timedelta(days=366)))
    assert rows(gaps_of(complete.map), "stale-content") == [("awareness", None, None, "faq", None)]


def test_live_content_never_reviewed_is_stale(complete):
    link(complete, add_content(complete, "faq", ContentAsset.LIVE, [], None))
    gaps = gaps_of(complete.map)
    assert rows(gaps, "stale-content") == [("awareness", None, None, "faq", None)]
    assert "never been reviewed" in gaps[0].message


def test_draft_content_is_never_stale(complete):
    link(complete, add_content(complete, "wip", ContentAsset.DRAFT, [], None))
    assert gaps_of(complete.map) == []


# order and summaries


def test_rows_come_in_stage_order_then_severity_code_and_keys(complete):
    m = complete
    m.awareness.lead = None
    m.awareness.save()
    m.guide.personas.clear()
    m.evaluation.content.clear()
    zed = Persona.objects.create(workspace=m.workspace, key="zed", name="Zed")
    MapPersona.objects.create(map=m.map, persona=zed, order=1)
    amy = Persona.objects.create(workspace=m.workspace, key="amy", name="Amy")
    MapPersona.objects.create(map=m.map, persona=amy, order=2)
    gatekeeper = BuyingRole.objects.create(workspace=m.workspace, key="gatekeeper", name="Gatekeeper")
    m.awareness.required_roles.add(gatekeeper)
    m.ad.owner, m.ad.emotion = None, -2
    m.ad.save()
    link(m, add_content(m, "old-deck", ContentAsset.RETIRED, []))
    m.evaluation.metrics.all().delete()

    assert [(g.stage, g.code, g.persona, g.touchpoint, g.content, g.role) for g in gaps_of(m.map)] == [
        ("awareness", "content-gap", "amy", None, None, None),
        ("awareness", "content-gap", "cfo", None, None, None),
        ("awareness", "content-gap", "zed", None, None, None),
        ("awareness", "no-lead", None, None, None, None),
        ("awareness", "pain-hotspot", None, None, None, None),
        ("awareness", "pain-hotspot", None, "ad", None, None),
        ("awareness", "role-missing", None, None, None, "gatekeeper"),
        ("awareness", "touchpoint-no-owner", None, "ad", None, None),
        ("awareness", "stale-content", None, None, "old-deck", None),
        ("evaluation", "content-gap", "amy", None, None, None),
        ("evaluation", "content-gap", "cfo", None, None, None),
        ("evaluation", "content-gap", "zed", None, None, None),
        ("evaluation", "no-metric", None, None, None, None),
    ]


def test_row_dict_has_the_eight_keys_in_order(complete):
    complete.demo.owner = None
    complete.demo.save()
    row = gaps_of(complete.map)[0].as_dict()
    assert list(row) == ["code", "severity", "stage", "persona", "touchpoint", "content", "role", "message"]
    assert row["message"] == "Evaluation: touchpoint Demo has no owner department."


def test_summaries_give_the_worst_severity_and_the_count(complete):
    complete.demo.owner, complete.demo.emotion = None, -2
    complete.demo.save()
    complete.guide.personas.clear()
    gaps = gaps_of(complete.map)
    assert stage_summary(gaps) == {"awareness": ("error", 1), "evaluation": ("error", 4)}
    assert touchpoint_summary(gaps) == {"demo": ("warning", 2)}


def test_stage_summary_lists_stages_without_gaps_when_asked(complete):
    complete.demo.owner = None
    complete.demo.save()
    summary = stage_summary(gaps_of(complete.map), stage_keys=["awareness", "evaluation"])
    assert summary == {"awareness": (None, 0), "evaluation": ("warning", 1)}


# queries


def build_map(workspace, key: str, stage_count: int, touchpoints_per_stage: int) -> JourneyMap:
    """A map that trips every rule and fills every relation gaps read; the last stage is empty."""
    departments = [
        Department.objects.get_or_create(workspace=workspace, key=k, defaults={"name": k})[0]
        for k in ("marketing", "sales")
    ]
    held, unheld = (
        BuyingRole.objects.get_or_create(workspace=workspace, key=k, defaults={"name": k})[0]
        for k in ("champion", "gatekeeper")
    )
    personas = [
        Persona.objects.create(workspace=workspace, key=f"{key}-p{i}", name=f"P{i}", role=held) for i in range(3)
    ]
    jm = JourneyMap.objects.create(workspace=workspace, key=key, name=key)
    leads = [None, *departments]
    stages = Stage.objects.bulk_create(
        Stage(
            map=jm,
            key=f"s{i}",
            name=f"S{i}",
            lead=leads[i % 3],
            order=i,
            entered=100,
            converted=10,
            target_conversion=0.5,
        )
        for i in range(stage_count)
    )
    for i, persona in enumerate(personas):
        entry = MapPersona.objects.create(map=jm, persona=persona, order=i)
        entry.stages.set(stages[i::2])
    Metric.objects.bulk_create(Metric(stage=stage, name="KPI") for stage in stages[::2])
    assets = ContentAsset.objects.bulk_create(
        ContentAsset(workspace=workspace, key=f"{key}-c{i}", title=f"C{i}", status=status, order=i)
        for i, status in enumerate(["live", "retired", "draft", "live"])
    )
    for asset in assets:
        asset.personas.set(personas[:2])
        asset.stages.set(stages[::3])
    for stage in stages:
        stage.required_roles.set([held, unheld])
    touchpoints = Touchpoint.objects.bulk_create(
        Touchpoint(
            map=jm,
            stage=stage,
            key=f"t{s}-{t}",
            name=f"T{s}-{t}",
            emotion=(t % 5) - 2,
            owner=departments[1] if t % 2 else None,
            order=t,
        )
        for s, stage in enumerate(stages[:-1])
        for t in range(touchpoints_per_stage)
    )
    for touchpoint in touchpoints:
        touchpoint.personas.set(personas[:2])
        touchpoint.content.set(assets[:1])
    # A chain through every touchpoint, broken after the first stage so it has no way on.
    Flow.objects.bulk_create(
        Flow(source=a, target=b)
        for a, b in zip(touchpoints, touchpoints[1:])
        if not (a.stage_id == stages[0].id and b.stage_id != a.stage_id)
    )
    return jm


def queries_to_find_gaps(pk: int) -> tuple[int, int, list[Gap]]:
    with CaptureQueriesContext(connection) as loading:
        journey_map = JourneyMap.objects.loaded().get(pk=pk)
    with CaptureQueriesContext(connection) as finding:
        gaps = find_gaps(journey_map, today=TODAY)
    return len(loading), len(finding), gaps


def test_gaps_of_a_large_map_cost_the_same_queries_as_a_small_one(workspace):
    small = build_map(workspace, "small", 2, 2)
    large = build_map(workspace, "large", 12, 15)
    small_loading, small_finding, _ = queries_to_find_gaps(small.pk)
    large_loading, large_finding, large_gaps = queries_to_find_gaps(large.pk)
    assert small_loading == large_loading
    assert small_finding == large_finding == 0
    # The large map must exercise every rule, or the equal counts prove little.
    assert {gap.code for gap in large_gaps} == {
        "stage-empty",
        "no-lead",
        "content-gap",
        "drop-off",
        "role-missing",
        "no-metric",
        "no-path-forward",
        "no-handoff",
        "touchpoint-no-owner",
        "pain-hotspot",
        "stale-content",
    }


# --- content linked to a touchpoint serves its stage (issue 7, defect 1) -------------------------


def _gap_keys(journey_map, code):
    loaded = JourneyMap.objects.loaded().get(pk=journey_map.pk)
    return {(g.stage, g.persona or g.content) for g in find_gaps(loaded) if g.code == code}


def test_live_content_linked_to_a_touchpoint_closes_the_content_gap_of_its_stage(small_map):
    assert ("decision", "it-lead") in _gap_keys(small_map, "content-gap")
    small_map.touchpoints.get(key="demo").content.add(small_map.workspace.content.get(key="guide"))
    assert ("decision", "it-lead") not in _gap_keys(small_map, "content-gap")


def test_retired_content_linked_only_through_a_touchpoint_is_stale(small_map):
    guide = small_map.workspace.content.get(key="guide")
    guide.status = "retired"
    guide.save()
    small_map.stages.get(key="awareness").content.clear()  # linked through the webinar alone
    assert ("awareness", "guide") in _gap_keys(small_map, "stale-content")


def test_content_linked_both_ways_is_one_stale_row(small_map):
    guide = small_map.workspace.content.get(key="guide")
    guide.status = "retired"
    guide.save()
    rows = [
        g
        for g in find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))
        if g.code == "stale-content" and g.content == "guide"
    ]
    assert [g.stage for g in rows] == ["awareness"]


# -- languages ----------------------------------------------------------------------------


def test_every_code_has_a_short_label_that_is_translated_when_read():
    assert set(gap_rules.CODE_LABELS) == set(gap_rules.CODES)
    assert all(isinstance(label, Promise) for label in gap_rules.CODE_LABELS.values())
    assert gap_rules.code_label("pain-hotspot") == "pain hotspot"
    with translated({"gap code\x04pain hotspot": "不満の集中"}):
        assert gap_rules.code_label("pain-hotspot") == "不満の集中"
        assert type(gap_rules.code_label("pain-hotspot")) is str


def test_messages_are_whole_translated_sentences_and_codes_keys_stay(complete):
    set_funnel(complete.awareness, 1000, 59, 0.2)
    complete.demo.owner = None
    complete.demo.save()
    english = gaps_of(complete.map)
    sentences = {
        "%(stage)s converts %(rate)s (%(converted)s of %(entered)s), below the %(target)s target.": (
            "%(stage)sの転換率は%(rate)s（%(entered)s件中%(converted)s件）で、目標の%(target)sを下回っています。"
        ),
        "%(stage)s: touchpoint %(touchpoint)s has no owner department.": (
            "%(stage)s：タッチポイント「%(touchpoint)s」に担当部門がありません。"
        ),
    }
    with translated(sentences):
        japanese = gaps_of(complete.map)
    assert [g.as_dict() | {"message": ""} for g in japanese] == [g.as_dict() | {"message": ""} for g in english]
    messages = {g.code: g.message for g in japanese}
    assert messages["drop-off"] == "Awarenessの転換率は5.9%（1000件中59件）で、目標の20%を下回っています。"
    assert messages["touchpoint-no-owner"] == "Evaluation：タッチポイント「Demo」に担当部門がありません。"


def test_english_messages_are_as_they_were(complete):
    set_funnel(complete.awareness, 1000, 59, 0.2)
    (drop,) = [g for g in gaps_of(complete.map) if g.code == "drop-off"]
    assert drop.message == "Awareness converts 5.9 % (59 of 1000), below the 20 % target."
