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
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from .marks import SEVERITIES, decimal, percent
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
# What a person reads for a code where a whole message would not fit (the cards of the
# board and the diagram, the deck): one short label per code. Codes never change with the
# language; these labels do. str() them before they go into data, DOT or JSON.
CODE_LABELS: dict[str, Promise] = {
    STAGE_EMPTY: pgettext_lazy("gap code", "stage empty"),
    NO_LEAD: pgettext_lazy("gap code", "no lead"),
    CONTENT_GAP: pgettext_lazy("gap code", "content gap"),
    DROP_OFF: pgettext_lazy("gap code", "drop off"),
    ROLE_MISSING: pgettext_lazy("gap code", "role missing"),
    NO_METRIC: pgettext_lazy("gap code", "no metric"),
    NO_PATH_FORWARD: pgettext_lazy("gap code", "no path forward"),
    NO_HANDOFF: pgettext_lazy("gap code", "no handoff"),
    TOUCHPOINT_NO_OWNER: pgettext_lazy("gap code", "touchpoint no owner"),
    PAIN_HOTSPOT: pgettext_lazy("gap code", "pain hotspot"),
    STALE_CONTENT: pgettext_lazy("gap code", "stale content"),
}


def code_label(code: str) -> str:
    """The short label of a gap code in the active language (the code's words for an
    unknown code)."""
    return str(CODE_LABELS.get(code, code.replace("-", " ")))


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

    @property
    def id(self) -> str:
        """A stable name for the row, for what refers to it (comments, votes): its code and keys."""
        keys = (self.persona, self.touchpoint, self.content, self.role)
        return "|".join((self.code, self.stage, *(key or "" for key in keys)))

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
    names = {"stage": stage.name}
    if not touchpoints:
        yield _gap(STAGE_EMPTY, ERROR, stage, _("%(stage)s has no touchpoints.") % names)
    yield from _lead_gaps(stage)
    yield from _content_gaps(stage, map_personas)
    yield from _drop_off(stage)
    yield from _missing_roles(stage, touchpoints)
    if not stage.metrics.all():
        yield _gap(NO_METRIC, WARNING, stage, _("%(stage)s has no KPI.") % names)
    if touchpoints and next_stage is not None and not _flows_forward(stage, touchpoints, position):
        yield _gap(NO_PATH_FORWARD, WARNING, stage, _("%(stage)s: no touchpoint leads on to a later stage.") % names)
    yield from _missing_handoff(stage, next_stage)
    for touchpoint in touchpoints:
        if touchpoint.owner is None:
            yield _gap(
                TOUCHPOINT_NO_OWNER,
                WARNING,
                stage,
                _("%(stage)s: touchpoint %(touchpoint)s has no owner department.")
                % {**names, "touchpoint": touchpoint.name},
                touchpoint=touchpoint.key,
            )
    yield from _pain_hotspots(stage, touchpoints)
    yield from _stale_content(stage, today)


def _lead_gaps(stage: Stage) -> Iterator[Gap]:
    if stage.lead is None:
        yield _gap(NO_LEAD, ERROR, stage, _("%(stage)s has no lead department.") % {"stage": stage.name})


# The rules that read nothing but the stages (and their lead departments): what a view
# that shows no touchpoint can check from a map loaded with JourneyMap.objects.stages_only().
STAGE_ONLY_CODES = frozenset({NO_LEAD, DROP_OFF, NO_HANDOFF})


def find_stage_gaps(journey_map: JourneyMap) -> list[Gap]:
    """The gaps of STAGE_ONLY_CODES, exactly as find_gaps finds them, without reading a
    touchpoint, persona or content asset (the funnel and accountability tabs)."""
    stages = list(journey_map.stages.all())
    gaps: list[Gap] = []
    for index, stage in enumerate(stages):
        next_stage = stages[index + 1] if index + 1 < len(stages) else None
        gaps.extend(_lead_gaps(stage))
        gaps.extend(_drop_off(stage))
        gaps.extend(_missing_handoff(stage, next_stage))
    stage_position = {stage.key: index for index, stage in enumerate(stages)}
    return sorted(gaps, key=lambda gap: _sort_key(gap, stage_position))


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
        if persona.role:
            # Translators: "Awareness: no live content for Carla CFO (Decision maker)."
            message = _("%(stage)s: no live content for %(persona)s (%(role)s).") % {
                "stage": stage.name,
                "persona": persona.name,
                "role": persona.role.name,
            }
        else:
            message = _("%(stage)s: no live content for %(persona)s.") % {"stage": stage.name, "persona": persona.name}
        yield _gap(CONTENT_GAP, ERROR, stage, message, persona=persona.key)


