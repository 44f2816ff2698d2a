"""manage.py render_map: every format to a file or stdout; bad input exits 2 with one line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

MAGIC = {
    "svg": b"<?xml",
    "png": b"\x89PNG",
    "pdf": b"%PDF",
    "dot": b"digraph",
    "pptx": b"PK",
    "handout": b"%PDF",
    "csv": "\ufeffcode,".encode(),
    "mermaid": b"journey\n",
}


@pytest.mark.parametrize("fmt", list(MAGIC))
def test_each_format_writes_its_file(small_map, tmp_path, fmt):
    path = tmp_path / f"map.{fmt}"
    call_command("render_map", "acme/launch", "--format", fmt, "-o", str(path))
    assert path.read_bytes().startswith(MAGIC[fmt])


@pytest.mark.parametrize("view", ["departments", "persona:it-lead"])
def test_views_render(small_map, tmp_path, view):
    path = tmp_path / "map.svg"
    call_command("render_map", "acme/launch", "--format", "svg", "--view", view, "-o", str(path))
    assert b"Launch journey" in path.read_bytes()


def test_dash_writes_binary_to_stdout(small_map):
    stdout = io.TextIOWrapper(io.BytesIO())
    call_command("render_map", "acme/launch", "--format", "png", "-o", "-", stdout=stdout)
    assert stdout.buffer.getvalue().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    "args, message",
    [
        (["acme/nope", "--format", "svg"], 'no map "nope" in workspace "acme"'),
        (["nope", "--format", "svg"], '"nope" is not WORKSPACE/MAP'),
        (["acme/launch", "--format", "gif"], 'unknown format "gif"'),
        (["acme/launch", "--format", "svg", "--view", "persona:nobody"], 'no persona "nobody"'),
        (["acme/launch", "--format", "png", "--view", "sideways"], 'unknown view "sideways"'),
    ],
)
def test_bad_input_exits_2_with_one_line(small_map, tmp_path, args, message):
    with pytest.raises(CommandError) as error:
        call_command("render_map", *args, "-o", str(tmp_path / "out"))
    assert error.value.returncode == 2
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "out").exists()
