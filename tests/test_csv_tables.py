"""CSV tables (maps/tables.py): reading what spreadsheets save, refusing every bad row
and writing nothing, importing twice changing nothing, and exact round trips."""

from __future__ import annotations

import csv
import io

import pytest

from maps import interchange, tables
from maps.models import ContentAsset, FunnelFigure, JourneyMap, Revision, Stage, Touchpoint, period_order


def _revisions(journey_map: JourneyMap) -> int:
    return Revision.objects.filter(map=journey_map).count()


def _fresh_map(small_map: JourneyMap, key: str = "copy") -> JourneyMap:
    """A map with the same stages and personas as small_map, and no touchpoints."""
    doc = interchange.export_map(small_map)
    doc["map"]["key"] = key
    doc["touchpoints"] = []
    doc["content"] = []
    for stage in doc["stages"]:
        stage.pop("funnel", None)
    return interchange.import_map(doc, small_map.workspace)


TOUCHPOINTS = (
    "key,stage,name,channel,owner,personas,emotion,pain point,opportunity,content,next\r\n"
    'ad,awareness,LinkedIn ad,social,marketing,cfo,1,,,,"webinar"\r\n'
    "event,awareness,Trade fair,event,Marketing,Carla CFO,2,,,guide,demo\r\n"
)


def test_a_new_touchpoint_row_is_planned_as_added_and_a_known_one_as_unchanged(small_map):
    result = tables.plan(small_map, "touchpoints", TOUCHPOINTS)
    assert result.ok, [str(p) for p in result.problems]
    assert [row.action for row in result.rows] == [tables.UNCHANGED, tables.ADDED]


def test_importing_touchpoints_adds_them_with_references_by_key_or_name(small_map):
    tables.apply(small_map, "touchpoints", TOUCHPOINTS, file="tp.csv")
    event = Touchpoint.objects.get(map=small_map, key="event")
    assert event.stage.key == "awareness" and event.owner.key == "marketing"
    assert [p.key for p in event.personas.all()] == ["cfo"]
    assert [c.key for c in event.content.all()] == ["guide"]
    assert [f.target.key for f in event.flows_out.all()] == ["demo"]
    assert event.emotion == 2


def test_a_good_file_is_one_revision_and_importing_it_again_changes_nothing(small_map):
    tables.apply(small_map, "touchpoints", TOUCHPOINTS)
    after_first = _revisions(small_map)
    again = tables.apply(small_map, "touchpoints", TOUCHPOINTS)
    assert again.counts[tables.UNCHANGED] == 2
    assert _revisions(small_map) == after_first
    assert Revision.objects.filter(map=small_map).first().summary.startswith("imported touchpoints")


def test_utf8_with_bom_semicolons_crlf_japanese_headers_and_quoted_newlines_are_read(small_map):
    text = (
        "\ufeffキー;ステージ;名前;説明;ペルソナ\r\n"
        'seminar;awareness;"セミナー; 東京";"一行目\r\n二行目";"cfo\r\nit-lead"\r\n'
    ).encode()
    tables.apply(small_map, "touchpoints", text)
    seminar = Touchpoint.objects.get(map=small_map, key="seminar")
    assert seminar.name == "セミナー; 東京"
    assert seminar.description == "一行目\r\n二行目"
    assert {p.key for p in seminar.personas.all()} == {"cfo", "it-lead"}


def test_every_bad_row_is_named_by_row_and_column_and_nothing_is_written(small_map):
    before = (Touchpoint.objects.count(), _revisions(small_map))
    text = (
        "stage,name,emotion,owner\r\n"
        "awareness,Good one,1,marketing\r\n"
        "nowhere,Lost,0,marketing\r\n"
        "awareness,Too happy,3,marketing\r\n"
        "awareness,Nobody's,0,legal\r\n"
        "nowhere,Twice wrong,9,marketing\r\n"
    )
    with pytest.raises(tables.TableError) as err:
        tables.apply(small_map, "touchpoints", text)
    said = [str(p) for p in err.value.problems]
    assert said[0] == 'row 3, column "stage": no stage "nowhere" in this map'
    assert said[1].startswith('row 4, column "emotion": ')
    assert said[2] == 'row 5, column "owner": no department "legal"'
    assert said[3] == 'row 6, column "stage": no stage "nowhere" in this map'
    assert said[4].startswith('row 6, column "emotion": ')
    assert len(said) == 5
    assert (Touchpoint.objects.count(), _revisions(small_map)) == before


def test_an_unknown_or_missing_column_is_refused_in_the_header_row(small_map):
    result = tables.plan(small_map, "funnel", "stage,period,entered,colour\r\nawareness,2026-10,5,red\r\n")
    said = [str(p) for p in result.problems]
    assert said[0].startswith('row 1, column "colour": unknown column')
    assert 'the column "converted" is missing' in said[1]


