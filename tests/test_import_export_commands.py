"""`import_map` and `export_map`: the command-line contract of DESIGN.md (exit 0 and
the map key; exit 2 and one line on bad input)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maps.interchange import dumps, export_map
from maps.management.commands.import_map import Command as ImportCommand
from maps.models import JourneyMap, Stage, Workspace

FULL_MAP = Path(__file__).parent / "data" / "full_map.json"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    """The one-line message of a command that must exit 2."""
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_import_prints_the_map_key(workspace):
    assert run("import_map", str(FULL_MAP), "--workspace", "acme") == "acme-b2b\n"
    assert JourneyMap.objects.get(workspace=workspace, key="acme-b2b").stages.count() == 5


def test_import_of_a_taken_key_prints_the_key_it_used(workspace):
    run("import_map", str(FULL_MAP), "--workspace", "acme")
    assert run("import_map", str(FULL_MAP), "--workspace", "acme") == "acme-b2b-2\n"


def test_import_reads_standard_input_for_dash(workspace, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(FULL_MAP.read_bytes()), encoding="utf-8"))
    assert run("import_map", "-", "--workspace", "acme") == "acme-b2b\n"


def test_import_of_a_bad_document_exits_2_naming_the_place_and_writes_nothing(workspace, tmp_path):
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    doc["touchpoints"][3]["next"] = ["contrat"]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")

    assert refused("import_map", str(path), "--workspace", "acme") == 'touchpoints[3].next[0]: no touchpoint "contrat"'
    assert not JourneyMap.objects.exists() and not Stage.objects.exists()


def test_import_of_a_file_that_is_not_json_exits_2(workspace, tmp_path):
    path = tmp_path / "map.json"
    path.write_text("format: journeymap/1\n", encoding="utf-8")
    assert refused("import_map", str(path), "--workspace", "acme") == (
        "line 1 column 1: not valid JSON: Expecting value"
    )


def test_import_of_a_missing_file_exits_2(workspace, tmp_path):
    path = tmp_path / "nope.json"
    assert refused("import_map", str(path), "--workspace", "acme") == f'cannot read "{path}": No such file or directory'


def test_import_of_a_directory_exits_2(workspace, tmp_path):
    assert refused("import_map", str(tmp_path), "--workspace", "acme").startswith(f'cannot read "{tmp_path}": ')


def test_import_into_an_unknown_workspace_exits_2(db):
    assert refused("import_map", str(FULL_MAP), "--workspace", "nope") == 'no workspace "nope"'
    assert not JourneyMap.objects.exists()


def test_import_from_the_command_line_exits_2_with_one_line_on_stderr(workspace, tmp_path, capsys, monkeypatch):
    # run_from_argv closes connections when done; the test's transaction needs them open.
    monkeypatch.setattr("django.db.connections.close_all", lambda: None)
    argv = ["manage.py", "import_map", str(tmp_path / "x.json"), "--workspace", "acme", "--skip-checks"]
    with pytest.raises(SystemExit) as exited:
        ImportCommand().run_from_argv(argv)
    assert exited.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1 and "cannot read" in stderr


def test_export_writes_the_file(small_map, tmp_path):
    path = tmp_path / "launch.json"
    assert run("export_map", "acme/launch", "-o", str(path)) == ""
    assert path.read_text(encoding="utf-8") == dumps(export_map(small_map))


def test_export_to_dash_prints_the_document(small_map):
    assert run("export_map", "acme/launch", "-o", "-") == dumps(export_map(small_map))


def test_exported_file_imports_into_another_workspace_and_exports_the_same(workspace, tmp_path):
    run("import_map", str(FULL_MAP), "--workspace", "acme")
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    run("export_map", "acme/acme-b2b", "-o", str(first))
    Workspace.objects.create(slug="copy", name="Copy")
    assert run("import_map", str(first), "--workspace", "copy") == "acme-b2b\n"
    run("export_map", "copy/acme-b2b", "-o", str(second))
    assert first.read_bytes() == second.read_bytes()
    # the file leaves the language out, which means English; export writes it after the goal
    expected = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    expected["map"]["language"] = "en"
    exported = json.loads(first.read_text(encoding="utf-8"))
    assert exported == expected
    assert list(exported["map"]) == ["key", "name", "description", "goal", "language"]


def test_a_japanese_map_exports_and_imports_with_its_language(workspace, tmp_path):
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    doc["map"]["language"] = "ja"
    source, exported = tmp_path / "ja.json", tmp_path / "exported.json"
    source.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    assert run("import_map", str(source), "--workspace", "acme") == "acme-b2b\n"
    assert JourneyMap.objects.get(workspace=workspace, key="acme-b2b").language == "ja"
    run("export_map", "acme/acme-b2b", "-o", str(exported))
    assert json.loads(exported.read_text(encoding="utf-8")) == doc


def test_import_of_an_unknown_language_exits_2_naming_the_place(workspace, tmp_path):
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    doc["map"]["language"] = "fr"
    path = tmp_path / "fr.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert refused("import_map", str(path), "--workspace", "acme") == "map.language: must be one of en, ja"
    assert not JourneyMap.objects.exists()


@pytest.mark.parametrize(
    "ref, message",
    [
        ("acme", '"acme" is not WORKSPACE/MAP (for example demo/acme-b2b)'),
        ("nope/launch", 'no workspace "nope"'),
        ("acme/nope", 'no map "nope" in workspace "acme"'),
    ],
)
def test_export_of_a_bad_map_reference_exits_2(small_map, tmp_path, ref, message):
    path = tmp_path / "out.json"
    path.write_text("kept", encoding="utf-8")
    assert refused("export_map", ref, "-o", str(path)) == message
    assert path.read_text(encoding="utf-8") == "kept"


def test_export_to_a_path_that_cannot_be_written_exits_2(small_map, tmp_path):
    path = tmp_path / "missing-dir" / "out.json"
    assert refused("export_map", "acme/launch", "-o", str(path)) == f'cannot write "{path}": No such file or directory'


def _workspace_with_a_different_cfo(workspace):
    from maps.models import BuyingRole, Persona

    role = BuyingRole.objects.create(workspace=workspace, key="decision-maker", name="Decision maker")
    return Persona.objects.create(workspace=workspace, key="cfo", name="Our CFO", role=role)


def _full_with_cfo_as_economic_buyer(tmp_path) -> Path:
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    cfo = next(p for p in doc["personas"] if p["key"] == "cfo")
    if not any(r["key"] == "economic-buyer" for r in doc["roles"]):
        doc["roles"].append({"key": "economic-buyer", "name": "Economic buyer"})
    cfo["role"] = "economic-buyer"
    path = tmp_path / "cfo.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_import_lists_every_reused_library_item_that_differs_from_the_file(workspace, tmp_path, capsys):
    cfo = _workspace_with_a_different_cfo(workspace)
    call_command("import_map", str(_full_with_cfo_as_economic_buyer(tmp_path)), "--workspace", "acme")
    out, err = capsys.readouterr()
    assert len(out.strip().splitlines()) == 1  # stdout stays the map key alone
    assert 'reused persona "cfo": ' in err
    assert 'role is "decision-maker" here, "economic-buyer" in the file' in err
    cfo.refresh_from_db()
    assert cfo.role.key == "decision-maker" and cfo.name == "Our CFO"


def test_update_library_takes_the_files_version_of_reused_items(workspace, tmp_path, capsys):
    cfo = _workspace_with_a_different_cfo(workspace)
    call_command(
        "import_map", str(_full_with_cfo_as_economic_buyer(tmp_path)), "--workspace", "acme", "--update-library"
    )
    assert 'reused persona "cfo"' not in capsys.readouterr().err
    cfo.refresh_from_db()
    assert cfo.role.key == "economic-buyer"
