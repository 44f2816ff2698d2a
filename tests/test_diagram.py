"""maps.diagram: the plain data of each view, the DOT built from it, rendering and its cache."""

from __future__ import annotations

import json
import re
import subprocess
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maps import diagram
from maps.diagram import DiagramError, build_dot, build_graph_data, diagram_for, parse_view, render
from maps.gaps import Gap, find_gaps
from maps.models import JourneyMap, Stage, Touchpoint, Workspace
from tests.bench import build_map
from tests.test_gaps import translated


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


def gap(code: str, severity: str, stage: str, **keys) -> Gap:
    fields = {"persona": None, "touchpoint": None, "content": None, "role": None, **keys}
    return Gap(code, severity, stage, message=f"{code} in {stage}", **fields)


def tp_id(journey_map: JourneyMap, key: str) -> str:
    return f"tp_{Touchpoint.objects.get(map=journey_map, key=key).pk}"


def unique(dot_source: str) -> str:
    """The same picture as DOT no earlier test (or earlier run, with Redis) has cached."""
    return f"{dot_source}\n// {uuid.uuid4()}\n"


# -- views -------------------------------------------------------------------------------


def test_stage_view_has_stages_and_their_touchpoints_in_order(small_map):
    data = build_graph_data(loaded(small_map), [], "stages")
    assert [stage["key"] for stage in data["stages"]] == ["awareness", "decision"]
    assert data["stages"][0]["touchpoints"] == [tp_id(small_map, "ad"), tp_id(small_map, "webinar")]
    assert data["stages"][0]["lead"] == "Marketing"


def test_stage_clusters_follow_the_stage_order_in_dot(small_map):
    Stage.objects.filter(key="decision").update(order=0)
    Stage.objects.filter(key="awareness").update(order=1)
    dot = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    decision, awareness = (f"cluster_st_{Stage.objects.get(key=key).pk}" for key in ("decision", "awareness"))
    assert dot.index(decision) < dot.index(awareness)


def test_flows_become_edges_and_a_change_of_department_is_a_handoff(small_map):
    data = build_graph_data(loaded(small_map), [], "stages")
    ad, webinar, demo = (tp_id(small_map, key) for key in ("ad", "webinar", "demo"))
    assert data["edges"] == [
        {"source": ad, "target": webinar, "handoff": False},
        {"source": webinar, "target": demo, "handoff": True},
    ]
    dot = build_dot(data)
    assert f'{webinar} -> {demo} [arrowsize=0.9 color="#263238" penwidth=2.6 style=bold]' in dot


def test_touchpoint_card_shows_channel_owner_personas_and_emotion(small_map):
    dot = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    card = next(line for line in dot.splitlines() if line.strip().startswith(tp_id(small_map, "demo")))
    for text in ("Live demo", "video call", "Sales", "Carla CFO, Ivan IT", "-1 negative"):
        assert text in card


def test_department_view_has_a_lane_per_department_in_order(small_map):
    data = build_graph_data(loaded(small_map), [], "departments")
    assert [lane["name"] for lane in data["lanes"]] == ["Marketing", "Sales", "Service"]


def test_department_view_adds_a_no_owner_lane_for_unowned_touchpoints(small_map):
    Touchpoint.objects.filter(key="demo").update(owner=None)
    data = build_graph_data(loaded(small_map), [], "departments")
    assert [lane["name"] for lane in data["lanes"]] == ["Marketing", "Sales", "Service", "No owner"]
    assert "dep_none" in build_dot(data)


def test_department_view_labels_every_handoff(small_map):
    Touchpoint.objects.filter(key="webinar").update(owner=None)  # ad -> webinar now hands off too
    dot = build_dot(build_graph_data(loaded(small_map), [], "departments"))
    assert dot.count('xlabel="hand-off"') == 2


