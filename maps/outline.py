"""The deck of a map as plain data: a list of slides, built once, drawn twice (the PPTX by
maps.deck, the PDF handout by maps.handout), so both always say the same.

A slide is a dict: its "kind" ("cover", "image" or "flow"), "title", an optional
"badge" (text, severity), "notes" (the speaker notes: the full texts) and, for a flow
slide, "blocks" laid out top to bottom: {"kind": "heading" | "bullet" | "para", "text",
"severity", "muted"} and {"kind": "table", "header", "rows", "widths", "marks"}.

Pages are cut here, not by the renderers: `flow_slides` measures every block with the
same wrapping the diagram uses (wide characters count two columns) and moves what does
not fit to a "(continued)" slide; a table goes on with its header repeated. Adding a
slide is a call in `build`, for example:

    table_slides(slides, _("Actions"), [_("Action"), _("Owner")], rows, notes)
    bullet_slides(slides, _("Next steps"), [(_("This week"), items)], notes)

Reads a map loaded with `JourneyMap.objects.loaded()`.
"""

from __future__ import annotations

import functools
import io
import math
import re

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image

from . import actions as priorities
from . import comments, marks, matrices, monitoring, votes, whatif
from . import swot as swot_rules
from .diagram import _display_width, _wrap, parse_view, render, render_slide_png, view_stages
from .exports import export_dot
from .gaps import SEVERITIES, Gap, find_gaps, stage_content
from .models import JourneyMap, SwotItem, figures_in_order, history_in_order

# The page, in points: PowerPoint's 16:9 (13.333 x 7.5 inches).
PAGE_WIDTH, PAGE_HEIGHT = 960.0, 540.0
MARGIN = 28.8  # 0.4 in
BAND = 72.0  # the title band
BODY_TOP, BODY_BOTTOM = BAND + 14.0, PAGE_HEIGHT - 22.0
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN
TITLE_PT, HEADING_PT, BODY_PT, TABLE_PT, MIN_PT = 26, 16, 14, 13, 12
# A slide that spills over by a little is drawn this much smaller instead, when that
# saves a slide (no font goes below MIN_PT).
SMALLER = 0.88
# Measured on LibreOffice's and the handout's drawing, with a little to spare: Latin
# lines 1.22 font sizes apart, lines with Japanese (Noto Sans CJK) 1.32; Latin letters
# average about half an em, a wide character one em (two display columns).
LEADING, WIDE_LEADING, COLUMN_EM = 1.22, 1.32, 0.53
SPACE_AFTER, HEADING_BEFORE, TABLE_AFTER = 3.0, 6.0, 8.0
CELL_MARGIN_X, CELL_MARGIN_Y = 5.4, 3.6
# Texts longer than this are cut on a slide (the notes keep them whole).
BULLET_LIMIT, CELL_LIMIT, TITLE_COLUMNS = 400, 240, 64
# Below this scale the diagram's 11 pt cards are too small to read on a slide.
READABLE_SCALE = 0.55
IMAGE_TOP = BAND + 10.0


# -- measuring ---------------------------------------------------------------------------


def columns(width: float, size: float) -> int:
    """How many display columns of text at `size` points fit in `width` points."""
    return max(1, int(width / (size * COLUMN_EM)))


def line_count(text: str, width: float, size: float) -> int:
    return _line_count(str(text), columns(width, size))


def wrapped(text: str, width: float, size: float) -> str:
    """`text` broken into the lines it was measured with (for a renderer that breaks
    lines only at spaces, as fpdf2 does: Japanese has none)."""
    cols = columns(width, size)
    return "\n".join(line for part in str(text).split("\n") for line in _wrap(part, cols))


@functools.lru_cache(maxsize=4096)
def _line_count(text: str, cols: int) -> int:
    # Paging and both renderers measure the same cells again and again.
    return sum(len(_wrap(part, cols)) for part in text.split("\n"))


def leading(text: str) -> float:
    """How far apart the lines of `text` are, in font sizes: wider with Japanese."""
    return WIDE_LEADING if _display_width(text) > len(text) else LEADING


def size(points: float, scale: float = 1.0) -> float:
    """A font size on a slide drawn at `scale`: never below 12 points."""
    return max(MIN_PT, round(points * scale, 1))


def block_height(block: dict, scale: float = 1.0) -> float:
    """The height of a heading, bullet or paragraph block in points."""
    if block["kind"] == "heading":
        return HEADING_BEFORE + size(HEADING_PT, scale) * leading(block["text"]) + SPACE_AFTER
    indent = 14.0 if block["kind"] == "bullet" else 0.0
    body = size(BODY_PT, scale)
    return line_count(block["text"], BODY_WIDTH - indent - 8, body) * body * leading(block["text"]) + SPACE_AFTER


def column_widths(weights: list[float]) -> list[float]:
    total = sum(weights)
    return [BODY_WIDTH * weight / total for weight in weights]


def row_height(cells: list[str], widths: list[float], scale: float = 1.0) -> float:
    points = size(TABLE_PT, scale)
    return 2 * CELL_MARGIN_Y + max(
        line_count(cell, width - 2 * CELL_MARGIN_X, points) * points * leading(cell)
        for cell, width in zip(cells, widths, strict=True)
    )


