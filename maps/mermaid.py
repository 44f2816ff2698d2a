"""A map as a Mermaid `journey` diagram: text that GitHub, GitLab and many wikis draw as a
picture, so a map can live in a README. docs/format.md ("Mermaid") describes the mapping.

    journey
      title Launch journey
      section Awareness
        LinkedIn ad: 4: Carla CFO
        Webinar: 3: Carla CFO, Ivan IT

Stages are sections and touchpoints their tasks, in the order of the map (a view shows
what the diagram's view shows, `diagram.view_stages`); the score is the touchpoint's
emotion on Mermaid's scale (`marks.journey_score`); the actors are the names of the
personas the touchpoint reaches, and a touchpoint that reaches none has no actors.

User text reaches the output only through `_text`. Mermaid's journey lexer (journey.jison)
ends a name at `#`, `:`, `;` or a line break; takes `%%` as a comment, and `%%{...}%%`
anywhere in the text as a directive that changes its configuration; lexes a task that
starts with `journey`, `title`, `section`, `accTitle` or `accDescr` as that keyword; and
splits the actors at `,`. Its labels are HTML (a foreignObject in the SVG). Mermaid reads
`#NN;` as the character of code NN before it parses (its `encodeEntities`) and writes it
back as `&#NN;` into the SVG, so each character that means something to the lexer or to
HTML is written as its code: `Q&A: #1` becomes `Q#38;A#58; #35;1`, drawn as `Q&A: #1`.
"""

from __future__ import annotations

import unicodedata

from . import marks
from .diagram import parse_view, view_stages
from .models import JourneyMap

# What the lexer or HTML reads, plus ﬂ and ¶, which Mermaid itself uses as placeholders
# for codes while it parses (a raw "ﬂ°" or "¶ß" would come out of it as "&" or ";").
_CODED = frozenset("#:;%<>&\"'`\ufb02\xb6")
_KEYWORDS = ("journey", "title", "section", "acctitle", "accdescr")
# A task box is 150 px wide: a longer name is cut here for the picture (the map keeps it).
NAME_LIMIT = 80
TITLE_LIMIT = 120
# What stands for a name that is empty once its line breaks and controls are gone.
NO_NAME = "–"


def journey(journey_map: JourneyMap, view: str = "stages") -> str:
    """The Mermaid `journey` of a map loaded with JourneyMap.objects.loaded(), for a view
    (stages, departments or persona:KEY; the first two show the same journey). Raises
    diagram.DiagramError for a view the map has not."""
    _kind, map_persona = parse_view(view, journey_map)
    title = journey_map.name
    if map_persona is not None:
        title = f"{title} – {map_persona.persona.name}"
    lines = ["journey", f"  title {_text(title, TITLE_LIMIT)}"]
    for stage, touchpoints in view_stages(journey_map, map_persona):
        # A stage without touchpoints is a section without tasks: Mermaid draws nothing for it.
        lines.append(f"  section {_text(stage.name)}")
        lines += [f"    {_task(tp)}" for tp in touchpoints]
    return "\n".join(lines) + "\n"


def _task(tp) -> str:
    name = _text(tp.name)
    if name.lower().startswith(_KEYWORDS):
        name = f"#{ord(name[0])};{name[1:]}"
    line = f"{name}: {marks.journey_score(tp.emotion)}"
    actors = [_text(p.name, coded=_CODED | {","}) for p in tp.personas.all() if _readable(p.name)]
    # Always ": " with a space: Mermaid drops the last ";" of any line where
    # "style" or "classDef" comes before a ":" that is followed, without space, by a "#".
    return f"{line}: {', '.join(actors)}" if actors else line


def _readable(value: str) -> bool:
    return bool(_one_line(value))


def _one_line(value: str) -> str:
    # Controls and lone surrogates (which no UTF-8 file can hold) become spaces; every run
    # of white space, line breaks and tabs included, one space. Format characters stay:
    # the zero-width joiner holds emoji such as 👩‍💻 together.
    kept = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in value)
    return " ".join(kept.split())


def _text(value: str, limit: int = NAME_LIMIT, coded: frozenset[str] = _CODED) -> str:
    """User text as one Mermaid name: one line, trimmed, cut at `limit` characters, never
    empty, each character of `coded` as its code."""
    text = _one_line(value)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return "".join(f"#{ord(ch)};" if ch in coded else ch for ch in text or NO_NAME)
