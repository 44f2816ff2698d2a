"""The three matrices of a map as plain data: content coverage, accountability, funnel.

Built from a map loaded with JourneyMap.objects.loaded(); gap marks come from the gap
rows so that a matrix never disagrees with the gap list.
"""
from __future__ import annotations

from .gaps import stage_content
from .models import ContentAsset, JourneyMap


def coverage(journey_map: JourneyMap, by: str, found: list) -> dict:
    """Personas (or buying roles) x stages; each cell the live content that covers it."""
    stages = list(journey_map.stages.all())
    entries = list(journey_map.map_personas.all())
    gap_cells = {(g.stage, g.persona) for g in found if g.code == "content-gap"}
    targets = {e.persona.pk: {c.pk for c in e.persona.content.all()} for e in entries}
    rows = []
    if by == "roles":
        for role in journey_map.workspace.roles.all():
            holders = [e for e in entries if e.persona.role_id == role.pk]
            rows.append({"label": role.name, "key": role.key, "sub": ", ".join(e.persona.name for e in holders),
                         "cells": [_role_cell(stage, role, holders, targets, gap_cells) for stage in stages]})
    else:
        for entry in entries:
            scope = {s.pk for s in entry.stages.all()}
            persona = entry.persona
            rows.append({"label": persona.name, "key": persona.key, "entry": entry,
                         "sub": persona.role.name if persona.role else "",
                         "cells": [_persona_cell(stage, persona, scope, targets, gap_cells) for stage in stages]})
    return {"stages": stages, "rows": rows}


def _live_for(stage, persona_ids: list[int], targets: dict) -> list[ContentAsset]:
    wanted = set().union(*(targets.get(pk, set()) for pk in persona_ids)) if persona_ids else set()
    return [c for c in stage_content(stage) if c.status == ContentAsset.LIVE and c.pk in wanted]


def _persona_cell(stage, persona, scope: set, targets: dict, gap_cells: set) -> dict:
    in_scope = not scope or stage.pk in scope
    return {"stage": stage, "persona": persona, "in_scope": in_scope,
            "content": _live_for(stage, [persona.pk], targets),
            "gap": (stage.key, persona.key) in gap_cells}


def _role_cell(stage, role, holders: list, targets: dict, gap_cells: set) -> dict:
    required = any(r.pk == role.pk for r in stage.required_roles.all())
    content = _live_for(stage, [e.persona.pk for e in holders], targets)
    gap = any((stage.key, e.persona.key) in gap_cells for e in holders) or (required and not content)
    return {"stage": stage, "in_scope": bool(holders) or required, "required": required,
            "content": content, "gap": gap}


def accountability(journey_map: JourneyMap) -> dict:
    """Stages x departments: who leads, who contributes, and the hand-off to the next stage."""
    stages = list(journey_map.stages.all())
    departments = list(journey_map.workspace.departments.all())
    rows = []
    for index, stage in enumerate(stages):
        contributors = {d.pk for d in stage.contributors.all()}
        cells = []
        for department in departments:
            part = "lead" if stage.lead_id == department.pk else "contributes" if department.pk in contributors else ""
            cells.append({"department": department, "part": part})
        following = stages[index + 1] if index + 1 < len(stages) else None
        handoff_needed = bool(following and stage.lead_id and following.lead_id and stage.lead_id != following.lead_id)
        rows.append({"stage": stage, "cells": cells, "no_lead": stage.lead_id is None, "next": following,
                     "handoff_needed": handoff_needed,
                     "handoff_missing": handoff_needed and not stage.handoff_sla.strip()})
    return {"departments": departments, "rows": rows}


def funnel(journey_map: JourneyMap) -> list[dict]:
    """Entered, converted, conversion and target per stage, with bar widths for the chart."""
    stages = list(journey_map.stages.all())
    widest = max((s.entered or 0 for s in stages), default=0) or 1
    rows = []
    for stage in stages:
        rate, target = stage.conversion, stage.target_conversion
        rows.append({
            "stage": stage,
            "width": round(100 * (stage.entered or 0) / widest, 1),
            "converted_width": round(100 * (stage.converted or 0) / widest, 1),
            "rate": None if rate is None else round(rate * 100, 1),
            "target": None if target is None else round(target * 100, 1),
            "drop_off": rate is not None and target is not None and rate < target,
        })
    return rows
