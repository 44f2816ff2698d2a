"""Diagrams cached by the map's version: a hit or a 304 costs the stamp's query and no
map load; every change (the map's own, or the library's) draws anew; each language and
each day gets its own; a layout that fails is tried once per version, and one drawing
runs at a time."""

from __future__ import annotations

import datetime
import gzip

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from maps import diagram, versioned
from maps.models import JourneyMap, MapPersona, Membership, Persona, UserSettings

from .conftest import make_user
from .test_library import item_data
from .web import HX, html, login

pytestmark = pytest.mark.django_db

DIAGRAM = reverse("map_diagram", args=["acme", "launch"])


def dot_runs(monkeypatch) -> list[str]:
    """Count the layouts Graphviz is asked for, from here on (its own cache emptied)."""
    cache.clear()
    runs: list[str] = []
    real = diagram._run_dot

    def counting(source, fmt):
        runs.append(fmt)
        return real(source, fmt)

    monkeypatch.setattr(diagram, "_run_dot", counting)
    return runs


def queries_of(client, url: str, **extra) -> tuple:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    return response, [query["sql"] for query in captured.captured_queries]


def test_a_warm_diagram_is_served_without_loading_the_map(client, viewer, small_map, monkeypatch):
    runs = dot_runs(monkeypatch)
    login(client, viewer)
    cold = client.get(DIAGRAM, **HX)
    warm, sql = queries_of(client, DIAGRAM, **HX)
    assert warm.status_code == 200 and warm.content == cold.content and warm["ETag"] == cold["ETag"]
    assert runs == ["svg"]
    # The session, the person, and the stamp: nothing of the map's stages or touchpoints.
    assert len(sql) == 3, sql
    assert not any("maps_stage" in query or "maps_touchpoint" in query for query in sql)


def test_a_matching_etag_answers_304_at_the_cost_of_the_stamp(client, viewer, small_map):
    login(client, viewer)
    etag = client.get(DIAGRAM, **HX)["ETag"]
    response, sql = queries_of(client, DIAGRAM, HTTP_IF_NONE_MATCH=etag, **HX)
    assert response.status_code == 304 and response["ETag"] == etag
    assert len(sql) == 3, sql


def test_a_change_to_the_map_draws_the_diagram_anew(client, editor, small_map, monkeypatch):
    runs = dot_runs(monkeypatch)
    login(client, editor)
    before = client.get(DIAGRAM, **HX)
    client.post(reverse("touchpoint_move", args=["acme", "launch", "webinar", "right"]), **HX)
    after = client.get(DIAGRAM, **HX)
    assert runs == ["svg", "svg"]
    assert after["ETag"] != before["ETag"]


def test_a_library_change_the_map_shows_draws_the_diagram_anew(client, editor, small_map, workspace):
    login(client, editor)
    before = html(client.get(DIAGRAM, **HX)).text_content()
    assert "Marketing" in before
    data = item_data(workspace, "departments", "marketing", name="Growth marketing")
    assert (
        client.post(reverse("library_edit", args=["acme", "departments", "marketing"]), data, **HX).status_code == 200
    )
    assert "Growth marketing" in html(client.get(DIAGRAM, **HX)).text_content()


def test_each_language_gets_its_own_diagram(client, viewer, small_map):
    login(client, viewer)
    english = client.get(DIAGRAM, **HX)
    UserSettings.choose_language(viewer, "ja")
    client.logout()
    login(client, viewer)
    japanese = client.get(DIAGRAM, **HX)
    assert english["ETag"] != japanese["ETag"]
    with translation.override("ja"):
        assert translation.gettext("Journey by stage") in html(japanese).text_content()


def test_a_new_day_gets_a_new_diagram(client, viewer, small_map, monkeypatch):
    """Stale-content gaps count days: yesterday's picture is not today's."""
    login(client, viewer)
    today = client.get(DIAGRAM, **HX)["ETag"]
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    monkeypatch.setattr(versioned.timezone, "localdate", lambda: tomorrow)
    assert client.get(DIAGRAM, **HX)["ETag"] != today


