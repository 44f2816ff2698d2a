"""Diagrams: a loaded journey map -> plain data -> DOT -> rendered bytes.

`build_graph_data` reads the prefetched map (never a query of its own) into plain,
JSON-able data with the full texts; `build_dot` turns that data into DOT, wrapping and
cutting long texts for the picture only; `render` runs Graphviz's `dot` with file
loading switched off and caches the result by a hash of the DOT source.

Every piece of user text reaches DOT through `_html`, inside HTML-like labels; no
plain string attribute carries user text. Our own words are text too (a translation can
hold anything): they go through the same escaping (`_words`, `_fill`). Node ids come from primary keys, and the
only URL in the DOT is the one the caller builds for a touchpoint (through `_url`).
"""

from __future__ import annotations

import hashlib
import html
import os
import re
import subprocess
import unicodedata
from collections.abc import Callable, Collection

import graphviz
from django.conf import settings
from django.core.cache import cache
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import marks
from .gaps import (
    CONTENT_GAP,
    SEVERITIES,
    Gap,
    code_label,
    find_gaps,
    stage_content,
    stage_summary,
    touchpoint_summary,
)
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
# Touchpoints; above this the flows between stages are drawn as one counted arrow per
# pair of stages. Long cross-stage edges are what dot spends its time on (NOTES.md: 27,722
# virtual nodes on a dense 2,000-card map), and thousands of them read as a grey fog.
COARSE_MAP = 600
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
# A picture on a slide of the deck (maps.deck) or a page of the handout: 1920 x 1080 is
# sharp there, and a quarter of the pixels to draw, compress and embed.
SLIDE_PNG_ARGS = ["-Gdpi=96", "-Gsize=20,11.25!"]


class DiagramError(Exception):
    """A diagram that cannot be made; the message is one line, fit for a user."""


# -- views -----------------------------------------------------------------------------


def parse_view(view: str, journey_map: JourneyMap) -> tuple[str, MapPersona | None]:
    """("stages" | "departments" | "persona", the map's persona entry for persona views)."""
    if view in ("stages", "departments"):
        return view, None
    kind, sep, key = view.partition(":")
    if kind != "persona" or not sep:
        # Translators: "stages", "departments" and "persona:KEY" are what to type; keep them as they are.
        raise DiagramError(_('unknown view "%(view)s": use stages, departments or persona:KEY') % {"view": view})
    for map_persona in journey_map.map_personas.all():
        if map_persona.persona.key == key:
            return "persona", map_persona
    raise DiagramError(_('no persona "%(persona)s" in map "%(map)s"') % {"persona": key, "map": journey_map.key})


# -- plain data ------------------------------------------------------------------------


def view_stages(journey_map: JourneyMap, map_persona: MapPersona | None) -> list[tuple]:
    """What a view shows: (stage, its touchpoints) in order. A persona's view keeps the
    stages of the persona's scope and the touchpoints that reach the persona; the others
    show everything. The diagram and the Mermaid journey (maps/mermaid.py) both read it."""
    stages = list(journey_map.stages.all())
    if map_persona is None:
        return [(stage, list(stage.touchpoints.all())) for stage in stages]
    persona = map_persona.persona
    scope = {stage.id for stage in map_persona.stages.all()}
    return [
        (stage, [tp for tp in stage.touchpoints.all() if any(p.id == persona.id for p in tp.personas.all())])
        for stage in stages
        if not scope or stage.id in scope
    ]


