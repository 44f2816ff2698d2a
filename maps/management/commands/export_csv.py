"""`python manage.py export_csv content|touchpoints|funnel|gaps|coverage WORKSPACE/MAP -o FILE`.

Writes a CSV table of the map (docs/format.md, "CSV tables"): content, touchpoints and
funnel in exactly the format import_csv reads, gaps and coverage as reports. `-o -`
(the default) writes to standard output. Headers are in `--language` (default: the
map's). Exit 2 with one line on a bad map reference or a file that cannot be written;
an existing file is left as it was then.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy

from maps import tables
from maps.cli import add_language_argument, get_map, speaking, write_file


class Command(BaseCommand):
    help = gettext_lazy("Export a table of a journey map as CSV.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("table", choices=tables.EXPORTABLE)
        parser.add_argument("map", metavar="WORKSPACE/MAP")
        parser.add_argument(
            "-o", "--output", default="-", metavar="FILE", help=gettext_lazy("the file to write, - for standard output")
        )
        add_language_argument(parser)

    def handle(self, *args, **options) -> None:
        journey_map = get_map(options["map"], loaded=False)
        with speaking(options["language"], journey_map):
            text = tables.export(journey_map, options["table"])
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        write_file(options["output"], text.encode("utf-8"))
