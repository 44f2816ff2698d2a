"""`python manage.py gaps WORKSPACE/MAP [--json]`: the gap list of one map.

Exit 0 whether or not the map has gaps (finding them is the command's success);
exit 2 on a bad map reference.
"""

from __future__ import annotations

import json
import unicodedata

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maps.cli import add_language_argument, get_map, speaking
from maps.gaps import SEVERITIES, Gap, find_gaps
from maps.marks import SEVERITY, counted


class Command(BaseCommand):
    help = gettext_lazy("List the gaps of a journey map, as a table or as JSON rows.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("map", metavar="WORKSPACE/MAP")
        parser.add_argument("--json", action="store_true", help=gettext_lazy("print a JSON list of rows"))
        add_language_argument(parser)

    def handle(self, *args, **options) -> None:
        with speaking(options["language"]):
            journey_map = get_map(options["map"])
        with speaking(options["language"], journey_map):
            gaps = find_gaps(journey_map)
            if options["json"]:
                rows = [gap.as_dict() for gap in gaps]
                self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                self.stdout.write(format_table(gaps))


def format_table(gaps: list[Gap]) -> str:
    """Aligned columns and a closing count, or "No gaps."."""
    if not gaps:
        return _("No gaps.")
    header = (_("SEVERITY"), _("STAGE"), _("CODE"), _("MESSAGE"))
    # The severity in words of the language (the JSON rows keep the code).
    rows = [header] + [(str(SEVERITY[gap.severity].word), gap.stage, gap.code, gap.message) for gap in gaps]
    widths = [max(_width(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join(_pad(cell, width) for cell, width in zip(row, widths)) + "  " + row[3] for row in rows]
    return "\n".join(lines + ["", summary_line(gaps)])


def _width(text: str) -> int:
    # Japanese headers take two columns a character in a terminal.
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def summary_line(gaps: list[Gap]) -> str:
    """'3 errors, 2 warnings, 1 info': every severity, zero included, so it reads the same."""
    counts = {severity: 0 for severity in SEVERITIES}
    for gap in gaps:
        counts[gap.severity] += 1
    # Translators: joins "3 errors", "2 warnings" and "1 info" in the gaps command's last line.
    return _(", ").join(counted(severity, count) for severity, count in counts.items())
