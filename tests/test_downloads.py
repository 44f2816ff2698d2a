"""The inline diagram (ETag, 304) and every download: type, file name, escaping."""

from __future__ import annotations

import urllib.parse

import lxml.html
import pytest
from django.urls import reverse

from maps.gaps import find_gaps
from maps.models import JourneyMap

from .web import HX, login

DOWNLOADS = {
    "svg": ("image/svg+xml", b"<?xml", "launch.svg"),
    "png": ("image/png", b"\x89PNG", "launch.png"),
    "pdf": ("application/pdf", b"%PDF", "launch.pdf"),
    "dot": ("text/vnd.graphviz; charset=utf-8", b"digraph", "launch.dot"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK", "launch.pptx"),
    "handout": ("application/pdf", b"%PDF", "launch.handout.pdf"),
    "csv": ("text/csv; charset=utf-8", b"code,severity,stage", "launch.gaps.csv"),
    "mermaid": ("text/vnd.mermaid; charset=utf-8", b"journey\n", "launch.mmd"),
}


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


# --- the diagram and downloads ----------------------------------------------------------------------


def test_diagram_fragment_is_inline_svg_with_an_etag(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_diagram", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert "<svg" in body and "<?xml" not in body and "<!DOCTYPE" not in body
    assert "Live demo" in body
    # Graphviz's ids are left out (htmx would look each one up in the page it replaces);
    # the touchpoints still link to their editor.
    svg = lxml.html.fragment_fromstring(body, create_parent="div").xpath("//svg")[0]
    assert svg.xpath(".//g[contains(@class, 'node')]") and not svg.xpath(".//*[@id]")
    assert any("/t/" in (a.get("xlink:href") or a.get("href") or "") for a in svg.iter("a"))


def test_diagram_answers_304_to_its_own_etag(client, viewer, small_map):
    login(client, viewer)
    url = reverse("map_diagram", args=["acme", "launch"])
    etag = client.get(url, **HX)["ETag"]
    response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HX)
    assert response.status_code == 304
    assert response["ETag"] == etag
    assert response.content == b""


def test_diagram_gets_a_new_etag_after_an_edit(client, editor, small_map):
    login(client, editor)
    url = reverse("map_diagram", args=["acme", "launch"])
    etag = client.get(url, **HX)["ETag"]
    client.post(reverse("touchpoint_move", args=["acme", "launch", "webinar", "right"]), **HX)
    response = client.get(url, HTTP_IF_NONE_MATCH=etag, **HX)
    assert response.status_code == 200
    assert response["ETag"] != etag


def test_diagram_etag_differs_per_view(client, viewer, small_map):
    login(client, viewer)
    url = reverse("map_diagram", args=["acme", "launch"])
    stages = client.get(url, {"view": "stages"}, **HX)
    persona = client.get(url, {"view": "persona:cfo"}, **HX)
    assert stages.status_code == persona.status_code == 200
    assert stages["ETag"] != persona["ETag"]


@pytest.mark.parametrize("fmt", list(DOWNLOADS))
@pytest.mark.parametrize("role_name", ["owner", "viewer"])
def test_download_has_the_right_type_and_file_name(client, request, small_map, role_name, fmt):
    content_type, magic, filename = DOWNLOADS[fmt]
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse("map_download", args=["acme", "launch", fmt]))
    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.content.removeprefix(b"\xef\xbb\xbf").startswith(magic)  # a BOM lets Excel read UTF-8


def test_download_of_a_persona_view_says_so_in_the_file_name(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_download", args=["acme", "launch", "svg"]), {"view": "persona:cfo"})
    assert response["Content-Disposition"] == 'attachment; filename="launch-persona-cfo.svg"'


def test_rendered_download_answers_304_to_its_etag(client, viewer, small_map):
    login(client, viewer)
    url = reverse("map_download", args=["acme", "launch", "png"])
    etag = client.get(url)["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_csv_download_lists_every_gap(client, viewer, small_map):
    login(client, viewer)
    text = client.get(reverse("map_download", args=["acme", "launch", "csv"])).content.decode()
    lines = text.strip().splitlines()
    assert len(lines) == 1 + len(find_gaps(loaded(small_map)))


@pytest.mark.parametrize("fmt", ["gif", "json", "exe"])
def test_unknown_export_format_is_not_found(client, owner, small_map, fmt):
    login(client, owner)
    assert client.get(reverse("map_download", args=["acme", "launch", fmt])).status_code == 404


@pytest.mark.parametrize("fmt", ["svg", "csv"])
def test_stranger_cannot_download_the_map(client, stranger, small_map, fmt):
    login(client, stranger)
    assert client.get(reverse("map_download", args=["acme", "launch", fmt])).status_code == 404


def test_json_export_is_the_interchange_document(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_export_json", args=["acme", "launch"]))
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="launch.journeymap.json"'
    doc = response.json()
    assert doc["format"] == "journeymap/1"
    assert [s["key"] for s in doc["stages"]] == ["awareness", "decision"]


def test_a_japanese_map_downloads_under_its_own_name(client, viewer, small_map):
    small_map.name = "認知から推奨まで: 2027/Q1"
    small_map.save()
    login(client, viewer)
    response = client.get(reverse("map_download", args=["acme", "launch", "pptx"]))
    # RFC 6266: an ASCII fallback for old clients, the UTF-8 name for everyone else; the
    # characters no file system takes (: and /) become spaces.
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''")
    assert urllib.parse.unquote(disposition.split("''", 1)[1]) == "認知から推奨まで 2027 Q1.pptx"
    json_disposition = client.get(reverse("map_export_json", args=["acme", "launch"]))["Content-Disposition"]
    assert urllib.parse.unquote(json_disposition.split("''", 1)[1]) == "認知から推奨まで 2027 Q1.journeymap.json"
