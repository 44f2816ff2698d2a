"""What if a stage reached its target? The funnel as a chain of rates (seed 004:
simulate before you change the journey).

The model, for the stages that have funnel figures (entered > 0 and converted given), in
map order: each stage's rate is converted / entered; the customers won now are the first
such stage's entries times the product of the rates. For each stage whose rate is below
its target conversion, the customers won if that stage reached its target are the same
product with that rate replaced by the target; the gain is the difference. Stages
without a target, or at or above it, are left out of the ranking. docs/gaps.md says the
same in words for people.

Pure functions of a map loaded with `JourneyMap.objects.stages_only()` (or `loaded()`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from .marks import decimal, percent
from .models import JourneyMap, Stage


@dataclass(frozen=True)
class Step:
    """One stage of the chain: its figures and rate."""

    stage: Stage
    rate: float

    @property
    def target(self) -> float | None:
        return self.stage.target_conversion


@dataclass(frozen=True)
class Gain:
    """What reaching its target in one stage would win."""

    stage: Stage
    rate: float
    target: float
    won_now: float
    won_if_target: float

    @property
    def gain(self) -> float:
        return self.won_if_target - self.won_now

    def as_dict(self) -> dict:
        return {
            "stage": self.stage.key,
            "rate": self.rate,
            "target": self.target,
            "won_now": self.won_now,
            "won_if_target": self.won_if_target,
            "gain": self.gain,
        }


def chain(journey_map: JourneyMap) -> list[Step]:
    """The stages with funnel figures, in map order, with their rates."""
    return [
        Step(stage, stage.converted / stage.entered)
        for stage in journey_map.stages.all()
        if stage.entered and stage.converted is not None
    ]


def won(steps: list[Step], replaced: dict[int, float] | None = None) -> float:
    """Customers won per period: the first stage's entries times every rate, with the
    rates of the stages in `replaced` (stage id -> rate) replaced."""
    if not steps:
        return 0.0
    replaced = replaced or {}
    return steps[0].stage.entered * math.prod(replaced.get(step.stage.id, step.rate) for step in steps)


def ranking(journey_map: JourneyMap) -> list[Gain]:
    """Every stage below its target, by what reaching it would win, highest first (map
    order among equal gains)."""
    steps = chain(journey_map)
    now = won(steps)
    gains = [
        Gain(step.stage, step.rate, step.target, now, won(steps, {step.stage.id: step.target}))
        for step in steps
        if step.target is not None and step.rate < step.target
    ]
    return sorted(gains, key=lambda gain: -gain.gain)


def trial(journey_map: JourneyMap, stage_key: str, rate: float) -> tuple[float, float] | None:
    """(won now, won if `stage_key` converted at `rate`), or None when that stage has no
    figures to replace."""
    steps = chain(journey_map)
    step = next((step for step in steps if step.stage.key == stage_key), None)
    if step is None:
        return None
    return won(steps), won(steps, {step.stage.id: rate})


def customers(count: float) -> str:
    """A number of customers as people read it: one decimal ("4.1", "12")."""
    return decimal(f"{count:.1f}".rstrip("0").rstrip("."))


def sentence(gain: Gain) -> str:
    """A gain in words: "Raising Capture from 5.95 % to 8 % wins 4.1 more customers per period."."""
    # Translators: the what-if of the funnel; %(gain)s is a number of customers with one decimal.
    return _("Raising %(stage)s from %(rate)s to %(target)s wins %(gain)s more customers per period.") % {
        "stage": gain.stage.name,
        "rate": percent(gain.rate),
        "target": percent(gain.target),
        "gain": customers(gain.gain),
    }


@dataclass(frozen=True)
class Row:
    """One stage of the what-if table: its rate, its target, what reaching the target
    would win (None at or above it) and, after a try, what the tried rate would."""

    step: Step
    gain: Gain | None
    tried: float | None = None
    won_tried: float | None = None

    @property
    def slider_max(self) -> int:
        """The slider's end, in percent: twice the larger of rate and target (at least
        1 %, at most 100 %), so that a 6 % stage is not a sliver at the left of 0-100."""
        highest = max(self.step.rate, self.step.target or 0, self.tried or 0)
        return max(1, min(100, math.ceil(200 * highest)))

    @property
    def slider(self) -> float:
        """Where the stage's slider starts, in percent: the tried rate, else the rate now."""
        return round(100 * (self.tried if self.tried is not None else self.step.rate), 2)


def table(journey_map: JourneyMap, tried: dict[str, float] | None = None) -> dict:
    """The funnel page's what-if: the ranking, and a row per stage with figures (map
    order) carrying its gain and, for the stages in `tried` (key -> rate), the customers
    won at that rate."""
    steps = chain(journey_map)
    gains = ranking(journey_map)
    by_stage = {gain.stage.key: gain for gain in gains}
    tried = tried or {}
    rows = []
    for step in steps:
        rate = tried.get(step.stage.key)
        won_tried = None if rate is None else won(steps, {step.stage.id: rate})
        rows.append(Row(step, by_stage.get(step.stage.key), rate, won_tried))
    return {"won_now": won(steps), "ranking": gains, "rows": rows}
