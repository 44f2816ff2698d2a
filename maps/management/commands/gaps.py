"""`python manage.py gaps WORKSPACE/MAP [--json]`: the gap list of one map.

Exit 0 whether or not the map has gaps (finding them is the command's success);
exit 2 on a bad map reference.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from maps.cli import get_map
from maps.gaps import SEVERITIES, Gap, find_gaps

HEADER = ("SEVERITY", "STAGE", "CODE", "MESSAGE")


class Command(BaseCommand):
    help = "List the gaps of a journey map, as a table or as JSON rows."

    def add_arguments(self, parser) -> None:
        parser.add_argument("map", metavar="WORKSPACE/MAP")
        parser.add_argument("--json", action="store_true", help="print a JSON list of rows")

    def handle(self, *args, **options) -> None:
        gaps = find_gaps(get_map(options["map"]))
        if options["json"]:
            rows = [gap.as_dict() for gap in gaps]
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(format_table(gaps))


def format_table(gaps: list[Gap]) -> str:
    """Aligned columns and a closing count, or "No gaps."."""
    if not gaps:
        return "No gaps."
    rows = [HEADER] + [(gap.severity, gap.stage, gap.code, gap.message) for gap in gaps]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[3] for row in rows]
    return "\n".join(lines + ["", summary_line(gaps)])


def summary_line(gaps: list[Gap]) -> str:
    """'3 errors, 2 warnings, 1 info': every severity, zero included, so it reads the same."""
    counts = {severity: 0 for severity in SEVERITIES}
    for gap in gaps:
        counts[gap.severity] += 1
    plural = {"error": "errors", "warning": "warnings", "info": "info"}
    return ", ".join(f"{count} {severity if count == 1 else plural[severity]}" for severity, count in counts.items())
