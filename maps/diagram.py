"""Diagrams: a loaded journey map -> plain data -> DOT -> rendered bytes.

`build_graph_data` reads the prefetched map (never a query of its own) into plain,
JSON-able data with the full texts; `build_dot` turns that data into DOT, wrapping and
cutting long texts for the picture only; `render` runs Graphviz's `dot` with file
loading switched off and caches the result by a hash of the DOT source.

Every piece of user text reaches DOT through `_html`, inside HTML-like labels; no
plain string attribute carries user text. Node ids come from primary keys, and the
only URL in the DOT is the one the caller builds for a touchpoint (through `_url`).
"""

from __future__ import annotations

import hashlib
import html
import os
import subprocess
import textwrap
import unicodedata
from collections.abc import Callable

import graphviz
from django.conf import settings
from django.core.cache import cache

from . import marks
from .gaps import CONTENT_GAP, SEVERITIES, Gap, find_gaps, stage_content, stage_summary, touchpoint_summary
from .models import ContentAsset, JourneyMap, MapPersona

VIEWS = ("stages", "departments", "persona:KEY")
FORMATS = ("svg", "png", "pdf", "dot")
FONT = "Noto Sans CJK JP"  # covers Latin and Japanese in SVG, PNG and PDF alike


def _palette(colour: marks.DepartmentColour) -> tuple[str, str]:
    return colour.strong, colour.tint


NO_OWNER_COLOR = _palette(marks.NO_DEPARTMENT)

# A stage's mark (maps.marks): colour, border style and a symbol, so it reads in black and
# white too; only the pen widths are the diagram's own.
PENWIDTH = {"error": "3.5", "warning": "2.5", "info": "2.5", None: "1"}
MARKS = {
    severity: {
        "color": mark.color,
        "fill": mark.soft,
        "style": mark.border,
        "penwidth": PENWIDTH[severity],
        "symbol": mark.symbol,
        "word": mark.word,
    }
    for severity, mark in marks.SEVERITY.items()
}
FLOW_COLOR, HANDOFF_COLOR = "#8A8F98", "#263238"
TEXT_MUTED = "#5F6670"

NAME_LIMIT, WRAP = 60, 24
LARGE_MAP = 200  # touchpoints; above this dot gets the faster, rougher layout settings
# NOTES.md's settings for big layouts, with fewer crossing passes and straight edges:
# measured on a 20 x 100 map with a random extra flow per touchpoint, 8.6 s -> 3.6 s.
FAST_LAYOUT = {
    "nslimit": "2",
    "nslimit1": "2",
    "mclimit": "0.1",
    "remincross": "false",
    "searchsize": "10",
    "splines": "line",
}
# Slide PNGs: fit a 3840 x 2160 box at 96 dpi, scaling small maps up and large ones
# down, which also keeps cairo far below its 32,767 px limit.
FORMAT_ARGS = {"png": ["-Gdpi=96", "-Gsize=40,22.5!"]}


class DiagramError(Exception):
    """A diagram that cannot be made; the message is one line, fit for a user."""


# -- views -----------------------------------------------------------------------------


def parse_view(view: str, journey_map: JourneyMap) -> tuple[str, MapPersona | None]:
    """("stages" | "departments" | "persona", the map's persona entry for persona views)."""
    if view in ("stages", "departments"):
        return view, None
    kind, sep, key = view.partition(":")
    if kind != "persona" or not sep:
        raise DiagramError(f'unknown view "{view}": use stages, departments or persona:KEY')
    for map_persona in journey_map.map_personas.all():
        if map_persona.persona.key == key:
            return "persona", map_persona
    raise DiagramError(f'no persona "{key}" in map "{journey_map.key}"')


# -- plain data ------------------------------------------------------------------------