def test_departments_column_aligns_each_touchpoint_with_its_stage(small_map):
    dot = build_dot(build_graph_data(loaded(small_map), [], "departments"))
    decision = Stage.objects.get(key="decision").pk
    column = next(line for line in dot.splitlines() if line.strip().startswith(f"{{rank=same; st_{decision}_anchor"))
    assert tp_id(small_map, "demo") in column
    assert tp_id(small_map, "ad") not in column


def test_persona_view_shows_only_stages_in_scope_and_touchpoints_reaching_the_persona(small_map):
    data = build_graph_data(loaded(small_map), find_gaps(loaded(small_map)), "persona:it-lead")
    assert [stage["key"] for stage in data["stages"]] == ["decision"]
    assert [tp["key"] for tp in data["touchpoints"]] == ["demo"]
    assert data["edges"] == []


def test_persona_view_shows_the_content_that_serves_each_stage(small_map):
    data = build_graph_data(loaded(small_map), [], "persona:cfo")
    assert [[c["title"] for c in stage["content"]] for stage in data["stages"]] == [
        ["Buyer's guide"],
        ["ROI calculator"],
    ]
    assert [tp["key"] for tp in data["touchpoints"]] == ["ad", "webinar", "demo"]


def test_persona_view_shows_the_persona_content_gap_in_its_stage(small_map):
    journey_map = loaded(small_map)
    data = build_graph_data(journey_map, find_gaps(journey_map), "persona:it-lead")
    assert data["stages"][0]["content_gaps"] == ["Decision: no live content for Ivan IT (Technical evaluator)."]
    assert "✖ content gap" in build_dot(data)


def test_persona_view_ignores_other_personas_content_gaps(small_map):
    data = build_graph_data(
        loaded(small_map), [gap("content-gap", "error", "decision", persona="it-lead")], "persona:cfo"
    )
    assert [stage["severity"] for stage in data["stages"]] == [None, None]


@pytest.mark.parametrize(
    "view, message",
    [
        ("nonsense", 'unknown view "nonsense"'),
        ("persona:", 'no persona ""'),
        ("persona:nobody", 'no persona "nobody" in map "launch"'),
    ],
)
def test_unknown_view_or_persona_is_a_one_line_error(small_map, view, message):
    with pytest.raises(DiagramError, match=message):
        parse_view(view, loaded(small_map))


# -- gap marks and legend ------------------------------------------------------------------


def test_stage_badge_shows_worst_severity_and_count(small_map):
    gaps = [
        gap("no-metric", "warning", "decision"),
        gap("content-gap", "error", "decision", persona="it-lead"),
        gap("stale-content", "info", "awareness", content="guide"),
    ]
    data = build_graph_data(loaded(small_map), gaps, "stages")
    assert [(s["severity"], s["gap_count"]) for s in data["stages"]] == [("info", 1), ("error", 2)]
    dot = build_dot(data)
    assert "✖ 2 gaps · worst: error" in dot
    assert "ℹ 1 gap · worst: info" in dot


def test_stage_marks_differ_in_border_style_not_only_colour(small_map):
    journey_map = loaded(small_map)
    warned = build_dot(build_graph_data(journey_map, [gap("no-metric", "warning", "decision")], "stages"))
    clean = build_dot(build_graph_data(journey_map, [], "stages"))
    assert 'style="rounded,filled,dashed"' in warned
    assert 'style="rounded,filled,dashed"' not in clean
    assert "✓ no gaps" in clean


def test_touchpoint_named_by_a_gap_is_marked(small_map):
    gaps = [gap("pain-hotspot", "warning", "decision", touchpoint="demo")]
    data = build_graph_data(loaded(small_map), gaps, "stages")
    demo = next(tp for tp in data["touchpoints"] if tp["key"] == "demo")
    assert (demo["severity"], demo["gap_codes"]) == ("warning", ["pain-hotspot"])
    card = next(line for line in build_dot(data).splitlines() if line.strip().startswith(demo["id"]))
    assert "! pain hotspot" in card
    assert "penwidth=3.5" in card


