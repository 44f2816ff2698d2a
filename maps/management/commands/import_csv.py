"""`python manage.py import_csv content|touchpoints|funnel FILE --map WORKSPACE/MAP [--dry-run]`.

Imports a CSV table (docs/format.md, "CSV tables") into a map in one revision, and
prints what it did: the rows added, changed and left alone. `--dry-run` prints the same
plan and writes nothing. A file with any bad row is refused whole: exit 2 with every bad
row named by row and column on stderr, the first on the last line; nothing is written.
FILE `-` reads standard input.
"""

from __future__ import annotations

import os

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from maps import tables
from maps.changes import Refused
from maps.cli import bad_input, get_map

from .import_map import read_input


class Command(BaseCommand):
    help = gettext_lazy("Import a CSV table (content, touchpoints or funnel figures) into a journey map.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("table", choices=tables.IMPORTABLE)
        parser.add_argument("file", metavar="FILE", help=gettext_lazy("a CSV file, - for standard input"))
        parser.add_argument("--map", required=True, metavar="WORKSPACE/MAP")
        parser.add_argument(
            "--dry-run", action="store_true", help=gettext_lazy("show what would change; write nothing")
        )

    def handle(self, *args, **options) -> None:
        journey_map = get_map(options["map"], loaded=False)
        data = read_input(options["file"])
        table, name = options["table"], os.path.basename(options["file"]) if options["file"] != "-" else ""
        try:
            if options["dry_run"]:
                result = tables.plan(journey_map, table, data)
                if not result.ok:
                    raise tables.TableError(result.problems)
            else:
                result = tables.apply(journey_map, table, data, file=name)
        except tables.TableError as err:
            for problem in err.problems[:-1]:
                self.stderr.write(str(problem))
            raise bad_input(str(err.problems[-1])) from None
        except Refused as err:
            raise bad_input(str(err)) from None
        for row in result.rows:
            if row.action != tables.UNCHANGED:
                changed = f" ({', '.join(row.changed)})" if row.changed else ""
                words = _(ACTION_WORDS[row.action])
                self.stdout.write(f"{words} {row.number}: {row.label}{changed}")
        counts = {name: result.count(action) for name, action in ACTIONS}
        if options["dry_run"]:
            line = _("dry run, nothing written: %(added)s to add, %(changed)s to change, %(unchanged)s as they are")
        else:
            line = _("%(added)s added, %(changed)s changed, %(unchanged)s as they were")
        self.stdout.write(line % counts)


ACTIONS = (("added", tables.ADDED), ("changed", tables.CHANGED), ("unchanged", tables.UNCHANGED))
ACTION_WORDS = {
    # Translators: the start of a line of import_csv's report: "add row 3: Webinar".
    tables.ADDED: gettext_noop("add row"),
    # Translators: the start of a line of import_csv's report: "change row 4: Demo (channel)".
    tables.CHANGED: gettext_noop("change row"),
}
