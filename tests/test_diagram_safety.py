"""User text can never become DOT syntax, HTML markup, a file read or a link.

Every text field of this map is hostile: a trailing backslash (which, raw, swallows
its closing quote), attribute injection, HTML-like label tags, Graphviz's `\\N`
escapes, braces, newlines, a `javascript:` URL, 3,000 characters, Japanese.
"""

from __future__ import annotations

import json
import re
import subprocess

import pytest
from django.conf import settings
from lxml import etree

from maps.diagram import build_dot, build_graph_data, diagram_for, render
from maps.gaps import find_gaps
from maps.models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Metric,
    Persona,
    Stage,
    Touchpoint,
)
from tests.test_gaps import translated

PIECES = [
    '<IMG SRC="/etc/passwd"/>',
    "<b>x</b>",
    '"]; image="/etc/passwd"',
    "\\N\\G\\L\\E",
    "{}->;",
    "javascript:alert(1)",
    "顧客の声",
]


def hostile(n: int) -> str:
    """Every piece, the n-th first (the picture shows only a name's first 60 characters),
    a newline inside, a trailing backslash; short enough for the 200-character columns."""
    pieces = PIECES[n % len(PIECES) :] + PIECES[: n % len(PIECES)]
    return " ".join(pieces[:3]) + "\n" + " ".join(pieces[3:]) + " \\"


SHORT = hostile(0)
LONG = hostile(1) + " " + "A" * 3000 + "\\"
VIEWS = ["stages", "departments", "persona:hostile"]
SVG_ELEMENTS = {"svg", "g", "title", "polygon", "polyline", "path", "ellipse", "text", "a"}
FILE_ATTRIBUTES = {"image", "shapefile", "imagepath", "fontpath", "imagescale"}


def url_for(key: str) -> str:
    return f"/acme/hostile/touchpoints/{key}/"


@pytest.fixture
def hostile_map(workspace) -> JourneyMap:
    sales = Department.objects.create(workspace=workspace, key="sales", name=hostile(1), order=0)
    other = Department.objects.create(workspace=workspace, key="other", name=hostile(2), order=1)
    role = BuyingRole.objects.create(workspace=workspace, key="role", name=hostile(3))
    persona = Persona.objects.create(
        workspace=workspace, key="hostile", name=hostile(4), role=role, title=SHORT, goals=LONG, fears=LONG
    )
    asset = ContentAsset.objects.create(
        workspace=workspace,
        key="asset",
        title=SHORT,
        url="javascript:alert(1)",
        status=ContentAsset.LIVE,
        questions=[LONG],
    )
    asset.personas.set([persona])
    retired = ContentAsset.objects.create(workspace=workspace, key="old", title=SHORT, status="retired")
    jm = JourneyMap.objects.create(workspace=workspace, key="hostile", name=hostile(5), description=LONG, goal=LONG)
    first = Stage.objects.create(
        map=jm, key="first", name=hostile(6), goal=LONG, questions=[LONG], lead=sales, order=0, handoff_sla=LONG
    )
    second = Stage.objects.create(map=jm, key="second", name=SHORT, goal=LONG, order=1)
    first.content.set([asset, retired])
    second.required_roles.set([role])
    Metric.objects.create(stage=first, name=SHORT, unit="\\")
    MapPersona.objects.create(map=jm, persona=persona)
    a, b, c = (
        Touchpoint.objects.create(
            map=jm,
            stage=stage,
            key=key,
            name=hostile({"a": 0, "b": 1, "c": 3}[key]),
            description=LONG,
            channel=hostile(2)[:100],
            owner=owner,
            emotion=-2,
            pain_point=LONG,
            opportunity=LONG,
            order=order,
        )
        for key, stage, owner, order in [("a", first, sales, 0), ("b", first, other, 1), ("c", second, None, 0)]
    )
    for touchpoint in (a, b, c):
        touchpoint.personas.set([persona])
    a.content.set([asset])
    Flow.objects.create(source=a, target=b)
    Flow.objects.create(source=b, target=c)
    return JourneyMap.objects.loaded().get(pk=jm.pk)


@pytest.fixture
def dot_sources(hostile_map) -> dict[str, str]:
    gaps = find_gaps(hostile_map)
    return {view: build_dot(build_graph_data(hostile_map, gaps, view), url_for) for view in VIEWS}


def graphviz_objects(dot_source: str) -> list[dict]:
    """What Graphviz itself parsed out of the DOT: every graph, node and edge."""
    result = subprocess.run(
        [settings.GRAPHVIZ_DOT, "-Tjson"],
        input=dot_source.encode(),
        capture_output=True,
        env={"SERVER_NAME": "journeymap"},
        check=True,
    )
    parsed = json.loads(result.stdout)
    return [parsed, *parsed.get("objects", []), *parsed.get("edges", [])]


