"""Two people editing one map: nobody's change is lost silently. The same field changed
by both is refused with 409, what the other changed and the person's own input; other
fields, and other things, merge."""

from __future__ import annotations

import lxml.html
from django.test import Client
from django.urls import reverse

from maps import changes
from maps.models import Touchpoint

from .web import HX, login


def open_form(client: Client, url: str) -> dict[str, list[str]]:
    """The editor form as a browser would send it, untouched."""
    page = client.get(url, **HX)
    assert page.status_code == 200
    form = lxml.html.fromstring(page.content.decode()).xpath(f'//form[@action="{url}"]')[0]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    return values


def send(client: Client, url: str, values: dict[str, list[str]], **changes_: str):
    data = {**values, **{name: [value] for name, value in changes_.items()}}
    return client.post(url, data, **HX)


def two_editors(owner, editor) -> tuple[Client, Client]:
    return login(Client(), owner), login(Client(), editor)


TP_URL = "/w/acme/m/launch/t/webinar/"


def test_the_second_save_of_the_same_field_is_refused_with_what_the_first_changed(owner, editor, small_map):
    alice, bob = two_editors(owner, editor)
    assert reverse("touchpoint_edit", args=["acme", "launch", "webinar"]) == TP_URL
    seen_by_alice, seen_by_bob = open_form(alice, TP_URL), open_form(bob, TP_URL)
    assert send(alice, TP_URL, seen_by_alice, name="Live webinar").status_code == 200
    answer = send(bob, TP_URL, seen_by_bob, name="Web seminar")
    assert answer.status_code == 409
    body = answer.content.decode()
    assert "Live webinar" in body and "alice" in body  # what the other person did, and who
    doc = lxml.html.fromstring(body)
    assert doc.xpath('//input[@name="name"]/@value') == ["Web seminar"]  # bob's input is kept
    assert Touchpoint.objects.get(map=small_map, key="webinar").name == "Live webinar"


def test_sending_the_refused_form_again_applies_it_anyway(owner, editor, small_map):
    alice, bob = two_editors(owner, editor)
    seen_by_alice, seen_by_bob = open_form(alice, TP_URL), open_form(bob, TP_URL)
    send(alice, TP_URL, seen_by_alice, name="Live webinar")
    refused = send(bob, TP_URL, seen_by_bob, name="Web seminar")
    form = lxml.html.fromstring(refused.content.decode()).xpath(f'//form[@action="{TP_URL}"]')[0]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    assert bob.post(TP_URL, values, **HX).status_code == 200
    assert Touchpoint.objects.get(map=small_map, key="webinar").name == "Web seminar"


def test_different_fields_of_one_touchpoint_both_survive(owner, editor, small_map):
    alice, bob = two_editors(owner, editor)
    seen_by_alice, seen_by_bob = open_form(alice, TP_URL), open_form(bob, TP_URL)
    assert send(alice, TP_URL, seen_by_alice, name="Live webinar").status_code == 200
    assert send(bob, TP_URL, seen_by_bob, channel="on site").status_code == 200
    webinar = Touchpoint.objects.get(map=small_map, key="webinar")
    assert (webinar.name, webinar.channel) == ("Live webinar", "on site")


def test_different_touchpoints_saved_from_old_forms_both_succeed(owner, editor, small_map):
    alice, bob = two_editors(owner, editor)
    ad_url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    seen_by_alice, seen_by_bob = open_form(alice, TP_URL), open_form(bob, ad_url)
    assert send(alice, TP_URL, seen_by_alice, name="Live webinar").status_code == 200
    assert send(bob, ad_url, seen_by_bob, name="Search ad").status_code == 200
    names = dict(Touchpoint.objects.filter(map=small_map).values_list("key", "name"))
    assert (names["webinar"], names["ad"]) == ("Live webinar", "Search ad")


def test_a_save_from_an_old_form_does_not_undo_a_move_made_meanwhile(owner, editor, small_map):
    alice, _bob = two_editors(owner, editor)
    seen = open_form(alice, TP_URL)
    changes.move_touchpoint(small_map, Touchpoint.objects.get(map=small_map, key="webinar"), "up", user=editor)
    assert send(alice, TP_URL, seen, name="Live webinar").status_code == 200
    order = list(
        Touchpoint.objects.filter(stage__key="awareness", map=small_map).order_by("order").values_list("key", flat=True)
    )
    assert order == ["webinar", "ad"]


def test_flows_added_by_another_person_survive_an_edit_of_the_name(owner, editor, small_map):
    alice, _bob = two_editors(owner, editor)
    ad_url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    seen = open_form(alice, ad_url)
    changes.add_flow(small_map, Touchpoint.objects.get(map=small_map, key="ad"), "demo", user=editor)
    assert send(alice, ad_url, seen, name="Search ad").status_code == 200
    ad = Touchpoint.objects.get(map=small_map, key="ad")
    assert sorted(ad.flows_out.values_list("target__key", flat=True)) == ["demo", "webinar"]


def reorder(client: Client, stage: str, keys: list[str], version: int):
    return client.post(
        reverse("touchpoint_reorder", args=["acme", "launch"]),
        {"stage": stage, "order": keys, "version": version},
        **HX,
    )


def awareness_order(small_map) -> list[str]:
    return list(
        Touchpoint.objects.filter(map=small_map, stage__key="awareness").order_by("order").values_list("key", flat=True)
    )


def test_a_drop_on_a_board_older_than_someone_elses_reorder_is_refused_and_theirs_stays(owner, editor, small_map):
    changes.record_creation(small_map)
    alice, bob = two_editors(owner, editor)
    drawn_at = small_map.version
    assert reorder(bob, "awareness", ["webinar", "ad"], drawn_at).status_code == 200
    answer = reorder(alice, "awareness", ["ad", "webinar"], drawn_at)
    assert answer.status_code == 409
    assert "bob reordered" in answer.content.decode() or "bob moved" in answer.content.decode()
    assert awareness_order(small_map) == ["webinar", "ad"]


def test_a_drop_on_an_old_board_succeeds_when_nobody_touched_that_order(owner, editor, small_map):
    changes.record_creation(small_map)
    alice, bob = two_editors(owner, editor)
    drawn_at = small_map.version
    demo_url = reverse("touchpoint_edit", args=["acme", "launch", "demo"])
    assert send(bob, demo_url, open_form(bob, demo_url), name="Live demo 2").status_code == 200
    assert reorder(alice, "awareness", ["webinar", "ad"], drawn_at).status_code == 200
    assert awareness_order(small_map) == ["webinar", "ad"]


def test_two_people_renaming_the_same_persona_differently_is_a_conflict_not_a_lost_edit(owner, editor, small_map):
    alice, bob = two_editors(owner, editor)
    url = reverse("library_edit", args=["acme", "personas", "cfo"])
    seen_by_alice, seen_by_bob = open_form(alice, url), open_form(bob, url)
    assert alice.post(url, {**seen_by_alice, "name": ["Carla (CFO)"]}, **HX).status_code == 200
    answer = bob.post(url, {**seen_by_bob, "name": ["Carla, finance"]}, **HX)
    assert answer.status_code == 409
    assert "Carla (CFO)" in answer.content.decode()
    assert small_map.workspace.personas.get(key="cfo").name == "Carla (CFO)"
