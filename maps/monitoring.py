"""Monitoring a map (seed 004) and the lead qualification of its hand-offs (seed 001), as
plain data for the board, the matrices and the deck.

- KPIs: on or off track by their direction, with their actuals per period.
- Sparklines: small inline SVGs drawn here, with classes and presentation attributes
  only (the Content Security Policy allows no style attribute); colours come from the
  stylesheet, which takes them from maps.marks.
- Reviews: a map is due for review when its last review is older than its cadence, or
  it never had one; what changed since is read from its revisions.
- Qualification: each stage's criteria, threshold and who agreed to them.

Read from a map loaded with JourneyMap.objects.loaded() (KPIs) or stages_only()
(qualification), so nothing here costs a query per stage.
"""

from __future__ import annotations

import datetime
from collections import Counter

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import marks, revisions
from .models import JourneyMap, Metric, Revision, figures_in_order, history_in_order

# --- KPIs ---------------------------------------------------------------------------------


def track_mark(on_track: bool | None) -> marks.Mark | None:
    if on_track is None:
        return None
    return marks.ON_TRACK if on_track else marks.OFF_TRACK


def kpi_status(journey_map: JourneyMap) -> list[dict]:
    """Every KPI of the map in stage order: where it stands against its target.

    Rows: {"stage", "stage_name", "name", "target", "actual", "unit", "direction",
    "on_track" (None without a target or an actual), "history": [(period, actual)]}.
    """
    return [kpi_row(stage, metric) for stage in journey_map.stages.all() for metric in stage.metrics.all()]


def kpi_row(stage, metric: Metric) -> dict:
    return {
        "stage": stage.key,
        "stage_name": stage.name,
        "name": metric.name,
        "target": metric.target,
        "actual": metric.actual,
        "unit": metric.unit,
        "direction": metric.direction,
        "on_track": metric.on_track,
        "history": [(entry.period, entry.actual) for entry in history_in_order(metric)],
    }


def kpi_sparkline(row: dict) -> SafeString:
    """A KPI's actuals by period, with its target as a dashed line; empty without history."""
    label = _("%(kpi)s by period: %(values)s") % {
        "kpi": row["name"],
        "values": ", ".join(f"{period} {_number(actual)}" for period, actual in row["history"]),
    }
    tone = {True: "on-track", False: "off-track", None: ""}[row["on_track"]]
    return sparkline([actual for _period, actual in row["history"]], label, tone, row["target"])


# --- sparklines ---------------------------------------------------------------------------

SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 96, 28, 4


def sparkline(values: list[float], label: str, tone: str = "", target: float | None = None) -> SafeString:
    """An inline SVG of `values` left to right, one dot per value, and `target` as a
    dashed line (the scale takes it in, so it is always in the picture)."""
    if not values:
        return SafeString("")
    scale = [*values, *([target] if target is not None else [])]
    low, high = min(scale), max(scale)
    inner_w, inner_h = SPARK_WIDTH - 2 * SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD

    def y(value: float) -> float:
        if high == low:
            return SPARK_HEIGHT / 2
        return SPARK_PAD + inner_h * (high - value) / (high - low)

    step = inner_w / (len(values) - 1) if len(values) > 1 else 0
    points = [
        (SPARK_PAD + step * i if len(values) > 1 else SPARK_WIDTH / 2, y(value)) for i, value in enumerate(values)
    ]
    target_line = ""
    if target is not None:
        target_line = format_html(
            '<line class="spark-target" x1="{}" y1="{}" x2="{}" y2="{}" stroke-dasharray="3 2"/>',
            SPARK_PAD,
            f"{y(target):.1f}",
            SPARK_WIDTH - SPARK_PAD,
            f"{y(target):.1f}",
        )
    dots = format_html_join(
        "", '<circle class="spark-dot" cx="{}" cy="{}" r="2"/>', ((f"{x:.1f}", f"{py:.1f}") for x, py in points)
    )
    return format_html(
        '<svg class="spark {}" viewBox="0 0 {} {}" width="{}" height="{}" role="img" aria-label="{}" focusable="false">'
        '<title>{}</title>{}<polyline class="spark-line" fill="none" points="{}"/>{}</svg>',
        tone,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        SPARK_WIDTH,
        SPARK_HEIGHT,
        label,
        label,
        target_line,
        " ".join(f"{x:.1f},{py:.1f}" for x, py in points),
        dots,
    )


