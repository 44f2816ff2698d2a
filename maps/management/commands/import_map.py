"""`python manage.py import_map FILE --workspace SLUG`: import a journeymap/1 document.

Prints the key the map was imported under (`<key>-2` if the workspace already has the
key). Exit 2 with one line on a bad document, an unreadable file or an unknown workspace;
nothing is written then. FILE `-` reads standard input.
"""
from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from maps.cli import bad_input, get_workspace
from maps.interchange import InterchangeError, import_map, parse


class Command(BaseCommand):
    help = "Import a journeymap/1 JSON document into a workspace and print the map key."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "file", metavar="FILE", help="a journeymap/1 JSON file, - for standard input"
        )
        parser.add_argument("--workspace", required=True, metavar="SLUG")

    def handle(self, *args, **options) -> None:
        workspace = get_workspace(options["workspace"])
        text = read_input(options["file"])
        try:
            journey_map = import_map(parse(text), workspace)
        except InterchangeError as err:
            raise bad_input(str(err)) from None
        self.stdout.write(journey_map.key)


def read_input(path: str) -> bytes | str:
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin).read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as err:
        raise bad_input(f'cannot read "{path}": {err.strerror or err}') from None
