"""`python manage.py export_workspace SLUG -o FILE`: back up a whole workspace.

Writes the journeymap-workspace/1 document (docs/format.md): the members, the library,
every map with its history, comments and votes, the trash. `-o -` (the default) writes
to standard output. Exit 2 with one line on an unknown workspace or a file that cannot
be written; an existing file is replaced only once the document is complete.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy

from maps.backup import export_workspace
from maps.cli import get_workspace, write_file
from maps.interchange import dumps


class Command(BaseCommand):
    help = gettext_lazy("Back up a whole workspace (maps, library, members, history, comments, votes) as JSON.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("slug", metavar="SLUG")
        parser.add_argument(
            "-o", "--output", default="-", metavar="FILE", help=gettext_lazy("the file to write, - for standard output")
        )

    def handle(self, *args, **options) -> None:
        text = dumps(export_workspace(get_workspace(options["slug"])))
        if options["output"] == "-":
            self.stdout.write(text, ending="")
            return
        write_file(options["output"], text.encode("utf-8"))
