"""render_map WORKSPACE/MAP --format svg|png|pdf|dot|pptx|handout|csv|mermaid -o FILE [--view VIEW]"""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from maps.cli import add_language_argument, bad_input, get_map, speaking, write_file
from maps.diagram import DiagramError
from maps.rendering import FORMATS, render_map


class Command(BaseCommand):
    help = gettext_lazy(
        "Render a map's diagram (svg, png, pdf, dot), its deck (pptx) and the deck as a PDF handout (handout), "
        "its gaps (csv) or its Mermaid journey (mermaid)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("ref", metavar="WORKSPACE/MAP")
        # Checked in handle(), not by argparse choices, so a bad value gets our one line.
        parser.add_argument("--format", required=True, help="|".join(FORMATS))
        parser.add_argument("-o", "--output", required=True, help=gettext_lazy("file to write, or - for stdout"))
        parser.add_argument("--view", default="stages", help=gettext_lazy("stages, departments or persona:KEY"))
        add_language_argument(parser)

    def handle(self, ref: str, format: str, output: str, view: str, **options) -> None:
        with speaking(options["language"]):
            if format not in FORMATS:
                raise bad_input(
                    _('unknown format "%(format)s": use %(formats)s')
                    % {"format": format, "formats": ", ".join(FORMATS)}
                )
            journey_map = get_map(ref)
        with speaking(options["language"], journey_map):
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
