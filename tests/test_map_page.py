"""The map page and its fragments: board, gaps and who sees the edit controls; user
text escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from maps.gaps import find_gaps
from maps.models import (
    JourneyMap,
    Stage,
    Touchpoint,
)

from .web import HX, html, login


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


# --- the map page and its fragments ------------------------------------------------------------


@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_map_page_shows_stages_touchpoints_and_every_gap(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    response = client.get(small_map.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    for name in ("Launch journey", "Awareness", "Decision", "LinkedIn ad", "Webinar", "Live demo"):
        assert name in body
    found = find_gaps(loaded(small_map))
    assert {g.code for g in found} >= {"content-gap", "no-metric", "pain-hotspot"}
    for gap in found:
        assert escape(gap.message) in body


def test_gap_rows_sit_under_their_stage_with_their_code(client, owner, small_map):
    login(client, owner)
    doc = html(client.get(reverse("map_gaps", args=["acme", "launch"]), **HX))
    decision = doc.xpath('//section[@aria-label="Gaps of Decision"]')[0]
    codes = decision.xpath('.//a[contains(@class, "gap-row")]/@data-code')
    assert codes == [g.code for g in find_gaps(loaded(small_map)) if g.stage == "decision"]
    assert "content-gap" in codes


def test_each_gap_row_takes_you_to_what_it_is_about(client, owner, small_map):
    small_map.touchpoints.filter(key="ad").update(owner=None)
    login(client, owner)
    doc = html(client.get(reverse("map_gaps", args=["acme", "launch"]), **HX))
    rows = {row.get("data-code"): row for row in doc.xpath('//a[contains(@class, "gap-row")]')}
    content_gap = rows["content-gap"]
    assert content_gap.get("href") == reverse("coverage", args=["acme", "launch"]) + "#cell-decision-it-lead"
    assert content_gap.get("hx-get") is None  # a page of its own, not the editor
    unowned = rows["touchpoint-no-owner"]
    assert unowned.get("href") == reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    assert unowned.get("hx-get") == unowned.get("href")  # opens beside the board
    no_metric = rows["no-metric"]
    assert no_metric.get("href") == reverse("stage_edit", args=["acme", "launch", "decision"])
    assert no_metric.get("hx-get") == no_metric.get("href")


def test_viewer_sees_the_map_without_edit_controls(client, viewer, small_map):
    login(client, viewer)
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert "You can view this map; ask an owner for edit rights." in body
    for name in ("stage_create", "touchpoint_reorder", "map_settings", "map_delete"):
        assert reverse(name, args=["acme", "launch"]) not in body
    assert reverse("map_download", args=["acme", "launch", "pptx"]) in body  # exporting is reading
    assert reverse("map_download", args=["acme", "launch", "handout"]) in body


def test_editor_sees_the_edit_controls(client, editor, small_map):
    login(client, editor)
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert reverse("stage_create", args=["acme", "launch"]) in body
    assert reverse("touchpoint_reorder", args=["acme", "launch"]) in body
    assert reverse("touchpoint_move", args=["acme", "launch", "ad", "down"]) in body


@pytest.mark.parametrize("url_name", ["map_detail", "map_board", "map_gaps", "map_diagram", "map_export_json"])
def test_stranger_cannot_see_the_map(client, stranger, small_map, url_name):
    login(client, stranger)
    assert client.get(reverse(url_name, args=["acme", "launch"])).status_code == 404


@pytest.mark.parametrize("url_name", ["map_detail", "map_board", "map_gaps", "map_diagram", "map_export_json"])
def test_anonymous_is_sent_to_login_for_the_map(client, small_map, url_name):
    url = reverse(url_name, args=["acme", "launch"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_unknown_map_is_not_found(client, owner, small_map):
    login(client, owner)
    assert client.get(reverse("map_detail", args=["acme", "nope"])).status_code == 404


def test_map_of_another_workspace_is_not_found_through_mine(client, owner, small_map, stranger):
    JourneyMap.objects.create(workspace=stranger.memberships.get().workspace, key="secret", name="Secret")
    login(client, owner)
    assert client.get(reverse("map_detail", args=["acme", "secret"])).status_code == 404
    assert client.get(reverse("map_detail", args=["elsewhere", "secret"])).status_code == 404


@pytest.mark.parametrize("url_name, region", [("map_board", 'id="board"'), ("map_gaps", 'id="gaps-title"')])
def test_board_and_gaps_fragments_are_the_region_alone(client, viewer, small_map, url_name, region):
    login(client, viewer)
    response = client.get(reverse(url_name, args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert region in body and "<html" not in body
    assert "Awareness" in body and "Decision" in body


def test_board_and_gaps_refresh_when_the_map_changes(client, viewer, small_map):
    login(client, viewer)
    doc = html(client.get(small_map.get_absolute_url()))
    for region in ("board", "gaps", "diagram"):
        (element,) = doc.xpath(f'//*[@id="{region}"]')
        assert "map-changed from:body" in element.get("hx-trigger")


def test_board_shows_the_change_an_edit_made(client, editor, small_map):
    login(client, editor)
    client.post(
        reverse("touchpoint_create", args=["acme", "launch", "decision"]),
        {"name": "Contract review", "stage": small_map.stages.get(key="decision").pk},
        **HX,
    )
    assert "Contract review" in client.get(reverse("map_board", args=["acme", "launch"]), **HX).content.decode()


def test_user_text_is_escaped_on_the_map_page(client, owner, small_map):
    login(client, owner)
    hostile = "<script>alert(1)</script>"
    response = client.post(
        reverse("touchpoint_create", args=["acme", "launch", "decision"]),
        {"name": hostile, "stage": small_map.stages.get(key="decision").pk, "pain_point": hostile},
        **HX,
    )
    assert response.status_code == 200
    assert Touchpoint.objects.filter(map=small_map, name=hostile).exists()
    for url_name in ("map_detail", "map_board", "map_gaps", "map_diagram"):
        body = client.get(reverse(url_name, args=["acme", "launch"]), **HX).content.decode()
        assert hostile not in body, url_name
        assert "<script>" not in body, url_name
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_map_and_stage_names_are_escaped_too(client, owner, small_map):
    JourneyMap.objects.filter(pk=small_map.pk).update(name='<img src=x onerror="alert(1)">')
    Stage.objects.filter(map=small_map, key="decision").update(name="<b>Decide</b>")
    login(client, owner)
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert "<img src=x" not in body and "<b>Decide</b>" not in body
    assert "&lt;b&gt;Decide&lt;/b&gt;" in body
