"""The PDF handout of a map: the slides of maps.outline on 16:9 pages, drawn with fpdf2
as real text in Noto Sans CJK (Latin and Japanese alike), each slide's notes on the page
after it.

Imported only when a handout is asked for (maps.exports.export_handout).
"""

from __future__ import annotations

import io
import logging
import os
import re
import unicodedata

from django.conf import settings
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from . import marks, outline
from .diagram import DiagramError
from .models import JourneyMap

# What the handout leaves out of any text: control characters (a tab becomes a space),
# surrogates and noncharacters. Characters the font has no glyph for (emoji) are drawn
# as its blank glyph: fpdf2 logs them, and the text stays.
NOT_PRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
INK, MUTED, WHITE = (0x1F, 0x23, 0x28), (0x5F, 0x66, 0x70), (0xFF, 0xFF, 0xFF)
BAND, HEADER_FILL, STRIPE = (0x17, 0x20, 0x3A), (0xE4, 0xE7, 0xEC), (0xF6, 0xF7, 0xF9)
FAMILY, SYMBOLS = "noto", "symbols"

# fpdf2 names every glyph a font lacks at INFO/WARNING level; one emoji would fill a log.
# fontTools tells of every subset it makes at INFO.
logging.getLogger("fpdf").setLevel(logging.ERROR)
logging.getLogger("fontTools").setLevel(logging.WARNING)


def export_handout(journey_map: JourneyMap, view: str = "stages") -> bytes:
    return render_pdf(outline.build(journey_map, view), journey_map.name)


def pdf_text(text: object) -> str:
    text = str(text).replace("\t", " ")
    return NOT_PRINTABLE.sub("", unicodedata.normalize("NFC", text))


def rgb(hex_colour: str) -> tuple[int, int, int]:
    value = hex_colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def render_pdf(slides: list[dict], title: str) -> bytes:
    pdf = FPDF(unit="pt", format=(outline.PAGE_WIDTH, outline.PAGE_HEIGHT))
    pdf.set_title(pdf_text(title))
    pdf.set_creator("journeymap")
    for style, path in (("", settings.DECK_FONT_REGULAR), ("B", settings.DECK_FONT_BOLD)):
        try:
            pdf.add_font(FAMILY, style, path)
        except FileNotFoundError:
            # Translators: %(path)s is a font file the server lacks (settings DECK_FONT_REGULAR / DECK_FONT_BOLD).
            raise DiagramError(
                _("The handout needs the Noto Sans CJK font, missing at %(path)s.") % {"path": path}
            ) from None
    if os.path.exists(settings.DECK_FONT_SYMBOLS):
        pdf.add_font(SYMBOLS, "", settings.DECK_FONT_SYMBOLS)
        pdf.set_fallback_fonts([SYMBOLS], exact_match=False)
    pdf.set_auto_page_break(False)
    pdf.set_margins(outline.MARGIN, outline.MARGIN, outline.MARGIN)
    for data in slides:
        pdf.add_page()
        DRAW[data["kind"]](pdf, data)
    _notes(pdf, [data for data in slides if data.get("notes")])
    return bytes(pdf.output())


