"""Priorities: the actions of a map, what each came from, and which to fix first.

An action may come from a touchpoint's pain point or opportunity, a gap row, a SWOT item,
or from nothing in particular (a free action). Its `source` is KIND:KEY, the key a vote
item of the same thing has (maps.votes.collect_items), so the dots a workshop gave that
thing count for the action.

The ranking is one formula, `score`, said in words on the Actions tab (`formula`):

    score = impact × (6 − effort) × severity weight × (1 + votes ÷ 10)

- impact and effort are the action's own (1..5): high impact and low effort rank first;
- the severity weight is maps.marks.SEVERITY_WEIGHT of the gap the action came from
  (error 3, warning 2, info 1) while the map still has that gap; 1 for any other action;
- votes are the dots its source got, added up over every closed vote of the map (open
  votes do not count: their counts may be hidden until they close).
Ties go to the earlier due date (no date last), then to the title. Done and dropped
actions come after the others: there is nothing left to fix in them.

The 2x2 picture puts each action in a quadrant by impact and effort, "high" meaning
HIGH_FROM or more on the 1..5 scale.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from . import votes
from .gaps import Gap, code_label, find_gaps
from .marks import SEVERITY_WEIGHT
from .models import ACTION_SCALE_MAX, Action, Department, JourneyMap, Stage
from .validators import looked_up

TITLE_MAX = Action._meta.get_field("title").max_length
HIGH_FROM = 3  # impact or effort this high or higher is "high" in the 2x2 picture


def formula() -> str:
    """The ranking said in words, in the active language, with the weights of maps.marks."""
    weights = {name: SEVERITY_WEIGHT[name] for name in ("error", "warning", "info")}
    return _(
        "Score = impact × (6 − effort) × gap weight × (1 + votes ÷ 10). The gap weight is %(error)s for an "
        "action made from an error gap, %(warning)s from a warning, %(info)s from an info gap; %(other)s for "
        "anything else, and once the gap is fixed. Votes are the dots its pain point, opportunity or gap got "
        "in the map’s closed votes. Ties go to the earlier due date, then to the title; done and dropped "
        "actions come last."
    ) % {**weights, "other": SEVERITY_WEIGHT[None]}


SOURCE_KINDS: dict[str, Promise] = {
    "pain": gettext_lazy("pain point"),
    "opportunity": gettext_lazy("opportunity"),
    "gap": pgettext_lazy("an action made from", "gap"),
    "swot": gettext_lazy("SWOT item"),
}


@dataclass(frozen=True)
class Quadrant:
    key: str
    title: Promise
    hint: Promise
    high_impact: bool
    high_effort: bool


# In reading order of the picture: high impact on top, low effort on the left.
QUADRANTS = (
    Quadrant(
        "quick-wins", gettext_lazy("Quick wins"), gettext_lazy("high impact, low effort: do these first"), True, False
    ),
    Quadrant("big-bets", gettext_lazy("Big bets"), gettext_lazy("high impact, high effort: plan them"), True, True),
    Quadrant(
        "fill-ins", gettext_lazy("Fill-ins"), gettext_lazy("low impact, low effort: when there is time"), False, False
    ),
    Quadrant(
        "money-pits", gettext_lazy("Money pits"), gettext_lazy("low impact, high effort: question them"), False, True
    ),
)


def quadrant_of(impact: int, effort: int) -> Quadrant:
    high_impact, high_effort = impact >= HIGH_FROM, effort >= HIGH_FROM
    return next(q for q in QUADRANTS if (q.high_impact, q.high_effort) == (high_impact, high_effort))


def score(action: Action, votes: int = 0, severity: str | None = None) -> float:
    """The one ranking formula (FORMULA says it in words): higher ranks first."""
    weight = SEVERITY_WEIGHT.get(severity, SEVERITY_WEIGHT[None])
    return action.impact * (ACTION_SCALE_MAX + 1 - action.effort) * weight * (1 + votes / 10)


def _rank_key(action: Action, score: float) -> tuple:
    finished = action.status in (Action.DONE, Action.DROPPED)
    return (finished, -score, action.due is None, action.due or datetime.date.max, action.title.casefold(), action.key)


# --- sources --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """What an action is made from, as the new-action form fills itself in from it."""

    key: str  # KIND:KEY
    title: str  # the suggested title of the action
    stage: Stage | None
    label: str  # what a person reads: "Pain point of Demo: the trial is too short"
    owner: Department | None = None  # who would own it: the touchpoint's owner, the stage's lead


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _touchpoint_source(attribute: str, word: Callable[[], str]):
    def resolve(journey_map: JourneyMap, source: str, key: str) -> Source | None:
        touchpoint = journey_map.touchpoints.select_related("stage", "owner").filter(key=looked_up(key)).first()
        text = _one_line(getattr(touchpoint, attribute, "") or "") if touchpoint else ""
        if not text:
            return None
        label = word() % {"touchpoint": touchpoint.name, "text": text}
        return Source(source, text[:TITLE_MAX], touchpoint.stage, label, touchpoint.owner)

    return resolve


def _gap_source(journey_map: JourneyMap, source: str, key: str) -> Source | None:
    gap = _gaps_by_id(journey_map).get(key)
    if gap is None:
        return None
    stage = journey_map.stages.select_related("lead").filter(key=gap.stage).first()
    label = _("Gap (%(code)s): %(message)s") % {"code": code_label(gap.code), "message": gap.message}
    return Source(source, gap.message[:TITLE_MAX], stage, label, stage.lead if stage else None)


def _gaps_by_id(journey_map: JourneyMap) -> dict[str, Gap]:
    # A map from JourneyMap.objects.loaded() (the deck's) is used as it is, not read again.
    fully_loaded = "map_personas" in getattr(journey_map, "_prefetched_objects_cache", {})
    loaded = journey_map if fully_loaded else JourneyMap.objects.loaded().get(pk=journey_map.pk)
    return {gap.id: gap for gap in find_gaps(loaded)}


# KIND -> how to read a source of that kind on the map (None: it is no longer there).
# SWOT items register theirs here.
def _swot_source(journey_map: JourneyMap, source: str, key: str) -> Source | None:
    item = journey_map.swot_items.select_related("stage__lead").filter(key=key).first()
    if item is None:
        return None
    text = _one_line(item.text)
    # Translators: where an action comes from, after "Made from the": a SWOT item and its kind.
    label = _("SWOT item (%(kind)s): %(text)s") % {"kind": item.get_kind_display(), "text": text}
    return Source(source, text[:TITLE_MAX], item.stage, label, item.stage.lead if item.stage else None)


RESOLVERS: dict[str, Callable[[JourneyMap, str, str], Source | None]] = {
    "pain": _touchpoint_source("pain_point", lambda: _("Pain point of %(touchpoint)s: %(text)s")),
    "opportunity": _touchpoint_source("opportunity", lambda: _("Opportunity of %(touchpoint)s: %(text)s")),
    "gap": _gap_source,
    "swot": _swot_source,
}


def resolve(journey_map: JourneyMap, source: str) -> Source | None:
    """The thing `source` (KIND:KEY) names on the map as it is now; None if there is none."""
    kind, _colon, key = (source or "").partition(":")
    resolver = RESOLVERS.get(kind)
    return resolver(journey_map, source, key) if resolver and key else None


def source_label(
    source: str, touchpoints: dict[str, str], gaps: dict[str, Gap], swot: dict[str, str] | None = None
) -> str:
    """A short label of an action's source for lists and the CSV: its kind and what it names
    (`swot`: the SWOT items' texts by key)."""
    if not source:
        return ""
    kind, _colon, key = source.partition(":")
    word = str(SOURCE_KINDS.get(kind, kind))
    if kind in ("pain", "opportunity"):
        what = touchpoints.get(key, key)
    elif kind == "gap":
        gap = gaps.get(key)
        what = gap.message if gap else code_label(key.partition("|")[0])
    elif kind == "swot":
        what = (swot or {}).get(key, key)
    else:
        what = key
    # Translators: an action's source in lists and the CSV: its kind, then what it names
    # ("pain point: Live demo").
    return _("%(kind)s: %(what)s") % {"kind": word, "what": what}


# --- the ranking -----------------------------------------------------------------------------


@dataclass
class Ranked:
    action: Action
    rank: int
    score: float
    votes: int
    severity: str | None  # of the gap the action came from, while the map has it
    source_label: str
    quadrant: Quadrant

    @property
    def score_text(self) -> str:
        """The score as it is shown and exported: up to one decimal."""
        return f"{self.score:.1f}".removesuffix(".0")


def ranked(journey_map: JourneyMap) -> list[Ranked]:
    """The map's actions, what to fix first first."""
    actions = list(journey_map.actions.select_related("owner", "stage"))
    if not actions:
        return []
    dots = votes.closed_dots(journey_map)
    needs_gaps = any(action.source_kind == "gap" for action in actions)
    gaps = _gaps_by_id(journey_map) if needs_gaps else {}
    touchpoints = dict(journey_map.touchpoints.values_list("key", "name"))
    needs_swot = any(action.source_kind == "swot" for action in actions)
    swot = dict(journey_map.swot_items.values_list("key", "text")) if needs_swot else {}
    rows = []
    for action in actions:
        gap = gaps.get(action.source.partition(":")[2]) if action.source_kind == "gap" else None
        severity = gap.severity if gap else None
        n = dots.get(action.source, 0) if action.source else 0
        rows.append(
            Ranked(
                action=action,
                rank=0,
                score=score(action, n, severity),
                votes=n,
                severity=severity,
                source_label=source_label(action.source, touchpoints, gaps, swot),
                quadrant=quadrant_of(action.impact, action.effort),
            )
        )
    rows.sort(key=lambda row: _rank_key(row.action, row.score))
    for index, row in enumerate(rows, start=1):
        row.rank = index
    return rows


def ranked_actions(journey_map: JourneyMap) -> list[dict]:
    """The ranking as plain data (a deck slide, an export): one dict per action, first first."""
    return [
        {
            "rank": row.rank,
            "key": row.action.key,
            "title": row.action.title,
            "stage": row.action.stage.name if row.action.stage else "",
            "impact": row.action.impact,
            "effort": row.action.effort,
            "owner": row.action.owner.name if row.action.owner else "",
            "due": row.action.due,
            "status": str(row.action.get_status_display()),
            "score": row.score,
            "votes": row.votes,
            "quadrant": str(row.quadrant.title),
            "source": row.source_label,
        }
        for row in ranked(journey_map)
    ]


def by_quadrant(rows: list[Ranked]) -> list[dict]:
    """The 2x2 picture: each quadrant with its open and in-progress actions, in rank order."""
    live = [row for row in rows if row.action.status in (Action.OPEN, Action.IN_PROGRESS)]
    return [{"quadrant": q, "rows": [row for row in live if row.quadrant is q]} for q in QUADRANTS]
