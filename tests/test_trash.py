"""The trash: what is deleted can be brought back whole, with its links, for 30 days."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from maps import changes, interchange, trash
from maps.models import ContentAsset, JourneyMap, Persona, TrashItem

from .web import login


@pytest.fixture
def history_started(small_map):
    changes.record_creation(small_map)
    return small_map


def test_a_deleted_touchpoint_comes_back_with_its_flows_and_content(history_started, editor):
    small_map = history_started
    before = interchange.export_map(small_map)
    changes.delete_touchpoint(small_map, small_map.touchpoints.get(key="webinar"), user=editor)
    assert not small_map.touchpoints.filter(key="webinar").exists()
    item = TrashItem.objects.get(kind=TrashItem.TOUCHPOINT)
    assert (item.name, item.deleted_by) == ("Webinar", editor)
    trash.restore(item, user=editor)
    assert interchange.export_map(small_map) == before
    assert not TrashItem.objects.exists()


def test_a_deleted_stage_comes_back_with_its_touchpoints_kpis_and_links(history_started, owner):
    small_map = history_started
    before = interchange.export_map(small_map)
    changes.delete_stage(small_map, small_map.stages.get(key="awareness"), user=owner)
    assert list(small_map.stages.values_list("key", flat=True)) == ["decision"]
    trash.restore(TrashItem.objects.get(kind=TrashItem.STAGE), user=owner)
    assert interchange.export_map(small_map) == before


def test_a_touchpoint_whose_stage_is_gone_cannot_come_back_and_says_why(history_started, owner):
    small_map = history_started
    changes.delete_touchpoint(small_map, small_map.touchpoints.get(key="demo"), user=owner)
    changes.delete_stage(small_map, small_map.stages.get(key="decision"), user=owner)
    with pytest.raises(changes.Refused, match="bring the stage back first"):
        trash.restore(TrashItem.objects.get(kind=TrashItem.TOUCHPOINT), user=owner)
    assert TrashItem.objects.filter(kind=TrashItem.TOUCHPOINT).exists()


def test_a_deleted_library_item_comes_back_with_the_content_that_targeted_it(workspace, owner):
    persona = Persona.objects.create(workspace=workspace, key="cmo", name="Chris CMO", influence=4)
    asset = ContentAsset.objects.create(workspace=workspace, key="report", title="Report")
    asset.personas.add(persona)
    changes.delete_library_item(persona, user=owner)
    assert not Persona.objects.filter(key="cmo").exists()
    trash.restore(TrashItem.objects.get(kind=TrashItem.LIBRARY), user=owner)
    back = Persona.objects.get(workspace=workspace, key="cmo")
    assert (back.name, back.influence) == ("Chris CMO", 4)
    assert list(asset.personas.all()) == [back]


def test_a_deleted_map_is_gone_from_the_pages_until_it_is_brought_back(client, history_started, owner):
    small_map = history_started
    login(client, owner)
    changes.delete_map(small_map, user=owner)
    assert client.get(small_map.get_absolute_url()).status_code == 404
    assert "Launch journey" not in client.get(reverse("workspace", args=["acme"])).content.decode()
    trash.restore(TrashItem.objects.get(kind=TrashItem.MAP), user=owner)
    assert client.get(small_map.get_absolute_url()).status_code == 200


def test_what_waited_more_than_30_days_is_deleted_for_good(history_started, owner, workspace):
    small_map = history_started
    changes.delete_touchpoint(small_map, small_map.touchpoints.get(key="ad"), user=owner)
    changes.delete_map(small_map, user=owner)
    assert len(trash.items(workspace)) == 2
    trash.purge(workspace, now=timezone.now() + datetime.timedelta(days=trash.KEEP_DAYS, minutes=1))
    assert not TrashItem.objects.exists()
    assert not JourneyMap.objects.filter(pk=small_map.pk).exists()


def test_emptying_the_trash_deletes_everything_in_it_now(history_started, owner, workspace):
    small_map = history_started
    changes.delete_touchpoint(small_map, small_map.touchpoints.get(key="ad"), user=owner)
    assert trash.empty(workspace) == 1
    assert trash.items(workspace) == []
