"""render_map WORKSPACE/MAP --format svg|png|pdf|dot|pptx|csv -o FILE [--view VIEW]"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from maps.cli import bad_input, get_map, write_file
from maps.diagram import DiagramError
from maps.rendering import FORMATS, render_map


class Command(BaseCommand):
    help = "Render a map's diagram (svg, png, pdf, dot), its deck (pptx) or its gaps (csv)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        # Checked in handle(), not by argparse choices, so a bad value gets our one line.
        parser.add_argument("--format", required=True, help="|".join(FORMATS))
        parser.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
        parser.add_argument("--view", default="stages", help="stages, departments or persona:KEY")

    def handle(self, ref: str, format: str, output: str, view: str, **options) -> None:
        if format not in FORMATS:
            raise bad_input(f'unknown format "{format}": use {", ".join(FORMATS)}')
        journey_map = get_map(ref)
        try:
            content = render_map(journey_map, view, format).body
        except DiagramError as exc:
            raise bad_input(str(exc)) from None
        if output == "-":
            stream = getattr(self.stdout._out, "buffer", self.stdout._out)
            stream.write(content)
            stream.flush()
            return
        write_file(output, content)
