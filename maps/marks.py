"""One vocabulary of marks: how a severity, a department and a feeling look everywhere.

The board, the gap list, the matrices, the diagram, the deck and the stylesheet all take
their symbols, words and colours from here, so a department has one colour and an
error one red and one symbol wherever a person meets it. The stylesheet gets these
colours as CSS custom properties (`css_properties`, rendered into every page by the
`marks_css` template tag), never as values of its own.

Each mark reads without colour too: severities have a symbol and a border style as well
as a colour; feelings a symbol and a word. The text colours meet WCAG AA (4.5:1) on
white and on their own soft background (tests/test_marks.py measures it).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import formats
from django.utils.functional import Promise
from django.utils.translation import get_language, ngettext_lazy
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Mark:
    symbol: str
    word: str | Promise
    color: str  # text, borders and badges; white text on it reads too
    soft: str  # backgrounds
    border: str  # solid | dashed | dotted


SEVERITIES = ("error", "warning", "info")  # worst first
SEVERITY: dict[str | None, Mark] = {
    "error": Mark("✖", _("error"), "#B42318", "#FDECEA", "solid"),
    "warning": Mark("▲", _("warning"), "#8A4B00", "#FFF4E0", "dashed"),
    "info": Mark("ℹ", _("info"), "#175CD3", "#E8F0FD", "dotted"),
    None: Mark("✓", _("no gaps"), "#17703F", "#E6F5EC", "solid"),
}

# KPIs against their targets, and a map whose review is due: the severities' colours
# (one green, one red, one amber in the whole app), each with its own symbol and word.
ON_TRACK = Mark("●", _("on track"), SEVERITY[None].color, SEVERITY[None].soft, "solid")
OFF_TRACK = Mark("◆", _("off track"), SEVERITY["error"].color, SEVERITY["error"].soft, "solid")
REVIEW_DUE = Mark("⏰", _("Review due"), SEVERITY["warning"].color, SEVERITY["warning"].soft, "dashed")


# How much fixing a gap of each severity counts in the ranking of actions (maps.actions):
# an action made from an error gap ranks as if its impact were three times as high. An
# action made from anything else (or from a gap no longer found) weighs 1.
SEVERITY_WEIGHT: dict[str | None, int] = {"error": 3, "warning": 2, "info": 1, None: 1}


@dataclass(frozen=True)
class DepartmentColour:
    strong: str  # borders, the card's top bar, the lane's swatch (Okabe-Ito)
    tint: str  # fills
    ink: str  # text on the tint


# Okabe-Ito, the palette that stays distinct for colour-blind viewers; department i of
# the workspace (in its order) takes colour i % len(DEPARTMENTS) on the board and in the diagram.
DEPARTMENTS = [
    DepartmentColour("#0072B2", "#E1EEFA", "#0B5394"),
    DepartmentColour("#E69F00", "#FDEBD3", "#8A4A00"),
    DepartmentColour("#009E73", "#D9F2E9", "#00684A"),
    DepartmentColour("#CC79A7", "#F9E0EC", "#9C2F63"),
    DepartmentColour("#C9B300", "#FBF6CF", "#5F5500"),
    DepartmentColour("#56B4E9", "#DCECF7", "#1F5F8B"),
    DepartmentColour("#D55E00", "#F7E3D7", "#8E3B0B"),
]
NO_DEPARTMENT = DepartmentColour("#8A8F98", "#F1F2F4", "#444444")


@dataclass(frozen=True)
class Feeling:
    symbol: str
    word: str | Promise
    color: str
    soft: str


EMOTION_MIN, EMOTION_MAX = -2, 2
EMOTIONS: dict[int, Feeling] = {
    2: Feeling("▲▲", _("very positive"), "#0B6B3A", "#DFF3E7"),
    1: Feeling("▲", _("positive"), "#1B7F4B", "#EAF6EF"),
    0: Feeling("●", _("neutral"), "#515A69", "#EEF0F3"),
    -1: Feeling("▼", _("negative"), "#8A4B00", "#FFF1DC"),
    -2: Feeling("▼▼", _("very negative"), "#B42318", "#FDE5E2"),
}
NOT_RATED = _("not rated")

# Mermaid's journey diagrams score a task from 1 (worst) to 5 (best) and draw a face for
# it: emotion -2..+2 takes the scores 1..5 step for step. An unrated touchpoint gets the
# middle, Mermaid's neutral face: neither good nor bad is claimed for it.
JOURNEY_SCORE_UNRATED = 3


def journey_score(emotion: float | None) -> int:
    """The Mermaid journey score (1..5) of an emotion (-2..+2), 3 when unrated."""
    if emotion is None:
        return JOURNEY_SCORE_UNRATED
    return max(EMOTION_MIN, min(EMOTION_MAX, round(emotion))) - EMOTION_MIN + 1


# "2 errors", "1 warning", "3 info": how many gaps of a severity, in words.
COUNTED = {
    "error": ngettext_lazy("%(n)d error", "%(n)d errors", "n"),
    "warning": ngettext_lazy("%(n)d warning", "%(n)d warnings", "n"),
    # Translators: a number of gaps of severity "info", e.g. "3 info".
    "info": ngettext_lazy("%(n)d info", "%(n)d info", "n"),
}


def counted(severity: str, n: int) -> str:
    return str(COUNTED[severity] % {"n": n})


def department_colour(index: int | None) -> DepartmentColour:
    return NO_DEPARTMENT if index is None else DEPARTMENTS[index % len(DEPARTMENTS)]


def feeling(emotion: float | None) -> Feeling | None:
    """The feeling of an emotion, an average rounded to the nearest step; None if unrated."""
    if emotion is None:
        return None
    return EMOTIONS[max(EMOTION_MIN, min(EMOTION_MAX, round(emotion)))]


# Languages that write a percent sign straight after the number ("5.95%"); the others
# keep the space this app has always shown ("5.95 %").
PERCENT_WITHOUT_SPACE = ("ja", "zh", "ko")


def decimal(text: str) -> str:
    """A number already formatted with a "." (`f"{x:.3g}"`) with the active language's
    decimal separator instead."""
    return text.replace(".", formats.get_format("DECIMAL_SEPARATOR"))


def percent(rate: float | None) -> str:
    """A rate as people read it, the same on the page, in gap messages and in the deck:
    three significant digits ("5.95 %", "20 %", "0.1 %"; in Japanese "5.95%")."""
    if rate is None:
        return "–"
    number = decimal(f"{rate * 100:.3g}")
    language = (get_language() or "en").split("-")[0].lower()
    return f"{number}%" if language in PERCENT_WITHOUT_SPACE else f"{number} %"


# The four quadrants of a SWOT (maps/swot.py): each takes the colours of the mark that
# reads like it, so a weakness is as red as an error and no colour is written twice.
SWOT_KINDS = ("S", "W", "O", "T")
SWOT_COLOURS: dict[str, Mark] = {
    "S": SEVERITY[None],
    "W": SEVERITY["error"],
    "O": SEVERITY["info"],
    "T": SEVERITY["warning"],
}


def css_properties() -> str:
    """The colours above as CSS custom properties for :root."""
    names = {"error": "error", "warning": "warning", "info": "info", None: "ok"}
    lines = []
    for severity, name in names.items():
        mark = SEVERITY[severity]
        lines.append(f"--{name}: {mark.color}; --{name}-soft: {mark.soft};")
    for index, colour in enumerate([*DEPARTMENTS, NO_DEPARTMENT]):
        lines.append(
            f"--dept-{index}: {colour.tint}; --dept-{index}-ink: {colour.ink}; --dept-{index}-strong: {colour.strong};"
        )
    for name, mark in (("on-track", ON_TRACK), ("off-track", OFF_TRACK), ("review-due", REVIEW_DUE)):
        lines.append(f"--{name}: {mark.color}; --{name}-soft: {mark.soft};")
    for emotion, mood in EMOTIONS.items():
        name = f"m{-emotion}" if emotion < 0 else str(emotion)
        lines.append(f"--emo-{name}: {mood.color}; --emo-{name}-soft: {mood.soft};")
    for kind, mark in SWOT_COLOURS.items():
        lines.append(f"--swot-{kind.lower()}: {mark.color}; --swot-{kind.lower()}-soft: {mark.soft};")
    return ":root { " + " ".join(lines) + " }"
