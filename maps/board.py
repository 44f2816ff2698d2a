"""The board of the map page as plain data: one column per stage, one row per lane.

Read only from a map loaded with JourneyMap.objects.loaded(), so the board costs no
query per stage or touchpoint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from . import gaps as gap_rules
from . import marks, monitoring
from .models import JourneyMap, Stage, StageAnswer, Touchpoint


@dataclass(frozen=True)
class FlowTarget:
    """Where a card's flow goes, as the card shows it: a column is drawn again when a
    target's name changes, not when anything else about the target does."""

    key: str
    name: str


@dataclass
class Card:
    touchpoint: Touchpoint
    personas: list
    content: list
    next: list
    worst: str | None
    gap_count: int
    colour: int | None = None
    gap_codes: list[str] = field(default_factory=list)
    # The card's links and buttons (edit, up, down, left, right), and each flow's target
    # with the URL that deletes the flow.
    urls: dict[str, str] = field(default_factory=dict)
    flows: list[tuple[FlowTarget, str]] = field(default_factory=list)

    @property
    def gap_labels(self) -> list[str]:
        """The short label of each gap code of the card, in the active language."""
        return [gap_rules.code_label(code) for code in self.gap_codes]

    @property
    def face(self) -> str:
        mood = marks.feeling(self.touchpoint.emotion)
        return mood.symbol if mood else ""

    @property
    def emotion_word(self) -> str:
        mood = marks.feeling(self.touchpoint.emotion)
        return str(mood.word if mood else marks.NOT_RATED)


@dataclass
class QuestionRow:
    """One guiding question of a stage, with its answer (None while it is open)."""

    number: int  # 1, 2...: how its URL names it
    text: str
    answer: StageAnswer | None = None


def question_rows(stage: Stage) -> list[QuestionRow]:
    """The stage's questions in order, each with its answer (from a prefetch if any)."""
    answers = {answer.question: answer for answer in stage.answers.all()}
    return [QuestionRow(n, text, answers.get(text)) for n, text in enumerate(stage.questions, 1)]


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
    drop_off: bool = False  # from the gap rows: the board shows what the gap list says
    metrics: list = field(default_factory=list)
    # Each KPI with where it stands (maps.monitoring.kpi_row), its mark and sparkline.
    kpis: list = field(default_factory=list)
    contributors: list = field(default_factory=list)
    required_roles: list = field(default_factory=list)
    first: bool = False
    last: bool = False
    # The column's stretch of the emotion curve (SVG points in a 100 x 100 box).
    curve: str = ""
    questions: list[QuestionRow] = field(default_factory=list)

    @property
    def open_questions(self) -> int:
        return sum(1 for row in self.questions if row.answer is None)

    @property
    def conversion_pct(self) -> str | None:
        rate = self.stage.conversion
        return None if rate is None else marks.percent(rate)

    @property
    def target_pct(self) -> str | None:
        target = self.stage.target_conversion
        return None if target is None else marks.percent(target)

    @property
    def emotion_face(self) -> str:
        mood = marks.feeling(self.emotion)
        return mood.symbol if mood else ""


def url_filler(journey_map: JourneyMap, name: str, *fixed: str) -> Callable[..., str]:
    """The URL `name` of the map, reversed once; the returned function puts the keys in.

    A board of 2,000 cards has about 14,000 links: reversing each one was a seventh of
    drawing it. The keys go where `reverse` put stand-ins, looked for only after the
    map's own part of the URL (a workspace or map key never gets in the way)."""
    stand_ins = [f"__key{n}__" for n in range(_HOLES[name])]
    prefix = reverse("map_detail", args=[journey_map.workspace.slug, journey_map.key])
    url = reverse(name, args=[journey_map.workspace.slug, journey_map.key, *stand_ins, *fixed])
    assert url.startswith(prefix)
    rest = url[len(prefix) :]

    def fill(*keys: str) -> str:
        filled = rest
        for stand_in, key in zip(stand_ins, keys, strict=True):
            filled = filled.replace(stand_in, key, 1)
        return prefix + filled

    return fill


# How many keys each URL the board fills takes after the workspace and the map.
_HOLES = {"touchpoint_edit": 1, "touchpoint_move": 1, "flow_delete": 2}


