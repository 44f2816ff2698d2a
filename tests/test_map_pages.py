"""The pages around a map: home, the workspace's map list, creating a map (template,
blank, copy), the map page and its fragments, downloads, settings, archive, delete."""
from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.html import escape

from maps.gaps import find_gaps
from maps.models import (
    ContentAsset,
    Flow,
    JourneyMap,
    MapPersona,
    Membership,
    Persona,
    Stage,
    Touchpoint,
    TrashItem,
    Workspace,
)
from maps.stage_templates import TEMPLATES

from .conftest import PASSWORD
from .web import EDITING_ROLES, HX, client_events, field_errors, html, login, snapshot

DOWNLOADS = {
    "svg": ("image/svg+xml", b"<?xml", "launch.svg"),
    "png": ("image/png", b"\x89PNG", "launch.png"),
    "pdf": ("application/pdf", b"%PDF", "launch.pdf"),
    "dot": ("text/vnd.graphviz; charset=utf-8", b"digraph", "launch.dot"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", b"PK", "launch.pptx"),
    "csv": ("text/csv; charset=utf-8", b"code,severity,stage", "launch.gaps.csv"),
}


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


def outline(jm: JourneyMap) -> dict:
    """What a copy must repeat: stages, their touchpoints, flows and personas, by key."""
    return {
        "stages": [(s.key, s.name, s.lead.key if s.lead else None) for s in jm.stages.order_by("order")],
        "touchpoints": [(t.stage.key, t.key, t.name, t.emotion)
                        for t in jm.touchpoints.order_by("stage__order", "order")],
        "flows": sorted(Flow.objects.filter(source__map=jm).values_list("source__key", "target__key")),
        "personas": [(e.persona.key, sorted(e.stages.values_list("key", flat=True)))
                     for e in jm.map_personas.order_by("order")],
    }


# --- home and the workspace ------------------------------------------------------------------


def test_home_goes_straight_to_the_only_workspace(client, owner):
    login(client, owner)
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("workspace", args=["acme"])


def test_home_lists_every_workspace_of_a_member_of_several(client, owner):
    second = Workspace.objects.create(slug="beta", name="Beta team")
    Membership.objects.create(workspace=second, user=owner, role=Membership.VIEWER)
    login(client, owner)
    response = client.get(reverse("home"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Acme" in body and "Beta team" in body
    assert reverse("workspace", args=["beta"]) in body


def test_home_of_a_user_without_workspace_says_what_to_do(client, db):
    login(client, get_user_model().objects.create_user("newbie"))
    body = client.get(reverse("home")).content.decode()
    assert "You are not a member of any workspace yet." in body


def test_anonymous_is_sent_to_login_from_home(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_signing_in_leads_to_the_workspace(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [(reverse("home"), 302), (reverse("workspace", args=["acme"]), 302)]
    assert response.status_code == 200


def test_wrong_password_does_not_sign_in(client, owner):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_workspace_lists_its_active_maps_with_their_size(client, request, small_map, role_name):
    JourneyMap.objects.create(workspace=small_map.workspace, key="old", name="Old journey", archived=True)
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse("workspace", args=["acme"]))
    cards = [" ".join(card.text_content().split()) for card in html(response).xpath('//a[contains(@class, "map-card")]')]
    assert response.status_code == 200
    assert len(cards) == 1
    assert cards[0].startswith("Launch journey 2 stages · 3 touchpoints · updated")


def test_archived_maps_are_listed_apart(client, viewer, small_map):
    JourneyMap.objects.create(workspace=small_map.workspace, key="old", name="Old journey", archived=True)
    login(client, viewer)
    response = client.get(reverse("workspace", args=["acme"]), {"archived": "1"})
    cards = html(response).xpath('//a[contains(@class, "map-card")]/h2/text()')
    assert cards == ["Old journey"]


def test_only_editors_see_the_new_map_form(client, viewer, editor, small_map):
    login(client, viewer)
    assert 'id="map-create-form"' not in client.get(reverse("workspace", args=["acme"])).content.decode()
    login(client, editor)
    assert 'id="map-create-form"' in client.get(reverse("workspace", args=["acme"])).content.decode()


def test_stranger_cannot_see_the_workspace(client, stranger, small_map):
    login(client, stranger)
    assert client.get(reverse("workspace", args=["acme"])).status_code == 404


def test_workspace_lists_only_its_own_maps(client, stranger, small_map):
    their_ws = stranger.memberships.get().workspace
    JourneyMap.objects.create(workspace=their_ws, key="secret", name="Secret plan")
    login(client, stranger)
    body = client.get(reverse("workspace", args=["elsewhere"])).content.decode()
    assert "Secret plan" in body and "Launch journey" not in body


# --- creating a map ------------------------------------------------------------------------------


def create(client, data: dict, htmx: bool = True):
    return client.post(reverse("map_create", args=["acme"]), data, **(HX if htmx else {}))


@pytest.mark.parametrize("template_key", list(TEMPLATES))
@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_map_from_a_template_has_its_five_stages_in_the_chosen_language(
        client, request, workspace, role_name, template_key, language):
    login(client, request.getfixturevalue(role_name))
    response = create(client, {"name": "Q3 campaign", "start": "template", "template": template_key,
                               "language": language})
    jm = JourneyMap.objects.get(workspace=workspace, name="Q3 campaign")
    assert response.status_code == 200
    assert response["HX-Redirect"] == jm.get_absolute_url()
    expected = [(s.key, s.text[language].name) for s in TEMPLATES[template_key].stages]
    assert len(expected) == 5
    assert list(jm.stages.order_by("order").values_list("key", "name")) == expected
    assert all(stage.questions for stage in jm.stages.all())


def test_japanese_template_gives_japanese_stage_names(client, owner, workspace):
    login(client, owner)
    create(client, {"name": "日本向け", "start": "template", "template": "act-on-lifecycle", "language": "ja"})
    jm = JourneyMap.objects.get(workspace=workspace, name="日本向け")
    assert jm.key == "map"  # a Japanese name makes no slug
    assert list(jm.stages.values_list("name", flat=True)) == ["集客", "リード獲得", "育成", "コンバージョン", "拡大"]
    assert "どのチャネルが使われていますか？" in jm.stages.get(key="attract").questions


def test_blank_map_has_no_stages(client, editor, workspace):
    login(client, editor)
    response = create(client, {"name": "Scratch", "key": "scratch", "start": "blank", "description": "Ideas"},
                      htmx=False)
    jm = JourneyMap.objects.get(workspace=workspace, key="scratch")
    assert response.status_code == 302
    assert response["Location"] == jm.get_absolute_url()
    assert (jm.name, jm.description, jm.stages.count()) == ("Scratch", "Ideas", 0)
    body = client.get(jm.get_absolute_url()).content.decode()
    assert "Map “Scratch” created." in body
    assert "This map has no stages yet." in body


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_copy_has_the_same_stages_and_touchpoints_under_the_new_name(client, request, small_map, role_name):
    before = outline(small_map)
    login(client, request.getfixturevalue(role_name))
    response = create(client, {"name": "Launch journey (copy)", "start": "copy", "source": small_map.pk})
    copy = JourneyMap.objects.get(workspace=small_map.workspace, name="Launch journey (copy)")
    assert response["HX-Redirect"] == copy.get_absolute_url()
    assert copy.pk != small_map.pk and copy.key == "launch-journey-copy"
    assert outline(copy) == before
    assert outline(small_map) == before
    # The library is shared, not duplicated.
    assert Persona.objects.filter(workspace=small_map.workspace).count() == 2
    assert ContentAsset.objects.filter(workspace=small_map.workspace).count() == 2


def test_copy_finds_the_same_gaps_as_its_source(client, owner, small_map):
    login(client, owner)
    create(client, {"name": "Twin", "key": "twin", "start": "copy", "source": small_map.pk})
    twin = JourneyMap.objects.get(workspace=small_map.workspace, key="twin")
    assert [g.as_dict() for g in find_gaps(loaded(twin))] == [g.as_dict() for g in find_gaps(loaded(small_map))]


@pytest.mark.parametrize("data, field, message", [
    ({"name": "", "start": "blank"}, "name", "This field is required."),
    ({"name": "X", "start": "template", "template": "", "language": "en"}, "template", "Pick a template."),
    ({"name": "X", "start": "template", "template": "act-on-lifecycle", "language": "fr"}, "language",
     "Select a valid choice. fr is not one of the available choices."),
    ({"name": "X", "start": "copy"}, "source", "Pick the map to copy."),
    ({"name": "X", "key": "launch", "start": "blank"}, "key", '"launch" is already used here; keys must be unique.'),
    ({"name": "X", "key": "Not a slug!", "start": "blank"}, "key",
     "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
])
@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_invalid_new_map_is_refused_next_to_the_field(client, owner, small_map, data, field, message, htmx, status):
    login(client, owner)
    before = snapshot()
    response = create(client, data, htmx)
    assert response.status_code == status
    assert field_errors(response, field) == [message]
    assert ("<html" in response.content.decode()) is not htmx
    assert snapshot() == before


def test_map_of_another_workspace_cannot_be_copied(client, owner, small_map, stranger):
    theirs = JourneyMap.objects.create(workspace=stranger.memberships.get().workspace, key="secret", name="Secret")
    Stage.objects.create(map=theirs, key="s", name="Their stage")
    login(client, owner)
    before = snapshot()
    response = create(client, {"name": "Stolen", "start": "copy", "source": theirs.pk})
    assert response.status_code == 422
    assert field_errors(response, "source")
    assert snapshot() == before


def test_viewer_cannot_create_a_map(client, viewer, workspace):
    login(client, viewer)
    before = snapshot()
    response = create(client, {"name": "Mine", "start": "blank"})
    assert response.status_code == 403
    assert snapshot() == before


def test_stranger_cannot_create_a_map_in_the_workspace(client, stranger, workspace):
    login(client, stranger)
    before = snapshot()
    assert create(client, {"name": "Mine", "start": "blank"}).status_code == 404
    assert snapshot() == before


def test_anonymous_is_sent_to_login_before_creating_a_map(client, workspace):
    before = snapshot()
    response = create(client, {"name": "Mine", "start": "blank"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


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
    client.post(reverse("touchpoint_create", args=["acme", "launch", "decision"]),
                {"name": "Contract review", "stage": small_map.stages.get(key="decision").pk}, **HX)
    assert "Contract review" in client.get(reverse("map_board", args=["acme", "launch"]), **HX).content.decode()


def test_user_text_is_escaped_on_the_map_page(client, owner, small_map):
    login(client, owner)
    hostile = "<script>alert(1)</script>"
    response = client.post(reverse("touchpoint_create", args=["acme", "launch", "decision"]),
                           {"name": hostile, "stage": small_map.stages.get(key="decision").pk,
                            "pain_point": hostile}, **HX)
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


# --- the diagram and downloads ----------------------------------------------------------------------


def test_diagram_fragment_is_inline_svg_with_an_etag(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_diagram", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["ETag"].startswith('"')
    assert "<svg" in body and "<?xml" not in body and "<!DOCTYPE" not in body
    assert "Live demo" in body


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


# --- settings, archive, delete -----------------------------------------------------------------------


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_rename_a_map(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    response = client.post(reverse("map_settings", args=["acme", "launch"]),
                           {"name": "Launch 2026", "key": "launch", "description": "For the spring", "goal": "40 SQLs"},
                           **HX)
    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    assert "Launch 2026" in response.content.decode()  # the refreshed header
    jm = JourneyMap.objects.get(pk=small_map.pk)
    assert (jm.name, jm.key, jm.description, jm.goal) == ("Launch 2026", "launch", "For the spring", "40 SQLs")


def test_new_map_key_sends_the_browser_to_the_new_address(client, owner, small_map):
    login(client, owner)
    response = client.post(reverse("map_settings", args=["acme", "launch"]),
                           {"name": "Launch journey", "key": "launch-2026"}, **HX)
    assert response["HX-Redirect"] == reverse("map_detail", args=["acme", "launch-2026"])
    assert client.get(reverse("map_detail", args=["acme", "launch-2026"])).status_code == 200
    assert client.get(reverse("map_detail", args=["acme", "launch"])).status_code == 404


def test_rename_without_htmx_redirects_to_the_map(client, owner, small_map):
    login(client, owner)
    response = client.post(reverse("map_settings", args=["acme", "launch"]), {"name": "Launch 2026", "key": "l26"})
    assert response.status_code == 302
    assert response["Location"] == reverse("map_detail", args=["acme", "l26"])


@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_map_key_taken_by_another_map_is_refused(client, owner, small_map, htmx, status):
    JourneyMap.objects.create(workspace=small_map.workspace, key="taken", name="Other")
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("map_settings", args=["acme", "launch"]), {"name": "New name", "key": "taken"},
                           **(HX if htmx else {}))
    assert response.status_code == status
    assert field_errors(response, "key") == ['"taken" is already used here; keys must be unique.']
    assert snapshot() == before


def test_invalid_settings_still_link_to_the_saved_map(client, owner, small_map):
    login(client, owner)
    response = client.post(reverse("map_settings", args=["acme", "launch"]), {"name": "", "key": "moved"}, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert reverse("map_settings", args=["acme", "launch"]) in html(response).xpath("//form/@action")
    assert f'href="{reverse("map_detail", args=["acme", "moved"])}"' not in body
    assert f'href="{small_map.get_absolute_url()}"' in body


def test_viewer_sees_settings_read_only(client, viewer, small_map):
    login(client, viewer)
    response = client.get(reverse("map_settings", args=["acme", "launch"]), **HX)
    assert response.status_code == 200
    assert "<fieldset disabled>" in response.content.decode()


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_archive_and_restore_a_map(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    url = reverse("map_archive", args=["acme", "launch"])
    response = client.post(url, **HX)
    assert response["HX-Redirect"] == reverse("workspace", args=["acme"])
    assert JourneyMap.objects.get(pk=small_map.pk).archived
    assert "Launch journey" in client.get(reverse("workspace", args=["acme"]), {"archived": "1"}).content.decode()
    response = client.post(url)
    assert response.status_code == 302
    assert not JourneyMap.objects.get(pk=small_map.pk).archived


def test_archived_map_can_still_be_opened(client, viewer, small_map):
    JourneyMap.objects.filter(pk=small_map.pk).update(archived=True)
    login(client, viewer)
    response = client.get(small_map.get_absolute_url())
    assert response.status_code == 200
    assert "Archived" in response.content.decode()


def test_deleting_a_map_asks_first(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("map_delete", args=["acme", "launch"]), **HX)
    body = response.content.decode()
    assert "Delete the map “Launch journey”?" in body
    assert "The library (personas, content) stays." in body
    assert JourneyMap.objects.filter(pk=small_map.pk).exists()


@pytest.mark.parametrize("role_name", EDITING_ROLES)
@pytest.mark.parametrize("htmx", [True, False])
def test_owner_and_editor_can_delete_a_map_to_the_trash_and_the_library_stays(client, request, small_map, role_name,
                                                                               htmx):
    login(client, request.getfixturevalue(role_name))
    response = client.post(reverse("map_delete", args=["acme", "launch"]), **(HX if htmx else {}))
    workspace_url = reverse("workspace", args=["acme"])
    if htmx:
        assert response["HX-Redirect"] == workspace_url
    else:
        assert (response.status_code, response["Location"]) == (302, workspace_url)
    assert client.get(small_map.get_absolute_url()).status_code == 404
    assert TrashItem.objects.get().map_id == small_map.pk  # kept whole until the trash is emptied
    assert Stage.objects.filter(map=small_map).count() == 2
    assert Persona.objects.count() == 2 and ContentAsset.objects.count() == 2


MAP_WRITES = [
    ("map_settings", {"name": "Hijacked", "key": "launch"}),
    ("map_archive", {}),
    ("map_delete", {}),
]


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_viewer_cannot_rename_archive_or_delete_a_map(client, viewer, small_map, url_name, data):
    login(client, viewer)
    before = snapshot()
    assert client.post(reverse(url_name, args=["acme", "launch"]), data, **HX).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_stranger_cannot_rename_archive_or_delete_a_map(client, stranger, small_map, url_name, data):
    login(client, stranger)
    before = snapshot()
    assert client.post(reverse(url_name, args=["acme", "launch"]), data, **HX).status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("url_name, data", MAP_WRITES, ids=[name for name, _ in MAP_WRITES])
def test_anonymous_is_sent_to_login_before_changing_a_map(client, small_map, url_name, data):
    before = snapshot()
    url = reverse(url_name, args=["acme", "launch"])
    response = client.post(url, data, **HX)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


def test_viewer_cannot_open_the_delete_confirmation(client, viewer, small_map):
    login(client, viewer)
    assert client.get(reverse("map_delete", args=["acme", "launch"]), **HX).status_code == 403
