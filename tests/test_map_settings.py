"""The map's own settings and its personas panel, as the map page's drawer gets them:
what a rename answers with, a persona created from inside the map, a panel that stays
open, and a refused form that says what to fix at its top."""

from __future__ import annotations

import pytest
from django.urls import reverse

from maps.models import JourneyMap, MapPersona, Persona, Revision

from .web import HX, client_events, field_errors, html, login, snapshot

SETTINGS = reverse("map_settings", args=["acme", "launch"])
PERSONAS = reverse("map_personas", args=["acme", "launch"])
NEW_PERSONA = reverse("map_persona_new", args=["acme", "launch"])


def map_names(small_map: JourneyMap) -> list[str]:
    return [e.persona.name for e in MapPersona.objects.filter(map=small_map).order_by("order")]


# --- renaming from the drawer --------------------------------------------------------------------


def test_rename_answers_with_the_page_header_breadcrumb_and_title_and_nothing_for_the_drawer(client, owner, small_map):
    login(client, owner)
    response = client.post(SETTINGS, {"name": "Launch <2026>", "key": "launch"}, **HX)
    assert response.status_code == 200
    doc = html(response)
    # Everything goes out of band; what is left (nothing) replaces the drawer's content.
    assert [e.get("id") for e in doc.xpath("//*[@hx-swap-oob]")] == ["map-header", "crumbs"]
    assert doc.xpath("//*[@id='map-header']//h1")[0].text_content() == "Launch <2026>"
    assert "Launch <2026>" in doc.xpath("//*[@id='crumbs']")[0].text_content()
    assert doc.xpath("//title")[0].text_content() == "Launch <2026> · journeymap"
    assert "Launch &lt;2026&gt;" in response.content.decode()
    body = response.content.decode()
    assert body.startswith('<div class="map-head" id="map-header" hx-swap-oob="true">') and body.endswith("</title>")
    assert {"map-changed", "journeymap-saved"} <= client_events(response)
    assert JourneyMap.objects.get(pk=small_map.pk).name == "Launch <2026>"


def test_rename_is_recorded_as_a_revision(client, owner, small_map):
    login(client, owner)
    client.post(SETTINGS, {"name": "Launch 2026", "key": "launch"}, **HX)
    assert Revision.objects.filter(map=small_map, summary__contains="settings").exists()


