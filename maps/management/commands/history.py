"""history WORKSPACE/MAP [--json]: the map's revisions, newest first."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext_lazy

from maps.cli import add_language_argument, get_map, speaking
from maps.history import history


class Command(BaseCommand):
    help = gettext_lazy("List a map's revisions, newest first: number, time, who, what.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        parser.add_argument("--json", action="store_true", help=gettext_lazy("a JSON list of revisions"))
        add_language_argument(parser)

    def handle(self, ref: str, **options) -> None:
        with speaking(options["language"]):
            journey_map = get_map(ref, loaded=False)
        with speaking(options["language"], journey_map):
            self.list_revisions(journey_map, options["json"])

    def list_revisions(self, journey_map, as_json: bool) -> None:
        rows = [
            {
                "revision": rev.number,
                "version": rev.number,
                "at": rev.at.isoformat(),
                "user": rev.user.get_username() if rev.user else None,
                "summary": str(rev.summary),
            }
            for rev in history(journey_map)
        ]
        if as_json:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            self.stdout.write(
                f"{row['revision']:>5}  {row['at'][:19].replace('T', ' ')}  {row['user'] or '-':<16}  {row['summary']}"
            )
