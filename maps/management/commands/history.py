"""history WORKSPACE/MAP [--json]: the map's revisions, newest first."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from maps.cli import get_map
from maps.history import history


class Command(BaseCommand):
    help = "List a map's revisions, newest first: number, time, who, what."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        parser.add_argument("--json", action="store_true", help="a JSON list of revisions")

    def handle(self, ref: str, **options) -> None:
        journey_map = get_map(ref, loaded=False)
        rows = [
            {
                "revision": rev.number,
                "version": rev.number,
                "at": rev.at.isoformat(),
                "user": rev.user.get_username() if rev.user else None,
                "summary": rev.summary,
            }
            for rev in history(journey_map)
        ]
        if options["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        for row in rows:
            self.stdout.write(
                f"{row['revision']:>5}  {row['at'][:19].replace('T', ' ')}  {row['user'] or '-':<16}  {row['summary']}"
            )
