"""Presenter mode: the map for a projector, one stage at a time, for everyone who may
see the map (viewers too: presenting writes nothing)."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse

from maps.gaps import find_gaps
from maps.models import JourneyMap

pytestmark = pytest.mark.django_db


def _url(journey_map: JourneyMap, **query) -> str:
    url = reverse("map_present", args=[journey_map.workspace.slug, journey_map.key])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_every_member_can_present_the_map(client, request, small_map, role_name):
    client.force_login(request.getfixturevalue(role_name))
    response = client.get(_url(small_map))
    assert response.status_code == 200
    assert b'class="present-stage' in response.content


def test_a_stranger_cannot_present_the_map(client, stranger, small_map):
    client.force_login(stranger)
    assert client.get(_url(small_map)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, small_map):
    response = client.get(_url(small_map))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_each_stage_slide_shows_its_questions_and_its_own_gaps(client, owner, small_map):
    awareness = small_map.stages.get(key="awareness")
    awareness.questions = ["Who reads our guide?", "Where do <b>visitors</b> come from?"]
    awareness.save()
    client.force_login(owner)
    page = lxml.html.fromstring(client.get(_url(small_map)).content)
    slides = page.xpath("//section[contains(@class, 'present-stage')]")
    assert [s.get("id") for s in slides] == ["stage-awareness", "stage-decision"]
    questions = [li.text_content() for li in slides[0].xpath(".//ol[@class='questions']/li")]
    assert questions == ["Who reads our guide?", "Where do <b>visitors</b> come from?"]
    gaps = find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))
    for slide, key in zip(slides, ["awareness", "decision"]):
        shown = sorted(row.get("data-code") for row in slide.xpath(".//p[contains(@class, 'present-gap')][@data-code]"))
        assert shown == sorted(gap.code for gap in gaps if gap.stage == key)


def test_the_board_view_lists_each_stages_touchpoints(client, viewer, small_map):
    client.force_login(viewer)
    page = lxml.html.fromstring(client.get(_url(small_map, show="board")).content)
    decision = page.xpath("//*[@id='stage-decision']//ul[@class='present-cards']/li/strong")
    assert [card.text_content() for card in decision] == ["Live demo"]
    assert not page.xpath("//*[@id='present-diagram']")


def test_the_diagram_view_loads_the_diagram_and_marks_each_slide_with_its_cluster(client, viewer, small_map):
    client.force_login(viewer)
    page = lxml.html.fromstring(client.get(_url(small_map)).content)
    diagram = page.xpath("//*[@id='present-diagram']")[0]
    assert diagram.get("hx-get") == reverse("map_diagram", args=[small_map.workspace.slug, small_map.key])
    decision = small_map.stages.get(key="decision")
    assert page.xpath("//*[@id='stage-decision']")[0].get("data-cluster") == f"cluster_st_{decision.pk}"


def test_presenting_offers_the_way_back_to_editing(client, owner, small_map):
    client.force_login(owner)
    page = lxml.html.fromstring(client.get(_url(small_map)).content)
    assert page.xpath("//*[@id='present-exit']")[0].get("href") == small_map.get_absolute_url()
