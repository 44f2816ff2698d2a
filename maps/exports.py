"""Exports for decks and spreadsheets: diagram files, the gap list and a vote's result
as CSV, and the way to the PPTX deck and its PDF handout (maps.deck and maps.handout,
loaded only for them).

Everything reads a map loaded with `JourneyMap.objects.loaded()` and the same gap rows
as the page and the command line.
"""

from __future__ import annotations

import csv
import io
import unicodedata

from django.utils.translation import pgettext_lazy

from . import votes
from .diagram import build_dot, build_graph_data, render
from .gaps import CONTENT_GAP, Gap, find_gaps
from .models import JourneyMap

CSV_FIELDS = ["code", "severity", "stage", "persona", "touchpoint", "content", "role", "message"]
# The header row people read in a spreadsheet; the cells below stay codes and keys.
CSV_HEADERS = {
    "code": pgettext_lazy("gaps CSV column", "code"),
    "severity": pgettext_lazy("gaps CSV column", "severity"),
    "stage": pgettext_lazy("gaps CSV column", "stage"),
    "persona": pgettext_lazy("gaps CSV column", "persona"),
    "touchpoint": pgettext_lazy("gaps CSV column", "touchpoint"),
    "content": pgettext_lazy("gaps CSV column", "content"),
    "role": pgettext_lazy("gaps CSV column", "role"),
    "message": pgettext_lazy("gaps CSV column", "message"),
}


def export_dot(
    journey_map: JourneyMap, view: str = "stages", gaps: list[Gap] | None = None, stage_keys: list[str] | None = None
) -> str:
    """The view's DOT; with `stage_keys`, of those stages only (the deck's parts)."""
    gaps = find_gaps(journey_map) if gaps is None else gaps
    return build_dot(build_graph_data(journey_map, gaps, view, stage_keys))


def export_svg(journey_map: JourneyMap, view: str = "stages") -> bytes:
    return render(export_dot(journey_map, view), "svg")


def export_png(journey_map: JourneyMap, view: str = "stages") -> bytes:
    """Sharp on a full-screen 16:9 slide: fitted into 3840 x 2160 pixels."""
    return render(export_dot(journey_map, view), "png")


def export_pdf(journey_map: JourneyMap, view: str = "stages") -> bytes:
    return render(export_dot(journey_map, view), "pdf")


def export_pptx(journey_map: JourneyMap, view: str = "stages") -> bytes:
    """The map's deck (maps.deck), with python-pptx loaded only now."""
    from .deck import export_pptx as deck

    return deck(journey_map, view)


def export_handout(journey_map: JourneyMap, view: str = "stages") -> bytes:
    """The deck's content as a PDF handout (maps.handout), with fpdf2 loaded only now."""
    from .handout import export_handout as handout

    return handout(journey_map, view)


def gaps_csv(journey_map: JourneyMap, gaps: list[Gap] | None = None) -> str:
    """The gap rows as CSV. It starts with a byte order mark so that Excel reads it as
    UTF-8 (Japanese names), and no cell can run as a spreadsheet formula."""
    gaps = find_gaps(journey_map) if gaps is None else gaps
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([str(CSV_HEADERS[field]) for field in CSV_FIELDS])
    for gap in gaps:
        row = gap.as_dict()
        writer.writerow([_inert(row[field]) for field in CSV_FIELDS])
    return output.getvalue()


def coverage_csv(journey_map: JourneyMap, gaps: list[Gap] | None = None) -> str:
    """The content coverage matrix as CSV: a row per persona of the map, a column per
    stage; a cell lists the keys of the live content that covers it, one per line, says
    "content-gap" (the gap code) where there is none, or is marked out of scope. Byte
    order mark, CRLF and inert cells as the gaps CSV."""
    from .matrices import coverage

    gaps = find_gaps(journey_map) if gaps is None else gaps
    grid = coverage(journey_map, "personas", gaps)
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, lineterminator="\r\n")
    header = [str(COVERAGE_HEADERS["persona"]), str(COVERAGE_HEADERS["role"])]
    writer.writerow(header + [_inert(stage.name) for stage in grid["stages"]])
    out_of_scope = str(pgettext_lazy("coverage CSV cell", "out of scope"))
    for row in grid["rows"]:
        cells = []
        for cell in row["cells"]:
            if not cell["in_scope"]:
                cells.append(out_of_scope)
            elif cell["gap"]:
                cells.append(CONTENT_GAP)
            else:
                cells.append(_inert("\n".join(asset.key for asset in cell["content"])))
        writer.writerow([_inert(row["key"]), _inert(row["sub"]), *cells])
    return output.getvalue()


COVERAGE_HEADERS = {
    "persona": pgettext_lazy("coverage CSV column", "persona"),
    "role": pgettext_lazy("coverage CSV column", "role"),
}


def _inert(value: str | None) -> str:
    # OWASP's advice on CSV injection: a leading apostrophe makes the cell plain text.
    # Spreadsheets skip leading spaces and read full-width ＝＋－＠ (and the small forms)
    # as the signs themselves: NFKC folds those to the signs.
    value = value or ""
    first = unicodedata.normalize("NFKC", value.lstrip(" \u3000\u00a0")[:1])
    return "'" + value if value.startswith(("\t", "\r", "\n")) or first in FORMULA_SIGNS else value


FORMULA_SIGNS = {"=", "+", "-", "@"}


VOTE_CSV_HEADERS = [
    pgettext_lazy("vote CSV column", "rank"),
    pgettext_lazy("vote CSV column", "votes"),
    pgettext_lazy("vote CSV column", "kind"),
    pgettext_lazy("vote CSV column", "stage"),
    pgettext_lazy("vote CSV column", "item"),
    pgettext_lazy("vote CSV column", "key"),
]


def vote_csv(result: votes.Tally) -> str:
    """A vote's ranked result (counts shown) as CSV, like the gaps CSV: a byte order mark
    for Excel, and no cell that can run as a formula."""
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow([str(header) for header in VOTE_CSV_HEADERS])
    for row in result.ranked:
        item = row.item
        stage = result.stage_names.get(item.stage_key, item.stage_key)
        cells = [str(row.rank or ""), str(row.count if row.count is not None else "")]
        writer.writerow(cells + [_inert(text) for text in (item.kind, stage, item.label, item.key)])
    return output.getvalue()