def build_board(journey_map: JourneyMap, found: list) -> dict:
    links = {"edit": url_filler(journey_map, "touchpoint_edit")}
    for direction in ("up", "down", "left", "right"):
        links[direction] = url_filler(journey_map, "touchpoint_move", direction)
    flow_delete = url_filler(journey_map, "flow_delete")
    stage_marks = gap_rules.stage_summary(found)
    tp_marks = gap_rules.touchpoint_summary(found)
    tp_codes: dict[str, set[str]] = {}
    for gap in found:
        if gap.touchpoint is not None:
            tp_codes.setdefault(gap.touchpoint, set()).add(gap.code)
    map_personas = [mp.persona for mp in journey_map.map_personas.all()]
    persona_rank = {p.pk: i for i, p in enumerate(map_personas)}
    colours = {d.pk: i % len(marks.DEPARTMENTS) for i, d in enumerate(journey_map.workspace.departments.all())}
    stages = list(journey_map.stages.all())
    columns = []
    for index, stage in enumerate(stages):
        cards = [_card(tp, persona_rank, tp_marks, colours, tp_codes) for tp in stage.touchpoints.all()]
        for card in cards:
            key = card.touchpoint.key
            card.urls = {name: fill(key) for name, fill in links.items()}
            card.flows = [(target, flow_delete(key, target.key)) for target in card.next]
        reached = {p.pk: p for card in cards for p in card.personas}
        rated = [c.touchpoint.emotion for c in cards if c.touchpoint.emotion is not None]
        worst, count = stage_marks.get(stage.key, (None, 0))
        columns.append(
            Column(
                stage=stage,
                index=index,
                cards=cards,
                personas=sorted(reached.values(), key=lambda p: persona_rank.get(p.pk, 999)),
                content=gap_rules.stage_content(stage),
                worst=worst,
                gap_count=count,
                emotion=sum(rated) / len(rated) if rated else None,
                lead_colour=colours.get(stage.lead_id),
                drop_off=any(g.code == gap_rules.DROP_OFF and g.stage == stage.key for g in found),
                metrics=list(stage.metrics.all()),
                kpis=[_kpi(stage, metric) for metric in stage.metrics.all()],
                contributors=list(stage.contributors.all()),
                required_roles=list(stage.required_roles.all()),
                first=index == 0,
                last=index == len(stages) - 1,
                questions=question_rows(stage),
            )
        )
    for column, stretch in zip(columns, _emotion_curve(columns), strict=True):
        column.curve = stretch
    return {"columns": columns, "colours": colours, "personas": map_personas}


def _kpi(stage: Stage, metric) -> dict:
    row = monitoring.kpi_row(stage, metric)
    return {
        **row,
        "metric": metric,
        "mark": monitoring.track_mark(row["on_track"]),
        "spark": monitoring.kpi_sparkline(row),
    }


def _card(tp: Touchpoint, persona_rank: dict, tp_marks: dict, colours: dict, tp_codes: dict) -> Card:
    worst, count = tp_marks.get(tp.key, (None, 0))
    personas = sorted(tp.personas.all(), key=lambda p: persona_rank.get(p.pk, 999))
    return Card(
        touchpoint=tp,
        personas=personas,
        content=list(tp.content.all()),
        next=[FlowTarget(flow.target.key, flow.target.name) for flow in tp.flows_out.all()],
        worst=worst,
        gap_count=count,
        colour=colours.get(tp.owner_id),
        gap_codes=sorted(tp_codes.get(tp.key, ())),
    )


def _emotion_curve(columns: list[Column]) -> list[str]:
    """Each column's stretch of the line through the rated stages' averages, as SVG points
    in the column's own 100 x 100 box (y 10 for +2 down to 90 for -2): a column draws its part,
    so that one stage's change redraws that stage and its neighbours, not the board."""
    points = [(c.index * 100 + 50, 50 - c.emotion * 20) for c in columns if c.emotion is not None]
    stretches = []
    for column in columns:
        left, right = column.index * 100, column.index * 100 + 100
        inside = [(x, y) for x, y in points if left <= x <= right]
        for (x0, y0), (x1, y1) in zip(points, points[1:]):
            for edge in (left, right):
                if x0 < edge < x1:
                    inside.append((edge, y0 + (y1 - y0) * (edge - x0) / (x1 - x0)))
        inside.sort()
        stretches.append(" ".join(f"{x - left:g},{y:.1f}" for x, y in inside) if len(inside) > 1 else "")
    return stretches
