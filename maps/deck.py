"""The PPTX deck of a map: a title slide, the diagram, one slide per stage with its gap
rows, guiding questions, content and open comments, and the latest vote's result.

Imported only when a deck is asked for (maps.exports.export_pptx): python-pptx and
Pillow take a moment to load, which a diagram or the command line need not pay.
"""

from __future__ import annotations

import io
import re

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image
from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from . import comments, marks, votes
from .diagram import _wrap, render
from .exports import export_dot
from .gaps import SEVERITIES, Gap, find_gaps, stage_content
from .models import JourneyMap

# PowerPoint's own 16:9 size, exactly: 13.333 x 7.5 inches.
SLIDE_WIDTH, SLIDE_HEIGHT = Emu(12192000), Emu(6858000)
MARGIN = Inches(0.4)
# What XML 1.0 cannot hold, so lxml refuses it and the deck fails to save: control
# characters but tab and line breaks, lone surrogates, U+FFFE and U+FFFF. The forms refuse
# them, but a map may hold older text or text from elsewhere; in a deck each becomes U+FFFD.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
BODY_PT, TITLE_PT = 14, 28
# A body column holds about this many 14 pt lines; longer lists end in "+ N more".
COLUMN_LINES, CHARS_PER_LINE = 17, 62
INK, MUTED = RGBColor(0x1F, 0x23, 0x28), RGBColor(0x5F, 0x66, 0x70)
BAND, WHITE = RGBColor(0x17, 0x20, 0x3A), RGBColor(0xFF, 0xFF, 0xFF)


def _style(severity: str | None) -> tuple[str, RGBColor]:
    """The severity's mark (maps.marks), as the page and the diagram show it."""
    mark = marks.SEVERITY[severity]
    return mark.symbol, RGBColor.from_string(mark.color.lstrip("#"))


def export_pptx(journey_map: JourneyMap, view: str = "stages") -> bytes:
    """A 16:9 deck: title, the diagram, then one slide per stage."""
    gaps = find_gaps(journey_map)
    png = render(export_dot(journey_map, view, gaps), "png")
    deck = Presentation()
    deck.slide_width, deck.slide_height = SLIDE_WIDTH, SLIDE_HEIGHT
    deck.core_properties.title = xml_text(journey_map.name)
    _title_slide(deck, journey_map, gaps)
    _diagram_slide(deck, png)
    open_comments = comments.stage_totals(journey_map)
    for number, stage in enumerate(journey_map.stages.all(), 1):
        _stage_slide(deck, number, stage, [gap for gap in gaps if gap.stage == stage.key])
        _comments_footer(deck.slides[-1], open_comments.get(stage.key, 0))
    latest_vote = votes.latest_closed(journey_map)
    if latest_vote is not None:
        _vote_slide(deck, votes.tally(latest_vote, journey_map=journey_map))
    output = io.BytesIO()
    deck.save(output)
    return output.getvalue()


def xml_text(text: str) -> str:
    """`text` as a deck can hold it: see NOT_XML."""
    return NOT_XML.sub("\ufffd", str(text))


def _blank(deck: Presentation):
    return deck.slides.add_slide(deck.slide_layouts[6])


def _text(slide, left, top, width, height, paragraphs: list[tuple[str, int, bool, RGBColor]]):
    """A text box of (text, size, bold, colour) paragraphs, wrapping inside its width."""
    frame = slide.shapes.add_textbox(left, top, width, height).text_frame
    frame.word_wrap = True
    for index, (text, size, bold, color) in enumerate(paragraphs):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        paragraph.space_after = Pt(4)
        run = paragraph.add_run()
        run.text = xml_text(text)
        run.font.size, run.font.bold, run.font.color.rgb = Pt(size), bold, color
    return frame


def _band(slide, height) -> None:
    """The dark band behind a slide's title."""
    shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, SLIDE_WIDTH, height)
    shape.fill.solid()
    shape.fill.fore_color.rgb = BAND
    shape.line.fill.background()


