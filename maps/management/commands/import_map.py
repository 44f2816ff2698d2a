"""`python manage.py import_map FILE --workspace SLUG [--into MAP]`: import a journeymap/1 document.

Prints the key the map was imported under (`<key>-2` if the workspace already has the
key); the import is the new map's first revision. With `--into MAP` the document
replaces the content of the existing map MAP as one revision: the map keeps its key and
history. Library items the workspace already has are reused as they are; each whose
fields differ from the file's is listed on stderr (`reused persona "cfo": role is
"decision-maker" here, "economic-buyer" in the file`), and `--update-library` takes the
file's version instead. Exit 2 with one line on a bad document, an unreadable file, an
unknown workspace or map; nothing is written then. FILE `-` reads standard input.
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from maps import changes, history
from maps.cli import bad_input, get_map, get_workspace
from maps.interchange import InterchangeError, import_map, parse
from maps.said import Said


class Command(BaseCommand):
    help = gettext_lazy("Import a journeymap/1 JSON document into a workspace and print the map key.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", metavar="FILE", help=gettext_lazy("a journeymap/1 JSON file, - for standard input"))
        parser.add_argument("--workspace", required=True, metavar="SLUG")
        parser.add_argument("--into", metavar="MAP", help=gettext_lazy("replace the content of this existing map"))
        parser.add_argument(
            "--update-library",
            action="store_true",
            help=gettext_lazy(
                "library items the workspace has under the same key take the file's fields "
                "(without it they are kept, and each that differs is listed on stderr)"
            ),
        )

    def handle(self, *args, **options) -> None:
        workspace = get_workspace(options["workspace"])
        into = get_map(f"{workspace.slug}/{options['into']}", loaded=False) if options["into"] else None
        text = read_input(options["file"])
        if options["file"] == "-":
            summary = Said(gettext_noop("imported from standard input"))
        else:
            summary = Said(gettext_noop("imported %(file)s"), file=os.path.basename(options["file"]))
        try:
            if into is not None:
                history.replace(into, parse(text), summary=summary)
                journey_map = into
            else:
                with transaction.atomic():
                    journey_map = import_map(parse(text), workspace, update_library=options["update_library"])
                    changes.record_creation(journey_map, summary=summary)
                for item in journey_map.reused:
                    self.stderr.write(str(item))
        except InterchangeError as err:
            raise bad_input(str(err)) from None
        self.stdout.write(journey_map.key)


def read_input(path: str) -> bytes | str:
    """The file's bytes; of a file too large to import, one byte more than the limit
    (parse refuses it without the rest being read)."""
    most = settings.IMPORT_MAX_BYTES + 1
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin).read(most)
    try:
        with open(path, "rb") as file:
            return file.read(most)
    except OSError as err:
        raise bad_input(
            _('cannot read "%(path)s": %(reason)s') % {"path": path, "reason": err.strerror or err}
        ) from None
