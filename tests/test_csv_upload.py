"""The Import CSV page: upload, a preview of what would be added, changed and left
alone, then Apply; the CSV downloads of the export menu; who may do what."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from maps import tables
from maps.models import Revision, Touchpoint

from .web import snapshot

GOOD = b"key,stage,name,channel\r\nad,awareness,LinkedIn ad,social\r\nfair,awareness,Trade fair,event\r\n"
BAD = b"stage,name,emotion\r\nnowhere,Lost,0\r\nawareness,Sad,-9\r\n"


def _client(client, user):
    client.force_login(user)
    return client


def _upload(client, journey_map, data: bytes, table: str = "touchpoints"):
    url = reverse("csv_import", args=[journey_map.workspace.slug, journey_map.key])
    return client.post(url, {"table": table, "file": SimpleUploadedFile("tp.csv", data, "text/csv")})


def _apply(client, journey_map, response):
    plan = response.context["plan"]
    url = reverse("csv_apply", args=[journey_map.workspace.slug, journey_map.key])
    return client.post(url, {"token": response.context["token"], "version": plan.version})


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_an_editor_previews_a_file_then_applies_it(client, request, small_map, role):
    client = _client(client, request.getfixturevalue(role))
    preview = _upload(client, small_map, GOOD)
    assert preview.status_code == 200
    page = preview.content.decode()
    assert "1 row to add" in page and "1 row as it is" in page and "Trade fair" in page
    assert not Touchpoint.objects.filter(key="fair").exists()
    answer = _apply(client, small_map, preview)
    assert answer.status_code == 302
    assert Touchpoint.objects.filter(map=small_map, key="fair").exists()


def test_the_preview_names_every_bad_row_and_offers_no_apply(client, owner, small_map):
    client = _client(client, owner)
    before = snapshot()
    answer = _upload(client, small_map, BAD)
    assert answer.status_code == 422
    page = answer.content.decode()
    assert "row 2, column &quot;stage&quot;: no stage &quot;nowhere&quot; in this map" in page
    assert "row 3, column &quot;emotion&quot;" in page
    assert reverse("csv_apply", args=["acme", "launch"]) not in page
    assert snapshot() == before


def test_apply_refuses_cleanly_when_the_map_changed_since_the_preview(client, owner, small_map):
    client = _client(client, owner)
    preview = _upload(client, small_map, GOOD)
    tables.apply(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-10,5,1\r\n", user=owner)
    answer = _apply(client, small_map, preview)
    assert answer.status_code == 200
    assert "The map changed since the preview" in answer.content.decode()
    assert not Touchpoint.objects.filter(key="fair").exists()


def test_apply_without_a_kept_preview_asks_for_the_file_again(client, owner, small_map):
    url = reverse("csv_apply", args=[small_map.workspace.slug, small_map.key])
    answer = _client(client, owner).post(url, {"token": "0" * 32, "version": "1"})
    assert answer.status_code == 422
    assert "upload the file again" in answer.content.decode()


def test_a_file_above_the_import_limit_is_refused(client, owner, small_map, settings):
    settings.IMPORT_MAX_BYTES = 20
    answer = _upload(_client(client, owner), small_map, GOOD)
    assert answer.status_code == 422
    assert "too large" in answer.content.decode()


def test_a_viewer_cannot_preview_or_apply(client, viewer, small_map):
    client = _client(client, viewer)
    before = snapshot()
    assert _upload(client, small_map, GOOD).status_code == 403
    url = reverse("csv_apply", args=[small_map.workspace.slug, small_map.key])
    assert client.post(url, {"token": "x"}).status_code == 403
    assert snapshot() == before


def test_a_stranger_finds_no_import_page(client, stranger, small_map):
    client = _client(client, stranger)
    assert client.get(reverse("csv_import", args=["acme", "launch"])).status_code == 404
    assert client.get(reverse("csv_download", args=["acme", "launch", "touchpoints"])).status_code == 404


@pytest.mark.parametrize("table", tables.EXPORTABLE)
def test_a_viewer_downloads_every_csv_table(client, viewer, small_map, table):
    answer = _client(client, viewer).get(reverse("csv_download", args=["acme", "launch", table]))
    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/csv; charset=utf-8"
    assert f"launch.{table}.csv" in answer["Content-Disposition"]
    assert answer.content.startswith("\ufeff".encode())


def test_the_map_menu_offers_import_to_editors_only(client, owner, viewer, small_map):
    url = reverse("map_detail", args=["acme", "launch"])
    link = reverse("csv_import", args=["acme", "launch"])
    assert link in _client(client, owner).get(url).content.decode()
    client.logout()
    assert link not in _client(client, viewer).get(url).content.decode()


def test_a_successful_apply_is_one_revision(client, owner, small_map):
    client = _client(client, owner)
    before = Revision.objects.filter(map=small_map).count()
    _apply(client, small_map, _upload(client, small_map, GOOD))
    # The map's first change also writes "history starts here".
    assert Revision.objects.filter(map=small_map).count() == before + 2
    assert Revision.objects.filter(map=small_map).first().user == owner
