"""Gap analysis: a loaded journey map -> the list of gap rows (docs/gaps.md).

Pure Python over a map from `JourneyMap.objects.loaded()`: every relation is read
through `.all()` of its prefetch, never `.filter()`/`.exists()`/`.count()`, so finding
the gaps of a map of any size runs no query. The page, the diagram, the command line
and the exports all use these rows, so codes, keys and order are a contract.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.utils import timezone

from .marks import SEVERITIES, percent
from .models import ContentAsset, JourneyMap, MapPersona, Stage, Touchpoint

ERROR, WARNING, INFO = SEVERITIES  # worst first

# The gap codes (docs/gaps.md): stable, the same on the page, in the diagram, the commands and the exports.
STAGE_EMPTY = "stage-empty"
NO_LEAD = "no-lead"
CONTENT_GAP = "content-gap"
DROP_OFF = "drop-off"
ROLE_MISSING = "role-missing"
NO_METRIC = "no-metric"
NO_PATH_FORWARD = "no-path-forward"
NO_HANDOFF = "no-handoff"
TOUCHPOINT_NO_OWNER = "touchpoint-no-owner"
PAIN_HOTSPOT = "pain-hotspot"
STALE_CONTENT = "stale-content"
CODES = (
    STAGE_EMPTY,
    NO_LEAD,
    CONTENT_GAP,
    DROP_OFF,
    ROLE_MISSING,
    NO_METRIC,
    NO_PATH_FORWARD,
    NO_HANDOFF,
    TOUCHPOINT_NO_OWNER,
    PAIN_HOTSPOT,
    STALE_CONTENT,
)

HOTSPOT_EMOTION = -2  # a touchpoint this bad is a hotspot on its own
HOTSPOT_AVERAGE = -1  # a stage whose rated touchpoints average this or worse
STALE_AFTER_DAYS = 365


@dataclass(frozen=True)
class Gap:
    code: str
    severity: str
    stage: str
    persona: str | None
    touchpoint: str | None
    content: str | None
    role: str | None
    message: str

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity,
            "stage": self.stage,
            "persona": self.persona,
            "touchpoint": self.touchpoint,
            "content": self.content,
            "role": self.role,
            "message": self.message,
        }


def _gap(
    code: str,
    severity: str,
    stage: Stage,
    message: str,
    *,
    persona: str | None = None,
    touchpoint: str | None = None,
    content: str | None = None,
    role: str | None = None,
) -> Gap:
    return Gap(code, severity, stage.key, persona, touchpoint, content, role, message)


def find_gaps(journey_map: JourneyMap, today: datetime.date | None = None) -> list[Gap]:
    """Every gap of the map, in stage order, then severity, code and keys."""
    today = today or timezone.localdate()
    stages = list(journey_map.stages.all())
    position = {stage.id: index for index, stage in enumerate(stages)}
    map_personas = list(journey_map.map_personas.all())
    gaps: list[Gap] = []
    for index, stage in enumerate(stages):
        next_stage = stages[index + 1] if index + 1 < len(stages) else None
        gaps.extend(_stage_gaps(stage, next_stage, position, map_personas, today))
    stage_position = {stage.key: index for index, stage in enumerate(stages)}
    return sorted(gaps, key=lambda gap: _sort_key(gap, stage_position))


def _sort_key(gap: Gap, stage_position: dict[str, int]) -> tuple:
    keys = (gap.persona, gap.touchpoint, gap.content, gap.role)
    return (stage_position[gap.stage], SEVERITIES.index(gap.severity), gap.code, *(key or "" for key in keys))


def _stage_gaps(
    stage: Stage,
    next_stage: Stage | None,
    position: dict[int, int],
    map_personas: list[MapPersona],
    today: datetime.date,
) -> Iterator[Gap]:
    touchpoints = list(stage.touchpoints.all())
    if not touchpoints:
        yield _gap(STAGE_EMPTY, ERROR, stage, f"{stage.name} has no touchpoints.")
    if stage.lead is None:
        yield _gap(NO_LEAD, ERROR, stage, f"{stage.name} has no lead department.")
    yield from _content_gaps(stage, map_personas)
    yield from _drop_off(stage)
    yield from _missing_roles(stage, touchpoints)
    if not stage.metrics.all():
        yield _gap(NO_METRIC, WARNING, stage, f"{stage.name} has no KPI.")
    if touchpoints and next_stage is not None and not _flows_forward(stage, touchpoints, position):
        yield _gap(NO_PATH_FORWARD, WARNING, stage, f"{stage.name}: no touchpoint leads on to a later stage.")
    yield from _missing_handoff(stage, next_stage)
    for touchpoint in touchpoints:
        if touchpoint.owner is None:
            yield _gap(
                TOUCHPOINT_NO_OWNER,
                WARNING,
                stage,
                f"{stage.name}: touchpoint {touchpoint.name} has no owner department.",
                touchpoint=touchpoint.key,
            )
    yield from _pain_hotspots(stage, touchpoints)
    yield from _stale_content(stage, today)


def _in_scope(map_persona: MapPersona, stage: Stage) -> bool:
    scope = map_persona.stages.all()
    return not scope or any(scoped.id == stage.id for scoped in scope)


def stage_content(stage: Stage) -> list[ContentAsset]:
    """The content that serves a stage: linked to the stage, then linked to one of its
    touchpoints (docs/gaps.md: both count the same), each asset once. Read from the
    prefetched links of a loaded map: no query."""
    found = {asset.id: asset for asset in stage.content.all()}
    for touchpoint in stage.touchpoints.all():
        for asset in touchpoint.content.all():
            found.setdefault(asset.id, asset)
    return list(found.values())


def _content_gaps(stage: Stage, map_personas: list[MapPersona]) -> Iterator[Gap]:
    live = {asset.id for asset in stage_content(stage) if asset.status == ContentAsset.LIVE}
    for map_persona in map_personas:
        persona = map_persona.persona
        if not _in_scope(map_persona, stage):
            continue
        # persona.content is the reverse of ContentAsset.personas, prefetched by loaded().
        if live & {asset.id for asset in persona.content.all()}:
            continue
        who = f"{persona.name} ({persona.role.name})" if persona.role else persona.name
        yield _gap(CONTENT_GAP, ERROR, stage, f"{stage.name}: no live content for {who}.", persona=persona.key)


def _drop_off(stage: Stage) -> Iterator[Gap]:
    # Without a converted count or a target there is nothing to compare: no row.
    # Dividing (rather than multiplying the target by entered) keeps "equal is fine"
    # exact: both sides are then the nearest double to the same fraction.
    rate = stage.conversion
    if rate is None or stage.target_conversion is None or rate >= stage.target_conversion:
        return
    yield _gap(
        DROP_OFF,
        ERROR,
        stage,
        f"{stage.name} converts {_percent(rate)} ({stage.converted} of {stage.entered}),"
        f" below the {_percent(stage.target_conversion)} target.",
    )


def _percent(rate: float) -> str:
    return percent(rate)


def _missing_roles(stage: Stage, touchpoints: list[Touchpoint]) -> Iterator[Gap]:
    reached = {persona.role_id for tp in touchpoints for persona in tp.personas.all()}
    for role in stage.required_roles.all():
        if role.id not in reached:
            yield _gap(
                ROLE_MISSING,
                WARNING,
                stage,
                f"{stage.name}: no touchpoint reaches the {role.name} role.",
                role=role.key,
            )


def _flows_forward(stage: Stage, touchpoints: list[Touchpoint], position: dict[int, int]) -> bool:
    here = position[stage.id]
    # A flow to a touchpoint outside this map's stages cannot lead the buyer on.
    return any(
        position.get(flow.target.stage_id, -1) > here
        for touchpoint in touchpoints
        for flow in touchpoint.flows_out.all()
    )


def _missing_handoff(stage: Stage, next_stage: Stage | None) -> Iterator[Gap]:
    if next_stage is None or stage.lead is None or next_stage.lead is None:
        return
    if stage.lead_id == next_stage.lead_id or stage.handoff_sla.strip():
        return
    yield _gap(
        NO_HANDOFF,
        WARNING,
        stage,
        f"{stage.name} hands over from {stage.lead.name} to {next_stage.lead.name}"
        f" ({next_stage.name}) with no hand-off SLA.",
    )


def _pain_hotspots(stage: Stage, touchpoints: list[Touchpoint]) -> Iterator[Gap]:
    # Unrated touchpoints say nothing about feelings, so they stay out of the average;
    # a stage with no rated touchpoint gets no stage row.
    rated = [tp.emotion for tp in touchpoints if tp.emotion is not None]
    if rated and sum(rated) / len(rated) <= HOTSPOT_AVERAGE:
        average = sum(rated) / len(rated)
        yield _gap(
            PAIN_HOTSPOT, WARNING, stage, f"{stage.name}: touchpoints average emotion {average:+.2g}, a pain hotspot."
        )
    for touchpoint in touchpoints:
        if touchpoint.emotion == HOTSPOT_EMOTION:
            yield _gap(
                PAIN_HOTSPOT,
                WARNING,
                stage,
                f"{stage.name}: {touchpoint.name} is a pain point (emotion {HOTSPOT_EMOTION}).",
                touchpoint=touchpoint.key,
            )


def _stale_content(stage: Stage, today: datetime.date) -> Iterator[Gap]:
    for asset in stage_content(stage):
        problem = _staleness(asset, today)
        if problem:
            yield _gap(STALE_CONTENT, INFO, stage, f"{stage.name}: {asset.title} {problem}.", content=asset.key)


def _staleness(asset: ContentAsset, today: datetime.date) -> str | None:
    """Why the asset needs attention, or None. Draft content is work in progress."""
    if asset.status == ContentAsset.RETIRED:
        return "is retired"
    if asset.status != ContentAsset.LIVE:
        return None
    # Live content nobody has ever reviewed is as unknown as content reviewed long ago.
    if asset.last_reviewed is None:
        return "is live and has never been reviewed"
    if (today - asset.last_reviewed).days > STALE_AFTER_DAYS:
        return f"was last reviewed on {asset.last_reviewed.isoformat()}, more than a year ago"
    return None


def _worst(severities: Iterable[str]) -> str | None:
    return min(severities, key=SEVERITIES.index, default=None)


def stage_summary(gaps: list[Gap], stage_keys: Iterable[str] = ()) -> dict[str, tuple[str | None, int]]:
    """Stage key -> (worst severity, number of gaps); stages in `stage_keys` without
    gaps come out as (None, 0), so a caller can pass every stage of the map."""
    summary: dict[str, tuple[str | None, int]] = {key: (None, 0) for key in stage_keys}
    for gap in gaps:
        worst, count = summary.get(gap.stage, (None, 0))
        summary[gap.stage] = (_worst(filter(None, (worst, gap.severity))), count + 1)
    return summary


def touchpoint_summary(gaps: list[Gap]) -> dict[str, tuple[str, int]]:
    """Touchpoint key -> (worst severity, number of gaps) over the rows naming a touchpoint."""
    summary: dict[str, tuple[str, int]] = {}
    for gap in gaps:
        if gap.touchpoint is None:
            continue
        worst, count = summary.get(gap.touchpoint, (gap.severity, 0))
        summary[gap.touchpoint] = (_worst((worst, gap.severity)), count + 1)
    return summary