def cut(text: object, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def cut_columns(text: object, limit: int) -> str:
    """`text` on one line, cut to `limit` display columns (titles, whose line is one)."""
    text = " ".join(str(text or "").split())
    if _display_width(text) <= limit:
        return text
    while text and _display_width(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


# -- slides --------------------------------------------------------------------------------


def heading(text: str) -> dict:
    return {"kind": "heading", "text": cut(text, 120)}


def bullet(text: str, severity: str | None = None, muted: bool = False, mark: bool = False) -> dict:
    """A list item; with `mark`, coloured by its severity (maps.marks)."""
    return {"kind": "bullet", "text": cut(text, BULLET_LIMIT), "severity": severity if mark else None, "muted": muted}


def para(text: str, muted: bool = False) -> dict:
    return {"kind": "para", "text": cut(text, BULLET_LIMIT * 2), "severity": None, "muted": muted}


def table(
    header: list[str], rows: list[list[str]], widths: list[float], marks_: list[str | None] | None = None
) -> dict:
    """A table; a row with a mark (a severity) starts with its symbol and is coloured."""
    marks_ = marks_ or [None] * len(rows)
    rows = [
        [
            (f"{marks.SEVERITY[mark].symbol} " if mark and index == 0 else "") + cut(cell, CELL_LIMIT)
            for index, cell in enumerate(row)
        ]
        for row, mark in zip(rows, marks_, strict=True)
    ]
    return {
        "kind": "table",
        "header": [cut(cell, 80) for cell in header],
        "rows": rows,
        "widths": widths,
        "marks": marks_,
    }


def continued(title: str) -> str:
    # Translators: the title of a slide that goes on with the slide before it, e.g. "3 · Capture (continued)".
    return _("%(title)s (continued)") % {"title": title}


def flow_slides(
    slides: list[dict], title: str, blocks: list[dict], notes: str = "", badge: tuple | None = None
) -> list[dict]:
    """Lay `blocks` out on as many slides as they need, appended to `slides`: a heading
    stays with what follows it, a table breaks between rows and repeats its header. A
    little smaller when that saves a slide. The first slide carries the notes and the badge."""
    scale, pages = 1.0, _paginate(blocks, 1.0)
    if len(pages) > 1:
        smaller = _paginate(blocks, SMALLER)
        if len(smaller) < len(pages):
            scale, pages = SMALLER, smaller
    for number, page in enumerate(pages):
        slides.append(
            {
                "kind": "flow",
                # One line in the band, beside the badge if there is one.
                "title": cut_columns(title if number == 0 else continued(title), TITLE_COLUMNS - 14 * bool(badge)),
                "badge": badge if number == 0 else None,
                "blocks": page,
                "notes": notes if number == 0 else "",
                "scale": scale,
            }
        )
    return slides


def _paginate(blocks: list[dict], scale: float) -> list[list[dict]]:
    pages: list[list[dict]] = [[]]
    used = 0.0
    room = BODY_BOTTOM - BODY_TOP

    def new_page() -> None:
        nonlocal used
        pages.append([])
        used = 0.0

    for index, block in enumerate(blocks):
        if block["kind"] != "table":
            height = block_height(block, scale)
            following = blocks[index + 1] if block["kind"] == "heading" and index + 1 < len(blocks) else None
            keep = height + (_first_piece(following, scale) if following else 0)
            if pages[-1] and used + keep > room:
                new_page()
            pages[-1].append(block)
            used += height
            continue
        widths = column_widths(block["widths"])
        header_height = row_height(block["header"], widths, scale)
        part = None
        for row, mark in zip(block["rows"], block["marks"], strict=True):
            height = row_height(row, widths, scale)
            if part is not None and used + height > room:
                new_page()
                part = None
            if part is None:
                if pages[-1] and used + header_height + height > room:
                    new_page()
                part = {**block, "rows": [], "marks": []}
                pages[-1].append(part)
                used += header_height + TABLE_AFTER
            part["rows"].append(row)
            part["marks"].append(mark)
            used += height
    return [page for number, page in enumerate(pages) if page or not number]


def _first_piece(block: dict, scale: float) -> float:
    if block["kind"] == "table":
        widths = column_widths(block["widths"])
        first = block["rows"][:1]
        return row_height(block["header"], widths, scale) + sum(row_height(row, widths, scale) for row in first)
    return block_height(block, scale)


def table_slides(
    slides: list[dict],
    title: str,
    header: list[str],
    rows: list[list[str]],
    notes: str = "",
    widths: list[float] | None = None,
    intro: list[dict] | None = None,
    marks_: list[str | None] | None = None,
) -> list[dict]:
    """A table on as many slides as it needs (its header on each), after `intro` blocks."""
    blocks = [*(intro or [])]
    if rows:
        blocks.append(table(header, rows, widths or [1.0] * len(header), marks_))
    else:
        blocks.append(para(_("none"), muted=True))
    return flow_slides(slides, title, blocks, notes)


def bullet_slides(slides: list[dict], title: str, sections: list[tuple[str, list[str]]], notes: str = "") -> list[dict]:
    """Headed lists on as many slides as they need; an empty list says "none"."""
    blocks: list[dict] = []
    for section, items in sections:
        blocks.append(heading(section))
        blocks.extend(bullet(item) for item in items)
        if not items:
            blocks.append(para(_("none"), muted=True))
    return flow_slides(slides, title, blocks, notes)


# -- numbers in words -------------------------------------------------------------------------


def number(value: float | int | None) -> str:
    """A KPI figure as people read it: no ".0", grouped thousands, "–" when not given."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return number_format(int(value), force_grouping=True)
    return number_format(round(value, 2), force_grouping=True)


def verdict(journey_map: JourneyMap, gaps: list[Gap]) -> str:
    """One line: the counts of errors, warnings and info, and the stage that fares worst."""
    counts = " · ".join(marks.counted(s, sum(gap.severity == s for gap in gaps)) for s in SEVERITIES)
    # Translators: on the deck's title slide, e.g. "Gaps: 1 error · 2 warnings · 0 info".
    line = _("Gaps: %(counts)s") % {"counts": counts}
    worst = _worst_stage(journey_map, gaps)
    if worst is None:
        return line
    stage, stage_gaps = worst
    severity = stage_gaps[0].severity
    found = marks.counted(severity, sum(gap.severity == severity for gap in stage_gaps))
    # Translators: the verdict on the deck's title slide, e.g. "…; worst stage: Capture (2 errors)".
    return _("%(summary)s; worst stage: %(stage)s (%(count)s)") % {"summary": line, "stage": stage.name, "count": found}


def _worst_stage(journey_map: JourneyMap, gaps: list[Gap]):
    """The stage with the most gaps of the worst severity found (the earliest on a tie)."""
    best = None
    for stage in journey_map.stages.all():
        rows = sorted((gap for gap in gaps if gap.stage == stage.key), key=lambda gap: SEVERITIES.index(gap.severity))
        if not rows:
            continue
        rank = (SEVERITIES.index(rows[0].severity), -sum(gap.severity == rows[0].severity for gap in rows))
        if best is None or rank < best[0]:
            best = (rank, stage, rows)
    return None if best is None else (best[1], best[2])


# -- the deck --------------------------------------------------------------------------------


def build(journey_map: JourneyMap, view: str = "stages") -> list[dict]:
    """Every slide of the map's deck, in order."""
    gaps = find_gaps(journey_map)
    slides: list[dict] = [_cover(journey_map, gaps, view)]
    diagram_slides(slides, journey_map, view, gaps)
    latest_vote = votes.latest_closed(journey_map)
    result = votes.tally(latest_vote, journey_map=journey_map) if latest_vote is not None else None
    threads = comments.stage_threads(journey_map)
    stages = list(journey_map.stages.all())
    for position, stage in enumerate(stages):
        following = stages[position + 1] if position + 1 < len(stages) else None
        stage_slides(slides, position + 1, stage, following, gaps, threads.get(stage.key, []), result)
    coverage_slides(slides, journey_map, gaps)
    accountability_slides(slides, journey_map, gaps)
    funnel_slides(slides, journey_map, gaps)
    swot_slides(slides, journey_map)
    action_slides(slides, journey_map)
    whatif_slides(slides, journey_map)
    if result is not None:
        vote_slides(slides, result)
    return slides


def _cover(journey_map: JourneyMap, gaps: list[Gap], view: str) -> dict:
    lines = [(cut(journey_map.name, 80), 36, True, False)]
    if journey_map.goal:
        lines.append((_("Goal: %(goal)s") % {"goal": cut(journey_map.goal, 200)}, 18, False, False))
    if journey_map.description:
        lines.append((cut(journey_map.description, 240), 16, False, True))
    lines.append((verdict(journey_map, gaps), 20, True, False))
    if view != "stages":
        # Translators: on the deck's title slide when it shows one view, e.g. "View: departments".
        lines.append((_("View: %(view)s") % {"view": view}, 14, False, True))
    lines.append((date_format(timezone.localdate(), "DATE_FORMAT"), 14, False, True))
    review = str(monitoring.review_word(journey_map))
    if monitoring.review_due(journey_map):
        # The word alone: the mark (⏰) is in neither of the handout's fonts.
        review = f"{marks.REVIEW_DUE.word} · {review}"
    lines.append((review, 14, False, True))
    notes = "\n\n".join(filter(None, [journey_map.name, journey_map.goal, journey_map.description]))
    return {"kind": "cover", "title": journey_map.name, "lines": lines, "notes": notes, "badge": None}


def diagram_slides(slides: list[dict], journey_map: JourneyMap, view: str, gaps: list[Gap]) -> None:
    """The diagram, fitted: one slide when it reads at slide size; else a slide per group
    of stages and the whole map last. One `dot` run per picture (and one quick SVG run
    to measure the whole)."""
    whole = export_dot(journey_map, view, gaps)
    width, height = _svg_size(render(whole, "svg"))
    room_width, room_height = PAGE_WIDTH - 2 * MARGIN, PAGE_HEIGHT - IMAGE_TOP - MARGIN / 2
    scale = min(room_width / width, room_height / height) if width and height else 1.0
    shown = [stage for stage, _touchpoints in view_stages(journey_map, parse_view(view, journey_map)[1])]
    numbers = {stage.pk: n for n, stage in enumerate(journey_map.stages.all(), 1)}
    parts = 1
    if scale < READABLE_SCALE and width and height:
        # Splitting by stages narrows the picture, never shortens it: a part is as tall as
        # the tallest stage, so more parts than the height allows only add slides.
        wide = (width / room_width) / (height / room_height)
        parts = min(len(shown), math.ceil(READABLE_SCALE * width / room_width), math.floor(wide))
        parts = max(parts, 1)
    if parts > 1:
        size = math.ceil(len(shown) / parts)
        for start in range(0, len(shown), size):
            group = shown[start : start + size]
            png = render_slide_png(export_dot(journey_map, view, gaps, [stage.key for stage in group]))
            first, last = numbers[group[0].pk], numbers[group[-1].pk]
            # Translators: the title of a diagram slide showing some stages, e.g. "Diagram: stages 1–4 of 12".
            title = _("Diagram: stages %(first)s–%(last)s of %(count)s") % {
                "first": first,
                "last": last,
                "count": len(numbers),
            }
            notes = "\n".join(f"{numbers[stage.pk]}. {stage.name}" for stage in group)
            slides.append({"kind": "image", "title": title, "image": png, "notes": notes, "badge": None})
    title = _("Diagram: the whole map") if parts > 1 else _("Diagram")
    slides.append({"kind": "image", "title": title, "image": render_slide_png(whole), "notes": "", "badge": None})


def _svg_size(svg: bytes) -> tuple[float, float]:
    """The natural size of a Graphviz SVG in points."""
    found = re.search(rb'<svg width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    return (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)


def _feeling(emotion: int | None) -> str:
    mood = marks.feeling(emotion)
    return str(marks.NOT_RATED) if mood is None else f"{mood.symbol} {mood.word}"


def _gap_line(gap: Gap) -> str:
    # Translators: a gap on a stage slide: its severity ("error") and its message.
    text = _("%(severity)s: %(message)s") % {"severity": marks.SEVERITY[gap.severity].word, "message": gap.message}
    return f"{marks.SEVERITY[gap.severity].symbol} {text}"


def stage_slides(slides, number_, stage, following, gaps: list[Gap], threads: list, result) -> None:
    """A stage: its goal, questions, lead and hand-off, KPIs, funnel, gaps, touchpoints,
    content, open comments and votes, on as many slides as they take."""
    stage_gaps = [gap for gap in gaps if gap.stage == stage.key]
    worst = next((s for s in SEVERITIES if any(gap.severity == s for gap in stage_gaps)), None)
    if stage_gaps:
        badge_text = ngettext("%(count)s gap", "%(count)s gaps", len(stage_gaps)) % {
            "count": number_format(len(stage_gaps))
        }
    else:
        badge_text = str(marks.SEVERITY[None].word)
    badge = (f"{marks.SEVERITY[worst].symbol} {badge_text}", worst)
    blocks: list[dict] = []
    notes: list[str] = [f"{number_}. {stage.name}"]
    if stage.goal:
        blocks += [heading(_("Goal")), para(stage.goal)]
        notes.append(_("Goal: %(goal)s") % {"goal": stage.goal})
    blocks += _question_blocks(stage, notes)
    blocks += _lead_blocks(stage, following, notes)
    blocks += _measure_blocks(stage, notes)
    blocks.append(heading(_("Gaps")))
    if stage_gaps:
        blocks += [bullet(_gap_line(gap), gap.severity, mark=True) for gap in stage_gaps]
        notes.append(_("Gaps") + ":\n" + "\n".join(_gap_line(gap) for gap in stage_gaps))
    else:
        blocks.append(bullet(f"{marks.SEVERITY[None].symbol} {marks.SEVERITY[None].word}", None, muted=True))
    blocks += _comment_blocks(threads, notes)
    blocks += _stage_votes(stage, result)
    title = f"{number_} · {stage.name}"
    flow_slides(slides, title, blocks, "\n\n".join(notes), badge)
    # The touchpoints (then the content) on slides of their own: a long table starts at
    # the top and goes on.
    touchpoint_notes: list[str] = []
    blocks = _touchpoint_blocks(stage, touchpoint_notes)
    assets = stage_content(stage)
    if assets:
        # Translators: a content asset and its status on a stage slide, e.g. "ROI calculator (live)".
        with_status = _("%(content)s (%(status)s)")
        blocks.append(heading(_("Content")))
        blocks += [
            bullet(with_status % {"content": asset.title, "status": asset.get_status_display().lower()})
            for asset in assets
        ]
    # Translators: the title of a stage's slides of touchpoints and content, e.g. "3 · Capture: touchpoints".
    flow_slides(slides, _("%(title)s: touchpoints") % {"title": title}, blocks, "\n\n".join(touchpoint_notes))


def _lead_blocks(stage, following, notes: list[str]) -> list[dict]:
    # Translators: a heading on a stage slide: which department leads and how the stage hands over.
    blocks = [heading(_("Lead and hand-off"))]
    lead = stage.lead.name if stage.lead else _("no lead department")
    blocks.append(bullet(_("Lead: %(department)s") % {"department": lead}))
    contributors = [department.name for department in stage.contributors.all()]
    if contributors:
        # Translators: the departments that contribute to a stage, e.g. "Contributing: Marketing, Service".
        blocks.append(bullet(_("Contributing: %(departments)s") % {"departments": ", ".join(contributors)}))
    if following is not None:
        needed = stage.lead_id and following.lead_id and stage.lead_id != following.lead_id
        # Translators: a stage slide's hand-off when the next stage has the same lead department.
        sla = stage.handoff_sla or (_("no hand-off SLA") if needed else _("not needed, the same department leads"))
        # Translators: e.g. "Hand-off to Nurture: MQL accepted by sales within 2 working days".
        line = _("Hand-off to %(stage)s: %(sla)s") % {"stage": following.name, "sla": sla}
        blocks.append(bullet(line))
        notes.append(_("Hand-off to %(stage)s: %(sla)s") % {"stage": following.name, "sla": stage.handoff_sla or sla})
    return blocks + _qualification_blocks(stage, following, notes)


def _question_blocks(stage, notes: list[str]) -> list[dict]:
    """The stage's guiding questions, each with its answer (who, when, the evidence in the
    notes), under a heading that counts the open ones."""
    questions = stage.questions or []
    if not questions:
        return []
    answers = {answer.question: answer for answer in stage.answers.all()}
    still_open = sum(question not in answers for question in questions)
    # Translators: a heading on a stage slide, e.g. "Guiding questions (2 of 3 open)".
    title = _("Guiding questions (%(open)s of %(all)s open)") % {"open": still_open, "all": len(questions)}
    blocks = [heading(title if still_open else _("Guiding questions (all answered)"))]
    said = []
    for question in questions:
        blocks.append(bullet(question))
        answer = answers.get(question)
        if answer is None:
            said.append(f"? {question}")
            continue
        # Translators: a guiding question's answer on a stage slide, under its question.
        blocks.append(para(_("→ %(answer)s") % {"answer": answer.answer or answer.evidence}, muted=True))
        # Translators: an answer in a stage slide's notes, e.g. "Q — A (evidence: URL; demo, 2026-12-07)".
        line = _("%(question)s — %(answer)s (evidence: %(evidence)s; %(by)s, %(at)s)") % {
            "question": question,
            "answer": answer.answer,
            "evidence": answer.evidence or "–",
            "by": answer.by or "–",
            "at": date_format(answer.at, "SHORT_DATE_FORMAT") if answer.at else "–",
        }
        said.append(line)
    notes.append(_("Guiding questions") + ":\n" + "\n".join(said))
    return blocks


def _qualification_blocks(stage, following, notes: list[str]) -> list[dict]:
    """The lead definition of the hand-off (MQL/SQL): criteria with points, the threshold,
    and which side agreed."""
    criteria = list(stage.criteria.all())
    if not criteria and stage.qualification_threshold is None:
        return []
    # Translators: a heading on a stage slide: the agreed definition of a qualified lead.
    blocks = [heading(_("Lead qualification"))]
    if stage.qualification_threshold is not None:
        # Translators: the points a lead needs to be handed over, on a stage slide.
        blocks.append(
            para(_("Handed over at %(points)s points or more") % {"points": number(stage.qualification_threshold)})
        )
    if criteria:
        rows = [[str(c.get_kind_display()), c.description, f"{c.points:+d}"] for c in criteria]
        blocks.append(table([_("Kind"), _("Criterion"), _("Points")], rows, [1.4, 6.0, 1.2]))
    sides = [(stage.lead, stage.agreed_by_lead), (following.lead if following else None, stage.agreed_by_next)]
    agreed = []
    for department, day in sides:
        name = department.name if department else _("no lead department")
        if day:
            # Translators: who agreed to a lead definition, e.g. "Marketing agreed on 2026-11-03".
            agreed.append(
                _("%(department)s agreed on %(date)s")
                % {"department": name, "date": date_format(day, "SHORT_DATE_FORMAT")}
            )
        else:
            # Translators: a side that has not agreed to the lead definition yet, e.g. "Sales: not yet".
            agreed.append(_("%(department)s: not agreed yet") % {"department": name})
    blocks.append(para(" · ".join(agreed), muted=True))
    notes.append(_("Lead qualification") + ": " + " · ".join(agreed))
    return blocks


def _kpi_status(metric) -> str:
    """On or off track, the way the KPI counts as better (maps.marks' mark and word)."""
    mark = monitoring.track_mark(metric.on_track)
    return f"{mark.symbol} {mark.word}" if mark else "–"


# A line of bars for a KPI's actuals by period: a sparkline in plain text, which a slide
# table and the handout draw as text (people can still edit the table).
SPARK = "▁▂▃▄▅▆▇█"


def text_sparkline(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    if high == low:
        return SPARK[3] * len(values)
    return "".join(SPARK[round((value - low) / (high - low) * (len(SPARK) - 1))] for value in values)


def _target(metric) -> str:
    """The target with the way the KPI counts as better: ↑ higher, ↓ lower is better."""
    arrow = "↓" if metric.direction == metric.LOWER else "↑"
    return f"{arrow} {number(metric.target)}" if metric.target is not None else "–"


def kpi_header() -> list[str]:
    # Translators: the column of a KPI table in the deck that shows its actuals by period as bars.
    return [_("KPI"), _("Target"), _("Actual"), _("Unit"), _("Trend"), _("Status")]


def _measure_blocks(stage, notes: list[str]) -> list[dict]:
    """The KPIs against their targets, and the stage's conversion in its latest period
    against the target conversion, in one table; earlier periods in the notes."""
    rows = []
    for metric in stage.metrics.all():
        history = history_in_order(metric)
        trend = text_sparkline([entry.actual for entry in history])
        rows.append([metric.name, _target(metric), number(metric.actual), metric.unit, trend, _kpi_status(metric)])
        if history:
            said = ", ".join(f"{entry.period}: {number(entry.actual)}" for entry in history)
            # Translators: a KPI's actuals by period in a stage slide's notes, e.g. "MQLs by period: 2026-09: 280, …".
            notes.append(_("%(kpi)s by period: %(actuals)s") % {"kpi": metric.name, "actuals": said})
    figures = figures_in_order(stage)
    if figures or stage.entered is not None:
        values = {"entered": number(stage.entered), "converted": number(stage.converted)}
        if figures:
            # Translators: the funnel row of a stage slide's KPI table, e.g. "Conversion, 2026-Q3: 312 of 5,240".
            name = _("Conversion, %(period)s: %(converted)s of %(entered)s") % {**values, "period": figures[-1].period}
        else:
            # Translators: the funnel row of a stage slide's KPI table, e.g. "Conversion: 312 of 5,240".
            name = _("Conversion: %(converted)s of %(entered)s") % values
        status = "–"
        if stage.conversion is not None and stage.target_conversion is not None:
            mark = monitoring.track_mark(stage.conversion >= stage.target_conversion)
            status = f"{mark.symbol} {mark.word}"
        rates = [figure.converted / figure.entered for figure in figures if figure.entered]
        target = f"↑ {marks.percent(stage.target_conversion)}" if stage.target_conversion is not None else "–"
        rows.append([name, target, marks.percent(stage.conversion), "", text_sparkline(rates), status])
    if figures:
        # Translators: a period's funnel figures in the notes, e.g. "2026-Q3: 312 of 5,240 converted (5.95 %)".
        line = _("%(period)s: %(converted)s of %(entered)s converted (%(rate)s)")
        said = [
            line
            % {
                "period": figure.period,
                "converted": number(figure.converted),
                "entered": number(figure.entered),
                "rate": marks.percent(figure.converted / figure.entered) if figure.entered else "–",
            }
            for figure in reversed(figures)
        ]
        notes.append(_("Funnel figures per period") + ":\n" + "\n".join(said))
    # Translators: a heading on a stage slide, above its KPIs and its funnel conversion.
    blocks = [heading(_("KPIs and funnel"))]
    if not rows:
        return [*blocks, para(_("none"), muted=True)]
    return [*blocks, table(kpi_header(), rows, [4.0, 1.4, 1.3, 0.9, 1.3, 1.7])]


def touchpoint_header() -> list[str]:
    return [_("Touchpoint"), _("Channel"), _("Owner"), _("Personas"), _("Feeling"), _("Pain point"), _("Opportunity")]


def _touchpoint_blocks(stage, notes: list[str]) -> list[dict]:
    touchpoints = list(stage.touchpoints.all())
    if not touchpoints:
        return [heading(_("Touchpoints")), para(_("none"), muted=True)]
    rows = []
    for tp in touchpoints:
        owner = tp.owner.name if tp.owner else _("no owner")
        personas = ", ".join(persona.name for persona in tp.personas.all())
        rows.append([tp.name, tp.channel, owner, personas, _feeling(tp.emotion), tp.pain_point, tp.opportunity])
        details = [
            (_("Description"), tp.description),
            (_("Pain point"), tp.pain_point),
            (_("Opportunity"), tp.opportunity),
        ]
        said = [f"{label}: {text}" for label, text in details if text]
        if said:
            notes.append(tp.name + "\n" + "\n".join(said))
    return [table(touchpoint_header(), rows, [2.4, 1.4, 1.3, 1.6, 1.3, 2.6, 2.6])]


def _comment_blocks(threads: list, notes: list[str]) -> list[dict]:
    if not threads:
        return []
    count = len(threads)
    # Translators: the footer of a stage slide, e.g. "3 open comments".
    title = ngettext("%(count)s open comment", "%(count)s open comments", count) % {"count": number_format(count)}
    blocks = [heading(title)]
    said = []
    for thread in threads:
        author = thread.author.get_username() if thread.author else "–"
        replies = list(thread.replies.all())
        line = f"{author}: {thread.body}"
        if replies:
            # Translators: after an open comment in the deck, e.g. "(2 replies)".
            line += " " + ngettext("(%(count)s reply)", "(%(count)s replies)", len(replies)) % {"count": len(replies)}
        blocks.append(bullet(line))
        said.append(f"{author}: {thread.body}")
        said += [f"  ↳ {reply.author.get_username() if reply.author else '–'}: {reply.body}" for reply in replies]
    notes.append(title + "\n" + "\n".join(said))
    return blocks


def _vote_count(row) -> str:
    return ngettext("%(n)s vote", "%(n)s votes", row.count) % {"n": number_format(row.count)}


def _stage_votes(stage, result) -> list[dict]:
    """The stage's items of the latest closed vote that got dots, most first."""
    if result is None:
        return []
    rows = [row for row in result.voted if row.item.stage_key == stage.key]
    if not rows:
        return []
    # Translators: a heading on a stage slide, e.g. "Vote: What should we fix first?".
    blocks = [heading(_("Vote: %(title)s") % {"title": cut(result.session.title, 70)})]
    return blocks + [bullet(f"{row.item.label} — {_vote_count(row)}") for row in rows]


def coverage_slides(slides: list[dict], journey_map: JourneyMap, gaps: list[Gap]) -> None:
    """Personas x stages: the live content covering each cell, as the coverage tab shows
    it; five stages a table, so that a long journey stays readable."""
    grid = matrices.coverage(journey_map, "personas", gaps)
    stages = grid["stages"]
    out_of_scope = _("out of scope")
    no_content = f"{marks.SEVERITY['error'].symbol} " + _("no live content")
    step = 5
    for start in range(0, max(len(stages), 1), step):
        shown = stages[start : start + step]
        header = [_("Persona"), *(stage.name for stage in shown)]
        rows = []
        for row in grid["rows"]:
            cells = row["cells"][start : start + step]
            texts = []
            for cell in cells:
                if not cell["in_scope"]:
                    texts.append(out_of_scope)
                elif cell["gap"]:
                    texts.append(no_content)
                else:
                    texts.append(", ".join(asset.title for asset in cell["content"]) or "–")
            label = f"{row['label']} ({row['sub']})" if row["sub"] else row["label"]
            rows.append([label, *texts])
        title = _("Content coverage")
        if len(stages) > step:
            title += f" ({start + 1}–{start + len(shown)})"
        table_slides(slides, title, header, rows, widths=[2.2] + [2] * len(shown))


def accountability_slides(slides: list[dict], journey_map: JourneyMap, gaps: list[Gap]) -> None:
    """Who leads each stage, who contributes, and the hand-off to the next stage."""
    grid = matrices.accountability(journey_map, gaps)
    rows, flags, notes = [], [], []
    for row in grid["rows"]:
        stage = row["stage"]
        lead = stage.lead.name if stage.lead else f"{marks.SEVERITY['error'].symbol} " + _("no lead department")
        contributors = ", ".join(cell["department"].name for cell in row["cells"] if cell["part"] == "contributes")
        if row["next"] is None:
            handoff = "–"
        elif row["handoff_missing"]:
            handoff = f"{marks.SEVERITY['warning'].symbol} " + _("no hand-off SLA")
        else:
            handoff = stage.handoff_sla or (_("same lead") if not row["handoff_needed"] else "–")
        if stage.handoff_sla:
            notes.append(f"{stage.name}: {stage.handoff_sla}")
        rows.append([stage.name, lead, contributors or "–", handoff])
        flags.append("error" if row["no_lead"] else "warning" if row["handoff_missing"] else None)
    header = [_("Stage"), _("Lead"), _("Contributing"), _("Hand-off to the next stage")]
    table_slides(slides, _("Accountability"), header, rows, "\n".join(notes), [2, 2, 2.5, 5], marks_=flags)


def funnel_slides(slides: list[dict], journey_map: JourneyMap, gaps: list[Gap]) -> None:
    """Entered, converted, conversion against target per stage, in the latest period."""
    rows, flags = [], []
    for row in matrices.funnel(journey_map, gaps):
        stage = row["stage"]
        change = "–"
        if row["previous"] and row["previous"]["points"] is not None:
            points = row["previous"]["points"]
            # Translators: the change of a conversion rate since the period before, in percentage points.
            change = _("%(points)s pts since %(period)s") % {
                "points": marks.decimal(f"{points:+g}"),
                "period": row["previous"]["period"],
            }
        rows.append(
            [
                stage.name,
                row["period"] or "–",
                number(stage.entered),
                number(stage.converted),
                row["rate"] or "–",
                row["target"] or "–",
                change,
            ]
        )
        flags.append("error" if row["drop_off"] else None)
    header = [_("Stage"), _("Period"), _("Entered"), _("Converted"), _("Conversion"), _("Target"), _("Change")]
    table_slides(slides, _("Funnel"), header, rows, widths=[2.4, 1.3, 1.4, 1.4, 1.4, 1.3, 2.4], marks_=flags)


def swot_slides(slides: list[dict], journey_map: JourneyMap) -> None:
    """The map's SWOT: the items noted, then the touchpoints' pain points (weaknesses) and
    opportunities, each with its stage; where an item comes from is said in the notes."""
    found = swot_rules.swot_items(journey_map)
    stages = {stage.key: stage.name for stage in journey_map.stages.all()}
    headings = dict(SwotItem.KIND_CHOICES)
    sections, notes = [], []
    for kind in swot_rules.KINDS:
        items = []
        for item in found[kind]:
            where = stages.get(item["stage"]) if item["stage"] else _("whole map")
            # Translators: a SWOT item on the deck's SWOT slide and its stage, e.g. "No pricing page (Capture)".
            items.append(_("%(text)s (%(stage)s)") % {"text": item["text"], "stage": where})
            if item["touchpoint"]:
                # Translators: in the SWOT slide's notes: an item that is a touchpoint's pain point or opportunity.
                notes.append(
                    _("%(text)s: from the touchpoint %(touchpoint)s")
                    % {"text": item["text"], "touchpoint": item["touchpoint_name"]}
                )
        sections.append((str(headings[kind]), items))
    bullet_slides(slides, _("SWOT"), sections, "\n".join(notes))


def action_slides(slides: list[dict], journey_map: JourneyMap) -> None:
    """What to fix first: the map's actions in their ranked order, with the formula."""
    ranked = priorities.ranked_actions(journey_map)
    rows = [
        [
            str(row["rank"]),
            row["title"],
            row["stage"] or _("whole journey"),
            row["owner"] or "–",
            date_format(row["due"], "SHORT_DATE_FORMAT") if row["due"] else "–",
            f"{row['impact']}/5",
            f"{row['effort']}/5",
            str(row["votes"]),
            f"{row['score']:.1f}".removesuffix(".0"),
            row["status"],
        ]
        for row in ranked
    ]
    header = [
        _("Rank"),
        _("Action"),
        _("Stage"),
        _("Owner"),
        _("Due"),
        _("Impact"),
        _("Effort"),
        _("Votes"),
        _("Score"),
        _("Status"),
    ]
    notes = "\n".join(f"{row['rank']}. {row['title']} — {row['source'] or '–'} ({row['quadrant']})" for row in ranked)
    intro = [para(priorities.formula(), muted=True)]
    # Translators: the title of the deck's slide of ranked actions.
    table_slides(
        slides, _("What to fix first"), header, rows, notes, [0.8, 4.0, 1.6, 1.6, 1.4, 1.0, 1.0, 0.9, 1.0, 1.4], intro
    )


def whatif_slides(slides: list[dict], journey_map: JourneyMap) -> None:
    """What to fix first on the funnel: the stages below target, by customers gained."""
    gains = whatif.ranking(journey_map)
    title = _("What to fix first on the funnel")
    if not gains:
        intro = [para(_("No stage with funnel figures is below its target conversion."), muted=True)]
        flow_slides(slides, title, intro)
        return
    header = [_("Rank"), _("Stage"), _("Conversion"), _("Target"), _("Customers won now"), _("If on target"), _("Gain")]
    rows = [
        [
            str(rank),
            gain.stage.name,
            marks.percent(gain.rate),
            marks.percent(gain.target),
            whatif.customers(gain.won_now),
            whatif.customers(gain.won_if_target),
            "+" + whatif.customers(gain.gain),
        ]
        for rank, gain in enumerate(gains, 1)
    ]
    intro = [para(whatif.sentence(gains[0]))]
    notes = "\n".join(whatif.sentence(gain) for gain in gains)
    table_slides(slides, title, header, rows, notes, [0.8, 2.6, 1.5, 1.3, 1.8, 1.6, 1.2], intro)


VOTE_SLIDE_ROWS = 10


def vote_slides(slides: list[dict], result: votes.Tally) -> None:
    """The ranked result of the map's latest closed vote: its first ten with their dots."""
    # Translators: the title of the deck's slide with a vote's result, e.g. "Vote: What should we fix first?".
    title = _("Vote: %(title)s") % {"title": cut(result.session.title, 70)}
    ended = result.session.closed or result.session.ends
    summary = ngettext(
        "%(dots)s vote from %(people)s member",
        "%(dots)s votes from %(people)s members",
        result.total or 0,
    ) % {"dots": number_format(result.total or 0), "people": number_format(result.voters or 0)}
    if ended:
        summary = f"{date_format(timezone.localtime(ended), 'DATE_FORMAT')} · {summary}"
    blocks = [para(summary, muted=True)]
    lines = []
    for row in result.top(VOTE_SLIDE_ROWS):
        # Translators: a ranked item on the vote slide, e.g. "1. Webinar: too long — 5 votes".
        line = _("%(rank)s. %(item)s — %(count)s") % {
            "rank": row.rank,
            "item": row.item.label,
            "count": _vote_count(row),
        }
        lines.append(line)
        blocks.append(bullet(line))
    if not lines:
        blocks.append(para(_("No votes were placed."), muted=True))
    flow_slides(slides, title, blocks, "\n".join(lines))


def image_box(png: bytes) -> tuple[float, float, float, float]:
    """Where a picture slide's image goes (left, top, width, height in points): as large as
    fits below the title band, centred; the same on a slide and on a handout page."""
    with Image.open(io.BytesIO(png)) as image:
        width, height = image.size
    box_width = PAGE_WIDTH - 2 * MARGIN
    box_height = PAGE_HEIGHT - IMAGE_TOP - MARGIN / 2
    scale = min(box_width / width, box_height / height)
    left = (PAGE_WIDTH - width * scale) / 2
    top = IMAGE_TOP + (box_height - height * scale) / 2
    return left, top, width * scale, height * scale


def placed(slide: dict) -> list[tuple[dict, float, float]]:
    """The blocks of a flow slide with their top and height in points, as both renderers
    draw them."""
    top, found, scale = BODY_TOP, [], slide.get("scale", 1.0)
    for block in slide["blocks"]:
        if block["kind"] == "table":
            widths = column_widths(block["widths"])
            rows = [block["header"], *block["rows"]]
            height = sum(row_height(row, widths, scale) for row in rows)
            found.append((block, top, height))
            top += height + TABLE_AFTER
        else:
            height = block_height(block, scale)
            found.append((block, top, height))
            top += height
    return found