def build_graph_data(journey_map: JourneyMap, gaps: list[Gap], view: str = "stages") -> dict:
    """The picture as plain data with the full texts: stages, lanes, cards, edges, legend."""
    kind, map_persona = parse_view(view, journey_map)
    all_stages = list(journey_map.stages.all())
    stages = all_stages
    departments = list(journey_map.workspace.departments.all())
    colors = {dep.id: _palette(marks.department_colour(index)) for index, dep in enumerate(departments)}
    persona = map_persona.persona if map_persona else None
    if map_persona:
        scope = {stage.id for stage in map_persona.stages.all()}
        stages = [stage for stage in stages if not scope or stage.id in scope]
        # Another persona's content gap says nothing about this persona's path.
        gaps = [gap for gap in gaps if gap.persona in (None, persona.key)]
    stage_marks = stage_summary(gaps, [stage.key for stage in stages])
    tp_marks = touchpoint_summary(gaps)
    shown: dict[int, dict] = {}
    data_stages = []
    for stage in stages:
        touchpoints = [
            tp
            for tp in stage.touchpoints.all()
            if persona is None or any(p.id == persona.id for p in tp.personas.all())
        ]
        for tp in touchpoints:
            shown[tp.id] = _touchpoint_data(tp, stage, colors, tp_marks, gaps)
        data_stages.append(
            _stage_data(stage, all_stages.index(stage) + 1, touchpoints, stage_marks[stage.key], persona, gaps)
        )
    lanes = [{"id": f"dep_{dep.pk}", "key": dep.key, "name": dep.name, "color": colors[dep.id]} for dep in departments]
    owners = {tp["owner"] for tp in shown.values()}
    if None in owners:
        lanes.append({"id": "dep_none", "key": None, "name": "No owner", "color": NO_OWNER_COLOR})
    if kind != "departments":
        lanes = [lane for lane in lanes if lane["key"] in owners]
    return {
        "view": view,
        "kind": kind,
        "title": journey_map.name,
        "persona": {"key": persona.key, "name": persona.name} if persona else None,
        "stages": data_stages,
        "touchpoints": list(shown.values()),
        "edges": _edges(stages, shown),
        "lanes": lanes if kind == "departments" else [],
        "legend": {"departments": [(lane["name"], lane["color"]) for lane in lanes]},
        "large": len(shown) > LARGE_MAP,
    }


def _stage_data(stage, number: int, touchpoints, mark, persona, gaps) -> dict:
    severity, count = mark
    return {
        "id": f"st_{stage.pk}",
        "key": stage.key,
        "number": number,
        "name": stage.name,
        "goal": stage.goal,
        "lead": stage.lead.name if stage.lead else None,
        "severity": severity,
        "gap_count": count,
        "touchpoints": [f"tp_{tp.pk}" for tp in touchpoints],
        "content": _serving_content(stage, persona) if persona else [],
        "content_gaps": [gap.message for gap in gaps if persona and gap.stage == stage.key and gap.code == CONTENT_GAP],
    }


def _touchpoint_data(tp, stage, colors, tp_marks, gaps) -> dict:
    severity, _count = tp_marks.get(tp.key, (None, 0))
    return {
        "id": f"tp_{tp.pk}",
        "key": tp.key,
        "stage": stage.key,
        "name": tp.name,
        "description": tp.description,
        "channel": tp.channel,
        "owner": tp.owner.key if tp.owner else None,
        "owner_name": tp.owner.name if tp.owner else "No owner",
        "owner_id": tp.owner_id,
        "color": colors.get(tp.owner_id, NO_OWNER_COLOR),
        "personas": [p.name for p in tp.personas.all()],
        "emotion": tp.emotion,
        "severity": severity,
        "gap_codes": sorted({gap.code for gap in gaps if gap.touchpoint == tp.key and gap.stage == stage.key}),
    }


def _serving_content(stage, persona) -> list[dict]:
    """Live content linked to the stage that targets the persona: what serves them here."""
    targeted = {asset.id for asset in persona.content.all()}
    return [
        {"id": f"ct_{stage.pk}_{asset.pk}", "key": asset.key, "title": asset.title, "type": asset.get_type_display()}
        for asset in stage_content(stage)
        if asset.status == ContentAsset.LIVE and asset.id in targeted
    ]