@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_adds_no_node_and_no_file_or_link_attribute(dot_sources, view):
    ours = re.compile(
        r"^(%\d+|tp_\d+|st_\d+_(anchor|empty|content_gap)|dep_(\d+|none)(_st_\d+)?|"
        r"ct_\d+_\d+|corner|legend|journeymap|cluster_\w+)$"
    )
    for obj in graphviz_objects(dot_sources[view]):
        if "name" in obj:
            assert ours.match(obj["name"]), obj["name"]
        assert not FILE_ATTRIBUTES & set(obj), obj.get("name")
        for attribute in ("URL", "href"):
            if attribute in obj:
                assert obj[attribute] in {url_for(key) for key in "abc"}


@pytest.mark.parametrize("view", VIEWS)
def test_hostile_text_appears_as_text_in_the_svg(hostile_map, view):
    svg = diagram_for(hostile_map, view, "svg", url_for_touchpoint=url_for)
    root = etree.fromstring(svg, etree.XMLParser(resolve_entities=False, no_network=True))
    names = {etree.QName(element).localname for element in root.iter(etree.Element)}
    assert names <= SVG_ELEMENTS  # no script, image, foreignObject, nor a user's <b> or <IMG>
    links = [
        value
        for element in root.iter(etree.Element)
        for name, value in element.attrib.items()
        if etree.QName(name).localname == "href"
    ]
    assert links and set(links) <= {url_for(key) for key in "abc"}
    text = " ".join("".join(element.itertext()) for element in root.iter("{*}text"))
    for piece in PIECES:
        assert piece in text
    assert b"&lt;IMG" in svg


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_png_and_pdf_never_embed_a_local_file(hostile_map, view, fmt):
    output = diagram_for(hostile_map, view, fmt)
    assert output.startswith(b"\x89PNG" if fmt == "png" else b"%PDF")
    assert b"root:x:0:0" not in output


@pytest.mark.parametrize("view", VIEWS)
def test_dot_format_of_a_hostile_map_is_its_escaped_source(hostile_map, dot_sources, view):
    output = diagram_for(hostile_map, view, "dot", url_for_touchpoint=url_for).decode()
    assert output == dot_sources[view]
    assert "&lt;IMG SRC=&quot;/etc/passwd&quot;/&gt;" in output and "<IMG" not in output
    assert "\\\\N\\\\G\\\\L\\\\E" in output  # doubled, so Graphviz shows \N, not the node name
    assert "A" * 100 not in output


def test_the_map_url_is_escaped_too(small_map):
    hostile_url = '/x" image="/etc/passwd" y="\\'
    dot = build_dot(
        build_graph_data(JourneyMap.objects.loaded().get(pk=small_map.pk), [], "stages"), lambda key: hostile_url
    )
    assert not any(FILE_ATTRIBUTES & set(obj) for obj in graphviz_objects(dot))
    svg = etree.fromstring(render(dot, "svg"), etree.XMLParser(resolve_entities=False, no_network=True))
    links = {
        value
        for element in svg.iter(etree.Element)
        for name, value in element.attrib.items()
        if etree.QName(name).localname == "href"
    }
    assert links == {hostile_url}


def test_hostile_map_exports_a_deck_and_a_csv_with_its_text_intact(hostile_map):
    import csv
    from io import BytesIO, StringIO

    from pptx import Presentation

    from maps.exports import export_pptx, gaps_csv

    from .decks import titles

    deck = Presentation(BytesIO(export_pptx(hostile_map)))
    texts = [shape.text_frame.text for slide in deck.slides for shape in slide.shapes if shape.has_text_frame]
    assert any('<IMG SRC="/etc/passwd"/>' in text for text in texts)
    assert sum(" · " in title and "(continued)" not in title for title in titles(deck)) >= hostile_map.stages.count()
    rows = list(csv.DictReader(StringIO(gaps_csv(hostile_map).lstrip("\ufeff"))))
    assert rows and any('<IMG SRC="/etc/passwd"/>' in row["message"] for row in rows)


HOSTILE_WORDS = {
    "Journey by stage": '<IMG SRC="/etc/passwd"/> \\N',
    "Lead: %(lead)s": '%(lead)s"]; image="/etc/passwd"',
    "gap code\x04pain hotspot": "<b>x</b>{}->;",
    "hand-off": '"]; image="/etc/passwd" x="\\',
    "Open this touchpoint": '"]; image="/etc/passwd" \\N',
    "Legend": "\\G<TABLE>",
    "No owner": '<IMG SRC="/etc/passwd"/>',
}


@pytest.mark.parametrize("view", VIEWS)
def test_a_hostile_translation_is_text_too(hostile_map, view):
    with translated(HOSTILE_WORDS):
        dot = build_dot(build_graph_data(hostile_map, find_gaps(hostile_map), view), url_for)
        svg = render(dot, "svg")
    for obj in graphviz_objects(dot):
        assert not FILE_ATTRIBUTES & set(obj), obj.get("name")
    root = etree.fromstring(svg, etree.XMLParser(resolve_entities=False, no_network=True))
    assert {etree.QName(element).localname for element in root.iter(etree.Element)} <= SVG_ELEMENTS
    assert "<IMG" not in dot and "\\G" not in dot.replace("\\\\G", "")
