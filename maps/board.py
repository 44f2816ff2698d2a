"""The board of the map page as plain data: one column per stage, one row per lane.

Read only from a map loaded with JourneyMap.objects.loaded(), so the board costs no
query per stage or touchpoint.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import gaps as gap_rules
from .models import JourneyMap, Stage, Touchpoint

# Shapes as well as colour, so the emotion reads in print and for colour-blind viewers.
EMOTION_FACES = {2: "▲▲", 1: "▲", 0: "●", -1: "▼", -2: "▼▼"}
EMOTION_WORDS = {2: "delighted", 1: "positive", 0: "neutral", -1: "frustrated", -2: "very frustrated"}


@dataclass
class Card:
    touchpoint: Touchpoint
    personas: list
    content: list
    next: list
    worst: str | None
    gap_count: int
    colour: int | None = None

    @property
    def face(self) -> str:
        return EMOTION_FACES.get(self.touchpoint.emotion, "")

    @property
    def emotion_word(self) -> str:
        return EMOTION_WORDS.get(self.touchpoint.emotion, "not rated")


@dataclass
class Column:
    stage: Stage
    index: int
    cards: list[Card]
    personas: list
    content: list
    worst: str | None
    gap_count: int
    emotion: float | None
    lead_colour: int | None = None
    metrics: list = field(default_factory=list)
    contributors: list = field(default_factory=list)
    required_roles: list = field(default_factory=list)

    @property
    def conversion_pct(self) -> float | None:
        rate = self.stage.conversion
        return None if rate is None else round(rate * 100, 1)

    @property
    def target_pct(self) -> float | None:
        target = self.stage.target_conversion
        return None if target is None else round(target * 100, 1)

    @property
    def drop_off(self) -> bool:
        rate, target = self.stage.conversion, self.stage.target_conversion
        return rate is not None and target is not None and rate < target

    @property
    def emotion_face(self) -> str:
        if self.emotion is None:
            return ""
        return EMOTION_FACES[max(-2, min(2, round(self.emotion)))]


def build_board(journey_map: JourneyMap, found: list) -> dict:
    stage_marks = gap_rules.stage_summary(found)
    tp_marks = gap_rules.touchpoint_summary(found)
    map_personas = [mp.persona for mp in journey_map.map_personas.all()]
    persona_rank = {p.pk: i for i, p in enumerate(map_personas)}
    colours = {d.pk: i % 8 for i, d in enumerate(journey_map.workspace.departments.all())}
    stages = list(journey_map.stages.all())
    columns = []
    for index, stage in enumerate(stages):
        cards = [_card(tp, persona_rank, tp_marks, colours) for tp in stage.touchpoints.all()]
        reached = {p.pk: p for card in cards for p in card.personas}
        rated = [c.touchpoint.emotion for c in cards if c.touchpoint.emotion is not None]
        worst, count = stage_marks.get(stage.key, (None, 0))
        columns.append(Column(
            stage=stage, index=index, cards=cards,
            personas=sorted(reached.values(), key=lambda p: persona_rank.get(p.pk, 999)),
            content=gap_rules.stage_content(stage), worst=worst, gap_count=count,
            emotion=sum(rated) / len(rated) if rated else None, lead_colour=colours.get(stage.lead_id),
            metrics=list(stage.metrics.all()), contributors=list(stage.contributors.all()),
            required_roles=list(stage.required_roles.all()),
        ))
    return {
        "columns": columns,
        "colours": colours,
        "personas": map_personas,
        "curve": _emotion_curve(columns),
        "width": len(columns) * 100,
    }


def _card(tp: Touchpoint, persona_rank: dict, tp_marks: dict, colours: dict) -> Card:
    worst, count = tp_marks.get(tp.key, (None, 0))
    personas = sorted(tp.personas.all(), key=lambda p: persona_rank.get(p.pk, 999))
    return Card(touchpoint=tp, personas=personas, content=list(tp.content.all()),
                next=[flow.target for flow in tp.flows_out.all()], worst=worst, gap_count=count,
                colour=colours.get(tp.owner_id))


def _emotion_curve(columns: list[Column]) -> str:
    """SVG polyline points, one per rated stage: x in stage columns of 100, y 10..90."""
    points = [f"{c.index * 100 + 50},{50 - c.emotion * 20:.1f}" for c in columns if c.emotion is not None]
    return " ".join(points)
