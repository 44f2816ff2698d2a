"""The workspace library: personas, content, buying roles and departments; listed,
filtered, added, edited, and deleted only while nothing uses them."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import reverse

from maps.forms import BuyingRoleForm, ContentAssetForm, DepartmentForm, PersonaForm
from maps.models import BuyingRole, ContentAsset, Department, Persona, Workspace

from .web import (
    EDITING_ROLES,
    HX,
    assert_refused,
    assert_sent_to_login,
    client_events,
    current_form_data,
    field_errors,
    html,
    login,
    snapshot,
)

KINDS = ["personas", "content", "roles", "departments"]
FORMS = {"personas": PersonaForm, "content": ContentAssetForm, "roles": BuyingRoleForm, "departments": DepartmentForm}
MODELS = {"personas": Persona, "content": ContentAsset, "roles": BuyingRole, "departments": Department}


def item_data(workspace: Workspace, kind: str, item: str | None = None, /, **changes) -> dict:
    """A library form as a browser posts it: the item's current values, then `changes`."""
    model = MODELS[kind]
    instance = model.objects.get(workspace=workspace, key=item) if item else model(workspace=workspace)
    data = current_form_data(FORMS[kind](instance=instance, workspace=workspace))
    data.update(changes)
    return data


@dataclass
class LibraryEdit:
    name: str
    kind: str
    url_name: str
    key: str | None  # the item the URL names; None to add one
    data: Callable[[Workspace], dict]
    check: Callable[[Workspace], None]

    def url(self, workspace: Workspace) -> str:
        args = [workspace.slug, self.kind] + ([self.key] if self.key else [])
        return reverse(self.url_name, args=args)

    def post(self, client, workspace: Workspace, htmx: bool = True):
        return client.post(self.url(workspace), self.data(workspace), **(HX if htmx else {}))


def persona_added(ws: Workspace) -> None:
    persona = ws.personas.get(key="head-of-procurement")
    assert (persona.name, persona.role.key, persona.influence, persona.fears) == (
        "Head of procurement",
        "decision-maker",
        4,
        "Hidden costs",
    )
    assert list(ws.personas.values_list("key", flat=True)) == ["cfo", "it-lead", "intern", "head-of-procurement"]


def persona_edited(ws: Workspace) -> None:
    cfo = ws.personas.get(key="cfo")
    assert (cfo.name, cfo.title, cfo.influence, cfo.role.key) == (
        "Carla, CFO",
        "Chief financial officer",
        4,
        "decision-maker",
    )
    assert cfo.map_entries.count() == 1  # still in the map


def unused_persona(ws: Workspace) -> Persona:
    return Persona.objects.create(workspace=ws, key="intern", name="Ian Intern", order=5)


def content_added(ws: Workspace) -> None:
    asset = ws.content.get(key="security-white-paper")
    assert (asset.title, asset.type, asset.status, asset.url) == (
        "Security white paper",
        "white-paper",
        "live",
        "https://example.com/security",
    )
    assert asset.questions == ["Is our data safe?", "Where is it hosted?"]
    assert [p.key for p in asset.personas.all()] == ["it-lead"]
    assert asset.last_reviewed == datetime.date(2026, 1, 15)


def content_edited(ws: Workspace) -> None:
    guide = ws.content.get(key="guide")
    assert (guide.title, guide.status) == ("Buyer's guide 2026", "retired")
    assert {p.key for p in guide.personas.all()} == {"cfo", "it-lead"}
    assert [s.key for s in guide.stages.all()] == ["awareness"]


def role_added(ws: Workspace) -> None:
    assert ws.roles.get(key="champion").name == "Champion"


def role_edited(ws: Workspace) -> None:
    role = ws.roles.get(key="decision-maker")
    assert role.name == "Final decision maker"
    assert [p.key for p in role.personas.all()] == ["cfo"]


def department_added(ws: Workspace) -> None:
    assert ws.departments.get(key="customer-success").name == "Customer success"
    assert list(ws.departments.values_list("key", flat=True)) == ["marketing", "sales", "service", "customer-success"]


