"""Lead qualification in the hand-off (seed 001): a stage's MQL/SQL criteria, threshold
and the agreement of both departments, edited in the stage editor, shown in the
accountability matrix, in journeymap/1 and available as plain data for the deck."""

from __future__ import annotations

import copy
import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from maps import backup, changes, monitoring
from maps.forms import StageForm
from maps.interchange import InterchangeError, dumps, export_map, import_map, parse, validate
from maps.models import JourneyMap, QualificationCriterion, Revision, Stage, Workspace

from .web import HX, current_form_data, field_errors, html, login, snapshot

CRITERIA = [
    ("fit", "Company of 200 to 2,000 people", 20),
    ("behaviour", "Visited the pricing page twice", 15),
    ("behaviour", "Student e-mail address", -30),
]


def qualified(small_map, agreed: bool = True) -> JourneyMap:
    awareness = Stage.objects.get(map=small_map, key="awareness")
    for order, (kind, description, points) in enumerate(CRITERIA):
        QualificationCriterion.objects.create(
            stage=awareness, kind=kind, description=description, points=points, order=order
        )
    awareness.qualification_threshold = 30
    if agreed:
        awareness.agreed_by_lead = datetime.date(2026, 11, 3)
    awareness.save()
    return small_map


def stage_form_data(small_map, **changed) -> dict:
    stage = Stage.objects.get(map=small_map, key="awareness")
    return {**current_form_data(StageForm(instance=stage, journey_map=small_map)), **changed}


def stage_url() -> str:
    return reverse("stage_edit", args=["acme", "launch", "awareness"])


def test_qualification_gives_the_deck_plain_data(small_map):
    rows = monitoring.qualification(JourneyMap.objects.stages_only().get(pk=qualified(small_map).pk))
    assert rows == [
        {
            "stage": "awareness",
            "stage_name": "Awareness",
            "next": "decision",
            "next_name": "Decision",
            "threshold": 30,
            "criteria": [
                {"kind": kind, "kind_label": kind, "description": description, "points": points}
                for kind, description, points in CRITERIA
            ],
            "agreed": {
                "lead": {"department": "Marketing", "on": datetime.date(2026, 11, 3)},
                "next": {"department": "Sales", "on": None},
            },
            "agreed_by_both": False,
        }
    ]


def test_a_stage_without_criteria_or_threshold_has_no_qualification(small_map):
    assert monitoring.qualification(small_map) == []


# --- the journeymap/1 format -------------------------------------------------------------------


def test_qualification_criteria_round_trip_through_the_export(small_map):
    first = dumps(export_map(qualified(small_map)))
    doc = json.loads(first)
    assert doc["stages"][0]["qualification"] == {
        "threshold": 30,
        "criteria": [{"kind": k, "description": d, "points": p} for k, d, p in CRITERIA],
        "agreed": {"lead": "2026-11-03", "next": None},
    }
    assert "qualification" not in doc["stages"][1]
    copy_map = import_map(parse(first), Workspace.objects.create(slug="copy", name="Copy"))
    assert dumps(export_map(copy_map)) == first


def test_qualification_round_trips_through_the_workspace_backup(small_map):
    qualified(small_map)
    text = dumps(backup.export_workspace(small_map.workspace))
    restored = backup.import_workspace(json.loads(text), slug="acme-copy")
    again = json.loads(dumps(backup.export_workspace(restored.workspace)))
    assert again["maps"][0]["document"] == json.loads(text)["maps"][0]["document"]


def refused(small_map, change) -> str:
    doc = copy.deepcopy(export_map(qualified(small_map)))
    change(doc["stages"][0]["qualification"])
    with pytest.raises(InterchangeError) as err:
        validate(doc)
    return str(err.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda q: q.update(threshold=2.5),
            "stages[0].qualification.threshold: must be a whole number from -100000 to 100000",
        ),
        (
            lambda q: q.update(threshold="30"),
            "stages[0].qualification.threshold: must be a whole number from -100000 to 100000",
        ),
        (
            lambda q: q["criteria"][1].update(points=1.5),
            "stages[0].qualification.criteria[1].points: must be a whole number from -1000 to 1000",
        ),
        (
            lambda q: q["criteria"][1].update(points=None),
            "stages[0].qualification.criteria[1].points: must be a whole number from -1000 to 1000",
        ),
        (
            lambda q: q["criteria"][0].update(kind="budget"),
            "stages[0].qualification.criteria[0].kind: must be one of fit, behaviour",
        ),
        (
            lambda q: q["criteria"][2].update(description=" "),
            "stages[0].qualification.criteria[2].description: must not be empty",
        ),
        (lambda q: q["criteria"][2].pop("points"), "stages[0].qualification.criteria[2].points: is missing"),
        (lambda q: q["agreed"].update(sales="2026-11-03"), "stages[0].qualification.agreed.sales: unknown field"),
        (
            lambda q: q["agreed"].update(next="yesterday"),
            "stages[0].qualification.agreed.next: must be a date as YYYY-MM-DD, or null",
        ),
        (lambda q: q.update(score=1), "stages[0].qualification.score: unknown field"),
    ],
)
def test_import_refuses_a_bad_qualification_naming_the_place(small_map, change, message):
    assert refused(small_map, change) == message