def _edges(stages, shown: dict) -> list[dict]:
    edges = []
    for stage in stages:
        for tp in stage.touchpoints.all():
            if tp.id not in shown:
                continue
            # flow.target is not prefetched with its owner: read it from what we hold.
            for flow in tp.flows_out.all():
                target = shown.get(flow.target_id)
                if target is None:
                    continue
                source = shown[tp.id]
                edges.append(
                    {
                        "source": source["id"],
                        "target": target["id"],
                        "handoff": source["owner_id"] != target["owner_id"],
                    }
                )
    return edges


# -- DOT -------------------------------------------------------------------------------


def build_dot(data: dict, url_for_touchpoint: Callable[[str], str] | None = None) -> str:
    """DOT source for `data`; `url_for_touchpoint(key)` links each card (SVG only)."""
    graph = graphviz.Digraph(
        "journeymap",
        graph_attr={
            "rankdir": "LR",
            "newrank": "true",
            "compound": "true",
            "splines": "spline",
            "fontname": FONT,
            "fontsize": "12",
            "bgcolor": "white",
            "pad": "0.4",
            "nodesep": "0.35",
            "ranksep": "0.7",
            "labelloc": "t",
            "labeljust": "l",
            "label": f"<{_title_html(data)}>",
            "charset": "UTF-8",
            **(FAST_LAYOUT if data["large"] else {}),
        },
        node_attr={
            "fontname": FONT,
            "fontsize": "11",
            "shape": "box",
            "style": "rounded,filled",
            "margin": "0.05,0.03",
            "penwidth": "1.2",
        },
        edge_attr={"fontname": FONT, "fontsize": "9", "color": FLOW_COLOR, "penwidth": "1.3", "arrowsize": "0.7"},
    )
    cards = {tp["id"]: tp for tp in data["touchpoints"]}
    if data["kind"] == "departments":
        _add_lanes(graph, data, url_for_touchpoint)
    else:
        _add_stage_columns(graph, data, cards, url_for_touchpoint)
    for edge in data["edges"]:
        graph.edge(edge["source"], edge["target"], **_edge_attrs(edge, data["kind"] == "departments"))
    graph.node("legend", label=f"<{_legend_html(data)}>", shape="plain", style="")
    last = data["stages"][-1]["id"] + "_anchor" if data["stages"] else None
    if last:
        graph.edge(last, "legend", style="invis", weight="0")
    return graph.source


def _add_stage_columns(graph, data, cards, url_for_touchpoint) -> None:
    """One cluster per stage, left to right; its cards stacked top to bottom in order."""
    previous = None
    for stage in data["stages"]:
        mark = MARKS[stage["severity"]]
        with graph.subgraph(name=f"cluster_{stage['id']}") as cluster:
            cluster.attr(
                label=f"<{_stage_html(stage)}>",
                style=f"rounded,filled,{mark['style']}",
                color=mark["color"],
                fillcolor=mark["fill"],
                penwidth=mark["penwidth"],
                margin="14",
            )
            column = [tp_id for tp_id in stage["touchpoints"]]
            for tp_id in column:
                _add_card(cluster, cards[tp_id], url_for_touchpoint)
            if not column:
                cluster.node(
                    f"{stage['id']}_empty",
                    label=f"<{_empty_html(data)}>",
                    style="rounded,dashed",
                    color="#9AA0A6",
                    fontcolor=TEXT_MUTED,
                )
                column = [f"{stage['id']}_empty"]
            column += _add_persona_notes(cluster, stage)
            anchor = f"{stage['id']}_anchor"
            cluster.node(anchor, label="", shape="point", style="invis", width="0")
            column.insert(0, anchor)
            cluster.body.append("\t{rank=same; " + "; ".join(column) + "}\n")
            # Invisible edges within the rank keep the cards in their stored order; in
            # an LR layout a flat edge puts its tail below its head, hence lower -> upper.
            for upper, lower in zip(column, column[1:]):
                cluster.edge(lower, upper, style="invis")
        if previous:
            graph.edge(previous, anchor, style="invis", weight="20")
        previous = anchor


