"""render_map WORKSPACE/MAP --format svg|png|pdf|dot|pptx|csv -o FILE [--view VIEW]"""
from __future__ import annotations

from django.core.management.base import BaseCommand

from maps import exports
from maps.cli import bad_input, get_map
from maps.diagram import DiagramError, parse_view

RENDERERS = {
    "svg": exports.export_svg,
    "png": exports.export_png,
    "pdf": exports.export_pdf,
    "dot": lambda journey_map, view: exports.export_dot(journey_map, view).encode(),
    "pptx": exports.export_pptx,
    "csv": lambda journey_map, view: exports.gaps_csv(journey_map).encode(),
}


class Command(BaseCommand):
    help = "Render a map's diagram (svg, png, pdf, dot), its deck (pptx) or its gaps (csv)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        # Checked in handle(), not by argparse choices, so a bad value gets our one line.
        parser.add_argument("--format", required=True, help="|".join(RENDERERS))
        parser.add_argument("-o", "--output", required=True, help="file to write, or - for stdout")
        parser.add_argument("--view", default="stages", help="stages, departments or persona:KEY")

    def handle(self, ref: str, format: str, output: str, view: str, **options) -> None:
        if format not in RENDERERS:
            raise bad_input(f'unknown format "{format}": use {", ".join(RENDERERS)}')
        journey_map = get_map(ref)
        try:
            parse_view(view, journey_map)
            content = RENDERERS[format](journey_map, view)
        except DiagramError as exc:
            raise bad_input(str(exc)) from None
        if output == "-":
            stream = getattr(self.stdout._out, "buffer", self.stdout._out)
            stream.write(content)
            stream.flush()
            return
        try:
            with open(output, "wb") as file:
                file.write(content)
        except OSError as exc:
            raise bad_input(f"cannot write {output}: {exc.strerror}") from None