def test_negative_points_import(small_map):
    doc = export_map(qualified(small_map))
    copy_map = import_map(doc, Workspace.objects.create(slug="copy", name="Copy"))
    assert QualificationCriterion.objects.get(stage__map=copy_map, points__lt=0).points == -30


# --- in the stage editor -------------------------------------------------------------------------


def test_an_editor_adds_a_criterion_with_negative_points_as_a_revision(client, small_map, editor):
    changes.record_creation(small_map, editor)
    login(client, editor)
    url = reverse("criterion_create", args=["acme", "launch", "awareness"])
    data = {"criterion-kind": "behaviour", "criterion-points": "-25", "criterion-description": "Competitor domain"}
    response = client.post(url, data, **HX)
    assert response.status_code == 200
    criterion = QualificationCriterion.objects.get()
    assert (criterion.kind, criterion.points, criterion.description) == ("behaviour", -25, "Competitor domain")
    revision = Revision.objects.filter(map=small_map).latest("number")
    assert revision.summary == "added the qualification criterion ‘Competitor domain’ to ‘Awareness’"
    assert revision.stage == "awareness"


def test_an_editor_removes_a_criterion(client, small_map, editor):
    qualified(small_map)
    login(client, editor)
    criterion = QualificationCriterion.objects.get(points=15)
    response = client.post(reverse("criterion_delete", args=["acme", "launch", criterion.pk]), **HX)
    assert response.status_code == 200
    assert list(QualificationCriterion.objects.values_list("points", "order")) == [(20, 0), (-30, 1)]


def test_points_must_be_a_whole_number(client, small_map, editor):
    login(client, editor)
    before = snapshot()
    url = reverse("criterion_create", args=["acme", "launch", "awareness"])
    data = {"criterion-kind": "fit", "criterion-points": "2.5", "criterion-description": "Industry"}
    response = client.post(url, data, **HX)
    assert field_errors(response, "criterion-points") == ["Enter a whole number."]
    assert snapshot() == before


def test_the_threshold_must_be_a_whole_number(client, small_map, editor):
    login(client, editor)
    before = snapshot()
    response = client.post(stage_url(), stage_form_data(small_map, qualification_threshold="12.5"), **HX)
    assert field_errors(response, "qualification_threshold") == ["Enter a whole number."]
    assert snapshot() == before


def test_the_stage_editor_sets_the_threshold_and_each_sides_agreement(client, small_map, editor):
    login(client, editor)
    editor_page = html(client.get(stage_url(), **HX))
    labels = [" ".join(label.text_content().split()) for label in editor_page.xpath("//label")]
    assert "Qualification agreed by Marketing" in labels
    assert "Qualification agreed by Sales" in labels
    client.post(stage_url(), stage_form_data(small_map, qualification_threshold="40", agreed_next="on"), **HX)
    stage = Stage.objects.get(map=small_map, key="awareness")
    assert (stage.qualification_threshold, stage.agreed_by_lead, stage.agreed_by_next) == (
        40,
        None,
        timezone.localdate(),
    )
    # Saving again keeps the day it was agreed; unticking clears it.
    Stage.objects.filter(pk=stage.pk).update(agreed_by_next=datetime.date(2026, 10, 1))
    client.post(stage_url(), stage_form_data(small_map), **HX)
    assert Stage.objects.get(pk=stage.pk).agreed_by_next == datetime.date(2026, 10, 1)
    client.post(stage_url(), stage_form_data(small_map, agreed_next=""), **HX)
    assert Stage.objects.get(pk=stage.pk).agreed_by_next is None


def test_a_viewer_cannot_add_or_remove_criteria_or_change_the_agreement(client, small_map, viewer):
    qualified(small_map)
    login(client, viewer)
    before = snapshot()
    add = reverse("criterion_create", args=["acme", "launch", "awareness"])
    data = {"criterion-kind": "fit", "criterion-points": "5", "criterion-description": "Industry"}
    assert client.post(add, data, **HX).status_code == 403
    criterion = QualificationCriterion.objects.first()
    assert client.post(reverse("criterion_delete", args=["acme", "launch", criterion.pk]), **HX).status_code == 403
    assert client.post(stage_url(), stage_form_data(small_map, agreed_next="on"), **HX).status_code == 403
    assert snapshot() == before


# --- in the accountability matrix ------------------------------------------------------------------


def test_the_accountability_matrix_shows_the_criteria_threshold_and_agreement(client, small_map, viewer):
    qualified(small_map)
    login(client, viewer)
    doc = html(client.get(reverse("accountability", args=["acme", "launch"])))
    box = doc.xpath('//*[contains(@class, "qualification")]')
    assert len(box) == 1
    rows = [" ".join(td.text_content().strip() for td in tr.xpath("td")) for tr in box[0].xpath(".//tr")]
    assert rows == [
        "fit Company of 200 to 2,000 people +20",
        "behaviour Visited the pricing page twice +15",
        "behaviour Student e-mail address -30",
    ]
    assert "hand on at 30 points" in box[0].text_content()
    agreed = [" ".join(li.text_content().split()) for li in box[0].xpath(".//li")]
    assert agreed[0].startswith("✓ Agreed by Marketing on")
    assert agreed[1] == "○ Not yet agreed by Sales"