def test_a_layout_that_fails_is_tried_once_per_version(client, viewer, small_map, monkeypatch):
    cache.clear()
    tries = []

    def too_complex(source, fmt):
        tries.append(fmt)
        raise diagram.DiagramError("This map is too complex to lay out in 20 seconds.")

    monkeypatch.setattr(diagram, "_run_dot", too_complex)
    login(client, viewer)
    for _ in range(3):
        response = client.get(DIAGRAM, **HX)
        assert response.status_code == 200
        assert "too complex to lay out" in html(response).text_content()
    assert tries == ["svg"]
    # The download of the same picture is its own rendering, refused as clearly.
    download = client.get(reverse("map_download", args=["acme", "launch", "svg"]))
    assert download.status_code == 302 and download["Location"] == small_map.get_absolute_url()
    assert tries == ["svg", "svg"]


def _diagram_key(small_map, view: str) -> str:
    """The cache key of the map page's diagram of `view`, as a viewer reading English gets it."""
    journey_map = JourneyMap.objects.get(pk=small_map.pk)
    with translation.override("en"):
        stamp = versioned.Stamp(
            journey_map.pk, journey_map.version, journey_map.created.isoformat(), "acme", "launch", "viewer"
        )
        return versioned.cache_key(stamp, "page-svg", view)


def test_while_someone_draws_the_diagram_another_page_is_told_and_asks_again(client, viewer, small_map, monkeypatch):
    runs = dot_runs(monkeypatch)
    login(client, viewer)
    key = _diagram_key(small_map, "stages")
    cache.add(versioned.drawing_lock(key), 1)
    response = client.get(DIAGRAM, **HX)
    assert response.status_code == 202 and runs == []
    waiting = html(response).xpath('//*[@hx-get][@hx-trigger="load delay:1s"]')
    assert waiting and waiting[0].get("hx-get") == DIAGRAM
    cache.delete(versioned.drawing_lock(key))
    assert client.get(DIAGRAM, **HX).status_code == 200 and runs == ["svg"]


def test_one_drawing_of_a_map_runs_at_a_time_whatever_its_view(client, viewer, small_map, monkeypatch):
    runs = dot_runs(monkeypatch)
    login(client, viewer)
    departments = _diagram_key(small_map, "departments")
    # Someone is drawing the departments view: the stages view waits its turn.
    cache.add(versioned.drawing_lock(departments), 1)
    assert client.get(DIAGRAM, **HX).status_code == 202 and runs == []
    cache.delete(versioned.drawing_lock(departments))
    assert client.get(DIAGRAM, **HX).status_code == 200 and runs == ["svg"]


def test_a_stranger_gets_no_diagram_even_when_it_is_cached(client, viewer, stranger, small_map):
    login(client, viewer)
    etag = client.get(DIAGRAM, **HX)["ETag"]
    login(client, stranger)
    assert client.get(DIAGRAM, **HX).status_code == 404
    assert client.get(DIAGRAM, HTTP_IF_NONE_MATCH=etag, **HX).status_code == 404


def test_a_map_in_the_trash_has_no_diagram_even_when_it_is_cached(client, owner, small_map):
    login(client, owner)
    client.get(DIAGRAM, **HX)
    JourneyMap.objects.filter(pk=small_map.pk).update(deleted=timezone.now())
    assert client.get(DIAGRAM, **HX).status_code == 404