def department_edited(ws: Workspace) -> None:
    sales = ws.departments.get(key="sales")
    assert sales.name == "Inside sales"
    assert sales.led_stages.get().key == "decision"


def gone(kind: str, key: str) -> Callable[[Workspace], None]:
    def check(ws: Workspace) -> None:
        assert not MODELS[kind].objects.filter(workspace=ws, key=key).exists()
        assert MODELS[kind].objects.filter(workspace=ws).exists()  # only that one

    return check


def role_pk(ws: Workspace, key: str) -> int:
    return ws.roles.get(key=key).pk


EDITS = [
    LibraryEdit(
        "add persona",
        "personas",
        "library_create",
        None,
        lambda ws: item_data(
            ws,
            "personas",
            name="Head of procurement",
            role=role_pk(ws, "decision-maker"),
            influence="4",
            fears="Hidden costs",
        ),
        persona_added,
    ),
    LibraryEdit(
        "edit persona",
        "personas",
        "library_edit",
        "cfo",
        lambda ws: item_data(ws, "personas", "cfo", name="Carla, CFO", title="Chief financial officer", influence="4"),
        persona_edited,
    ),
    LibraryEdit(
        "delete unused persona", "personas", "library_delete", "intern", lambda ws: {}, gone("personas", "intern")
    ),
    LibraryEdit(
        "add content",
        "content",
        "library_create",
        None,
        lambda ws: item_data(
            ws,
            "content",
            title="Security white paper",
            type="white-paper",
            status="live",
            url="https://example.com/security",
            questions="Is our data safe?\r\nWhere is it hosted?\r\n",
            personas=[ws.personas.get(key="it-lead").pk],
            last_reviewed="2026-01-15",
        ),
        content_added,
    ),
    LibraryEdit(
        "edit content",
        "content",
        "library_edit",
        "guide",
        lambda ws: item_data(ws, "content", "guide", title="Buyer's guide 2026", status="retired"),
        content_edited,
    ),
    LibraryEdit(
        "delete unused content", "content", "library_delete", "old-deck", lambda ws: {}, gone("content", "old-deck")
    ),
    LibraryEdit(
        "add role", "roles", "library_create", None, lambda ws: item_data(ws, "roles", name="Champion"), role_added
    ),
    LibraryEdit(
        "edit role",
        "roles",
        "library_edit",
        "decision-maker",
        lambda ws: item_data(ws, "roles", "decision-maker", name="Final decision maker"),
        role_edited,
    ),
    LibraryEdit(
        "delete unused role", "roles", "library_delete", "gatekeeper", lambda ws: {}, gone("roles", "gatekeeper")
    ),
    LibraryEdit(
        "add department",
        "departments",
        "library_create",
        None,
        lambda ws: item_data(ws, "departments", name="Customer success"),
        department_added,
    ),
    LibraryEdit(
        "edit department",
        "departments",
        "library_edit",
        "sales",
        lambda ws: item_data(ws, "departments", "sales", name="Inside sales"),
        department_edited,
    ),
    LibraryEdit(
        "delete unused department",
        "departments",
        "library_delete",
        "service",
        lambda ws: {},
        gone("departments", "service"),
    ),
]
IDS = [edit.name for edit in EDITS]


@pytest.fixture
def library(workspace, small_map) -> Workspace:
    """The small map's library, plus one unused item of each kind that nothing holds on to."""
    unused_persona(workspace)
    ContentAsset.objects.create(
        workspace=workspace, key="old-deck", title="Old deck", status=ContentAsset.RETIRED, type="other", order=5
    )
    BuyingRole.objects.create(workspace=workspace, key="gatekeeper", name="Gatekeeper", order=5)
    return workspace