def test_legend_explains_marks_and_departments(small_map):
    dot = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    legend = next(line for line in dot.splitlines() if line.strip().startswith("legend"))
    for text in ("Legend", "stage: error", "stage: warning", "stage: info", "hand-off", "Marketing", "Sales"):
        assert text in legend


# -- text --------------------------------------------------------------------------------


def test_long_names_are_cut_in_the_picture_but_whole_in_the_data(small_map):
    long_name = "Quarterly executive business review " * 5  # 180 of the 200 allowed
    Touchpoint.objects.filter(key="demo").update(name=long_name)
    data = build_graph_data(loaded(small_map), [], "stages")
    assert next(tp["name"] for tp in data["touchpoints"] if tp["key"] == "demo") == long_name
    card = next(line for line in build_dot(data).splitlines() if line.strip().startswith(tp_id(small_map, "demo")))
    assert "Quarterly executive<BR/>business review<BR/>Quarterly executive bus…" in card
    assert long_name.strip() not in card


def test_japanese_text_renders_in_svg_and_png(small_map):
    Touchpoint.objects.filter(key="demo").update(name="製品デモ（オンライン）")
    Stage.objects.filter(key="decision").update(name="導入検討")
    journey_map = loaded(small_map)
    svg = diagram_for(journey_map, "stages", "svg").decode()
    assert "製品デモ（オンライン）" in svg and "導入検討" in svg
    assert 'font-family="Noto Sans CJK JP' in svg
    png = diagram_for(journey_map, "stages", "png")
    assert png.startswith(b"\x89PNG") and len(png) > 10_000


def test_touchpoint_links_are_the_callers_urls(small_map):
    svg = diagram_for(
        loaded(small_map), "stages", "svg", url_for_touchpoint=lambda key: f"/acme/launch/touchpoints/{key}/"
    ).decode()
    for key in ("ad", "webinar", "demo"):
        assert f'xlink:href="/acme/launch/touchpoints/{key}/"' in svg


# -- queries -----------------------------------------------------------------------------


def test_gaps_and_dot_cost_the_same_queries_for_a_small_and_a_large_map(db):
    small = build_map(Workspace.objects.create(slug="small", name="Small"), 2, 2)
    large = build_map(Workspace.objects.create(slug="large", name="Large"), 6, 12)
    counts = []
    for journey_map in (small, large):
        with CaptureQueriesContext(connection) as queries:
            loaded_map = loaded(journey_map)
            for view in ("stages", "departments", "persona:p-0"):
                build_dot(build_graph_data(loaded_map, find_gaps(loaded_map), view))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_large_maps_get_the_fast_layout_settings(db):
    journey_map = loaded(build_map(Workspace.objects.create(slug="big", name="Big"), 3, 70, extra_flows=False))
    assert "nslimit=2" in build_dot(build_graph_data(journey_map, [], "stages"))
    assert "nslimit" not in build_dot(build_graph_data(journey_map, [], "persona:p-0"))


# -- rendering -----------------------------------------------------------------------------


def count_dot_runs(monkeypatch) -> list:
    runs = []
    real_run = subprocess.run

    def counting_run(*args, **kwargs):
        runs.append(kwargs.get("env"))
        return real_run(*args, **kwargs)

    monkeypatch.setattr(diagram.subprocess, "run", counting_run)
    return runs


def test_second_render_of_the_same_dot_comes_from_the_cache(small_map, monkeypatch):
    runs = count_dot_runs(monkeypatch)
    dot = unique(build_dot(build_graph_data(loaded(small_map), [], "stages")))
    first = render(dot, "svg")
    assert render(dot, "svg") == first
    assert len(runs) == 1
    render(dot, "png")
    assert len(runs) == 2


