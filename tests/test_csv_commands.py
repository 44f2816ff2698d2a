"""import_csv and export_csv: the command line's CSV tables (docs/format.md)."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from maps.models import FunnelFigure, Revision

FUNNEL = "stage,period,entered,converted\r\nawareness,2026-Q3,900,150\r\ndecision,2026-Q3,150,40\r\n"


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_csv_applies_a_file_and_says_what_it_did(small_map, tmp_path):
    path = tmp_path / "funnel.csv"
    path.write_text(FUNNEL, encoding="utf-8")
    out, _err = _run("import_csv", "funnel", str(path), "--map", "acme/launch")
    assert out.splitlines()[-1] == "2 added, 0 changed, 0 as they were"
    assert FunnelFigure.objects.count() == 2
    assert Revision.objects.filter(map=small_map).first().summary.startswith("imported funnel figures from funnel.csv")


def test_import_csv_dry_run_shows_the_plan_and_writes_nothing(small_map, tmp_path):
    path = tmp_path / "funnel.csv"
    path.write_text(FUNNEL, encoding="utf-8")
    out, _err = _run("import_csv", "funnel", str(path), "--map", "acme/launch", "--dry-run")
    assert "add row 2: Awareness 2026-Q3" in out
    assert out.splitlines()[-1].startswith("dry run, nothing written: 2 to add")
    assert not FunnelFigure.objects.exists()


def test_import_csv_exits_2_naming_every_bad_row_and_writes_nothing(small_map, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("stage,period,entered,converted\r\nnowhere,2026-10,1,1\r\nawareness,2026-10,1,5\r\n")
    err = io.StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("import_csv", "funnel", str(path), "--map", "acme/launch", stderr=err)
    assert refused.value.returncode == 2
    assert err.getvalue() == 'row 2, column "stage": no stage "nowhere" in this map\n'
    assert str(refused.value) == 'row 3, column "converted": Cannot be more than entered (1).'
    assert not FunnelFigure.objects.exists()


def test_export_csv_writes_a_file_that_imports_again_without_a_change(small_map, tmp_path):
    path = tmp_path / "tp.csv"
    _run("export_csv", "touchpoints", "acme/launch", "-o", str(path))
    out, _err = _run("import_csv", "touchpoints", str(path), "--map", "acme/launch")
    assert out.splitlines()[-1] == "0 added, 0 changed, 3 as they were"
    assert not Revision.objects.filter(map=small_map, summary__startswith="imported").exists()


@pytest.mark.parametrize("table", ["gaps", "coverage", "content", "funnel"])
def test_export_csv_writes_to_standard_output_by_default(small_map, table):
    out, _err = _run("export_csv", table, "acme/launch")
    assert out.startswith("\ufeff")


def test_export_csv_of_an_unknown_map_exits_2_and_leaves_the_file(small_map, tmp_path):
    path = tmp_path / "keep.csv"
    path.write_text("kept")
    with pytest.raises(CommandError) as refused:
        call_command("export_csv", "gaps", "acme/nowhere", "-o", str(path))
    assert refused.value.returncode == 2
    assert path.read_text() == "kept"