def build_graph_data(
    journey_map: JourneyMap, gaps: list[Gap], view: str = "stages", stage_keys: Collection[str] | None = None
) -> dict:
    """The picture as plain data with the full texts: stages, lanes, cards, edges, legend.
    With `stage_keys`, only those stages of the view (a deck splits a wide map so)."""
    kind, map_persona = parse_view(view, journey_map)
    all_stages = list(journey_map.stages.all())
    shown_stages = view_stages(journey_map, map_persona)
    if stage_keys is not None:
        shown_stages = [(stage, touchpoints) for stage, touchpoints in shown_stages if stage.key in stage_keys]
    stages = [stage for stage, _touchpoints in shown_stages]
    departments = list(journey_map.workspace.departments.all())
    colors = {dep.id: _palette(marks.department_colour(index)) for index, dep in enumerate(departments)}
    persona = map_persona.persona if map_persona else None
    if map_persona:
        # Another persona's content gap says nothing about this persona's path.
        gaps = [gap for gap in gaps if gap.persona in (None, persona.key)]
    stage_marks = stage_summary(gaps, [stage.key for stage in stages])
    tp_marks = touchpoint_summary(gaps)
    # The gap rows indexed once, not scanned again for every card and stage.
    codes: dict[tuple[str, str], set[str]] = {}
    content_gaps: dict[str, list[str]] = {}
    for gap in gaps:
        if gap.touchpoint:
            codes.setdefault((gap.stage, gap.touchpoint), set()).add(gap.code)
        if persona and gap.code == CONTENT_GAP:
            content_gaps.setdefault(gap.stage, []).append(gap.message)
    shown: dict[int, dict] = {}
    data_stages = []
    numbers = {stage.pk: number for number, stage in enumerate(all_stages, 1)}
    for stage, touchpoints in shown_stages:
        number = numbers[stage.pk]
        for tp in touchpoints:
            shown[tp.id] = _touchpoint_data(tp, stage, colors, tp_marks, codes.get((stage.key, tp.key), ()))
        data_stages.append(
            _stage_data(stage, number, touchpoints, stage_marks[stage.key], persona, content_gaps.get(stage.key, []))
        )
    lanes = [{"id": f"dep_{dep.pk}", "key": dep.key, "name": dep.name, "color": colors[dep.id]} for dep in departments]
    owners = {tp["owner"] for tp in shown.values()}
    if None in owners:
        lanes.append({"id": "dep_none", "key": None, "name": _("No owner"), "color": NO_OWNER_COLOR})
    if kind != "departments":
        lanes = [lane for lane in lanes if lane["key"] in owners]
    stage_of = {card["id"]: card["stage"] for card in shown.values()}

    def shown_stage(card_id: str) -> str:
        return stage_of[card_id]

    edges = _edges(stages, shown)
    coarse = len(shown) > COARSE_MAP
    stage_flows = _stage_flows(edges, shown, data_stages) if coarse else []
    if coarse:
        edges = [edge for edge in edges if shown_stage(edge["source"]) == shown_stage(edge["target"])]
    return {
        "view": view,
        "kind": kind,
        "title": journey_map.name,
        "persona": {"key": persona.key, "name": persona.name} if persona else None,
        "stages": data_stages,
        "touchpoints": list(shown.values()),
        "edges": edges,
        "stage_flows": stage_flows,
        "coarse": coarse,
        "lanes": lanes if kind == "departments" else [],
        "legend": {"departments": [(lane["name"], lane["color"]) for lane in lanes]},
        "large": len(shown) > LARGE_MAP,
    }


def _stage_data(stage, number: int, touchpoints, mark, persona, content_gaps: list[str]) -> dict:
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
        "content_gaps": content_gaps,
    }


def _touchpoint_data(tp, stage, colors, tp_marks, gap_codes) -> dict:
    severity, _count = tp_marks.get(tp.key, (None, 0))
    return {
        "id": f"tp_{tp.pk}",
        "key": tp.key,
        "stage": stage.key,
        "name": tp.name,
        "description": tp.description,
        "channel": tp.channel,
        "owner": tp.owner.key if tp.owner else None,
        "owner_name": tp.owner.name if tp.owner else _("No owner"),
        "owner_id": tp.owner_id,
        "color": colors.get(tp.owner_id, NO_OWNER_COLOR),
        "personas": [p.name for p in tp.personas.all()],
        "emotion": tp.emotion,
        "severity": severity,
        "gap_codes": sorted(gap_codes),
    }