def _add_persona_notes(cluster, stage) -> list[str]:
    ids = []
    for content in stage["content"]:
        cluster.node(
            content["id"],
            label=f"<{_content_html(content)}>",
            shape="note",
            style="filled",
            fillcolor="#FFFBE6",
            color="#B8A14A",
        )
        ids.append(content["id"])
    if stage["content_gaps"]:
        gap_id = f"{stage['id']}_content_gap"
        lines = "".join(
            f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{_html(m, 28, 90)}</TD></TR>' for m in stage["content_gaps"]
        )
        cluster.node(
            gap_id,
            shape="note",
            style="filled,bold",
            fillcolor="#FFFFFF",
            color=MARKS["error"]["color"],
            penwidth="2.5",
            label=f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="2"><TR><TD ALIGN="LEFT">'
            f'<FONT COLOR="{MARKS["error"]["color"]}"><B>{MARKS["error"]["symbol"]} content gap</B></FONT>'
            f"</TD></TR>{lines}</TABLE>>",
        )
        ids.append(gap_id)
    return ids


def _add_lanes(graph, data, url_for_touchpoint) -> None:
    """Swimlanes: a row per department, a column per stage, a header row on top.

    With newrank, `rank=same` reaches across clusters, so each stage's column lines up
    through all the lanes, and invisible cells give every lane the full width. dot
    ignores flat edges between clusters and, in an LR layout, stacks the lane clusters
    top to bottom in the order it meets them; the header goes in last."""
    stages = data["stages"]
    columns = {stage["key"]: [f"{stage['id']}_anchor"] for stage in stages}
    for index, lane in enumerate(data["lanes"]):
        _add_lane(graph, data, lane, index, columns, url_for_touchpoint)
    with graph.subgraph(name="cluster_header") as header:
        header.attr(style="invis", label="")
        header.node("corner", label="", shape="point", style="invis", width="0")
        for stage in stages:
            mark = MARKS[stage["severity"]]
            header.node(
                f"{stage['id']}_anchor",
                label=f"<{_stage_html(stage)}>",
                style=f"rounded,filled,{mark['style']}",
                color=mark["color"],
                fillcolor=mark["fill"],
                penwidth=mark["penwidth"],
                margin="0.12,0.06",
            )
    lane_ids = "; ".join(lane["id"] for lane in data["lanes"])
    graph.body.append(f"\t{{rank=same; corner; {lane_ids}}}\n")
    previous = "corner"
    for stage in stages:
        graph.body.append("\t{rank=same; " + "; ".join(columns[stage["key"]]) + "}\n")
        graph.edge(previous, f"{stage['id']}_anchor", style="invis", weight="10")
        previous = f"{stage['id']}_anchor"


def _add_lane(graph, data, lane, index, columns, url_for_touchpoint) -> None:
    cells = [lane["id"]] + [f"{lane['id']}_{stage['id']}" for stage in data["stages"]]
    with graph.subgraph(name=f"cluster_{lane['id']}") as cluster:
        # The lane's name is the cluster's label, so it sits top left in every lane.
        cluster.attr(
            label=f"<{_lane_html(lane)}>",
            labeljust="l",
            labelloc="t",
            style="filled",
            color="#D5D8DC",
            fillcolor="#FAFBFC" if index % 2 else "#F2F4F6",
            penwidth="1",
        )
        cluster.node(lane["id"], label="", shape="point", style="invis", width="1.2")
        for stage, cell in zip(data["stages"], cells[1:]):
            cluster.node(cell, label="", shape="point", style="invis", width="0")
            columns[stage["key"]].append(cell)
        for tp in data["touchpoints"]:
            if tp["owner"] == lane["key"]:
                _add_card(cluster, tp, url_for_touchpoint)
                columns[tp["stage"]].append(tp["id"])
    for left, right in zip(cells, cells[1:]):
        graph.edge(left, right, style="invis", weight="10")