# --- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_change_the_library(client, request, library, role_name, edit):
    login(client, request.getfixturevalue(role_name))
    response = edit.post(client, library)
    list_url = reverse("library_list", args=["acme", edit.kind])
    assert response.status_code == 200
    assert response["HX-Redirect"] == list_url  # back to the list, which shows the change
    edit.check(library)


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
def test_library_change_without_htmx_redirects_to_the_list(client, editor, library, edit):
    login(client, editor)
    response = edit.post(client, library, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == reverse("library_list", args=["acme", edit.kind])
    edit.check(library)


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
def test_viewer_cannot_change_the_library(client, viewer, library, edit):
    assert_refused(client, viewer, library, edit, 403)


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
def test_stranger_cannot_even_see_the_library_to_change(client, stranger, library, edit):
    assert_refused(client, stranger, library, edit, 404)


@pytest.mark.parametrize("edit", EDITS, ids=IDS)
def test_anonymous_is_sent_to_login_before_changing_the_library(client, library, edit):
    assert_sent_to_login(client, library, edit)


# --- delete while in use ----------------------------------------------------------------------------

IN_USE = [
    ("personas", "cfo", ["the map “Launch journey”", "3 touchpoints"]),
    ("content", "guide", ["a stage of “Launch journey”", "1 touchpoint"]),
    ("roles", "decision-maker", ["persona “Carla CFO”", "2 stages that require it"]),
    ("departments", "marketing", ["1 stage it leads", "2 touchpoints it owns"]),
]


@pytest.mark.parametrize("kind, key, uses", IN_USE, ids=[k for k, _, _ in IN_USE])
def test_deleting_what_is_in_use_is_refused_with_what_uses_it(client, owner, library, kind, key, uses):
    login(client, owner)
    before = snapshot()
    response = client.post(reverse("library_delete", args=["acme", kind, key]), **HX)
    message = response.content.decode()
    assert response.status_code == 400
    assert "journeymap-error" in client_events(response)
    assert "cannot be deleted while it is used by" in message and "Remove those uses first." in message
    for use in uses:
        assert use in message
    assert snapshot() == before


@pytest.mark.parametrize("kind, key, uses", IN_USE, ids=[k for k, _, _ in IN_USE])
def test_delete_page_of_what_is_in_use_explains_instead_of_asking(client, owner, library, kind, key, uses):
    login(client, owner)
    response = client.get(reverse("library_delete", args=["acme", kind, key]))
    body = html(response)
    assert response.status_code == 200
    (refusal,) = body.xpath('//p[@class="refused"]')
    for use in uses:
        assert use in refusal.text_content()
    assert not body.xpath('//button[@type="submit" and contains(@class, "danger")]')


def test_refused_delete_without_htmx_goes_back_with_the_reason(client, owner, library):
    login(client, owner)
    list_url = reverse("library_list", args=["acme", "personas"])
    response = client.post(
        reverse("library_delete", args=["acme", "personas", "cfo"]), HTTP_REFERER=list_url, follow=True
    )
    assert response.redirect_chain == [(list_url, 302)]
    assert "“Carla CFO” cannot be deleted while it is used by the map “Launch journey”" in response.content.decode()
    assert library.personas.filter(key="cfo").exists()


def test_unused_item_delete_asks_first(client, owner, library):
    login(client, owner)
    response = client.get(reverse("library_delete", args=["acme", "roles", "gatekeeper"]), **HX)
    assert response.status_code == 200
    assert "Delete the buying role “Gatekeeper”?" in response.content.decode()
    assert library.roles.filter(key="gatekeeper").exists()


def test_persona_becomes_deletable_once_removed_from_map_and_touchpoints(client, owner, library, small_map):
    login(client, owner)
    it_lead = library.personas.get(key="it-lead")
    it_lead.touchpoints.clear()
    assert client.post(reverse("library_delete", args=["acme", "personas", "it-lead"]), **HX).status_code == 400
    small_map.map_personas.filter(persona=it_lead).delete()
    response = client.post(reverse("library_delete", args=["acme", "personas", "it-lead"]), **HX)
    assert response.status_code == 200
    assert not library.personas.filter(key="it-lead").exists()
    # Content that targeted the persona stays, targeting the others.
    assert [p.key for p in library.content.get(key="guide").personas.all()] == ["cfo"]


# --- lists and filters -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, shown",
    [
        ("personas", ["Carla CFO", "Ivan IT", "Ian Intern"]),
        ("content", ["Buyer's guide", "ROI calculator", "Old deck"]),
        ("roles", ["Decision maker", "Technical evaluator", "Gatekeeper"]),
        ("departments", ["Marketing", "Sales", "Service"]),
    ],
)
@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_every_member_sees_the_library_lists(client, request, library, role_name, kind, shown):
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse("library_list", args=["acme", kind]))
    assert response.status_code == 200
    names = [" ".join(a.text_content().split()) for a in html(response).xpath("//tbody/tr/td[1]/a")]
    assert names == shown


