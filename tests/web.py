"""What the view tests share: a table row describing one edit a person can make, a
snapshot of every row the app stores (to show that a refused edit wrote nothing), the
events an htmx answer sends, and the errors a form shows next to a field."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import lxml.html
from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.test import Client
from django.urls import reverse

from maps.models import JourneyMap

HX = {"HTTP_HX_REQUEST": "true"}
EDITING_ROLES = ["owner", "editor"]


@dataclass
class Edit:
    """One change a person can make: where it is posted, what is posted, and how the
    database must look afterwards (`check` asserts; it gets the map reloaded)."""

    name: str
    url_name: str
    args: Callable[[JourneyMap], list]
    data: Callable[[JourneyMap], dict]
    check: Callable[[JourneyMap], None]
    # Where a POST without htmx lands: the map page unless said otherwise.
    redirect_to: Callable[[JourneyMap], str] | None = None

    def url(self, journey_map: JourneyMap) -> str:
        return reverse(self.url_name, args=[journey_map.workspace.slug, journey_map.key, *self.args(journey_map)])

    def post(self, client: Client, journey_map: JourneyMap, htmx: bool = True):
        extra = HX if htmx else {}
        return client.post(self.url(journey_map), self.data(journey_map), **extra)

    def expected_redirect(self, journey_map: JourneyMap) -> str:
        if self.redirect_to:
            return self.redirect_to(journey_map)
        return journey_map.get_absolute_url()

    def verify(self, journey_map: JourneyMap) -> None:
        self.check(JourneyMap.objects.get(pk=journey_map.pk))


def edit_ids(edits: list[Edit]) -> list[str]:
    return [edit.name for edit in edits]


def login(client: Client, user) -> Client:
    if user is not None and not isinstance(user, AnonymousUser):
        client.force_login(user)
    return client


def assert_saved(client: Client, user, journey_map: JourneyMap, edit: Edit) -> None:
    """An htmx edit by `user` is saved and tells the map page to refresh."""
    login(client, user)
    response = edit.post(client, journey_map)
    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    edit.verify(journey_map)


def assert_saved_without_htmx(client: Client, user, journey_map: JourneyMap, edit: Edit) -> None:
    """The same edit from a plain form is saved and redirects to where it belongs."""
    login(client, user)
    response = edit.post(client, journey_map, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == edit.expected_redirect(journey_map)
    edit.verify(journey_map)


def assert_refused(client: Client, user, target, edit, status: int) -> None:
    """The edit answers `status` (403 for viewers, 404 for strangers) and not one row changes.
    `target` is what the edit's URL is built from: a map, or a workspace for the library."""
    login(client, user)
    before = snapshot()
    response = edit.post(client, target)
    assert response.status_code == status
    assert snapshot() == before


def assert_sent_to_login(client: Client, target, edit) -> None:
    """Without a session the edit goes to the login page, coming back here, and writes nothing."""
    before = snapshot()
    response = edit.post(client, target)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={edit.url(target)}"
    assert snapshot() == before


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table of the maps app, many-to-many tables included."""
    rows = {}
    for model in apps.get_app_config("maps").get_models(include_auto_created=True):
        rows[model._meta.db_table] = list(model.objects.order_by("pk").values())
    return rows


def client_events(response) -> set[str]:
    """The names of the events an htmx answer triggers, whenever it triggers them."""
    names: set[str] = set()
    for header in ("HX-Trigger", "HX-Trigger-After-Swap", "HX-Trigger-After-Settle"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            names.update(json.loads(value))
        except ValueError:
            names.update(part.strip() for part in value.split(","))
    return names


def field_errors(response, name: str) -> list[str]:
    """The error messages shown in the form field that holds the input called `name`."""
    doc = html(response)
    boxes = doc.xpath(f'//div[contains(concat(" ", @class, " "), " field ")][.//*[@name="{name}"]]')
    assert boxes, f"no form field holds an input named {name!r}"
    return [
        " ".join(e.text_content().split())
        for box in boxes
        for e in box.xpath('.//*[contains(concat(" ", @class, " "), " error ")]')
    ]


def form_actions(response) -> list[str]:
    return html(response).xpath("//form/@action")


def html(response):
    """The answer parsed; decoded first, as fragments carry no charset of their own."""
    return lxml.html.fromstring(response.content.decode())


def current_form_data(form) -> dict:
    """What a browser posts for an unchanged, unbound form: every field's current value."""
    data = {}
    for bound in form:
        value = bound.value()
        if getattr(bound.field.widget, "allow_multiple_selected", False):
            value = value or []  # unticked boxes post nothing
        elif value is None:
            value = ""
        if isinstance(value, (list, tuple)):
            value = [str(v) for v in value]
        data[bound.name] = value
    return data
