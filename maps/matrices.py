"""The three matrices of a map as plain data: content coverage, accountability, funnel.

Built from a map loaded with JourneyMap.objects.loaded(); gap marks come from the gap
rows so that a matrix never disagrees with the gap list.
"""

from __future__ import annotations

import math

from .gaps import CONTENT_GAP, DROP_OFF, NO_HANDOFF, NO_LEAD, ROLE_MISSING, Gap, stage_content
from .marks import SEVERITIES, percent
from .models import ContentAsset, JourneyMap, figures_in_order
from .monitoring import conversion_trend, qualification


def coverage(journey_map: JourneyMap, by: str, found: list[Gap]) -> dict:
    """Personas (or buying roles) x stages; each cell the live content that covers it and
    the gap rows about it, whose worst severity is the cell's mark."""
    stages = list(journey_map.stages.all())
    entries = list(journey_map.map_personas.all())
    targets = {e.persona.pk: {c.pk for c in e.persona.content.all()} for e in entries}
    rows = []
    if by == "roles":
        for role in journey_map.workspace.roles.all():
            holders = [e for e in entries if e.persona.role_id == role.pk]
            rows.append(
                {
                    "label": role.name,
                    "key": role.key,
                    "sub": ", ".join(e.persona.name for e in holders),
                    "cells": [_role_cell(stage, role, holders, targets, found) for stage in stages],
                }
            )
    else:
        for entry in entries:
            scope = {s.pk for s in entry.stages.all()}
            persona = entry.persona
            rows.append(
                {
                    "label": persona.name,
                    "key": persona.key,
                    "entry": entry,
                    "sub": persona.role.name if persona.role else "",
                    "cells": [_persona_cell(stage, persona, scope, targets, found) for stage in stages],
                }
            )
    return {"stages": stages, "rows": rows}


def _live_for(stage, persona_ids: list[int], targets: dict) -> list[ContentAsset]:
    wanted = set().union(*(targets.get(pk, set()) for pk in persona_ids)) if persona_ids else set()
    return [c for c in stage_content(stage) if c.status == ContentAsset.LIVE and c.pk in wanted]


def _marked(cell: dict, rows: list[Gap]) -> dict:
    cell["gaps"] = rows
    cell["severity"] = min((g.severity for g in rows), key=SEVERITIES.index, default=None)
    cell["gap"] = bool(rows)
    return cell


def _persona_cell(stage, persona, scope: set, targets: dict, found: list[Gap]) -> dict:
    in_scope = not scope or stage.pk in scope
    rows = [g for g in found if g.code == CONTENT_GAP and g.stage == stage.key and g.persona == persona.key]
    return _marked(
        {"stage": stage, "persona": persona, "in_scope": in_scope, "content": _live_for(stage, [persona.pk], targets)},
        rows,
    )


def _role_cell(stage, role, holders: list, targets: dict, found: list[Gap]) -> dict:
    """A role's cell: the content gaps of the personas holding it, and the stage's
    role-missing row for it, exactly as the gap list has them."""
    required = any(r.pk == role.pk for r in stage.required_roles.all())
    keys = {e.persona.key for e in holders}
    rows = [
        g
        for g in found
        if g.stage == stage.key
        and ((g.code == CONTENT_GAP and g.persona in keys) or (g.code == ROLE_MISSING and g.role == role.key))
    ]
    return _marked(
        {
            "stage": stage,
            "in_scope": bool(holders) or required,
            "required": required,
            "content": _live_for(stage, [e.persona.pk for e in holders], targets),
        },
        rows,
    )


def _has(found: list[Gap], code: str, stage) -> bool:
    return any(g.code == code and g.stage == stage.key for g in found)


def accountability(journey_map: JourneyMap, found: list[Gap]) -> dict:
    """Stages x departments: who leads, who contributes, and the hand-off to the next stage."""
    stages = list(journey_map.stages.all())
    departments = list(journey_map.workspace.departments.all())
    qualified = {row["stage"]: row for row in qualification(journey_map)}
    rows = []
    for index, stage in enumerate(stages):
        contributors = {d.pk for d in stage.contributors.all()}
        cells = []
        for department in departments:
            part = "lead" if stage.lead_id == department.pk else "contributes" if department.pk in contributors else ""
            cells.append({"department": department, "part": part})
        following = stages[index + 1] if index + 1 < len(stages) else None
        handoff_needed = bool(following and stage.lead_id and following.lead_id and stage.lead_id != following.lead_id)
        rows.append(
            {
                "stage": stage,
                "cells": cells,
                "no_lead": _has(found, NO_LEAD, stage),
                "next": following,
                "handoff_needed": handoff_needed,
                "handoff_missing": _has(found, NO_HANDOFF, stage),
                "qualification": qualified.get(stage.key),
            }
        )
    return {"departments": departments, "rows": rows}


def funnel(journey_map: JourneyMap, found: list[Gap]) -> list[dict]:
    """Entered, converted, conversion and target per stage, with bar widths for the chart.

    Widths follow a logarithmic scale: late stages hold a small share of the first
    stage's entries, and on a straight scale their bars shrink to slivers nobody sees.
    """
    stages = list(journey_map.stages.all())
    widest = max((s.entered or 0 for s in stages), default=0)
    return [
        {
            "stage": stage,
            "width": _width(stage.entered, widest),
            "converted_width": _width(stage.converted, widest),
            "rate": None if stage.conversion is None else percent(stage.conversion),
            "target": None if stage.target_conversion is None else percent(stage.target_conversion),
            "drop_off": _has(found, DROP_OFF, stage),
            "trend": conversion_trend(stage),
            **_periods(stage),
        }
        for stage in stages
    ]


def _periods(stage) -> dict:
    """The latest period (whose figures are the stage's) and the change since the one before."""
    figures = figures_in_order(stage)
    if not figures:
        return {"period": None, "previous": None}
    latest = figures[-1]
    if len(figures) < 2:
        return {"period": latest.period, "previous": None}
    before = figures[-2]
    rate_then = before.converted / before.entered if before.entered else None
    rate_now = latest.converted / latest.entered if latest.entered else None
    points = None if rate_then is None or rate_now is None else round(100 * (rate_now - rate_then), 1)
    return {
        "period": latest.period,
        "previous": {
            "period": before.period,
            "entered": before.entered,
            "converted": before.converted,
            "entered_change": latest.entered - before.entered,
            "rate": None if rate_then is None else percent(rate_then),
            # Percentage points, signed: +2.5 or -4.
            "points": points,
        },
    }


def _width(count: int | None, widest: int) -> float:
    """Percent of the chart's width on a log scale: 1 -> a sliver still seen, `widest` -> 100."""
    if not count or not widest:
        return 0.0
    return round(100 * (0.08 + 0.92 * math.log10(1 + count) / math.log10(1 + widest)), 1)