def test_dot_runs_with_file_loading_switched_off(small_map, monkeypatch):
    runs = count_dot_runs(monkeypatch)
    render(unique("digraph { a -> b }"), "svg")
    assert runs[0]["SERVER_NAME"] == "journeymap"
    assert "GV_FILE_PATH" not in runs[0]


def test_editing_the_map_changes_the_etag(small_map):
    before = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    Touchpoint.objects.filter(key="demo").update(emotion=2)
    after = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    assert diagram.dot_etag(before, "svg") != diagram.dot_etag(after, "svg")
    assert diagram.dot_etag(before, "svg") != diagram.dot_etag(before, "png")
    assert (
        diagram.dot_etag(before, "svg")
        == diagram.dot_etag(before, "svg").strip()
        == ('"' + diagram.dot_etag(before, "svg").strip('"') + '"')
    )


def test_dot_format_returns_the_source_itself():
    assert render("digraph { a }", "dot") == b"digraph { a }"


def test_slow_layout_is_reported_as_too_complex(monkeypatch, settings):
    settings.GRAPHVIZ_TIMEOUT = 3

    def too_slow(*args, **kwargs):
        raise subprocess.TimeoutExpired(args[0], kwargs["timeout"])

    monkeypatch.setattr(diagram.subprocess, "run", too_slow)
    with pytest.raises(DiagramError, match="too complex to lay out in 3 seconds"):
        render(unique("digraph { a }"), "svg")


def test_graphviz_error_is_reported_with_its_first_line():
    with pytest.raises(DiagramError, match="Graphviz failed: .*syntax error"):
        render(unique("digraph { a -> }"), "svg")


def test_unknown_format_is_refused():
    with pytest.raises(DiagramError, match='unknown format "gif"'):
        render("digraph { a }", "gif")


# -- languages and emoji -------------------------------------------------------------------


