"""`python manage.py whatif WORKSPACE/MAP [--json]`: which stage, brought to its target
conversion, would win the most customers (maps/whatif.py).

Exit 0 with or without stages below target; exit 2 on a bad map reference.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maps import whatif
from maps.cli import add_language_argument, get_map, speaking


class Command(BaseCommand):
    help = gettext_lazy("Rank the stages below their target conversion by the customers reaching it would win.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("map", metavar="WORKSPACE/MAP")
        parser.add_argument("--json", action="store_true", help=gettext_lazy("print a JSON list of stages"))
        add_language_argument(parser)

    def handle(self, *args, **options) -> None:
        with speaking(options["language"]):
            journey_map = get_map(options["map"], loaded=False)
        with speaking(options["language"], journey_map):
            gains = whatif.ranking(journey_map)
            if options["json"]:
                self.stdout.write(json.dumps([gain.as_dict() for gain in gains], ensure_ascii=False, indent=2))
            elif not gains:
                self.stdout.write(_("No stage with funnel figures is below its target conversion."))
            else:
                for gain in gains:
                    self.stdout.write(whatif.sentence(gain))