def _add_card(graph, tp: dict, url_for_touchpoint) -> None:
    strong, tint = tp["color"]
    attrs = {"label": f"<{_card_html(tp)}>", "fillcolor": tint, "color": strong}
    if tp["severity"]:
        mark = MARKS[tp["severity"]]
        attrs.update(color=mark["color"], penwidth="3.5", style="rounded,filled,bold")
    if url_for_touchpoint:
        attrs["URL"] = _url(url_for_touchpoint(tp["key"]))
        # Graphviz 2.43 runs tooltips through two rounds of backslash escapes; without
        # one it shows the label's HTML source. A fixed text is the only safe choice.
        attrs["tooltip"] = "Open this touchpoint"
        attrs["target"] = "_top"
    graph.node(tp["id"], **attrs)


def _edge_attrs(edge: dict, labelled: bool) -> dict:
    if not edge["handoff"]:
        return {}
    attrs = {"color": HANDOFF_COLOR, "penwidth": "2.6", "style": "bold", "arrowsize": "0.9"}
    # Where lanes are the point, every hand-off also says so in words; in the stage view
    # the labels would only crowd the cards, and the legend explains the bold arrow.
    if labelled:
        attrs.update(xlabel="hand-off", fontcolor=HANDOFF_COLOR)
    return attrs


# -- labels: the only places user text enters the DOT ------------------------------------


