"""The one way to turn a map into a file: (map, view, format) -> bytes.

Pages, downloads and `render_map` all come through `render_map`, so a format means the
same thing everywhere: svg, png, pdf and dot are the Graphviz diagram of the view, pptx
the deck, handout the deck's content as a PDF, csv the gap list, mermaid the view as a Mermaid `journey` (maps/mermaid.py).
Every format that shows gaps reads the same gap rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from . import diagram, exports, mermaid
from .gaps import Gap, find_gaps
from .models import JourneyMap

CONTENT_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "handout": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "mermaid": "text/vnd.mermaid; charset=utf-8",
}
FORMATS = tuple(CONTENT_TYPES)


@dataclass(frozen=True)
class Rendering:
    body: bytes
    content_type: str
    filename: str
    # Diagram formats are named by a hash of their DOT source: it changes exactly when
    # the picture does. Decks and CSV carry a date or are cheap, so they get none.
    etag: str | None = None


def render_map(
    journey_map: JourneyMap,
    view: str = "stages",
    fmt: str = "svg",
    url_for_touchpoint: Callable[[str], str] | None = None,
    gaps: list[Gap] | None = None,
) -> Rendering:
    """`journey_map` (from JourneyMap.objects.loaded()) as a file of format `fmt`.

    Raises diagram.DiagramError, with a message for a person, for an unknown format or
    view, or a layout Graphviz cannot make in time. `url_for_touchpoint` links the cards
    of an SVG shown in a page.
    """
    if fmt not in CONTENT_TYPES:
        raise diagram.DiagramError(diagram.unknown_format(fmt, FORMATS))
    diagram.parse_view(view, journey_map)
    if fmt == "mermaid":
        # A journey has no place for gaps: they are not looked for.
        body = mermaid.journey(journey_map, view).encode()
        return Rendering(body, CONTENT_TYPES[fmt], _filename(journey_map, view, fmt))
    gaps = find_gaps(journey_map) if gaps is None else gaps
    etag = None
    if fmt == "csv":
        body = exports.gaps_csv(journey_map, gaps).encode()
    elif fmt == "pptx":
        body = exports.export_pptx(journey_map, view)
    elif fmt == "handout":
        body = exports.export_handout(journey_map, view)
    else:
        source = diagram.build_dot(diagram.build_graph_data(journey_map, gaps, view), url_for_touchpoint)
        body, etag = diagram.render(source, fmt), diagram.dot_etag(source, fmt)
    return Rendering(body, CONTENT_TYPES[fmt], _filename(journey_map, view, fmt), etag)


EXTENSIONS = {"csv": "gaps.csv", "mermaid": "mmd", "handout": "handout.pdf"}  # the others are named by their format


def _filename(journey_map: JourneyMap, view: str, fmt: str) -> str:
    suffix = "" if view == "stages" else "-" + view.replace(":", "-")
    return f"{download_stem(journey_map)}{suffix}.{EXTENSIONS.get(fmt, fmt)}"


# Characters no file system takes in a name, and the controls.
_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def download_stem(journey_map: JourneyMap) -> str:
    """What a downloaded file of the map is called, before its suffix. The key, which is
    made from the name; but a name in Japanese (or any script the key romanises or drops)
    is kept as it is: `認知から推奨まで.pptx`, sent as RFC 6266 `filename*` (the views use
    Django's content_disposition_header)."""
    if journey_map.name.isascii():
        return journey_map.key
    stem = " ".join(_NOT_IN_FILE_NAMES.sub(" ", journey_map.name).split()).strip(". ")
    return stem[:120] or journey_map.key