def _write(pdf: FPDF, left: float, top: float, width: float, text: str, size: float, bold=False, ink=INK) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", size)
    pdf.set_text_color(*ink)
    pdf.set_xy(left, top)
    pdf.multi_cell(width, size * 1.2, pdf_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _band(pdf: FPDF, data: dict) -> None:
    pdf.set_fill_color(*BAND)
    pdf.rect(0, 0, outline.PAGE_WIDTH, outline.BAND, style="F")
    badge_width = 180 if data.get("badge") else 0
    width = outline.PAGE_WIDTH - 2 * outline.MARGIN - badge_width
    _write(pdf, outline.MARGIN, 20, width, data["title"], outline.TITLE_PT, True, WHITE)
    if data.get("badge"):
        text, severity = data["badge"]
        ink = rgb(marks.SEVERITY[severity].color)
        left, width, height = outline.PAGE_WIDTH - outline.MARGIN - 170, 170, 38
        pdf.set_fill_color(*WHITE)
        pdf.set_draw_color(*ink)
        pdf.set_line_width(2.5)
        pdf.rect(left, 17, width, height, style="DF", round_corners=True, corner_radius=6)
        pdf.set_font(FAMILY, "B", 15)
        pdf.set_text_color(*ink)
        pdf.set_xy(left, 17)
        pdf.cell(width, height, pdf_text(text), align="C")


def _cover(pdf: FPDF, data: dict) -> None:
    pdf.set_fill_color(*BAND)
    pdf.rect(0, 0, outline.PAGE_WIDTH, 24, style="F")
    margin = 2 * outline.MARGIN
    pdf.set_y(120)
    for text, size, bold, muted in data["lines"]:
        _write(pdf, margin, pdf.get_y(), outline.PAGE_WIDTH - 2 * margin, text, size, bold, MUTED if muted else INK)
        pdf.set_y(pdf.get_y() + 6)


def _image(pdf: FPDF, data: dict) -> None:
    _band(pdf, data)
    left, top, width, height = outline.image_box(data["image"])
    pdf.image(io.BytesIO(data["image"]), left, top, width, height)


def _flow(pdf: FPDF, data: dict) -> None:
    _band(pdf, data)
    scale = data.get("scale", 1.0)
    heading_pt, body_pt = outline.size(outline.HEADING_PT, scale), outline.size(outline.BODY_PT, scale)
    for block, top, _height in outline.placed(data):
        if block["kind"] == "table":
            _table(pdf, block, top, scale)
        elif block["kind"] == "heading":
            _write(
                pdf,
                outline.MARGIN,
                top + outline.HEADING_BEFORE,
                outline.BODY_WIDTH,
                block["text"],
                heading_pt,
                True,
            )
        else:
            text = ("•\u00a0" if block["kind"] == "bullet" else "") + block["text"]  # the mark stays with its text
            ink = (
                rgb(marks.SEVERITY[block["severity"]].color) if block["severity"] else MUTED if block["muted"] else INK
            )
            text = outline.wrapped(text, outline.BODY_WIDTH - (22 if block["kind"] == "bullet" else 8), body_pt)
            _write(pdf, outline.MARGIN + 4, top, outline.BODY_WIDTH - 8, text, body_pt, ink=ink)


def _table(pdf: FPDF, block: dict, top: float, scale: float) -> None:
    widths = outline.column_widths(block["widths"])
    pdf.set_draw_color(0xC8, 0xCC, 0xD2)
    pdf.set_line_width(0.5)
    for index, cells in enumerate([block["header"], *block["rows"]]):
        height = outline.row_height(cells, widths, scale)
        mark = block["marks"][index - 1] if index else None
        pdf.set_fill_color(*(HEADER_FILL if index == 0 else STRIPE if index % 2 == 0 else WHITE))
        left = outline.MARGIN
        for column, (text, width) in enumerate(zip(cells, widths, strict=True)):
            pdf.rect(left, top, width, height, style="DF")
            ink = rgb(marks.SEVERITY[mark].color) if mark and column == 0 else INK
            pdf.set_font(FAMILY, "B" if index == 0 else "", outline.size(outline.TABLE_PT, scale))
            pdf.set_text_color(*ink)
            pdf.set_xy(left + outline.CELL_MARGIN_X, top + outline.CELL_MARGIN_Y)
            line = outline.size(outline.TABLE_PT, scale) * 1.2
            inner = width - 2 * outline.CELL_MARGIN_X
            text = outline.wrapped(text, inner, outline.size(outline.TABLE_PT, scale))
            pdf.multi_cell(inner, line, pdf_text(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            left += width
        top += height


def _notes(pdf: FPDF, slides: list[dict]) -> None:
    """The speaker notes after the slides, one after the other: what the presenter says,
    in full (descriptions, comments, every gap message)."""
    if not slides:
        return
    pdf.add_page()
    pdf.set_auto_page_break(True, outline.MARGIN)
    # Translators: the heading of the handout's last pages, which hold the slides' speaker notes.
    _write(pdf, outline.MARGIN, outline.MARGIN, outline.BODY_WIDTH, _("Speaker notes"), outline.TITLE_PT, True)
    for data in slides:
        pdf.set_y(pdf.get_y() + 10)
        _write(pdf, outline.MARGIN, pdf.get_y(), outline.BODY_WIDTH, data["title"], outline.HEADING_PT, True)
        pdf.set_y(pdf.get_y() + 2)
        _write(pdf, outline.MARGIN, pdf.get_y(), outline.BODY_WIDTH, data["notes"], 11)
    pdf.set_auto_page_break(False)


DRAW = {"cover": _cover, "image": _image, "flow": _flow}