def _drop_off(stage: Stage) -> Iterator[Gap]:
    # Without a converted count or a target there is nothing to compare: no row.
    # Dividing (rather than multiplying the target by entered) keeps "equal is fine"
    # exact: both sides are then the nearest double to the same fraction.
    rate = stage.conversion
    if rate is None or stage.target_conversion is None or rate >= stage.target_conversion:
        return
    # Translators: "Awareness converts 19 % (19 of 100), below the 20 % target."
    message = _("%(stage)s converts %(rate)s (%(converted)s of %(entered)s), below the %(target)s target.") % {
        "stage": stage.name,
        "rate": _percent(rate),
        "converted": number_format(stage.converted),
        "entered": number_format(stage.entered),
        "target": _percent(stage.target_conversion),
    }
    yield _gap(DROP_OFF, ERROR, stage, message)


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
                # Translators: %(role)s is a buying role, e.g. "Technical evaluator".
                _("%(stage)s: no touchpoint reaches the %(role)s role.") % {"stage": stage.name, "role": role.name},
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
    # Translators: "Awareness hands over from Marketing to Sales (Evaluation) with no hand-off SLA."
    message = _("%(stage)s hands over from %(lead)s to %(next_lead)s (%(next_stage)s) with no hand-off SLA.") % {
        "stage": stage.name,
        "lead": stage.lead.name,
        "next_lead": next_stage.lead.name,
        "next_stage": next_stage.name,
    }
    yield _gap(NO_HANDOFF, WARNING, stage, message)


def _pain_hotspots(stage: Stage, touchpoints: list[Touchpoint]) -> Iterator[Gap]:
    # Unrated touchpoints say nothing about feelings, so they stay out of the average;
    # a stage with no rated touchpoint gets no stage row.
    rated = [tp.emotion for tp in touchpoints if tp.emotion is not None]
    if rated and sum(rated) / len(rated) <= HOTSPOT_AVERAGE:
        average = sum(rated) / len(rated)
        message = _("%(stage)s: touchpoints average emotion %(average)s, a pain hotspot.") % {
            "stage": stage.name,
            "average": decimal(f"{average:+.2g}"),
        }
        yield _gap(PAIN_HOTSPOT, WARNING, stage, message)
    for touchpoint in touchpoints:
        if touchpoint.emotion == HOTSPOT_EMOTION:
            yield _gap(
                PAIN_HOTSPOT,
                WARNING,
                stage,
                _("%(stage)s: %(touchpoint)s is a pain point (emotion %(emotion)d).")
                % {"stage": stage.name, "touchpoint": touchpoint.name, "emotion": HOTSPOT_EMOTION},
                touchpoint=touchpoint.key,
            )


def _stale_content(stage: Stage, today: datetime.date) -> Iterator[Gap]:
    for asset in stage_content(stage):
        message = _staleness(stage, asset, today)
        if message:
            yield _gap(STALE_CONTENT, INFO, stage, message, content=asset.key)


def _staleness(stage: Stage, asset: ContentAsset, today: datetime.date) -> str | None:
    """Why the asset needs attention, as a message, or None. Draft content is work in progress."""
    names = {"stage": stage.name, "content": asset.title}
    if asset.status == ContentAsset.RETIRED:
        return _("%(stage)s: %(content)s is retired.") % names
    if asset.status != ContentAsset.LIVE:
        return None
    # Live content nobody has ever reviewed is as unknown as content reviewed long ago.
    if asset.last_reviewed is None:
        return _("%(stage)s: %(content)s is live and has never been reviewed.") % names
    if (today - asset.last_reviewed).days > STALE_AFTER_DAYS:
        # The date stays ISO 8601 (2025-05-01): the same in every language, and sortable.
        return _("%(stage)s: %(content)s was last reviewed on %(date)s, more than a year ago.") % {
            **names,
            "date": asset.last_reviewed.isoformat(),
        }
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