def _title_slide(deck, journey_map: JourneyMap, gaps: list[Gap]) -> None:
    slide = _blank(deck)
    _band(slide, Inches(0.35))
    counts = [marks.counted(s, sum(gap.severity == s for gap in gaps)) for s in SEVERITIES]
    lines = [(_cut(journey_map.name, 80), 40, True, INK)]
    if journey_map.description:
        lines.append((_cut(journey_map.description, 240), 18, False, INK))
    if journey_map.goal:
        lines.append((_("Goal: %(goal)s") % {"goal": _cut(journey_map.goal, 200)}, 18, False, INK))
    # Translators: on the deck's title slide, e.g. "Gaps: 1 error · 2 warnings · 0 info".
    lines.append((_("Gaps: %(counts)s") % {"counts": " · ".join(counts)}, 20, True, INK))
    lines.append((date_format(timezone.localdate(), "DATE_FORMAT"), 14, False, MUTED))
    _text(slide, MARGIN * 2, Inches(2), SLIDE_WIDTH - MARGIN * 4, Inches(4.5), lines)


def _diagram_slide(deck, png: bytes) -> None:
    slide = _blank(deck)
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    box_width, box_height = SLIDE_WIDTH - 2 * MARGIN, SLIDE_HEIGHT - 2 * MARGIN
    scale = min(box_width / width, box_height / height)
    shown_width, shown_height = int(width * scale), int(height * scale)
    slide.shapes.add_picture(
        io.BytesIO(png),
        Emu((SLIDE_WIDTH - shown_width) // 2),
        Emu((SLIDE_HEIGHT - shown_height) // 2),
        Emu(shown_width),
        Emu(shown_height),
    )


def _stage_slide(deck, number: int, stage, gaps: list[Gap]) -> None:
    slide = _blank(deck)
    _band(slide, Inches(1.05))
    title = [(f"{number} · {_cut(stage.name, 60)}", TITLE_PT, True, WHITE)]
    _text(slide, MARGIN, Inches(0.2), SLIDE_WIDTH - 2 * MARGIN - Inches(3), Inches(0.8), title)
    worst = next((s for s in SEVERITIES if any(gap.severity == s for gap in gaps)), None)
    symbol, colour = _style(worst)
    if gaps:
        count = ngettext("%(count)s gap", "%(count)s gaps", len(gaps)) % {"count": number_format(len(gaps))}
        badge = f"{symbol} {count}"
    else:
        badge = f"{symbol} {marks.SEVERITY[None].word}"
    _badge(slide, badge, colour)
    if stage.goal:
        _text(
            slide,
            MARGIN,
            Inches(1.2),
            SLIDE_WIDTH - 2 * MARGIN,
            Inches(0.6),
            [(_cut(stage.goal, 150), 16, False, MUTED)],
        )
    no_owner = _("no owner")
    touchpoints = [
        " — ".join(filter(None, [tp.name, tp.channel, tp.owner.name if tp.owner else no_owner]))
        for tp in stage.touchpoints.all()
    ]
    # Translators: a content asset and its status on a stage slide, e.g. "ROI calculator (live)".
    with_status = _("%(content)s (%(status)s)")
    content = [
        with_status % {"content": asset.title, "status": asset.get_status_display().lower()}
        for asset in stage_content(stage)
    ]
    column_width = (SLIDE_WIDTH - 3 * MARGIN) // 2
    top, height = Inches(1.9), SLIDE_HEIGHT - Inches(1.9) - MARGIN
    # Translators: the headings of a stage slide's lists.
    headings = _("Touchpoints"), _("Content")
    left_lines = _section(headings[0], touchpoints, COLUMN_LINES // 2 + 1) + _section(
        headings[1], content, COLUMN_LINES // 2 - 1
    )
    _text(slide, MARGIN, top, column_width, height, left_lines)
    gap_lines = [f"{_style(gap.severity)[0]} {_gap_line(gap)}" for gap in gaps]
    lines = _section(_("Gaps"), gap_lines or [f"{_style(None)[0]} {marks.SEVERITY[None].word}"], COLUMN_LINES)
    for index, gap in enumerate(gaps[: len(lines) - 1], 1):
        if lines[index][0].startswith("• "):
            lines[index] = (*lines[index][:3], _style(gap.severity)[1])
    _text(slide, MARGIN * 2 + column_width, top, column_width, height, lines)


def _comments_footer(slide, count: int) -> None:
    """The stage's open comments, in the bottom margin under the gaps column: what the
    workshop still has to talk about. Nothing when there are none."""
    if not count:
        return
    # Translators: the footer of a stage slide, e.g. "3 open comments".
    text = ngettext("%(count)s open comment", "%(count)s open comments", count) % {"count": number_format(count)}
    width = (SLIDE_WIDTH - 3 * MARGIN) // 2
    left, top = MARGIN * 2 + width, SLIDE_HEIGHT - Inches(0.45)
    frame = _text(slide, left, top, width, Inches(0.35), [(text, 12, True, MUTED)])
    frame.paragraphs[0].alignment = PP_ALIGN.RIGHT


def _gap_line(gap: Gap) -> str:
    # Translators: a gap on a stage slide: its severity ("error") and its message.
    return _("%(severity)s: %(message)s") % {"severity": marks.SEVERITY[gap.severity].word, "message": gap.message}


def _badge(slide, text: str, colour: RGBColor) -> None:
    """The stage's worst gap, top right, as the page shows it."""
    width, height = Inches(2.4), Inches(0.55)
    shape = slide.shapes.add_shape(
        MSO_SHAPE.ROUNDED_RECTANGLE, SLIDE_WIDTH - MARGIN - width, Inches(0.25), width, height
    )
    shape.fill.solid()
    shape.fill.fore_color.rgb = WHITE
    shape.line.color.rgb = colour
    shape.line.width = Pt(2.5)
    run = shape.text_frame.paragraphs[0].add_run()
    run.text = xml_text(text)
    run.font.size, run.font.bold, run.font.color.rgb = Pt(16), True, colour


def _section(heading: str, items: list[str], max_lines: int) -> list[tuple]:
    """A heading and as many items as fit in `max_lines` wrapped lines, then "+ N more"."""
    lines = [(heading, 18, True, INK)]
    used = 1
    for index, item in enumerate(items):
        text = "• " + _cut(item, CHARS_PER_LINE * 2)
        needed = len(_wrap(text, CHARS_PER_LINE))  # by display width: Japanese takes two columns
        more_after = index < len(items) - 1  # then a line stays free for "+ N more"
        if used + needed + more_after > max_lines:
            rest = len(items) - index
            # Translators: the end of a cut list on a slide, e.g. "+ 3 more".
            more = ngettext("+ %(count)s more", "+ %(count)s more", rest) % {"count": number_format(rest)}
            lines.append((more, BODY_PT, False, MUTED))
            break
        lines.append((text, BODY_PT, False, INK))
        used += needed
    if not items:
        # Translators: an empty list on a slide (no touchpoints, no content).
        lines.append((_("none"), BODY_PT, False, MUTED))
    return lines


def _cut(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


VOTE_SLIDE_ROWS = 10


def _vote_slide(deck, result: votes.Tally) -> None:
    """The ranked result of the map's latest closed vote: its first ten with their dots."""
    slide = _blank(deck)
    _band(slide, Inches(1.05))
    # Translators: the title of the deck's slide with a vote's result, e.g. "Vote: What should we fix first?".
    title = _("Vote: %(title)s") % {"title": _cut(result.session.title, 70)}
    _text(slide, MARGIN, Inches(0.2), SLIDE_WIDTH - 2 * MARGIN, Inches(0.8), [(title, TITLE_PT, True, WHITE)])
    ended = result.session.closed or result.session.ends
    summary = ngettext(
        "%(dots)s vote from %(people)s member",
        "%(dots)s votes from %(people)s members",
        result.total or 0,
    ) % {"dots": number_format(result.total or 0), "people": number_format(result.voters or 0)}
    if ended:
        summary = f"{date_format(timezone.localtime(ended), 'DATE_FORMAT')} · {summary}"
    lines = [(summary, 16, False, MUTED)]
    for row in result.top(VOTE_SLIDE_ROWS):
        count = ngettext("%(n)s vote", "%(n)s votes", row.count) % {"n": number_format(row.count)}
        # Translators: a ranked item on the vote slide, e.g. "1. Webinar: too long — 5 votes".
        line = _("%(rank)s. %(item)s — %(count)s") % {
            "rank": row.rank,
            "item": _cut(row.item.label, 110),
            "count": count,
        }
        lines.append((line, 18 if row.rank == 1 else BODY_PT + 2, row.rank == 1, INK))
    if len(lines) == 1:
        lines.append((_("No votes were placed."), BODY_PT, False, MUTED))
    _text(slide, MARGIN, Inches(1.3), SLIDE_WIDTH - 2 * MARGIN, SLIDE_HEIGHT - Inches(1.3) - MARGIN, lines)