def _clean(text: object) -> str:
    """One line of printable text: newlines and control characters would break the
    picture (and control characters the SVG's XML)."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in str(text or ""))
    return " ".join(text.split())


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """textwrap, then a hard split by display width for text without spaces (Japanese)."""
    lines = []
    for line in textwrap.wrap(text, width) or [""]:
        while _display_width(line) > width:
            cut = 1
            while _display_width(line[: cut + 1]) <= width:
                cut += 1
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    return lines


def _html(text: object, width: int = WRAP, limit: int = NAME_LIMIT, max_lines: int = 3) -> str:
    """User text for an HTML-like label: cut to `limit` characters, wrapped, escaped."""
    text = _clean(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    lines = _wrap(text, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, len(lines[-1]) - 1)] + "…"
    # Graphviz 2.43 expands \N, \G, \L... even inside HTML-like labels (even as &#92;N);
    # a doubled backslash comes out as one.
    return "<BR/>".join(html.escape(line, quote=True).replace("\\", "\\\\") for line in lines)


def _url(url: str) -> str:
    """Our own link for a card. Graphviz 2.43 writes URL into SVG without XML-escaping it
    (a quote would end the attribute), while it keeps entities it is given: so escape."""
    return graphviz.escape(html.escape(url, quote=True))


def _title_html(data: dict) -> str:
    subtitle = {"stages": "Journey by stage", "departments": "Who owns each touchpoint"}.get(data["kind"], "")
    if data["persona"]:
        subtitle = "Path of " + _html(data["persona"]["name"], 60, 60, 1)
    return (
        f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="22"><B>{_html(data["title"], 80, 80, 1)}'
        f'</B></FONT></TD></TR><TR><TD ALIGN="LEFT"><FONT POINT-SIZE="13" COLOR="{TEXT_MUTED}">'
        f"{subtitle}</FONT></TD></TR><TR><TD> </TD></TR></TABLE>"
    )


def _badge(severity: str | None, count: int) -> str:
    mark = MARKS[severity]
    if severity is None:
        text = f"{mark['symbol']} no gaps"
    else:
        text = f"{mark['symbol']} {count} gap{'s' if count != 1 else ''} · worst: {mark['word']}"
    return (
        f'<TABLE BORDER="0" CELLPADDING="3" CELLSPACING="0"><TR>'
        f'<TD BGCOLOR="{mark["color"]}"><FONT COLOR="white" POINT-SIZE="11"><B>{text}</B>'
        f"</FONT></TD></TR></TABLE>"
    )


def _stage_html(stage: dict) -> str:
    rows = [f'<FONT POINT-SIZE="16"><B>{stage["number"]} · {_html(stage["name"], 26, 60, 2)}</B></FONT>']
    if stage["goal"]:
        rows.append(f'<FONT POINT-SIZE="10" COLOR="{TEXT_MUTED}"><I>{_html(stage["goal"], 36, 80, 2)}</I></FONT>')
    lead = _html(stage["lead"], 30, 40, 1) if stage["lead"] else "<B>no lead department</B>"
    rows.append(f'<FONT POINT-SIZE="10" COLOR="{TEXT_MUTED}">Lead: {lead}</FONT>')
    rows.append(_badge(stage["severity"], stage["gap_count"]))
    cells = "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{row}</TD></TR>' for row in rows)
    return f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="1">{cells}</TABLE>'


def _card_html(tp: dict) -> str:
    strong, _tint = tp["color"]
    meta = " · ".join(filter(None, [_html(tp["channel"], 40, 30, 1), _html(tp["owner_name"], 40, 30, 1)]))
    rows = [
        f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="12"><B>{_html(tp["name"])}</B></FONT></TD>',
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{TEXT_MUTED}">{meta}</FONT></TD>',
    ]
    if tp["personas"]:
        names = ", ".join(_clean(name) for name in tp["personas"])
        rows.append(f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10">for {_html(names, 30, 60, 2)}</FONT></TD>')
    rows.append(f'<TD ALIGN="LEFT">{_emotion_html(tp["emotion"])}</TD>')
    for code in tp["gap_codes"]:
        mark = MARKS[tp["severity"]]
        rows.append(
            f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{mark["color"]}">'
            f"<B>! {html.escape(code.replace('-', ' '))}</B></FONT></TD>"
        )
    body = "".join(f"<TR>{row}</TR>" for row in rows)
    return (
        f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT" HEIGHT="4" BGCOLOR="{strong}"></TD></TR>{body}</TABLE>'
    )


def _emotion_html(emotion: int | None) -> str:
    """A diverging five-step bar plus the number and a word: readable without colour."""
    if emotion is None:
        return f'<FONT POINT-SIZE="9" COLOR="{TEXT_MUTED}">feeling not rated</FONT>'
    cells = []
    mood = marks.feeling(emotion)
    for step in range(marks.EMOTION_MIN, marks.EMOTION_MAX + 1):
        filled = (step == 0) or (emotion < 0 and emotion <= step < 0) or (0 < step <= emotion)
        color = marks.EMOTIONS[step].color if filled else "#E3E5E8"
        cells.append(f'<TD WIDTH="11" HEIGHT="8" FIXEDSIZE="TRUE" BGCOLOR="{color}"></TD>')
    bar = f'<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="1"><TR>{"".join(cells)}</TR></TABLE>'
    emotion_text = f"{emotion:+d}" if emotion else "0"
    return (
        f'<TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR><TD>{bar}</TD>'
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{mood.color}"> {mood.symbol} {emotion_text} {mood.word}'
        f"</FONT></TD></TR></TABLE>"
    )


def _content_html(content: dict) -> str:
    return (
        f'<TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="11">{_html(content["title"])}</FONT></TD></TR>'
        f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{TEXT_MUTED}">'
        f"{_html(content['type'], 30, 30, 1)} · serves this stage</FONT></TD></TR></TABLE>"
    )


def _empty_html(data: dict) -> str:
    if data["persona"]:
        return f"No touchpoint reaches<BR/>{_html(data['persona']['name'])}"
    return "No touchpoints yet"


def _lane_html(lane: dict) -> str:
    strong, _tint = lane["color"]
    return (
        f'<TABLE BORDER="0" CELLPADDING="6" CELLSPACING="0"><TR>'
        f'<TD BGCOLOR="{strong}" WIDTH="8"></TD>'
        f'<TD ALIGN="LEFT" BALIGN="LEFT" WIDTH="130"><FONT POINT-SIZE="14"><B>{_html(lane["name"], 16, 40, 2)}'
        f"</B></FONT></TD></TR></TABLE>"
    )


def _legend_html(data: dict) -> str:
    rows = ['<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="13"><B>Legend</B></FONT></TD></TR>']
    for severity in (*SEVERITIES, None):
        mark = MARKS[severity]
        border = {"solid": "thick solid border", "dashed": "dashed border", "dotted": "dotted border"}[mark["style"]]
        if severity is None:
            border = "thin border"
        rows.append(
            f'<TR><TD BGCOLOR="{mark["color"]}" WIDTH="26"><FONT COLOR="white">'
            f'{mark["symbol"]}</FONT></TD><TD ALIGN="LEFT">stage: {mark["word"]}, {border}</TD></TR>'
        )
    rows.append(
        f'<TR><TD BORDER="3" COLOR="{MARKS["error"]["color"]}" WIDTH="26">!</TD>'
        '<TD ALIGN="LEFT">touchpoint with a gap (thick border)</TD></TR>'
    )
    rows.append(f'<TR><TD><FONT COLOR="{FLOW_COLOR}">→</FONT></TD><TD ALIGN="LEFT">flow</TD></TR>')
    rows.append(
        f'<TR><TD><FONT COLOR="{HANDOFF_COLOR}"><B>➜</B></FONT></TD>'
        f'<TD ALIGN="LEFT"><B>hand-off</B> between departments</TD></TR>'
    )
    rows.append(
        f'<TR><TD>{marks.EMOTIONS[1].symbol}</TD><TD ALIGN="LEFT"><TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>'
        f"<TD>feeling, −2 to +2:  </TD><TD>{_emotion_html(-1)}</TD></TR></TABLE></TD></TR>"
    )
    for name, (strong, tint) in data["legend"]["departments"]:
        rows.append(
            f'<TR><TD BGCOLOR="{tint}" BORDER="2" COLOR="{strong}" WIDTH="26"> </TD>'
            f'<TD ALIGN="LEFT">{_html(name, 30, 40, 1)}</TD></TR>'
        )
    return (
        f'<FONT POINT-SIZE="10"><TABLE BORDER="1" COLOR="#D5D8DC" CELLBORDER="0" CELLPADDING="3"'
        f' CELLSPACING="2" BGCOLOR="white">{"".join(rows)}</TABLE></FONT>'
    )


# -- rendering ---------------------------------------------------------------------------


def _cache_hash(dot_source: str, fmt: str) -> str:
    return hashlib.sha256(f"{fmt}\0{dot_source}".encode()).hexdigest()


def dot_etag(dot_source: str, fmt: str) -> str:
    """The HTTP ETag of a rendering: it changes exactly when the DOT or format does."""
    return f'"{_cache_hash(dot_source, fmt)}"'


def render(dot_source: str, fmt: str) -> bytes:
    """`dot_source` laid out as svg, png or pdf (or itself for dot), cached by its hash."""
    if fmt not in FORMATS:
        raise DiagramError(f'unknown format "{fmt}": use {", ".join(FORMATS)}')
    if fmt == "dot":
        return dot_source.encode()
    key = "diagram:" + _cache_hash(dot_source, fmt)
    output = cache.get(key)
    if output is None:
        output = _run_dot(dot_source, fmt)
        cache.set(key, output)
    return output


def _run_dot(dot_source: str, fmt: str) -> bytes:
    # SERVER_NAME set and GV_FILE_PATH unset switch off Graphviz's loading of local
    # files (image, shapefile, <IMG SRC>), whatever the DOT says.
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "SERVER_NAME": "journeymap"}
    timeout = settings.GRAPHVIZ_TIMEOUT
    try:
        result = subprocess.run(
            [settings.GRAPHVIZ_DOT, f"-T{fmt}", *FORMAT_ARGS.get(fmt, [])],
            input=dot_source.encode(),
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise DiagramError(
            f"This map is too complex to lay out in {timeout} seconds; try the view of one persona, or split the map."
        ) from None
    except OSError as exc:
        raise DiagramError(f"Graphviz could not be started: {exc}") from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise DiagramError(f"Graphviz failed: {lines[0] if lines else 'exit status ' + str(result.returncode)}")
    return result.stdout


def diagram_for(
    journey_map: JourneyMap,
    view: str = "stages",
    fmt: str = "svg",
    gaps: list[Gap] | None = None,
    url_for_touchpoint: Callable[[str], str] | None = None,
) -> bytes:
    """The whole pipeline for a loaded map: gaps, data, DOT, rendering."""
    gaps = find_gaps(journey_map) if gaps is None else gaps
    dot_source = build_dot(build_graph_data(journey_map, gaps, view), url_for_touchpoint)
    return render(dot_source, fmt)
