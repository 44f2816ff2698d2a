"""`python manage.py export_map WORKSPACE/MAP -o FILE`: write a map as journeymap/1 JSON.

`-o -` (the default) writes to standard output. Exit 2 with one line on a bad map
reference or a file that cannot be written; the file is only opened once the document
is complete, so a bad reference never empties an existing file.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy

from maps.cli import get_map, write_file
from maps.interchange import dumps, export_map


class Command(BaseCommand):
    help = gettext_lazy("Export a journey map with everything it uses as a journeymap/1 JSON document.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("map", metavar="WORKSPACE/MAP")
        parser.add_argument(
            "-o", "--output", default="-", metavar="FILE", help=gettext_lazy("the file to write, - for standard output")
        )

    def handle(self, *args, **options) -> None:
        text = dumps(export_map(get_map(options["map"], loaded=False)))
        path = options["output"]
        if path == "-":
            self.stdout.write(text, ending="")
            return
        write_file(path, text.encode("utf-8"))