def test_refused_settings_show_a_summary_linking_each_field_to_fix(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(SETTINGS, {"name": "", "key": "no spaces"}, **HX)
    assert response.status_code == 422
    summary = html(response).xpath("//*[contains(@class, 'error-summary')]")[0]
    assert summary.get("role") == "alert"
    links = {a.get("href"): " ".join(a.text_content().split()) for a in summary.xpath(".//a")}
    assert set(links) == {"#id_name", "#id_key"}
    assert links["#id_name"] == "Name: This field is required."
    # The field says it too, and is described by its error.
    assert field_errors(response, "name") == ["This field is required."]
    name_input = html(response).xpath("//input[@name='name']")[0]
    assert name_input.get("aria-invalid") == "true"
    assert html(response).xpath(f"//*[@id='{name_input.get('aria-describedby').split()[-1]}']")
    assert snapshot() == before


# --- the personas panel -------------------------------------------------------------------------


def test_adding_a_persona_keeps_the_panel_open_with_the_new_list(client, editor, small_map):
    Persona.objects.create(workspace=small_map.workspace, key="procurement", name="Paula Procurement", order=2)
    login(client, editor)
    response = client.post(PERSONAS, {"persona": Persona.objects.get(key="procurement").pk}, **HX)
    assert response.status_code == 200
    doc = html(response)
    assert doc.xpath("//*[@role='status']")[0].text_content() == "Persona “Paula Procurement” added to the map."
    assert "Paula Procurement" in doc.xpath("//section[@aria-label='Personas in this map']")[0].text_content()
    assert doc.xpath("//form[@action=$url]", url=PERSONAS), "the form to add the next one"
    assert "map-changed" in client_events(response)
    assert map_names(small_map) == ["Carla CFO", "Ivan IT", "Paula Procurement"]


def test_a_persona_created_in_the_map_joins_the_library_and_the_map(client, editor, small_map):
    login(client, editor)
    role = small_map.workspace.roles.get(key="technical-evaluator")
    response = client.post(
        NEW_PERSONA, {"new-name": "Olga Ops", "new-role": role.pk, "new-title": "Head of IT ops"}, **HX
    )
    assert response.status_code == 200
    assert html(response).xpath("//*[@role='status']")[0].text_content() == (
        "Persona “Olga Ops” created and added to the map."
    )
    olga = Persona.objects.get(workspace=small_map.workspace, name="Olga Ops")
    assert (olga.key, olga.role, olga.title) == ("olga-ops", role, "Head of IT ops")
    assert map_names(small_map) == ["Carla CFO", "Ivan IT", "Olga Ops"]
    assert list(MapPersona.objects.get(map=small_map, persona=olga).stages.all()) == []  # every stage
    assert "map-changed" in client_events(response)
    assert Revision.objects.filter(map=small_map, summary__contains="Olga Ops").exists()


def test_a_new_persona_follows_the_library_rules_and_a_refusal_writes_nothing(client, editor, small_map):
    login(client, editor)
    before = snapshot()
    response = client.post(NEW_PERSONA, {"new-name": "", "new-role": "9999"}, **HX)
    assert response.status_code == 422
    assert field_errors(response, "new-name") == ["This field is required."]
    assert field_errors(response, "new-role") == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert snapshot() == before


def test_a_new_persona_key_taken_in_the_library_gets_a_free_one(client, editor, small_map):
    login(client, editor)
    client.post(NEW_PERSONA, {"new-name": "Carla CFO"}, **HX)
    assert sorted(Persona.objects.filter(name="Carla CFO").values_list("key", flat=True)) == ["carla-cfo", "cfo"]


def test_a_new_persona_without_htmx_goes_back_to_the_map(client, owner, small_map):
    login(client, owner)
    response = client.post(NEW_PERSONA, {"new-name": "Olga Ops"})
    assert (response.status_code, response["Location"]) == (302, small_map.get_absolute_url())
    assert "Olga Ops" in map_names(small_map)


@pytest.mark.parametrize("who, status", [("viewer", 403), ("stranger", 404)])
def test_who_may_not_edit_the_map_cannot_create_a_persona_in_it(client, request, small_map, who, status):
    login(client, request.getfixturevalue(who))
    before = snapshot()
    assert client.post(NEW_PERSONA, {"new-name": "Olga Ops"}, **HX).status_code == status
    assert snapshot() == before


def test_viewer_sees_no_form_to_create_a_persona(client, viewer, small_map):
    login(client, viewer)
    assert not html(client.get(PERSONAS, **HX)).xpath("//form[@action=$url]", url=NEW_PERSONA)


def test_removing_a_persona_keeps_the_panel_open(client, editor, small_map):
    login(client, editor)
    entry = MapPersona.objects.get(map=small_map, persona__key="it-lead")
    response = client.post(reverse("map_persona_remove", args=["acme", "launch", entry.pk]), **HX)
    assert response.status_code == 200
    assert html(response).xpath("//*[@role='status']")[0].text_content() == "Persona “Ivan IT” removed from the map."
    assert "Ivan IT" not in html(response).xpath("//section[@aria-label='Personas in this map']")[0].text_content()
    assert map_names(small_map) == ["Carla CFO"]


def test_remove_from_map_in_the_scope_editor_asks_first_and_removes_nothing(client, editor, small_map):
    login(client, editor)
    entry = MapPersona.objects.get(map=small_map, persona__key="it-lead")
    url = reverse("map_persona_remove", args=["acme", "launch", entry.pk])
    scope = html(client.get(reverse("map_persona_edit", args=["acme", "launch", entry.pk]), **HX))
    assert scope.xpath("//a[@href=$url]/@hx-get", url=url) == [url]
    before = snapshot()
    response = client.get(url, **HX)
    assert response.status_code == 200
    assert html(response).xpath("//form[@method='post']/@action") == [url]
    assert snapshot() == before


def test_an_edit_page_of_its_own_posts_plainly_instead_of_into_a_missing_drawer(client, editor, small_map):
    login(client, editor)
    doc = html(client.get(reverse("touchpoint_edit", args=["acme", "launch", "webinar"])))
    assert not doc.xpath("//*[@id='editor']")
    assert not doc.xpath("//*[@hx-target='#editor']")
    action = reverse("touchpoint_edit", args=["acme", "launch", "webinar"])
    assert action in doc.xpath("//main//form[@method='post']/@action")


def test_a_scope_saved_goes_back_to_the_panel(client, editor, small_map):
    login(client, editor)
    entry = MapPersona.objects.get(map=small_map, persona__key="it-lead")
    response = client.post(reverse("map_persona_edit", args=["acme", "launch", entry.pk]), {"stages": []}, **HX)
    assert response.status_code == 200
    assert html(response).xpath("//*[@role='status']")[0].text_content() == "Scope of “Ivan IT” saved."
    assert html(response).xpath("//section[@aria-label='Personas in this map']")


# --- fields: every one has a name a screen reader can say ------------------------------------------


def test_a_group_of_boxes_is_a_fieldset_named_by_its_legend(client, editor, small_map):
    login(client, editor)
    doc = html(client.get(reverse("stage_edit", args=["acme", "launch", "awareness"]), **HX))
    assert not doc.xpath("//label[@for='']")
    legends = [" ".join(f.xpath("./legend")[0].text_content().split()) for f in doc.xpath("//fieldset[legend]")]
    assert legends == ["Contributors", "Required roles", "Content linked to this stage"]
    for described in doc.xpath("//*[@aria-describedby]"):
        for ref in described.get("aria-describedby").split():
            assert doc.xpath(f"//*[@id='{ref}']"), f"aria-describedby points at a missing id: {ref}"
    ids = doc.xpath("//@id")
    assert len(ids) == len(set(ids)), "two elements share an id"
