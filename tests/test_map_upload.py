"""journeymap/1 files uploaded in the browser (maps/uploads.py): "Import a map" on the
workspace page and "Replace content from a file" on a map's settings, each an upload
that previews what the map will contain and an Apply that writes it as the command
line does, with the command line's words for what is wrong."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from maps import changes, history
from maps.interchange import dumps, export_map
from maps.models import AuditEvent, JourneyMap, Persona, Revision, Stage

from .test_backup import HOSTILE
from .test_import_export_commands import FULL_MAP


def upload(client, url: str, doc: dict | bytes, name: str = "acme.json"):
    content = doc if isinstance(doc, bytes) else json.dumps(doc, ensure_ascii=False).encode()
    return client.post(url, {"file": SimpleUploadedFile(name, content, content_type="application/json")})


def full_map() -> dict:
    return json.loads(FULL_MAP.read_text(encoding="utf-8"))


def token_of(response) -> str:
    return response.context["preview"].token


def snapshot() -> dict:
    return {
        "maps": JourneyMap.objects.count(),
        "stages": Stage.objects.count(),
        "revisions": Revision.objects.count(),
        "personas": list(Persona.objects.values_list("key", "name").order_by("key")),
    }


IMPORT = reverse("map_import", args=["acme"])
IMPORT_APPLY = reverse("map_import_apply", args=["acme"])
REPLACE = reverse("map_replace", args=["acme", "launch"])
REPLACE_APPLY = reverse("map_replace_apply", args=["acme", "launch"])


# --- importing a new map ------------------------------------------------------------------------


def test_the_workspace_page_offers_editors_an_import(workspace, editor, viewer, client):
    client.force_login(editor)
    assert IMPORT in client.get(reverse("workspace", args=["acme"])).text
    client.force_login(viewer)
    assert IMPORT not in client.get(reverse("workspace", args=["acme"])).text


def test_an_upload_shows_what_the_map_will_contain_and_writes_nothing(workspace, editor, client):
    client.force_login(editor)
    before = snapshot()

    response = upload(client, IMPORT, full_map())

    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.key, len(preview.stages), preview.touchpoints) == ("acme-b2b", 5, 7)
    assert "Acme B2B 購買ジャーニー" in response.text and "Import the map" in response.text
    assert snapshot() == before


def test_applying_the_preview_imports_the_map_as_the_command_line_does_and_audits_it(
    workspace, editor, stranger, client
):
    client.force_login(editor)
    token = token_of(upload(client, IMPORT, full_map(), name="journey.json"))

    response = client.post(IMPORT_APPLY, {"token": token})

    journey_map = JourneyMap.objects.get(workspace=workspace, key="acme-b2b")
    assert response.status_code == 302 and response["Location"] == journey_map.get_absolute_url()
    call_command("import_map", str(FULL_MAP), "--workspace", "elsewhere", stdout=io.StringIO())
    by_the_command = JourneyMap.objects.get(workspace__slug="elsewhere")
    assert dumps(export_map(journey_map)) == dumps(export_map(by_the_command))
    first = journey_map.revisions.get()
    assert (first.number, first.user, first.summary) == (1, editor, "imported journey.json")
    event = AuditEvent.objects.get(kind=AuditEvent.IMPORTED)
    assert (event.user, event.data["map"], event.data["file"]) == (editor, journey_map.name, "journey.json")


def test_an_upload_is_applied_once(workspace, editor, client):
    client.force_login(editor)
    token = token_of(upload(client, IMPORT, full_map()))
    client.post(IMPORT_APPLY, {"token": token})

    again = client.post(IMPORT_APPLY, {"token": token})

    assert again.status_code == 409 and "choose the file again" in again.text
    assert JourneyMap.objects.filter(workspace=workspace).count() == 1


def test_another_persons_upload_cannot_be_applied(workspace, owner, editor, client):
    client.force_login(editor)
    token = token_of(upload(client, IMPORT, full_map()))
    client.force_login(owner)
    assert client.post(IMPORT_APPLY, {"token": token}).status_code == 409
    assert not JourneyMap.objects.exists()


def test_a_bad_file_is_refused_in_the_command_lines_words_and_writes_nothing(workspace, editor, client):
    client.force_login(editor)
    doc = full_map()
    doc["touchpoints"][3]["next"] = ["contrat"]
    before = snapshot()

    response = upload(client, IMPORT, doc)

    assert response.status_code == 200
    assert response.context["error"] == 'touchpoints[3].next[0]: no touchpoint "contrat"'
    assert "Nothing was written" in response.text
    assert snapshot() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'{"format": "journeymap/1",',
            "line 1 column 27: not valid JSON: Expecting property name enclosed in double quotes",
        ),
        (b"\xff\xfe", "byte 1: not UTF-8 text"),
        (b"[]", "document: must be a JSON object"),
    ],
)
def test_a_file_that_is_no_document_is_refused_naming_the_place(workspace, editor, client, content, message):
    client.force_login(editor)
    assert upload(client, IMPORT, content).context["error"] == message


def test_a_file_above_the_import_limit_is_refused_before_it_is_read(workspace, editor, client, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(editor)
    response = upload(client, IMPORT, full_map())
    assert response.context["error"] == "document: too large: more than 100 bytes (IMPORT_MAX_BYTES)"
    assert not JourneyMap.objects.exists()


def test_upload_without_a_file_asks_for_one(workspace, editor, client):
    client.force_login(editor)
    response = client.post(IMPORT, {})
    assert response.context["error"] == "Choose a journeymap/1 file (.json) to upload."


def test_library_items_that_differ_are_listed_as_the_command_line_lists_them(small_map, editor, client):
    client.force_login(editor)
    doc = export_map(small_map)
    doc["personas"][0]["name"] = HOSTILE

    response = upload(client, IMPORT, doc)

    lines = response.context["preview"].reused_lines
    assert lines == [
        f'reused persona "cfo": name is "Carla CFO" here, {json.dumps(HOSTILE, ensure_ascii=False)} in the file'
    ]
    assert "update_library" in response.text
    # Without the box ticked the library keeps its own, and the page says what was kept.
    applied = client.post(IMPORT_APPLY, {"token": token_of(response)}, follow=True)
    assert Persona.objects.get(key="cfo").name == "Carla CFO"
    assert lines[0] in [str(message) for message in applied.context["messages"]]


def test_the_update_library_box_takes_the_files_version(small_map, editor, client):
    client.force_login(editor)
    doc = export_map(small_map)
    doc["personas"][0]["name"] = "カーラ（CFO）"
    token = token_of(upload(client, IMPORT, doc))

    client.post(IMPORT_APPLY, {"token": token, "update_library": "on"})

    assert Persona.objects.get(key="cfo").name == "カーラ（CFO）"
    assert JourneyMap.objects.filter(key="launch-2").exists()


def test_hostile_text_in_a_file_is_shown_escaped(workspace, editor, client):
    client.force_login(editor)
    doc = full_map()
    doc["map"]["name"] = '<script>alert(1)</script> "x"; y'
    doc["stages"][0]["name"] = "<b>Attract</b>"
    response = upload(client, IMPORT, doc, name="<img src=x onerror=alert(1)>.json")
    assert "<script>alert(1)" not in response.text and "<b>Attract</b>" not in response.text
    assert "&lt;script&gt;" in response.text and "&lt;img" in response.text


# --- replacing a map's content ---------------------------------------------------------------


def test_the_map_settings_offer_to_replace_the_content_from_a_file(small_map, editor, client):
    client.force_login(editor)
    assert REPLACE in client.get(reverse("map_settings", args=["acme", "launch"])).text


def test_replace_previews_then_writes_the_file_as_one_revision_that_can_be_undone(small_map, editor, client):
    client.force_login(editor)
    before = export_map(small_map)
    doc = full_map()
    version = JourneyMap.objects.get(pk=small_map.pk).version

    preview = upload(client, REPLACE, doc, name="new.json")
    assert preview.status_code == 200 and "now 2 stages, 3 touchpoints" in preview.text
    assert JourneyMap.objects.get(pk=small_map.pk).version == version  # nothing written yet

    response = client.post(REPLACE_APPLY, {"token": token_of(preview)})

    journey_map = JourneyMap.objects.get(pk=small_map.pk)
    assert response.status_code == 302 and response["Location"] == journey_map.get_absolute_url()
    assert journey_map.key == "launch" and journey_map.stages.count() == 5
    latest = journey_map.revisions.order_by("-number").first()
    assert (latest.user, latest.summary) == (editor, "imported new.json")
    event = AuditEvent.objects.get(kind=AuditEvent.IMPORTED)
    assert event.data["into"] == "launch"
    history.undo(journey_map, editor)
    after = export_map(journey_map)
    assert (after["map"], after["stages"], after["touchpoints"]) == (
        before["map"],
        before["stages"],
        before["touchpoints"],
    )


def test_replace_is_refused_if_the_map_changed_since_the_preview(small_map, owner, editor, client):
    changes.record_creation(small_map, owner)
    client.force_login(editor)
    token = token_of(upload(client, REPLACE, full_map()))
    with changes.editing(small_map, owner, "renamed"):
        small_map.name = "Renamed meanwhile"
        small_map.save()
    before = snapshot()

    response = client.post(REPLACE_APPLY, {"token": token})

    assert response.status_code == 409
    assert response.context["error"] == (
        "alice changed the map since the preview; nothing was replaced. "
        "Choose the file again to see what it would change now."
    )
    assert snapshot() == before


def test_a_bad_replacement_is_refused_naming_the_place(small_map, editor, client):
    client.force_login(editor)
    doc = full_map()
    doc["stages"][1]["target_conversion"] = 2
    before = snapshot()
    response = upload(client, REPLACE, doc)
    assert response.context["error"] == "stages[1].target_conversion: must be a number from 0 to 1"
    assert snapshot() == before


def test_an_upload_for_one_map_cannot_be_applied_to_another(small_map, editor, client):
    client.force_login(editor)
    token = token_of(upload(client, IMPORT, full_map()))
    assert client.post(REPLACE_APPLY, {"token": token}).status_code == 409
    assert JourneyMap.objects.get(pk=small_map.pk).stages.count() == 2


# --- who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [IMPORT, REPLACE])
def test_owners_and_editors_open_the_upload_pages(small_map, owner, editor, client, url):
    for person in (owner, editor):
        client.force_login(person)
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("url", [IMPORT, IMPORT_APPLY, REPLACE, REPLACE_APPLY])
def test_viewers_cannot_upload_and_nothing_is_written(small_map, viewer, client, url):
    client.force_login(viewer)
    before = snapshot()
    assert upload(client, url, full_map()).status_code == 403
    assert client.post(url, {"token": "x"}).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("url", [IMPORT, REPLACE])
def test_strangers_cannot_open_the_upload_pages(small_map, stranger, client, url):
    client.force_login(stranger)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("url", [IMPORT, IMPORT_APPLY, REPLACE, REPLACE_APPLY])
def test_strangers_get_404_from_the_upload_pages(small_map, stranger, client, url):
    client.force_login(stranger)
    before = snapshot()
    assert upload(client, url, full_map()).status_code == 404
    assert snapshot() == before