def _serving_content(stage, persona) -> list[dict]:
    """Live content linked to the stage that targets the persona: what serves them here."""
    targeted = {asset.id for asset in persona.content.all()}
    return [
        {
            "id": f"ct_{stage.pk}_{asset.pk}",
            "key": asset.key,
            "title": asset.title,
            "type": str(asset.get_type_display()),
        }
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


def _stage_flows(edges: list[dict], shown: dict, data_stages: list[dict]) -> list[dict]:
    """The flows between two different stages, one entry per (from, to) pair of stages
    with how many there are and how many of them hand over between departments."""
    stage_ids = {stage["key"]: stage["id"] for stage in data_stages}
    stage_of = {card["id"]: card["stage"] for card in shown.values()}
    pairs: dict[tuple[str, str], dict] = {}
    for edge in edges:
        source, target = stage_of[edge["source"]], stage_of[edge["target"]]
        if source == target:
            continue
        flow = pairs.setdefault(
            (source, target), {"source": stage_ids[source], "target": stage_ids[target], "count": 0, "handoffs": 0}
        )
        flow["count"] += 1
        flow["handoffs"] += edge["handoff"]
    order = {stage["key"]: index for index, stage in enumerate(data_stages)}
    return [pairs[pair] for pair in sorted(pairs, key=lambda pair: (order[pair[0]], order[pair[1]]))]


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
    for flow in data["stage_flows"]:
        _add_stage_flow(graph, flow, clusters=data["kind"] != "departments")
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
            f'<FONT COLOR="{MARKS["error"]["color"]}"><B>{MARKS["error"]["symbol"]} {_words(code_label(CONTENT_GAP))}'
            "</B></FONT>"
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
        attrs["tooltip"] = _plain(_("Open this touchpoint"))
        attrs["target"] = "_top"
    graph.node(tp["id"], **attrs)


def _add_stage_flow(graph, flow: dict, clusters: bool) -> None:
    """A large map's flows from one stage to another, as one arrow that says how many:
    between the stage columns (clusters), or the stage headers of the lanes view. It does
    not pull the stages out of their order."""
    count = flow["count"]
    if flow["handoffs"]:
        # Translators: on a large map's arrow between two stages, e.g. "12 flows, 5 hand-offs".
        label = ngettext("%(n)s flow, %(handoffs)s hand-off", "%(n)s flows, %(handoffs)s hand-offs", count) % {
            "n": number_format(count),
            "handoffs": number_format(flow["handoffs"]),
        }
    else:
        # Translators: on a large map's arrow between two stages, e.g. "12 flows".
        label = ngettext("%(n)s flow", "%(n)s flows", count) % {"n": number_format(count)}
    attrs = {
        "label": _plain(label),
        "fontcolor": HANDOFF_COLOR if flow["handoffs"] else TEXT_MUTED,
        "color": HANDOFF_COLOR if flow["handoffs"] else FLOW_COLOR,
        # Thicker with more flows, as a count reads at a glance: 1.3 for one, up to 6.
        "penwidth": f"{min(6.0, 1.3 + 0.8 * (count.bit_length() - 1)):.1f}",
        "constraint": "false",
    }
    if clusters:
        attrs.update(ltail=f"cluster_{flow['source']}", lhead=f"cluster_{flow['target']}")
    graph.edge(f"{flow['source']}_anchor", f"{flow['target']}_anchor", **attrs)


def _edge_attrs(edge: dict, labelled: bool) -> dict:
    if not edge["handoff"]:
        return {}
    attrs = {"color": HANDOFF_COLOR, "penwidth": "2.6", "style": "bold", "arrowsize": "0.9"}
    # Where lanes are the point, every hand-off also says so in words; in the stage view
    # the labels would only crowd the cards, and the legend explains the bold arrow.
    if labelled:
        attrs.update(xlabel=_plain(_("hand-off")), fontcolor=HANDOFF_COLOR)
    return attrs


# -- labels: the only places user text enters the DOT ------------------------------------

ZWJ = "\u200d"
# Format characters that are part of what a person wrote: the zero-width (non-)joiner
# of emoji ZWJ sequences (👩‍💻) and scripts that need it. Tag characters (the flags of
# 🏴󠁧󠁢󠁳󠁣󠁴󠁿) are kept only right after the black flag they belong to.
KEPT_FORMAT = {"\u200c", ZWJ}
BLACK_FLAG = "\U0001f3f4"
# Spaces that glue words together: never a place to break a line.
NO_BREAK_SPACES = "\u00a0\u2007\u202f"
# Japanese line breaking (kinsoku shori, JIS X 4051): no line starts with closing
# punctuation, a small kana or a prolonged sound mark, and none ends with an opening
# bracket. ASCII closers count too where they follow Japanese ("デモ)").
NO_LINE_START = frozenset(
    "、。，．,.）)」』】〉》〕］]｝}〙〗｠»！!？?：:；;％%‼⁇⁈⁉ー・‥…〜～゛゜ゝゞヽヾ々"
    "ぁぃぅぇぉっゃゅょゎゕゖァィゥェォッャュョヮヵヶㇰㇱㇲㇳㇴㇵㇶㇷㇸㇹㇺㇻㇼㇽㇾㇿ"
    "ｧｨｩｪｫｯｬｭｮｰ｡､｣"
)
NO_LINE_END = frozenset("（(「『【〈《〔［[｛{〘〖｟«｢")


def _printable(text: object) -> str:
    """The text with newlines and control characters as spaces: they would break the
    picture (and control characters the SVG's XML). Emoji stay whole: variation selectors
    are marks (kept), and the joiners and flag tags of emoji sequences are kept too."""
    out = []
    for ch in str(text or ""):
        category = unicodedata.category(ch)
        if category[0] != "C" or ch in KEPT_FORMAT or _newer_emoji(ch, category):
            out.append(ch)
        elif 0xE0020 <= ord(ch) <= 0xE007F and out and (out[-1] == BLACK_FLAG or 0xE0020 <= ord(out[-1]) <= 0xE007F):
            out.append(ch)
        else:
            out.append(" ")
    return "".join(out)


def _newer_emoji(ch: str, category: str) -> bool:
    # Emoji newer than Python's Unicode tables are unassigned to it: keep those of the emoji blocks.
    return category == "Cn" and 0x1F000 <= ord(ch) <= 0x1FAFF


def _clean(text: object) -> str:
    """One line of printable text, its runs of white space made one space."""
    return " ".join(_printable(text).split())


def _is_regional(ch: str) -> bool:
    return 0x1F1E6 <= ord(ch) <= 0x1F1FF


def _continues(cluster: str, ch: str) -> bool:
    """Whether `ch` belongs to the character `cluster` shows: accents, variation
    selectors, skin tones, ZWJ sequences, flag pairs and tags. Never splits these."""
    if cluster[0].isspace() or ch.isspace():
        return False
    code = ord(ch)
    if cluster[-1] == ZWJ or ch == ZWJ or unicodedata.category(ch) in ("Mn", "Me", "Mc"):
        return True
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x1F3FB <= code <= 0x1F3FF:
        return True
    if 0xE0020 <= code <= 0xE007F:
        return True
    return _is_regional(ch) and len(cluster) == 1 and _is_regional(cluster)


def _clusters(text: str) -> list[str]:
    """The text as the characters a person sees (a simple take on grapheme clusters)."""
    clusters: list[str] = []
    for ch in text:
        if clusters and _continues(clusters[-1], ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _cluster_width(cluster: str) -> int:
    base = cluster[0]
    category = unicodedata.category(base)
    if unicodedata.east_asian_width(base) in "WF" or "\ufe0f" in cluster or _is_regional(base):
        return 2
    if _newer_emoji(base, category):
        return 2
    if category in ("Mn", "Me", "Cf"):
        return 0
    return 1


def _display_width(text: str) -> int:
    """Columns on a line: East Asian wide characters and emoji take two."""
    return sum(_cluster_width(cluster) for cluster in _clusters(text))


def _breaks_around(cluster: str) -> bool:
    """A line may break before and after this character, as between Japanese characters
    (wide ones, half-width kana, emoji); narrow ones make words that never break."""
    return _cluster_width(cluster) == 2 or unicodedata.east_asian_width(cluster[0]) == "H"


def _tokens(text: str) -> list[tuple[str, str]]:
    """(the breaking space before it, a word or a wide character) for the text."""
    tokens: list[tuple[str, str]] = []
    space = word = ""
    for cluster in _clusters(text):
        breaking_space = cluster.isspace() and cluster not in NO_BREAK_SPACES
        if word and (breaking_space or _breaks_around(cluster)):
            tokens.append((space, word))
            space = word = ""
        if breaking_space:
            space += cluster
        elif _breaks_around(cluster):
            tokens.append((space, cluster))
            space = ""
        else:
            word += cluster
    if word:
        tokens.append((space, word))
    return tokens


def _may_break(before: str, after: str) -> bool:
    return before[-1] not in NO_LINE_END and after[0] not in NO_LINE_START


def _units(text: str) -> list[list[tuple[str, str]]]:
    """The tokens grouped where kinsoku forbids a break between them."""
    units: list[list[tuple[str, str]]] = []
    for space, token in _tokens(text):
        if units and not _may_break(units[-1][-1][1], token):
            units[-1].append((space, token))
        else:
            units.append([(space, token)])
    return units


def _wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns (wide characters count two). Lines break at
    spaces and between Japanese characters, following kinsoku; a word breaks only when
    it alone is wider than a line, and a kinsoku rule gives way only when keeping it
    would need more than a line. Spaces at a break go; nothing else is lost."""
    width = max(1, width)
    lines: list[str] = []
    line = ""
    for unit in _units(text):
        line = _place(unit, line, lines, width)
    lines.append(line)
    return lines


def _place(unit: list[tuple[str, str]], line: str, lines: list[str], width: int) -> str:
    """Put `unit` after `line`, moving full lines into `lines`; returns the open line."""
    space, first = unit[0]
    text = first + "".join(gap + token for gap, token in unit[1:])
    if line and _display_width(line + space + text) <= width:
        return line + space + text
    if _display_width(text) <= width:
        if line:
            lines.append(line)
        return text
    if len(unit) > 1:
        for part in unit:
            line = _place([part], line, lines, width)
        return line
    if line:
        lines.append(line)
    chunks = _cut_to_width(text, width)
    lines.extend(chunks[:-1])
    return chunks[-1]


def _cut_to_width(word: str, width: int) -> list[str]:
    """A word wider than a line, hard-cut into pieces that fit (between characters)."""
    chunks = [""]
    used = 0
    for cluster in _clusters(word):
        columns = _cluster_width(cluster)
        if chunks[-1] and used + columns > width:
            chunks.append("")
            used = 0
        chunks[-1] += cluster
        used += columns
    return chunks


def _escape(text: str) -> str:
    """The one escaping of text inside an HTML-like label."""
    # Graphviz 2.43 expands \N, \G, \L... even inside HTML-like labels (even as &#92;N);
    # a doubled backslash comes out as one.
    return html.escape(text, quote=True).replace("\\", "\\\\")


def _html(text: object, width: int = WRAP, limit: int = NAME_LIMIT, max_lines: int = 3) -> str:
    """User text for an HTML-like label: cut to `limit` characters, wrapped, escaped."""
    text = _clean(text)
    if len(text) > limit:
        text = _first(text, limit - 1).rstrip() + "…"
    lines = _wrap(text, width)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = _clusters(lines[-1])
        lines[-1] = "".join(last[: max(1, len(last) - 1)]) + "…"
    return "<BR/>".join(_escape(line) for line in lines)


def _first(text: str, count: int) -> str:
    """At most `count` characters of the text, never half an emoji or an accent."""
    kept = ""
    for cluster in _clusters(text):
        if len(kept) + len(cluster) > count:
            break
        kept += cluster
    return kept


def _words(text: object) -> str:
    """Our own words (a translation, a mark's word) for an HTML-like label: one line,
    escaped like user text, never cut."""
    return _escape(_clean(text))


def _fill(template: str, **values: str) -> str:
    """A translated sentence for an HTML-like label: its words escaped, each
    `%(name)s` replaced by `values[name]` (label HTML from `_html` or `_words`), a
    newline in it a line break. One sentence per message, whatever its word order."""
    parts = re.split(r"%\((\w+)\)s", template)
    pieces = []
    for index, part in enumerate(parts):
        if index % 2:
            pieces.append(values[part])
        else:
            lines = part.replace("%%", "%").split("\n")
            pieces.append("<BR/>".join(_escape(_printable(line)) for line in lines))
    return "".join(pieces)


def _plain(text: object) -> str:
    """Our own words for a plain string attribute (a tooltip, an edge's xlabel): one line
    with no backslash (Graphviz expands \\N in these, in tooltips twice), never taken as
    HTML; the graphviz package quotes it."""
    return graphviz.escape(_clean(text).replace("\\", ""))


def _url(url: str) -> str:
    """Our own link for a card. Graphviz 2.43 writes URL into SVG without XML-escaping it
    (a quote would end the attribute), while it keeps entities it is given: so escape."""
    return graphviz.escape(html.escape(url, quote=True))


def _title_html(data: dict) -> str:
    subtitle = {"stages": _words(_("Journey by stage")), "departments": _words(_("Who owns each touchpoint"))}.get(
        data["kind"], ""
    )
    if data["persona"]:
        # Translators: the subtitle of a persona's diagram, e.g. "Path of Carla CFO".
        subtitle = _fill(_("Path of %(persona)s"), persona=_html(data["persona"]["name"], 60, 60, 1))
    return (
        f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="22"><B>{_html(data["title"], 80, 80, 1)}'
        f'</B></FONT></TD></TR><TR><TD ALIGN="LEFT"><FONT POINT-SIZE="13" COLOR="{TEXT_MUTED}">'
        f"{subtitle}</FONT></TD></TR><TR><TD> </TD></TR></TABLE>"
    )


def _badge(severity: str | None, count: int) -> str:
    mark = MARKS[severity]
    if severity is None:
        text = f"{mark['symbol']} {mark['word']}"
    else:
        # Translators: a stage's badge in the diagram, e.g. "2 gaps · worst: error".
        gaps = ngettext("%(count)s gap · worst: %(worst)s", "%(count)s gaps · worst: %(worst)s", count) % {
            "count": number_format(count),
            "worst": mark["word"],
        }
        text = f"{mark['symbol']} {gaps}"
    return (
        f'<TABLE BORDER="0" CELLPADDING="3" CELLSPACING="0"><TR>'
        f'<TD BGCOLOR="{mark["color"]}"><FONT COLOR="white" POINT-SIZE="11"><B>{_words(text)}</B>'
        f"</FONT></TD></TR></TABLE>"
    )


def _stage_html(stage: dict) -> str:
    rows = [f'<FONT POINT-SIZE="16"><B>{stage["number"]} · {_html(stage["name"], 26, 60, 2)}</B></FONT>']
    if stage["goal"]:
        rows.append(f'<FONT POINT-SIZE="10" COLOR="{TEXT_MUTED}"><I>{_html(stage["goal"], 36, 80, 2)}</I></FONT>')
    no_lead = _words(_("no lead department"))
    lead = _html(stage["lead"], 30, 40, 1) if stage["lead"] else f"<B>{no_lead}</B>"
    # Translators: the department that leads a stage, e.g. "Lead: Marketing".
    lead_line = _fill(_("Lead: %(lead)s"), lead=lead)
    rows.append(f'<FONT POINT-SIZE="10" COLOR="{TEXT_MUTED}">{lead_line}</FONT>')
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
        # Translators: on a touchpoint card, the personas it reaches, e.g. "for Carla CFO, Ivan IT".
        reached = _fill(_("for %(personas)s"), personas=_html(names, 30, 60, 2))
        rows.append(f'<TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="10">{reached}</FONT></TD>')
    rows.append(f'<TD ALIGN="LEFT">{_emotion_html(tp["emotion"])}</TD>')
    for code in tp["gap_codes"]:
        mark = MARKS[tp["severity"]]
        rows.append(
            f'<TD ALIGN="LEFT"><FONT POINT-SIZE="10" COLOR="{mark["color"]}"><B>! {_words(code_label(code))}</B></FONT></TD>'
        )
    body = "".join(f"<TR>{row}</TR>" for row in rows)
    return (
        f'<TABLE BORDER="0" CELLPADDING="2" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT" HEIGHT="4" BGCOLOR="{strong}"></TD></TR>{body}</TABLE>'
    )


def _emotion_html(emotion: int | None) -> str:
    """A diverging five-step bar plus the number and a word: readable without colour."""
    if emotion is None:
        not_rated = _words(_("feeling not rated"))
        return f'<FONT POINT-SIZE="9" COLOR="{TEXT_MUTED}">{not_rated}</FONT>'
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
        f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{mood.color}"> {mood.symbol} {emotion_text} {_words(mood.word)}'
        f"</FONT></TD></TR></TABLE>"
    )


def _content_html(content: dict) -> str:
    # Translators: under a content asset in a persona's diagram, e.g. "Case study · serves this stage".
    serves = _fill(_("%(type)s · serves this stage"), type=_html(content["type"], 30, 30, 1))
    return (
        f'<TABLE BORDER="0" CELLPADDING="1" CELLSPACING="0">'
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="11">{_html(content["title"])}</FONT></TD></TR>'
        f'<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="9" COLOR="{TEXT_MUTED}">{serves}</FONT></TD></TR></TABLE>'
    )


def _empty_html(data: dict) -> str:
    if data["persona"]:
        # Translators: an empty stage in a persona's diagram; the line break stays before the name.
        return _fill(_("No touchpoint reaches\n%(persona)s"), persona=_html(data["persona"]["name"]))
    return _words(_("No touchpoints yet"))


def _lane_html(lane: dict) -> str:
    strong, _tint = lane["color"]
    return (
        f'<TABLE BORDER="0" CELLPADDING="6" CELLSPACING="0"><TR>'
        f'<TD BGCOLOR="{strong}" WIDTH="8"></TD>'
        f'<TD ALIGN="LEFT" BALIGN="LEFT" WIDTH="130"><FONT POINT-SIZE="14"><B>{_html(lane["name"], 16, 40, 2)}'
        f"</B></FONT></TD></TR></TABLE>"
    )


def _legend_html(data: dict) -> str:
    heading = _words(_("Legend"))
    rows = [f'<TR><TD COLSPAN="2" ALIGN="LEFT"><FONT POINT-SIZE="13"><B>{heading}</B></FONT></TD></TR>']
    borders = {"solid": _("thick solid border"), "dashed": _("dashed border"), "dotted": _("dotted border")}
    for severity in (*SEVERITIES, None):
        mark = MARKS[severity]
        border = _("thin border") if severity is None else borders[mark["style"]]
        # Translators: a line of the diagram's legend, e.g. "stage: error, thick solid border".
        line = _("stage: %(severity)s, %(border)s") % {"severity": mark["word"], "border": border}
        rows.append(
            f'<TR><TD BGCOLOR="{mark["color"]}" WIDTH="26"><FONT COLOR="white">'
            f'{mark["symbol"]}</FONT></TD><TD ALIGN="LEFT">{_words(line)}</TD></TR>'
        )
    marked = _words(_("touchpoint with a gap (thick border)"))
    rows.append(
        f'<TR><TD BORDER="3" COLOR="{MARKS["error"]["color"]}" WIDTH="26">!</TD><TD ALIGN="LEFT">{marked}</TD></TR>'
    )
    # Translators: in the legend, the arrow of a buyer's path from one touchpoint to the next.
    flow = _words(_("flow"))
    rows.append(f'<TR><TD><FONT COLOR="{FLOW_COLOR}">→</FONT></TD><TD ALIGN="LEFT">{flow}</TD></TR>')
    if data.get("coarse"):
        # Translators: in the legend of a large map, the arrow that stands for many flows.
        merged = _words(_("flows between two stages, counted (large map)"))
        rows.append(f'<TR><TD><FONT COLOR="{FLOW_COLOR}"><B>⇒</B></FONT></TD><TD ALIGN="LEFT">{merged}</TD></TR>')
    bold_handoff = "<B>" + _words(_("hand-off")) + "</B>"
    # Translators: in the legend; %(hand_off)s is the word "hand-off", in bold.
    handoff = _fill(_("%(hand_off)s between departments"), hand_off=bold_handoff)
    rows.append(f'<TR><TD><FONT COLOR="{HANDOFF_COLOR}"><B>➜</B></FONT></TD><TD ALIGN="LEFT">{handoff}</TD></TR>')
    # Translators: in the legend, before an example of the feeling bar.
    scale = _words(_("feeling, −2 to +2:"))
    rows.append(
        f'<TR><TD>{marks.EMOTIONS[1].symbol}</TD><TD ALIGN="LEFT"><TABLE BORDER="0" CELLPADDING="0" CELLSPACING="0"><TR>'
        f"<TD>{scale}  </TD><TD>{_emotion_html(-1)}</TD></TR></TABLE></TD></TR>"
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
        raise DiagramError(unknown_format(fmt, FORMATS))
    if fmt == "dot":
        return dot_source.encode()
    key = "diagram:" + _cache_hash(dot_source, fmt)
    output = cache.get(key)
    if output is None:
        output = _run_dot(dot_source, fmt)
        cache.set(key, output)
    return output


def render_slide_png(dot_source: str) -> bytes:
    """`dot_source` as a PNG fitted into 1920 x 1080 pixels, for a slide; cached by its hash."""
    key = "diagram-slide:" + _cache_hash(dot_source, "png")
    output = cache.get(key)
    if output is None:
        output = _run_dot(dot_source, "png", SLIDE_PNG_ARGS)
        cache.set(key, output)
    return output


def _run_dot(dot_source: str, fmt: str, args: list[str] | None = None) -> bytes:
    # SERVER_NAME set and GV_FILE_PATH unset switch off Graphviz's loading of local
    # files (image, shapefile, <IMG SRC>), whatever the DOT says.
    env = {"PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"), "SERVER_NAME": "journeymap"}
    timeout = settings.GRAPHVIZ_TIMEOUT
    try:
        result = subprocess.run(
            [settings.GRAPHVIZ_DOT, f"-T{fmt}", *(FORMAT_ARGS.get(fmt, []) if args is None else args)],
            input=dot_source.encode(),
            capture_output=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired:
        message = ngettext(
            "This map is too complex to lay out in %(seconds)s second; try the view of one persona, or split the map.",
            "This map is too complex to lay out in %(seconds)s seconds; try the view of one persona, or split the map.",
            timeout,
        )
        raise DiagramError(message % {"seconds": number_format(timeout)}) from None
    except OSError as exc:
        raise DiagramError(_("Graphviz could not be started: %(error)s") % {"error": exc}) from None
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        if lines:
            # Translators: %(error)s is Graphviz's own (English) message.
            raise DiagramError(_("Graphviz failed: %(error)s") % {"error": lines[0]})
        raise DiagramError(_("Graphviz failed: exit status %(status)s") % {"status": result.returncode})
    return result.stdout


def unknown_format(fmt: str, formats: tuple[str, ...]) -> str:
    """The message for a format nobody offers, naming the ones there are."""
    # Translators: %(formats)s lists what to type instead, e.g. "svg, png, pdf, dot".
    return _('unknown format "%(format)s": use %(formats)s') % {"format": fmt, "formats": ", ".join(formats)}


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