def plain(value) -> bool:
    """Whether the data holds only JSON-able plain values (no lazy translations)."""
    if isinstance(value, dict):
        return all(isinstance(key, str | None) and plain(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return all(plain(item) for item in value)
    return value is None or type(value) in (str, int, float, bool)


def test_graph_data_is_plain_in_any_language(small_map):
    Touchpoint.objects.filter(key="demo").update(owner=None)
    journey_map = loaded(small_map)
    with translated({"No owner": "担当なし"}):
        data = build_graph_data(journey_map, find_gaps(journey_map), "departments")
    assert plain(data)
    json.dumps(data)
    assert data["lanes"][-1]["name"] == "担当なし"
    assert next(tp for tp in data["touchpoints"] if tp["key"] == "demo")["owner_name"] == "担当なし"


def test_diagram_words_are_translated_whole_and_keys_and_structure_stay(small_map):
    gaps = [gap("pain-hotspot", "warning", "decision", touchpoint="demo"), gap("no-metric", "warning", "decision")]
    data = build_graph_data(loaded(small_map), gaps, "stages")
    english = build_dot(data)
    japanese_words = {
        "Journey by stage": "ステージ別のジャーニー",
        "Lead: %(lead)s": "主担当：%(lead)s",
        ("%(count)s gap · worst: %(worst)s", 0): "ギャップ%(count)s件・最も重い：%(worst)s",
        "warning": "警告",
        "gap code\x04pain hotspot": "不満の集中",
        "for %(personas)s": "%(personas)s向け",
    }
    with translated(japanese_words):
        japanese = build_dot(data)
    for text in (
        "ステージ別のジャーニー",
        "主担当：Sales",
        "▲ ギャップ2件・最も重い：警告",
        "! 不満の集中",
        "Carla CFO, Ivan IT向け",
    ):
        assert text in japanese
    assert "Journey by stage" in english and "▲ 2 gaps · worst: warning" in english
    tags = re.compile(r"<[^>]*>")
    assert tags.findall(japanese) == tags.findall(english)  # the same DOT and HTML, other words


def test_persona_subtitle_and_empty_stage_are_whole_sentences(small_map):
    data = build_graph_data(loaded(small_map), [], "persona:it-lead")
    data["stages"][0]["touchpoints"] = []
    words = {
        "Path of %(persona)s": "%(persona)sの道筋",
        "No touchpoint reaches\n%(persona)s": "%(persona)sに\n届くタッチポイントなし",
    }
    with translated(words):
        dot = build_dot(data)
    assert "Ivan ITの道筋" in dot and "Ivan ITに<BR/>届くタッチポイントなし" in dot
    assert "No touchpoint reaches<BR/>Ivan IT" in build_dot(data)


def test_emoji_and_zwj_sequences_reach_the_picture_whole(small_map):
    Touchpoint.objects.filter(key="demo").update(name="🚀 Live demo 👩‍💻 ❤️")
    dot = build_dot(build_graph_data(loaded(small_map), [], "stages"))
    assert "🚀 Live demo 👩\u200d💻 ❤\ufe0f" in dot
    assert "🚀 Live demo 👩\u200d💻 ❤\ufe0f" in render(unique(dot), "svg").decode()


# --- a large map: flows between stages counted, one arrow per pair of stages ---------------


def test_a_large_map_draws_one_counted_arrow_per_pair_of_stages(workspace, monkeypatch):
    journey_map = loaded(build_map(workspace, 4, 6))
    gaps = find_gaps(journey_map)
    full = build_graph_data(journey_map, gaps)
    assert not full["coarse"] and not full["stage_flows"]
    stage_of = {card["id"]: card["stage"] for card in full["touchpoints"]}
    crossing = [edge for edge in full["edges"] if stage_of[edge["source"]] != stage_of[edge["target"]]]
    assert crossing

    monkeypatch.setattr(diagram, "COARSE_MAP", 10)
    coarse = build_graph_data(journey_map, gaps)
    assert coarse["coarse"]
    # No card-to-card arrow crosses a stage any more; those within a stage stay.
    assert all(stage_of[edge["source"]] == stage_of[edge["target"]] for edge in coarse["edges"])
    assert len(coarse["edges"]) == len(full["edges"]) - len(crossing)
    # Each pair of stages gets one arrow that counts its flows and hand-offs.
    ids = {stage["key"]: stage["id"] for stage in coarse["stages"]}
    expected: dict[tuple[str, str], list[int]] = {}
    for edge in crossing:
        pair = (ids[stage_of[edge["source"]]], ids[stage_of[edge["target"]]])
        expected.setdefault(pair, [0, 0])
        expected[pair][0] += 1
        expected[pair][1] += edge["handoff"]
    assert {(f["source"], f["target"]): [f["count"], f["handoffs"]] for f in coarse["stage_flows"]} == expected

    dot = build_dot(coarse)
    first = coarse["stage_flows"][0]
    assert f"lhead=cluster_{first['target']}" in dot and "constraint=false" in dot
    assert "flows between two stages, counted (large map)" in dot
    # The arrows say how many flows they stand for, on the picture itself.
    svg = render(dot, "svg").decode()
    busiest = max(coarse["stage_flows"], key=lambda flow: flow["count"])
    assert f">{busiest['count']} flows, {busiest['handoffs']} hand&#45;offs<" in svg  # dot escapes the dash


def test_the_lanes_view_of_a_large_map_counts_the_flows_between_its_stage_headers(workspace, monkeypatch):
    journey_map = loaded(build_map(workspace, 3, 5))
    monkeypatch.setattr(diagram, "COARSE_MAP", 10)
    data = build_graph_data(journey_map, find_gaps(journey_map), "departments")
    assert data["coarse"] and data["stage_flows"]
    dot = build_dot(data)
    flow = data["stage_flows"][0]
    assert f"{flow['source']}_anchor -> {flow['target']}_anchor" in dot
    assert "lhead=" not in dot
