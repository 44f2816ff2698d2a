"""restore_map WORKSPACE/MAP --revision N: the map as it was at revision N, as a new revision."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maps.changes import Refused
from maps.cli import bad_input, get_map
from maps.history import restore


class Command(BaseCommand):
    help = gettext_lazy("Restore a map's content as it was at a revision; prints the new revision's number.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        # Checked in handle(), so a bad value gets the one-line exit-2 message.
        parser.add_argument("--revision", required=True, metavar="N")

    def handle(self, ref: str, revision: str, **options) -> None:
        journey_map = get_map(ref, loaded=False)
        try:
            number = int(revision)
        except ValueError:
            raise bad_input(_('--revision must be a revision number, not "%(value)s"') % {"value": revision}) from None
        try:
            restore(journey_map, number)
        except Refused as refused:
            raise bad_input(str(refused)) from None
        self.stdout.write(str(journey_map.version))