def conversion_trend(stage) -> SafeString:
    """A stage's conversion rate by period (its funnel figures), against its target."""
    rates = [(figure.period, figure.converted / figure.entered) for figure in figures_in_order(stage) if figure.entered]
    if not rates:
        return SafeString("")
    label = _("Conversion of %(stage)s by period: %(values)s") % {
        "stage": stage.name,
        "values": ", ".join(f"{period} {marks.percent(rate)}" for period, rate in rates),
    }
    latest, target = rates[-1][1], stage.target_conversion
    tone = "" if target is None else "on-track" if latest >= target else "off-track"
    return sparkline([rate for _period, rate in rates], label, tone, target)


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    return marks.decimal(f"{value:g}")


# --- reviews ------------------------------------------------------------------------------


def next_review(journey_map: JourneyMap) -> datetime.date | None:
    """The last day the map is not yet due; None if it was never reviewed."""
    if journey_map.last_reviewed is None:
        return None
    return journey_map.last_reviewed + datetime.timedelta(days=journey_map.review_every_days)


def review_due(journey_map: JourneyMap, today: datetime.date | None = None) -> bool:
    """Due when the last review is older than the cadence, or there never was one."""
    today = today or timezone.localdate()
    due_after = next_review(journey_map)
    return due_after is None or today > due_after


SHOWN_CHANGES = 10


def changes_since_review(journey_map: JourneyMap, shown: int = SHOWN_CHANGES) -> dict:
    """The revisions after the one that recorded the map's last review (all of them if it
    was never reviewed), newest first: {"total", "revisions" (the first `shown`), "more",
    "by_stage": [(stage name, count)] in stage order, the map as a whole last}."""
    found: list[Revision] = []
    revisions_newest_first = (
        Revision.objects.filter(map=journey_map).select_related("user").defer("checkpoint").order_by("-number")
    )
    for revision in revisions_newest_first.iterator():
        if journey_map.last_reviewed is not None and _records_review(revision, journey_map.last_reviewed):
            break
        found.append(revision)
    counts = Counter(revision.stage for revision in found)
    stages = list(journey_map.stages.all())
    by_stage = [(stage.name, counts.pop(stage.key)) for stage in stages if stage.key in counts]
    # Stages deleted since, by their key; changes to no one stage, as the map's.
    by_stage += [(key, n) for key, n in counts.items() if key]
    if counts.get(""):
        by_stage.append((_("The map as a whole"), counts[""]))
    return {
        "total": len(found),
        "revisions": found[:shown],
        "more": max(len(found) - shown, 0),
        "by_stage": by_stage,
    }


def _records_review(revision: Revision, reviewed: datetime.date) -> bool:
    """Whether the revision set the map's last review to `reviewed`."""
    change = revisions.unpack(revision.delta).get(revisions.MAP)
    if not change:
        return False
    before, after = ((side or {}).get("last_reviewed") for side in change)
    return before != after and after == reviewed.isoformat()


def review_word(journey_map: JourneyMap, today: datetime.date | None = None) -> str:
    """The review state in words, for the header and the review tab."""
    if journey_map.last_reviewed is None:
        return _("Never reviewed")
    days = ((today or timezone.localdate()) - journey_map.last_reviewed).days
    if days <= 0:
        return _("Reviewed today")
    return ngettext("Reviewed %(n)d day ago", "Reviewed %(n)d days ago", days) % {"n": days}


# --- lead qualification ---------------------------------------------------------------------


def qualification(journey_map: JourneyMap) -> list[dict]:
    """Each stage's lead qualification, in stage order, for stages that have one
    (criteria or a threshold): {"stage", "stage_name", "next", "next_name",
    "threshold", "criteria": [{"kind", "kind_label", "description", "points"}],
    "total_fit", "total_behaviour", "agreed": {"lead": {...}, "next": {...}},
    "agreed_by_both"}. A side is {"department": name or None, "on": date or None}."""
    stages = list(journey_map.stages.all())
    rows = []
    for index, stage in enumerate(stages):
        criteria = list(stage.criteria.all())
        if not criteria and stage.qualification_threshold is None:
            continue
        following = stages[index + 1] if index + 1 < len(stages) else None
        agreed = {
            "lead": {"department": stage.lead.name if stage.lead else None, "on": stage.agreed_by_lead},
            "next": {
                "department": following.lead.name if following and following.lead else None,
                "on": stage.agreed_by_next,
            },
        }
        rows.append(
            {
                "stage": stage.key,
                "stage_name": stage.name,
                "next": following.key if following else None,
                "next_name": following.name if following else None,
                "threshold": stage.qualification_threshold,
                "criteria": [
                    {
                        "kind": c.kind,
                        "kind_label": str(c.get_kind_display()),
                        "description": c.description,
                        "points": c.points,
                    }
                    for c in criteria
                ],
                "agreed": agreed,
                "agreed_by_both": bool(stage.agreed_by_lead and (stage.agreed_by_next or following is None)),
            }
        )
    return rows
