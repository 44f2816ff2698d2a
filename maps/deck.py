"""The PPTX deck of a map: the slides of maps.outline drawn with python-pptx, as native
text and tables that people can edit, the details in the speaker notes.

Imported only when a deck is asked for (maps.exports.export_pptx): python-pptx and
Pillow take a moment to load, which a diagram or the command line need not pay.
"""

from __future__ import annotations

import io
import re

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.util import Emu, Pt

from . import marks, outline
from .models import JourneyMap

# PowerPoint's own 16:9 size, exactly: 13.333 x 7.5 inches.
SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)
# What XML 1.0 cannot hold, so lxml refuses it and the deck fails to save: control
# characters but tab and line breaks, lone surrogates, U+FFFE and U+FFFF. The forms refuse
# them, but a map may hold older text or text from elsewhere; in a deck each becomes U+FFFD.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
INK, MUTED = RGBColor(0x1F, 0x23, 0x28), RGBColor(0x5F, 0x66, 0x70)
BAND, WHITE = RGBColor(0x17, 0x20, 0x3A), RGBColor(0xFF, 0xFF, 0xFF)
HEADER_FILL, STRIPE = RGBColor(0xE4, 0xE7, 0xEC), RGBColor(0xF6, 0xF7, 0xF9)


def export_pptx(journey_map: JourneyMap, view: str = "stages") -> bytes:
    """A 16:9 deck of the map's outline."""
    return render_pptx(outline.build(journey_map, view), journey_map.name)


def render_pptx(slides: list[dict], title: str) -> bytes:
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    deck.core_properties.title = xml_text(title)
    for data in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[6])
        DRAW[data["kind"]](slide, data)
        if data.get("notes"):
            slide.notes_slide.notes_text_frame.text = xml_text(data["notes"])
    output = io.BytesIO()
    deck.save(output)
    return output.getvalue()


def xml_text(text: str) -> str:
    """`text` as a deck can hold it: see NOT_XML."""
    return NOT_XML.sub("\ufffd", str(text))


def pt(points: float) -> Emu:
    return Emu(int(points * 12700))


def colour(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour.lstrip("#"))


def _text(slide, left, top, width, height, paragraphs: list[tuple[str, float, bool, RGBColor]], bullet=False):
    """A text box of (text, size, bold, colour) paragraphs, wrapping inside its width."""
    frame = slide.shapes.add_textbox(pt(left), pt(top), pt(width), pt(height)).text_frame
    frame.word_wrap = True
    frame.margin_left = frame.margin_right = pt(4)
    frame.margin_top = frame.margin_bottom = 0
    for index, (text, size, bold, ink) in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(outline.SPACE_AFTER)
        run = paragraph.add_run()
        run.text = xml_text(text)
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, ink
    return frame


def _band(slide, data: dict) -> None:
    """The dark band with the slide's title, and the badge at its right."""
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_WIDTH, pt(outline.BAND))
    shape.fill.solid()
    shape.fill.fore_color.rgb = BAND
    shape.line.fill.background()
    badge_width = 180 if data.get("badge") else 0
    width = outline.PAGE_WIDTH - 2 * outline.MARGIN - badge_width
    frame = _text(slide, outline.MARGIN, 16, width, 44, [(data["title"], outline.TITLE_PT, True, WHITE)])
    frame.vertical_anchor = MSO_ANCHOR.MIDDLE
    if data.get("badge"):
        _badge(slide, *data["badge"])


def _badge(slide, text: str, severity: str | None) -> None:
    """The stage's worst gap, top right, as the page shows it."""
    ink = colour(marks.SEVERITY[severity].color)
    width, height = 170, 38
    left = outline.PAGE_WIDTH - outline.MARGIN - width
    shape = slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, pt(left), pt(17), pt(width), pt(height))
    shape.fill.solid()
    shape.fill.fore_color.rgb = WHITE
    shape.line.color.rgb = ink
    shape.line.width = Pt(2.5)
    run = shape.text_frame.paragraphs[0].add_run()
    run.text = xml_text(text)
    run.font.size, run.font.bold, run.font.color.rgb = Pt(15), True, ink


def _cover(slide, data: dict) -> None:
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_WIDTH, pt(24))
    shape.fill.solid()
    shape.fill.fore_color.rgb = BAND
    shape.line.fill.background()
    lines = [(text, size, bold, MUTED if muted else INK) for text, size, bold, muted in data["lines"]]
    margin = 2 * outline.MARGIN
    _text(slide, margin, 120, outline.PAGE_WIDTH - 2 * margin, 380, lines)


def _image(slide, data: dict) -> None:
    _band(slide, data)
    left, top, width, height = outline.image_box(data["image"])
    slide.shapes.add_picture(io.BytesIO(data["image"]), pt(left), pt(top), pt(width), pt(height))


def _flow(slide, data: dict) -> None:
    _band(slide, data)
    left, scale = outline.MARGIN, data.get("scale", 1.0)
    heading_pt, body_pt = outline.size(outline.HEADING_PT, scale), outline.size(outline.BODY_PT, scale)
    for block, top, height in outline.placed(data):
        if block["kind"] == "table":
            _table(slide, block, top, height, scale)
        elif block["kind"] == "heading":
            _text(
                slide,
                left,
                top + outline.HEADING_BEFORE,
                outline.BODY_WIDTH,
                height,
                [(block["text"], heading_pt, True, INK)],
            )
        else:
            text = ("• " if block["kind"] == "bullet" else "") + block["text"]
            ink = (
                colour(marks.SEVERITY[block["severity"]].color)
                if block["severity"]
                else MUTED
                if block["muted"]
                else INK
            )
            _text(slide, left, top, outline.BODY_WIDTH, height, [(text, body_pt, False, ink)])


def _table(slide, block: dict, top: float, height: float, scale: float) -> None:
    widths = outline.column_widths(block["widths"])
    rows = [block["header"], *block["rows"]]
    shape = slide.shapes.add_table(
        len(rows), len(widths), pt(outline.MARGIN), pt(top), pt(outline.BODY_WIDTH), pt(height)
    )
    grid = shape.table
    grid.first_row = True
    grid.horz_banding = False
    for index, width in enumerate(widths):
        grid.columns[index].width = pt(width)
    for row_index, cells in enumerate(rows):
        grid.rows[row_index].height = pt(outline.row_height(cells, widths, scale))
        mark = block["marks"][row_index - 1] if row_index else None
        for column, text in enumerate(cells):
            cell = grid.cell(row_index, column)
            cell.margin_left = cell.margin_right = pt(outline.CELL_MARGIN_X)
            cell.margin_top = cell.margin_bottom = pt(outline.CELL_MARGIN_Y)
            cell.fill.solid()
            cell.fill.fore_color.rgb = HEADER_FILL if row_index == 0 else STRIPE if row_index % 2 == 0 else WHITE
            frame = cell.text_frame
            frame.word_wrap = True
            paragraph = frame.paragraphs[0]
            paragraph.alignment = PP_ALIGN.LEFT
            run = paragraph.add_run()
            run.text = xml_text(text)
            ink = colour(marks.SEVERITY[mark].color) if mark and column == 0 else INK
            run.font.size, run.font.bold, run.font.color.rgb = (
                Pt(outline.size(outline.TABLE_PT, scale)),
                row_index == 0,
                ink,
            )


DRAW = {"cover": _cover, "image": _image, "flow": _flow}
