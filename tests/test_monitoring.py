"""Monitoring a map (maps/monitoring.py): KPIs on and off track by their direction, their
actuals by period, sparklines on the board and the funnel tab, and the map's review."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from maps import backup, changes, monitoring
from maps.forms import MetricForm
from maps.interchange import InterchangeError, dumps, export_map, import_map, parse, validate
from maps.models import FunnelFigure, JourneyMap, Metric, MetricActual, Revision, Stage, Workspace

from .web import HX, current_form_data, field_errors, html, login, snapshot

DAY = datetime.timedelta(days=1)


def kpi(small_map, **fields) -> Metric:
    metric = Metric.objects.get(stage__map=small_map, name="Visits")
    for name, value in fields.items():
        setattr(metric, name, value)
    metric.save()
    return metric


def post_kpi(client, small_map, metric: Metric, **changed):
    """The KPI form as the editor shows it, with `changed` typed in."""
    data = {**current_form_data(MetricForm(instance=metric)), **changed}
    url = reverse("metric_edit", args=[small_map.workspace.slug, small_map.key, metric.pk])
    return client.post(url, data, **HX)


def status_of(small_map) -> list[dict]:
    return monitoring.kpi_status(JourneyMap.objects.loaded().get(pk=small_map.pk))


# --- on and off track ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "actual", "on_track"),
    [
        ("higher", 5001, True),
        ("higher", 5000, True),  # exactly at target is on track
        ("higher", 4999, False),
        ("lower", 4999, True),
        ("lower", 5000, True),
        ("lower", 5001, False),
    ],
)
def test_a_kpi_is_on_track_when_its_actual_meets_the_target_the_way_it_counts(small_map, direction, actual, on_track):
    kpi(small_map, direction=direction, target=5000, actual=actual)
    assert status_of(small_map)[0]["on_track"] is on_track


def test_a_kpi_without_a_target_or_an_actual_is_neither_on_nor_off_track(small_map):
    kpi(small_map, target=None)
    assert status_of(small_map)[0]["on_track"] is None
    kpi(small_map, target=5000, actual=None)
    assert status_of(small_map)[0]["on_track"] is None


def test_kpi_status_gives_the_deck_plain_data(small_map):
    metric = kpi(small_map, unit="visits")
    MetricActual.objects.create(metric=metric, period="2026-08", actual=3900)
    MetricActual.objects.create(metric=metric, period="2026-07", actual=3500)
    assert status_of(small_map) == [
        {
            "stage": "awareness",
            "stage_name": "Awareness",
            "name": "Visits",
            "target": 5000,
            "actual": 4200,
            "unit": "visits",
            "direction": "higher",
            "on_track": False,
            "history": [("2026-07", 3500), ("2026-08", 3900)],
        }
    ]


# --- actuals by period -----------------------------------------------------------------------


def test_an_actual_typed_for_a_period_goes_into_the_history_and_the_latest_period_is_the_kpis_actual(
    client, small_map, editor
):
    login(client, editor)
    metric = kpi(small_map)
    assert post_kpi(client, small_map, metric, period="2026-Q3", actual="4800").status_code == 200
    assert post_kpi(client, small_map, metric, period="2026-07", actual="3000").status_code == 200
    metric.refresh_from_db()
    assert [(e.period, e.actual) for e in MetricActual.objects.filter(metric=metric).order_by("pk")] == [
        ("2026-Q3", 4800),
        ("2026-07", 3000),
    ]
    assert metric.actual == 4800  # 2026-Q3 ends after July: still the latest
    assert status_of(small_map)[0]["history"] == [("2026-07", 3000), ("2026-Q3", 4800)]


def test_typing_the_same_period_again_replaces_its_actual(client, small_map, editor):
    login(client, editor)
    metric = kpi(small_map)
    post_kpi(client, small_map, metric, period="2026-10", actual="10")
    post_kpi(client, small_map, metric, period="2026-10", actual="12.5")
    assert list(MetricActual.objects.filter(metric=metric).values_list("period", "actual")) == [("2026-10", 12.5)]


def test_an_actual_typed_without_a_period_is_the_latest_periods(client, small_map, editor):
    login(client, editor)
    metric = kpi(small_map)
    post_kpi(client, small_map, metric, period="2026-09", actual="40")
    post_kpi(client, small_map, metric, period="2026-10", actual="50")
    post_kpi(client, small_map, metric, actual="55")
    assert dict(MetricActual.objects.filter(metric=metric).values_list("period", "actual")) == {
        "2026-09": 40,
        "2026-10": 55,
    }


def test_recording_a_period_is_a_revision_that_says_so(client, small_map, editor):
    login(client, editor)
    changes.record_creation(small_map, editor)
    post_kpi(client, small_map, kpi(small_map), period="2026-10", actual="4300")
    latest = Revision.objects.filter(map=small_map).latest("number")
    assert latest.summary == "recorded 2026-10 for the KPI ‘Visits’ of ‘Awareness’"
    assert export_map(small_map)["stages"][0]["metrics"][0]["history"] == [{"period": "2026-10", "actual": 4300}]


@pytest.mark.parametrize("period", ["2026-13", "Q3-2026", "2026-Q5", "october"])
def test_the_kpi_form_refuses_a_period_funnel_figures_would_refuse(client, small_map, editor, period):
    login(client, editor)
    before = snapshot()
    response = post_kpi(client, small_map, kpi(small_map), period=period, actual="1")
    assert field_errors(response, "period") == ["must be a month as YYYY-MM or a quarter as YYYY-Qn (2026-10, 2026-Q3)"]
    assert snapshot() == before


def test_the_kpi_form_asks_for_the_actual_of_a_period(client, small_map, editor):
    login(client, editor)
    before = snapshot()
    response = post_kpi(client, small_map, kpi(small_map), period="2026-10", actual="")
    assert field_errors(response, "actual") == ["Enter the actual reached in this period."]
    assert snapshot() == before


def test_a_new_kpi_gets_its_direction_from_the_stage_editors_form(client, small_map, editor):
    login(client, editor)
    url = reverse("metric_create", args=["acme", "launch", "awareness"])
    data = {"kpi-name": "Cost per lead", "kpi-direction": "lower", "kpi-target": "80", "kpi-actual": "95"}
    assert client.post(url, data, **HX).status_code == 200
    metric = Metric.objects.get(name="Cost per lead")
    assert (metric.direction, metric.on_track) == ("lower", False)
    editor_page = client.get(reverse("stage_edit", args=["acme", "launch", "awareness"]), **HX)
    assert html(editor_page).xpath('//select[@name="kpi-direction"]')
    assert html(editor_page).xpath('//input[@name="kpi-period"]')


def test_a_viewer_cannot_record_an_actual(client, small_map, viewer):
    login(client, viewer)
    before = snapshot()
    assert post_kpi(client, small_map, kpi(small_map), period="2026-10", actual="1").status_code == 403
    assert snapshot() == before


# --- on the board and the funnel tab ---------------------------------------------------------


def test_the_board_shows_each_kpi_on_or_off_track_with_a_sparkline_of_its_history(client, small_map, owner):
    metric = kpi(small_map)
    for period, actual in [("2026-08", 3900), ("2026-09", 4100), ("2026-10", 4200)]:
        MetricActual.objects.create(metric=metric, period=period, actual=actual)
    Metric.objects.create(stage=metric.stage, name="Cost per lead", direction="lower", target=80, actual=70, order=1)
    login(client, owner)
    doc = html(client.get(small_map.get_absolute_url()))
    blocks = doc.xpath('//*[@id="col-awareness"]//*[contains(@class, "kpi-block")]')
    assert [" ".join(b.xpath('.//*[contains(@class, "track")]')[0].text_content().split()) for b in blocks] == [
        "◆ off track",
        "● on track",
    ]
    spark = blocks[0].xpath(".//svg")[0]
    assert len(spark.xpath(".//circle")) == 3
    assert len(spark.xpath(".//polyline/@points")[0].split()) == 3
    assert "off-track" in spark.get("class")
    assert spark.get("aria-label") == "Visits by period: 2026-08 3900, 2026-09 4100, 2026-10 4200"
    assert not blocks[1].xpath(".//svg")  # no history, no sparkline
    assert not doc.xpath("//svg//*[@style]") and not doc.xpath("//svg[@style]")


def test_the_funnel_tab_shows_each_stages_conversion_trend_by_period(client, small_map, owner):
    awareness = Stage.objects.get(map=small_map, key="awareness")
    for period, entered, converted in [("2026-08", 900, 80), ("2026-09", 950, 120), ("2026-10", 1000, 200)]:
        FunnelFigure.objects.create(stage=awareness, period=period, entered=entered, converted=converted)
    login(client, owner)
    doc = html(client.get(reverse("funnel", args=["acme", "launch"])))
    trends = doc.xpath('//td[contains(@class, "trend")]')
    assert len(trends) == 2
    spark = trends[0].xpath(".//svg")[0]
    assert len(spark.xpath(".//circle")) == 3
    assert "on-track" in spark.get("class")  # 20 % against a target of 10 %
    assert spark.get("aria-label") == "Conversion of Awareness by period: 2026-08 8.89 %, 2026-09 12.6 %, 2026-10 20 %"
    assert not trends[1].xpath(".//svg")


def test_a_sparkline_draws_one_point_per_value_and_the_target_as_a_line():
    svg = str(monitoring.sparkline([1, 2], "label", "on-track", target=5))
    doc = html_of(svg)
    assert len(doc.xpath("//circle")) == 2
    assert len(doc.xpath("//line")) == 1
    assert monitoring.sparkline([], "nothing") == ""


def html_of(text: str):
    import lxml.html

    return lxml.html.fromstring(text)


# --- reviews ---------------------------------------------------------------------------------


def test_a_review_is_due_only_after_the_cadence_has_passed(small_map):
    today = datetime.date(2026, 12, 7)
    small_map.last_reviewed = today - 90 * DAY
    assert monitoring.review_due(small_map, today=today) is False  # exactly the cadence: not yet
    small_map.last_reviewed = today - 91 * DAY
    assert monitoring.review_due(small_map, today=today) is True
    small_map.review_every_days = 120
    assert monitoring.review_due(small_map, today=today) is False


def test_a_map_never_reviewed_is_due(small_map):
    assert small_map.last_reviewed is None
    assert monitoring.review_due(small_map, today=datetime.date(2026, 12, 7)) is True


def test_the_map_header_says_review_due_and_links_to_the_review_tab(client, small_map, viewer):
    login(client, viewer)
    badge = html(client.get(small_map.get_absolute_url())).xpath('//*[contains(@class, "review-due")]')
    assert [" ".join(b.text_content().split()) for b in badge] == ["⏰ Review due"]
    assert badge[0].get("href") == reverse("map_review", args=["acme", "launch"])
    JourneyMap.objects.filter(pk=small_map.pk).update(last_reviewed=timezone.localdate())
    assert not html(client.get(small_map.get_absolute_url())).xpath('//*[contains(@class, "review-due")]')


def test_mark_as_reviewed_is_a_revision_and_resets_the_review(client, small_map, editor):
    changes.record_creation(small_map, editor)
    login(client, editor)
    response = client.post(reverse("map_mark_reviewed", args=["acme", "launch"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("map_review", args=["acme", "launch"])
    small_map.refresh_from_db()
    assert small_map.last_reviewed == timezone.localdate()
    assert not monitoring.review_due(small_map)
    revision = Revision.objects.filter(map=small_map).latest("number")
    assert (revision.summary, revision.user) == ("marked the map as reviewed", editor)
    assert export_map(small_map)["map"]["last_reviewed"] == timezone.localdate().isoformat()


def test_a_viewer_cannot_mark_the_map_as_reviewed(client, small_map, viewer):
    login(client, viewer)
    before = snapshot()
    assert client.post(reverse("map_mark_reviewed", args=["acme", "launch"])).status_code == 403
    assert snapshot() == before
    page = html(client.get(reverse("map_review", args=["acme", "launch"])))
    assert not page.xpath('//form[contains(@action, "review/done")]')


def rename(small_map, stage_key: str, name: str, user) -> None:
    stage = Stage.objects.get(map=small_map, key=stage_key)
    summary = f"renamed {stage.name} to {name}"
    with changes.editing(small_map, user, summary, stage_key):
        stage.name = name
        stage.save()


def test_changes_since_the_last_review_lists_the_revisions_after_it_and_not_before(small_map, editor):
    changes.record_creation(small_map, editor)
    rename(small_map, "awareness", "Attract", editor)
    changes.mark_reviewed(small_map, editor, today=datetime.date(2026, 11, 1))
    rename(small_map, "decision", "Decide", editor)
    rename(small_map, "awareness", "Attention", editor)
    rename(small_map, "awareness", "Awareness", editor)

    since = monitoring.changes_since_review(small_map)
    assert [r.summary for r in since["revisions"]] == [
        "renamed Attention to Awareness",
        "renamed Attract to Attention",
        "renamed Decision to Decide",
    ]
    assert since["total"] == 3 and since["more"] == 0
    assert since["by_stage"] == [("Awareness", 2), ("Decide", 1)]


def test_changes_since_the_last_review_are_capped_with_how_many_more(small_map, editor):
    changes.mark_reviewed(small_map, editor, today=datetime.date(2026, 11, 1))
    for n in range(12):
        rename(small_map, "awareness", f"Awareness {n}", editor)
    since = monitoring.changes_since_review(small_map)
    assert len(since["revisions"]) == 10 and since["more"] == 2 and since["total"] == 12
    assert since["revisions"][0].summary == "renamed Awareness 10 to Awareness 11"


def test_the_review_tab_shows_the_changes_since_the_review_grouped_by_stage(client, small_map, editor):
    changes.mark_reviewed(small_map, editor, today=datetime.date(2026, 11, 1))
    rename(small_map, "awareness", "Attract", editor)
    login(client, editor)
    doc = html(client.get(reverse("map_review", args=["acme", "launch"])))
    assert [" ".join(li.text_content().split()) for li in doc.xpath('//ul[@class="review-stages"]/li')] == ["Attract 1"]
    assert "renamed Awareness to Attract" in doc.xpath('//ol[@class="review-changes"]')[0].text_content()
    assert doc.xpath('//form[contains(@action, "review/done")]//button')


def test_the_cadence_is_set_in_the_map_settings(client, small_map, editor):
    login(client, editor)
    url = reverse("map_settings", args=["acme", "launch"])
    data = {"name": small_map.name, "key": small_map.key, "language": "en", "review_every_days": "30"}
    client.post(url, data, **HX)
    small_map.refresh_from_db()
    assert small_map.review_every_days == 30
    assert export_map(small_map)["map"]["review_every_days"] == 30


# --- the journeymap/1 format -------------------------------------------------------------------


def monitored(small_map) -> JourneyMap:
    small_map.review_every_days = 30
    small_map.last_reviewed = datetime.date(2026, 11, 2)
    small_map.save()
    metric = kpi(small_map, direction="lower", target=80, actual=72.5, unit="€")
    MetricActual.objects.create(metric=metric, period="2026-Q3", actual=90)
    MetricActual.objects.create(metric=metric, period="2026-10", actual=72.5)
    return small_map


def test_monitoring_round_trips_through_the_export(small_map):
    first = dumps(export_map(monitored(small_map)))
    doc = json.loads(first)
    assert {k: doc["map"][k] for k in ("review_every_days", "last_reviewed")} == {
        "review_every_days": 30,
        "last_reviewed": "2026-11-02",
    }
    assert doc["stages"][0]["metrics"][0] == {
        "name": "Visits",
        "target": 80,
        "actual": 72.5,
        "unit": "€",
        "direction": "lower",
        "history": [{"period": "2026-Q3", "actual": 90}, {"period": "2026-10", "actual": 72.5}],
    }
    copy_map = import_map(parse(first), Workspace.objects.create(slug="copy", name="Copy"))
    assert dumps(export_map(copy_map)) == first


def test_a_map_that_uses_no_monitoring_exports_as_before(small_map):
    doc = export_map(small_map)
    assert list(doc["map"]) == ["key", "name", "description", "goal", "language"]
    assert list(doc["stages"][0]["metrics"][0]) == ["name", "target", "actual", "unit"]


def test_monitoring_round_trips_through_the_workspace_backup(small_map):
    monitored(small_map)
    text = dumps(backup.export_workspace(small_map.workspace))
    restored = backup.import_workspace(json.loads(text), slug="acme-copy")
    again = json.loads(dumps(backup.export_workspace(restored.workspace)))
    original = json.loads(text)
    assert again["maps"][0]["document"] == original["maps"][0]["document"]


def bad(small_map, change) -> str:
    doc = copy.deepcopy(export_map(monitored(small_map)))
    change(doc)
    with pytest.raises(InterchangeError) as err:
        validate(doc)
    return str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["stages"][0]["metrics"][0]["history"][1].update(period="2026-13"),
            "stages[0].metrics[0].history[1].period: "
            "must be a month as YYYY-MM or a quarter as YYYY-Qn (2026-10, 2026-Q3)",
        ),
        (
            lambda d: d["stages"][0]["metrics"][0]["history"][1].update(period="2026-Q3"),
            'stages[0].metrics[0].history[1].period: "2026-Q3" is already the period of stages[0].metrics[0].history[0]',
        ),
        (
            lambda d: d["stages"][0]["metrics"][0]["history"][0].update(actual=None),
            "stages[0].metrics[0].history[0].actual: must be a number",
        ),
        (
            lambda d: d["stages"][0]["metrics"][0].update(actual=90),
            "stages[0].metrics[0].actual: must be the latest period's (2026-10: 72.5) or be left out",
        ),
        (
            lambda d: d["stages"][0]["metrics"][0].update(direction="up"),
            "stages[0].metrics[0].direction: must be one of higher, lower",
        ),
        (
            lambda d: d["map"].update(review_every_days=0),
            "map.review_every_days: must be a whole number from 1 to 3650",
        ),
        (
            lambda d: d["map"].update(last_reviewed="2026-02-30"),
            "map.last_reviewed: must be a date as YYYY-MM-DD, or null",
        ),
    ],
)
def test_import_refuses_bad_monitoring_naming_the_place(small_map, change, message):
    assert bad(small_map, change) == message


def test_an_imported_kpi_shows_its_latest_periods_actual(small_map):
    doc = export_map(monitored(small_map))
    del doc["stages"][0]["metrics"][0]["actual"]
    copy_map = import_map(doc, Workspace.objects.create(slug="copy", name="Copy"))
    assert Metric.objects.get(stage__map=copy_map).actual == 72.5


def test_the_review_state_reads_in_days_since_the_review(small_map):
    today = datetime.date(2026, 12, 7)
    assert monitoring.review_word(small_map, today=today) == "Never reviewed"
    small_map.last_reviewed = today
    assert monitoring.review_word(small_map, today=today) == "Reviewed today"
    small_map.last_reviewed = today - DAY
    assert monitoring.review_word(small_map, today=today) == "Reviewed 1 day ago"
    small_map.last_reviewed = today - 91 * DAY
    assert monitoring.review_word(small_map, today=today) == "Reviewed 91 days ago"
    assert monitoring.next_review(small_map) == today - DAY


def test_kpi_status_and_qualification_of_a_loaded_map_ask_the_database_nothing(small_map, django_assert_num_queries):
    metric = kpi(small_map)
    MetricActual.objects.create(metric=metric, period="2026-10", actual=4200)
    loaded = JourneyMap.objects.loaded().get(pk=small_map.pk)
    with django_assert_num_queries(0):
        monitoring.kpi_status(loaded)
        monitoring.qualification(loaded)


def test_an_actual_changed_in_the_admin_is_the_latest_periods(admin_client, small_map):
    metric = kpi(small_map)
    MetricActual.objects.create(metric=metric, period="2026-09", actual=4000)
    MetricActual.objects.create(metric=metric, period="2026-10", actual=4200)
    url = reverse("admin:maps_metric_change", args=[metric.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data.update({"actual": "4400", "history-TOTAL_FORMS": "0", "history-INITIAL_FORMS": "0"})
    assert admin_client.post(url, data).status_code == 302
    assert dict(MetricActual.objects.filter(metric=metric).values_list("period", "actual")) == {
        "2026-09": 4000,
        "2026-10": 4400,
    }
    assert export_map(small_map)["stages"][0]["metrics"][0]["actual"] == 4400


def test_clearing_the_actual_of_a_kpi_with_history_shows_the_latest_periods_again(client, small_map, editor):
    login(client, editor)
    metric = kpi(small_map)
    post_kpi(client, small_map, metric, period="2026-10", actual="4300")
    post_kpi(client, small_map, metric, actual="")
    metric.refresh_from_db()
    assert metric.actual == 4300