def test_pages_and_diagrams_are_sent_compressed_and_a_weak_tag_still_answers_304(client, viewer, small_map):
    login(client, viewer)
    page = client.get(small_map.get_absolute_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert page["Content-Encoding"] == "gzip"
    assert gzip.decompress(page.content).decode().startswith("<!doctype html>")
    response = client.get(DIAGRAM, HTTP_ACCEPT_ENCODING="gzip", **HX)
    assert response["Content-Encoding"] == "gzip" and response["ETag"].startswith('W/"')
    # The browser sends the weak tag back: it names the same picture.
    again = client.get(DIAGRAM, HTTP_IF_NONE_MATCH=response["ETag"], HTTP_ACCEPT_ENCODING="gzip", **HX)
    assert again.status_code == 304


BOARD = reverse("map_board", args=["acme", "launch"])
GAPS = reverse("map_gaps", args=["acme", "launch"])


@pytest.mark.parametrize("url", [BOARD, GAPS])
def test_a_warm_board_or_gap_list_costs_two_small_queries_beyond_the_session(client, viewer, small_map, url):
    login(client, viewer)
    cold = client.get(url, **HX)
    warm, sql = queries_of(client, url, **HX)
    assert warm.content == cold.content
    # The session and the person, then the stamp and the open comment counts.
    assert len(sql) == 4, sql
    assert not any("maps_stage" in query or "maps_touchpoint" in query for query in sql)


def test_the_map_page_takes_its_board_and_gaps_from_the_cache(client, viewer, small_map):
    login(client, viewer)
    client.get(small_map.get_absolute_url())
    page, sql = queries_of(client, small_map.get_absolute_url())
    assert page.status_code == 200
    assert html(page).xpath('//div[@id="board"]//article') and html(page).xpath('//div[@id="gaps"]//h3')
    assert not any("maps_touchpoint" in query for query in sql), sql


def test_a_new_comment_shows_on_the_cached_board_and_gap_list(client, owner, small_map):
    login(client, owner)
    for url in (BOARD, GAPS):
        client.get(url, **HX)
    client.post(
        reverse("comment_post", args=["acme", "launch"]),
        {"target": "stage", "stage": "awareness", "new-body": "Who owns this?"},
        **HX,
    )
    board = html(client.get(BOARD, **HX))
    assert board.xpath('//div[@id="stage-awareness"]//a[@aria-label="Comments on Awareness: 1 open"]')
    gaps = html(client.get(GAPS, **HX))
    assert gaps.xpath('//a[contains(@class, "comment-button")]')


def test_a_viewer_never_gets_the_board_an_editor_drew(client, editor, viewer, small_map):
    login(client, editor)
    assert html(client.get(BOARD, **HX)).xpath('//button[starts-with(@aria-label, "Move ")]')
    login(client, viewer)
    assert not html(client.get(BOARD, **HX)).xpath('//button[starts-with(@aria-label, "Move ")]')


def test_the_warm_map_page_costs_the_same_queries_however_many_personas_the_map_has(client, viewer, small_map):
    login(client, viewer)
    client.get(small_map.get_absolute_url())
    _page, two = queries_of(client, small_map.get_absolute_url())
    persona = Persona.objects.create(workspace=small_map.workspace, key="intern", name="Ian Intern", order=9)
    MapPersona.objects.create(map=small_map, persona=persona, order=9)
    client.get(small_map.get_absolute_url())
    _page, three = queries_of(client, small_map.get_absolute_url())
    assert len(three) == len(two)


@pytest.mark.parametrize("name", ["coverage", "accountability", "funnel"])
def test_a_warm_matrix_is_served_without_loading_the_map(client, viewer, small_map, name):
    url = reverse(name, args=["acme", "launch"])
    login(client, viewer)
    for extra in ({}, HX):
        cold = client.get(url, **extra)
        warm, sql = queries_of(client, url, **extra)
        assert warm.status_code == 200
        # The same matrix (a full page's own CSRF token differs from one answer to the next).
        assert html(warm).xpath(f'string(//*[@id="{name}"])') == html(cold).xpath(f'string(//*[@id="{name}"])')
        assert html(warm).xpath(f'//*[@id="{name}"]//td')
        assert not any("maps_touchpoint" in query for query in sql), sql


def test_a_cached_matrix_form_carries_the_readers_own_csrf_token(editor, small_map, workspace):
    """The first editor's coverage page is cached; a second editor's form from it posts."""
    other = make_user("erin")
    Membership.objects.create(workspace=workspace, user=other, role=Membership.EDITOR)
    url = reverse("coverage", args=["acme", "launch"])
    first = Client(enforce_csrf_checks=True)
    login(first, editor)
    first.get(url)
    second = Client(enforce_csrf_checks=True)
    login(second, other)
    page = html(second.get(url))
    form = page.xpath('//td[@id="cell-decision-it-lead"]//form')[0]
    data = {field.get("name"): field.get("value") for field in form.xpath(".//input[@type='hidden']")}
    assert len(data["csrfmiddlewaretoken"]) == 64
    data["content"] = "guide"
    response = second.post(form.get("action"), data)
    assert response.status_code == 302
    assert "Buyer's guide" in html(second.get(url)).xpath('string(//td[@id="cell-decision-it-lead"])')


def test_a_new_release_of_the_drawing_code_or_a_parts_template_draws_anew(client, viewer, small_map, monkeypatch):
    """The renderer's version is a hash of the app's modules and the parts' templates:
    a deploy that changes the board never serves the board the old code drew."""
    names = {path.name for path in versioned._RENDERER_FILES}
    assert {"diagram.py", "board.py", "_board.html", "_gaps.html", "_coverage.html"} <= names
    login(client, viewer)
    before = client.get(DIAGRAM, **HX)["ETag"]
    monkeypatch.setattr(versioned, "RENDERER", "another-release")
    assert client.get(DIAGRAM, **HX)["ETag"] != before