def test_a_file_that_is_not_utf8_is_refused_naming_the_byte(small_map):
    result = tables.plan(small_map, "funnel", "stage,period\r\nätt".encode("latin-1"))
    assert str(result.problems[0]).startswith("byte 15: not UTF-8 text")


def test_content_rows_refer_to_the_maps_stages_and_the_librarys_personas(small_map):
    text = (
        "title,type,url,personas,stages,questions,status,last reviewed\r\n"
        'Pricing page,Landing page,https://example.com/p,"cfo\nIvan IT",decision,"How much?\nFor whom?",live,2026/05/01\r\n'
    )
    tables.apply(small_map, "content", text)
    page = ContentAsset.objects.get(title="Pricing page")
    assert page.key == "pricing-page" and page.type == "landing-page" and page.status == "live"
    assert page.questions == ["How much?", "For whom?"]
    assert {p.key for p in page.personas.all()} == {"cfo", "it-lead"}
    assert [s.key for s in page.stages.all()] == ["decision"]
    assert str(page.last_reviewed) == "2026-05-01"


def test_content_columns_left_out_of_the_file_are_left_alone(small_map):
    tables.apply(small_map, "content", "key,title,status\r\nguide,Buyer's guide,retired\r\n")
    guide = ContentAsset.objects.get(key="guide")
    assert guide.status == "retired" and guide.type == "ebook"
    assert [s.key for s in guide.stages.all()] == ["awareness"]


def test_a_url_the_model_refuses_is_refused_in_its_cell(small_map):
    result = tables.plan(small_map, "content", "title,url\r\nGuide,ftp://example.com\r\n")
    assert str(result.problems[0]) == 'row 2, column "url": must be an http:// or https:// address'


def test_funnel_figures_keep_each_period_and_the_stage_shows_the_latest(small_map):
    text = "stage,period,entered,converted\r\nAwareness,2026-Q3,900,150\r\nawareness,2026-10,400,30\r\n"
    tables.apply(small_map, "funnel", text)
    stage = Stage.objects.get(map=small_map, key="awareness")
    assert (stage.entered, stage.converted) == (400, 30)
    assert FunnelFigure.objects.filter(stage=stage).count() == 2


