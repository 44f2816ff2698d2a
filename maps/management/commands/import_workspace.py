"""`python manage.py import_workspace FILE [--slug NEW]`: restore a workspace backup.

Reads a journeymap-workspace/1 document (docs/format.md) and writes it as a new
workspace, under its own slug or NEW, in one transaction. Prints the slug; on stderr,
each account it had to create (without a usable password: set one with
`manage.py changepassword NAME`). Exit 2 with one line on a bad document, an unreadable
file or a slug that is taken; nothing is written then. FILE `-` reads standard input.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maps.backup import import_workspace
from maps.cli import bad_input
from maps.interchange import InterchangeError, parse


class Command(BaseCommand):
    help = gettext_lazy("Restore a workspace backup made by export_workspace, as a new workspace.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", metavar="FILE", help=gettext_lazy("a backup file, - for standard input"))
        parser.add_argument(
            "--slug", metavar="NEW", help=gettext_lazy("restore under this slug instead of the backup's own")
        )

    def handle(self, *args, **options) -> None:
        text = _read(options["file"])
        try:
            restored = import_workspace(parse(text, limited=False), slug=options["slug"])
        except InterchangeError as err:
            raise bad_input(str(err)) from None
        for name in restored.accounts_created:
            self.stderr.write(
                _('created the account "%(name)s" without a password: set one with manage.py changepassword %(name)s')
                % {"name": name}
            )
        self.stdout.write(restored.workspace.slug)


def _read(path: str) -> bytes:
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin).read()
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as err:
        raise bad_input(
            _('cannot read "%(path)s": %(reason)s') % {"path": path, "reason": err.strerror or err}
        ) from None
