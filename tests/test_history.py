"""History: restore a map as it was, undo one's own last change, and the commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maps import changes, history, interchange
from maps.models import JourneyMap, Touchpoint, Workspace

FULL = Path(__file__).parent / "data" / "full_map.json"


@pytest.fixture
def imported(db, owner):
    """The full example map, imported into a fresh workspace, with history started."""
    workspace = Workspace.objects.get(slug="acme")
    journey_map = interchange.import_map(interchange.parse(FULL.read_bytes()), workspace)
    changes.record_creation(journey_map, owner)
    return journey_map


def some_edits(journey_map: JourneyMap, user) -> None:
    first = journey_map.touchpoints.order_by("stage__order", "order").first()
    changes.move_touchpoint(journey_map, first, "right", user=user)
    changes.move_stage(journey_map, journey_map.stages.order_by("order").last().key, -1, user=user)
    changes.delete_touchpoint(journey_map, journey_map.touchpoints.order_by("pk").last(), user=user)
    persona = journey_map.map_personas.first().persona
    persona.name = "Renamed in the library"
    persona.save()
    changes.add_flow(
        journey_map,
        journey_map.touchpoints.order_by("pk").last(),
        journey_map.touchpoints.order_by("pk").first().key,
        user=user,
    )


def test_restoring_the_first_revision_gives_back_the_first_export_byte_for_byte(imported, owner, capsys):
    first = interchange.dumps(interchange.export_map(imported))
    some_edits(imported, owner)
    assert interchange.dumps(interchange.export_map(imported)) != first
    call_command("restore_map", "acme/" + imported.key, "--revision", "1")
    assert capsys.readouterr().out.strip() == str(JourneyMap.objects.get(pk=imported.pk).version)
    assert interchange.dumps(interchange.export_map(imported)) == first


def test_a_restore_is_itself_a_revision_and_can_be_undone_by_restoring_again(imported, owner):
    some_edits(imported, owner)
    edited = interchange.export_map(imported)
    edited_at = imported.version
    history.restore(imported, 1, user=owner)
    history.restore(imported, edited_at, user=owner)
    assert interchange.export_map(imported) == edited


def test_undo_reverts_my_last_change(small_map, editor):
    changes.record_creation(small_map)
    before = interchange.export_map(small_map)
    changes.move_touchpoint(small_map, small_map.touchpoints.get(key="ad"), "right", user=editor)
    history.undo(small_map, editor)
    assert interchange.export_map(small_map) == before


def test_undo_refuses_when_someone_else_changed_the_same_thing_since(small_map, editor, owner):
    changes.record_creation(small_map)
    changes.move_touchpoint(small_map, small_map.touchpoints.get(key="ad"), "right", user=editor)
    changes.move_touchpoint(small_map, small_map.touchpoints.get(key="ad"), "left", user=owner)
    after = interchange.export_map(small_map)
    with pytest.raises(changes.Refused, match="alice changed the same thing since"):
        history.undo(small_map, editor)
    assert interchange.export_map(small_map) == after


def test_undo_keeps_what_others_changed_elsewhere(small_map, editor, owner):
    changes.record_creation(small_map)
    changes.add_flow(small_map, small_map.touchpoints.get(key="ad"), "demo", user=editor)
    changes.move_stage(small_map, "decision", -1, user=owner)
    history.undo(small_map, editor)
    ad = Touchpoint.objects.get(map=small_map, key="ad")
    assert list(ad.flows_out.values_list("target__key", flat=True)) == ["webinar"]
    assert list(small_map.stages.values_list("key", flat=True)) == ["decision", "awareness"]


def test_nothing_to_undo_is_said_plainly(small_map, viewer):
    changes.record_creation(small_map)
    with pytest.raises(changes.Refused, match="no change of this map to undo"):
        history.undo(small_map, viewer)


def test_history_command_lists_revisions_newest_first_as_json(imported, owner, capsys):
    some_edits(imported, owner)
    call_command("history", "acme/" + imported.key, "--json")
    rows = json.loads(capsys.readouterr().out)
    assert [row["revision"] for row in rows] == list(range(imported.version, 0, -1))
    assert set(rows[0]) == {"revision", "version", "at", "user", "summary"}
    assert rows[-1]["user"] == "alice" and rows[0]["summary"].startswith("added a flow")


@pytest.mark.parametrize("revision, message", [("x", "must be a revision number"), ("999", "no revision 999")])
def test_restore_command_refuses_bad_revisions_with_one_line(imported, revision, message):
    with pytest.raises(CommandError, match=message) as refused:
        call_command("restore_map", "acme/" + imported.key, "--revision", revision)
    assert refused.value.returncode == 2


def test_import_into_replaces_a_maps_content_as_one_revision_and_keeps_its_key(imported, tmp_path, capsys):
    changed = interchange.export_map(imported)
    changed["map"]["key"] = "whatever-the-file-says"
    changed["stages"][0]["name"] = "Renamed in the file"
    path = tmp_path / "changed.json"
    path.write_text(interchange.dumps(changed), encoding="utf-8")
    version = imported.version
    call_command("import_map", str(path), "--workspace", "acme", "--into", imported.key)
    assert capsys.readouterr().out.strip() == imported.key
    changed["map"]["key"] = imported.key
    assert interchange.export_map(imported) == changed
    imported.refresh_from_db()
    assert imported.version == version + 1
    assert imported.revisions.get(number=version + 1).summary == "imported changed.json"


@pytest.mark.parametrize(
    "into, document, message",
    [
        ("nope", None, 'no map "nope"'),
        (None, '{"format": "journeymap/1", "map": {"key": "x"}}', "map.name: is missing"),
    ],
)
def test_import_into_refuses_an_unknown_map_or_a_bad_file_and_changes_nothing(
    imported, tmp_path, into, document, message
):
    before = interchange.export_map(imported)
    path = tmp_path / "doc.json"
    path.write_text(document or interchange.dumps(before), encoding="utf-8")
    with pytest.raises(CommandError, match=message) as refused:
        call_command("import_map", str(path), "--workspace", "acme", "--into", into or imported.key)
    assert refused.value.returncode == 2
    assert interchange.export_map(imported) == before


def test_a_new_import_is_the_maps_first_revision(db, workspace, capsys):
    call_command("import_map", str(FULL), "--workspace", "acme")
    key = capsys.readouterr().out.strip()
    journey_map = JourneyMap.objects.get(workspace=workspace, key=key)
    assert list(journey_map.revisions.values_list("number", "summary_text")) == [(1, "imported full_map.json")]