def test_viewer_is_not_offered_to_add_to_the_library(client, viewer, owner, library):
    login(client, viewer)
    assert "+ Add persona" not in client.get(reverse("library_list", args=["acme", "personas"])).content.decode()
    login(client, owner)
    assert "+ Add persona" in client.get(reverse("library_list", args=["acme", "personas"])).content.decode()


def test_viewer_sees_a_library_item_read_only(client, viewer, library):
    login(client, viewer)
    response = client.get(reverse("library_edit", args=["acme", "personas", "cfo"]), **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'value="Carla CFO"' in body and "<fieldset disabled>" in body
    assert reverse("library_delete", args=["acme", "personas", "cfo"]) not in body


def test_stranger_cannot_see_the_library(client, stranger, library):
    login(client, stranger)
    assert client.get(reverse("library_list", args=["acme", "personas"])).status_code == 404
    assert client.get(reverse("library_edit", args=["acme", "personas", "cfo"])).status_code == 404


def test_anonymous_is_sent_to_login_for_the_library(client, library):
    url = reverse("library_list", args=["acme", "content"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_unknown_library_kind_is_not_found(client, owner, library):
    login(client, owner)
    assert client.get(reverse("library_list", args=["acme", "competitors"])).status_code == 404
    assert client.post(reverse("library_create", args=["acme", "competitors"]), {"name": "X"}).status_code == 404


def table_rows(response) -> list[str]:
    return [" ".join(a.text_content().split()) for a in html(response).xpath("//tbody/tr/td[1]/a")]


@pytest.mark.parametrize(
    "params, shown",
    [
        ({"q": "roi"}, ["ROI calculator"]),
        ({"q": "GUIDE"}, ["Buyer's guide"]),  # by title, whatever the case
        ({"q": "old-"}, ["Old deck"]),  # by key
        ({"status": "live"}, ["Buyer's guide", "ROI calculator"]),
        ({"status": "retired"}, ["Old deck"]),
        ({"type": "tool"}, ["ROI calculator"]),
        ({"status": "live", "type": "ebook"}, ["Buyer's guide"]),
        ({"status": "nonsense"}, ["Buyer's guide", "ROI calculator", "Old deck"]),
    ],
)
def test_content_list_filters_by_text_status_and_type(client, viewer, library, params, shown):
    login(client, viewer)
    response = client.get(reverse("library_list", args=["acme", "content"]), params, **HX)
    assert response.status_code == 200
    assert "<html" not in response.content.decode()  # the table alone, for htmx
    assert table_rows(response) == shown


def test_persona_list_filters_by_name(client, viewer, library):
    login(client, viewer)
    response = client.get(reverse("library_list", args=["acme", "personas"]), {"q": "ivan"})
    assert table_rows(response) == ["Ivan IT"]


def test_filter_that_matches_nothing_says_so(client, viewer, library):
    login(client, viewer)
    response = client.get(reverse("library_list", args=["acme", "roles"]), {"q": "zzz"}, **HX)
    assert "Nothing here matches the filter." in response.content.decode()


def test_library_list_shows_which_maps_use_a_persona(client, viewer, library):
    login(client, viewer)
    doc = html(client.get(reverse("library_list", args=["acme", "personas"])))
    cfo_row = doc.xpath('//tbody/tr[td[1]/a[normalize-space()="Carla CFO"]]')[0]
    assert "Launch journey" in cfo_row.text_content()
    assert "Decision maker" in cfo_row.text_content()


# --- forms: what is refused ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, key, taken",
    [
        ("personas", None, "cfo"),
        ("content", None, "guide"),
        ("roles", None, "technical-evaluator"),
        ("departments", "service", "sales"),
    ],
)
def test_duplicate_library_key_is_refused(client, editor, library, kind, key, taken):
    login(client, editor)
    before = snapshot()
    name_field = "title" if kind == "content" else "name"
    data = item_data(library, kind, key, key=taken, **{name_field: "Something new"})
    url = reverse("library_edit", args=["acme", kind, key]) if key else reverse("library_create", args=["acme", kind])
    response = client.post(url, data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "key") == [f'"{taken}" is already used here; keys must be unique.']
    assert snapshot() == before


@pytest.mark.parametrize("htmx, status", [(True, 422), (False, 200)])
def test_influence_outside_one_to_five_is_refused(client, editor, library, htmx, status):
    login(client, editor)
    before = snapshot()
    data = item_data(library, "personas", "cfo", influence="7", name="Changed")
    response = client.post(reverse("library_edit", args=["acme", "personas", "cfo"]), data, **(HX if htmx else {}))
    assert response.status_code == status
    assert field_errors(response, "influence")
    assert snapshot() == before


def test_content_with_an_unknown_status_or_bad_url_is_refused(client, editor, library):
    login(client, editor)
    before = snapshot()
    data = item_data(library, "content", title="Deck", status="published", url="not a url")
    response = client.post(reverse("library_create", args=["acme", "content"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "status")
    assert field_errors(response, "url") == ["Enter a valid URL."]
    assert snapshot() == before


def test_content_cannot_target_a_persona_of_another_workspace(client, editor, library, stranger):
    theirs = Persona.objects.create(workspace=stranger.memberships.get().workspace, key="spy", name="Spy")
    login(client, editor)
    before = snapshot()
    data = item_data(library, "content", "guide", personas=[theirs.pk])
    response = client.post(reverse("library_edit", args=["acme", "content", "guide"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "personas")
    assert snapshot() == before


def test_persona_cannot_hold_a_role_of_another_workspace(client, editor, library, stranger):
    theirs = BuyingRole.objects.create(workspace=stranger.memberships.get().workspace, key="boss", name="Boss")
    login(client, editor)
    before = snapshot()
    data = item_data(library, "personas", "cfo", role=theirs.pk)
    response = client.post(reverse("library_edit", args=["acme", "personas", "cfo"]), data, **HX)
    assert response.status_code == 422
    assert field_errors(response, "role")
    assert snapshot() == before


def test_item_of_another_workspace_is_not_found_through_this_one(client, owner, library, stranger):
    BuyingRole.objects.create(workspace=stranger.memberships.get().workspace, key="boss", name="Boss")
    login(client, owner)
    response = client.post(reverse("library_delete", args=["acme", "roles", "boss"]), **HX)
    assert response.status_code == 404
    assert BuyingRole.objects.filter(key="boss").exists()


def test_invalid_library_form_still_links_to_the_saved_item(client, editor, library):
    login(client, editor)
    url = reverse("library_edit", args=["acme", "roles", "gatekeeper"])
    data = item_data(library, "roles", "gatekeeper", key="door-keeper", name="")
    response = client.post(url, data, **HX)
    assert response.status_code == 422
    body = response.content.decode()
    assert reverse("library_delete", args=["acme", "roles", "gatekeeper"]) in body
    assert reverse("library_delete", args=["acme", "roles", "door-keeper"]) not in body


def test_library_key_is_made_from_the_name(client, editor, library):
    login(client, editor)
    client.post(reverse("library_create", args=["acme", "departments"]), {"name": "Sales"}, **HX)
    client.post(reverse("library_create", args=["acme", "departments"]), {"name": "営業"}, **HX)
    assert list(library.departments.values_list("key", flat=True)) == [
        "marketing",
        "sales",
        "service",
        "sales-2",
        "eigyou",  # 営業, romanised: a key people can read
    ]