def test_converted_above_entered_is_refused_by_the_models_rule(small_map):
    result = tables.plan(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-10,10,20\r\n")
    assert str(result.problems[0]) == 'row 2, column "converted": Cannot be more than entered (10).'


def test_a_period_that_is_neither_a_month_nor_a_quarter_is_refused(small_map):
    result = tables.plan(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-13,10,2\r\n")
    assert str(result.problems[0]).startswith('row 2, column "period": must be a month as YYYY-MM')


def test_periods_sort_by_time_not_by_spelling():
    periods = ["2026-Q3", "2026-10", "2025-12", "2026-09", "2026-Q1"]
    assert sorted(periods, key=period_order) == ["2025-12", "2026-Q1", "2026-09", "2026-Q3", "2026-10"]


def test_the_map_changed_since_the_preview_is_refused_and_writes_nothing(small_map):
    seen = tables.plan(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-10,5,1\r\n").version
    tables.apply(small_map, "touchpoints", TOUCHPOINTS)
    with pytest.raises(tables.MapChanged):
        tables.apply(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-10,5,1\r\n", seen=seen)
    assert not FunnelFigure.objects.exists()


HOSTILE = [
    '=HYPERLINK("http://evil")',
    "'quoted already",
    "+1 then text",
    " -leading space",
    "@mention",
    '日本語, "引用"; セミコロン',
    "line one\nline two",
]


def _hostile_map(small_map: JourneyMap) -> None:
    for i, text in enumerate(HOSTILE):
        Touchpoint.objects.create(
            map=small_map, stage=small_map.stages.first(), key=f"h{i}", name=text[:200], pain_point=text, order=10 + i
        )
    tables.apply(small_map, "funnel", "stage,period,entered,converted\r\nawareness,2026-Q3,10,3\r\n")
    tables.apply(small_map, "content", 'title,questions\r\n"=1+1, 「見積」","=first?\nsecond; yes"\r\n')


@pytest.mark.parametrize("table", tables.IMPORTABLE)
def test_export_then_import_into_another_map_then_export_gives_the_same_bytes(small_map, table):
    _hostile_map(small_map)
    first = tables.export(small_map, table)
    other = _fresh_map(small_map)
    tables.apply(other, table, first.encode())
    assert tables.export(other, table) == first


@pytest.mark.parametrize("table", tables.IMPORTABLE)
def test_an_exported_table_imports_into_its_own_map_without_a_change(small_map, table):
    _hostile_map(small_map)
    before = _revisions(small_map)
    result = tables.apply(small_map, table, tables.export(small_map, table))
    assert result.count(tables.CHANGED) == result.count(tables.ADDED) == 0
    assert _revisions(small_map) == before


def test_exported_text_cells_cannot_run_as_formulas(small_map):
    _hostile_map(small_map)
    rows = list(csv.reader(io.StringIO(tables.export(small_map, "touchpoints"), newline="")))
    names = [row[2] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in names and "''quoted already" in names and "'+1 then text" in names
    assert "' -leading space" in names and "'@mention" in names


def test_japanese_headers_are_exported_in_japanese(small_map):
    from django.utils import translation

    with translation.override("ja"):
        text = tables.export(small_map, "funnel")
    assert text.startswith("\ufeffステージ,期間,流入数,コンバージョン数\r\n")


def test_the_coverage_csv_lists_covering_content_and_names_each_gap(small_map):
    text = tables.export(small_map, "coverage")
    lines = text.removeprefix("\ufeff").split("\r\n")
    assert lines[0] == "persona,role,Awareness,Decision"
    assert lines[1] == "cfo,Decision maker,guide,roi-calc"
    assert lines[2] == "it-lead,Technical evaluator,out of scope,content-gap"


def test_the_funnel_shows_the_latest_period_and_the_change_since_the_one_before(client, owner, small_map):
    from django.urls import reverse

    tables.apply(
        small_map,
        "funnel",
        "stage,period,entered,converted\r\nawareness,2026-09,800,80\r\nawareness,2026-10,1000,150\r\n",
    )
    client.force_login(owner)
    page = client.get(reverse("funnel", args=["acme", "launch"])).content.decode()
    assert "2026-10" in page
    assert "2026-09: 800 entered, 10 %" in page
    assert "<strong>+200</strong> entered" in page and "<strong>+5.0</strong> pts conversion" in page


def test_a_stage_form_edit_of_the_figures_is_the_latest_periods(small_map, owner):
    from maps import changes
    from maps.forms import StageForm

    tables.apply(
        small_map,
        "funnel",
        "stage,period,entered,converted\r\nawareness,2026-09,800,80\r\nawareness,2026-10,1000,150\r\n",
    )
    stage = small_map.stages.get(key="awareness")
    data = {**{f: getattr(stage, f) or "" for f in ("key", "name", "goal", "handoff_sla", "target_conversion")}}
    form = StageForm(data={**data, "entered": 1200, "converted": 100}, instance=stage, journey_map=small_map)
    assert form.is_valid(), form.errors
    changes.save_stage(small_map, form, owner)
    assert [(f.period, f.entered, f.converted) for f in stage.figures.order_by("period")] == [
        ("2026-09", 800, 80),
        ("2026-10", 1200, 100),
    ]


def test_journeymap_documents_carry_the_figures_and_round_trip(small_map):
    tables.apply(
        small_map,
        "funnel",
        "stage,period,entered,converted\r\nawareness,2026-Q3,800,80\r\nawareness,2026-10,1000,150\r\n",
    )
    doc = interchange.export_map(small_map)
    assert doc["stages"][0]["funnel"] == [
        {"period": "2026-Q3", "entered": 800, "converted": 80},
        {"period": "2026-10", "entered": 1000, "converted": 150},
    ]
    assert "funnel" not in doc["stages"][1]
    doc["map"]["key"] = "again"
    again = interchange.import_map(doc, small_map.workspace)
    assert interchange.dumps(interchange.export_map(again)) == interchange.dumps(doc | {"map": doc["map"]})


@pytest.mark.parametrize(
    "funnel, place",
    [
        ([{"period": "2026-13", "entered": 1, "converted": 0}], "stages[0].funnel[0].period: must be a month"),
        ([{"period": "2026-10", "entered": 1, "converted": 5}], "stages[0].funnel[0].converted: must not be more"),
        (
            [{"period": "2026-10", "entered": 1, "converted": 0}, {"period": "2026-10", "entered": 2, "converted": 0}],
            'stages[0].funnel[1].period: "2026-10" is already the period of stages[0].funnel[0]',
        ),
        ([{"period": "2026-10", "entered": 5, "converted": 1}], "stages[0].entered: must be the latest period's"),
    ],
)
def test_journeymap_funnel_lists_are_refused_with_their_place(small_map, funnel, place):
    doc = interchange.export_map(small_map)
    doc["stages"][0]["funnel"] = funnel
    with pytest.raises(interchange.InterchangeError) as err:
        interchange.validate(doc)
    assert str(err.value).startswith(place)
