"""`manage.py gaps WORKSPACE/MAP [--json]`: what a person or a script reads."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from maps.models import ContentAsset, Department, JourneyMap, Metric, Stage, Touchpoint


def run_gaps(*args: str) -> str:
    out = io.StringIO()
    call_command("gaps", *args, stdout=out)
    return out.getvalue()


def test_table_names_the_content_gap_of_the_small_map(small_map):
    lines = run_gaps("acme/launch").splitlines()
    assert lines[0].split() == ["SEVERITY", "STAGE", "CODE", "MESSAGE"]
    gap_line = next(line for line in lines if "content-gap" in line)
    assert gap_line.split()[:3] == ["error", "decision", "content-gap"]
    assert "Ivan IT" in gap_line
    assert lines[-1].endswith("info")
    assert lines[-1].startswith("1 error,")


def test_table_columns_line_up(small_map):
    header, *rows = run_gaps("acme/launch").split("\n\n")[0].splitlines()
    code_at, message_at = header.index("CODE"), header.index("MESSAGE")
    assert rows
    for row in rows:
        assert row[code_at - 2 : code_at] == "  " and row[code_at] != " "
        assert row[message_at - 2 : message_at] == "  " and row[message_at:].startswith("Decision")


def test_json_rows_have_exactly_the_eight_keys(small_map):
    rows = json.loads(run_gaps("acme/launch", "--json"))
    assert rows, "the small map has gaps"
    for row in rows:
        assert list(row) == ["code", "severity", "stage", "persona", "touchpoint", "content", "role", "message"]
    assert {"code": "content-gap", "stage": "decision", "persona": "it-lead"}.items() <= rows[0].items()


def test_json_keeps_non_ascii_names_readable(small_map):
    Stage.objects.filter(key="decision").update(name="商談")
    assert "商談: no live content for Ivan IT" in run_gaps("acme/launch", "--json")


def test_map_without_gaps_says_so(workspace):
    marketing = Department.objects.create(workspace=workspace, key="marketing", name="Marketing")
    jm = JourneyMap.objects.create(workspace=workspace, key="tidy", name="Tidy")
    stage = Stage.objects.create(map=jm, key="only", name="Only", lead=marketing)
    Metric.objects.create(stage=stage, name="Visits")
    Touchpoint.objects.create(map=jm, stage=stage, key="site", name="Site", owner=marketing)
    stage.content.add(ContentAsset.objects.create(workspace=workspace, key="draft", title="Draft"))
    assert run_gaps("acme/tidy") == "No gaps.\n"
    assert json.loads(run_gaps("acme/tidy", "--json")) == []


@pytest.mark.parametrize("ref", ["acme/nope", "nowhere/launch", "acme", "acme/launch/extra"])
def test_bad_map_reference_exits_2(small_map, ref):
    with pytest.raises(CommandError) as raised:
        run_gaps(ref)
    assert raised.value.returncode == 2
