"""The deck (PPTX) and its handout (PDF) tell the whole story of a map: every KPI, funnel
figure, pain point, opportunity and gap is on a slide or in its notes; long lists go on
over continuation slides; a wide diagram is split; any text survives."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from maps import comments, exports
from maps.gaps import find_gaps
from maps.models import FunnelFigure, JourneyMap, Metric, Stage, SwotItem, Touchpoint
from maps.outline import number

from .decks import deck_text, notes_text, open_pptx, pdf_text, slide_text, squeezed, titles

pytestmark = pytest.mark.django_db


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


@pytest.fixture
def demo() -> JourneyMap:
    call_command("seed_demo", verbosity=0)
    journey_map = JourneyMap.objects.get(workspace__slug="demo", key="acme-b2b")
    stage = journey_map.stages.order_by("order")[1]
    # Two periods of figures: the deck shows both, the latest first.
    FunnelFigure.objects.create(stage=stage, period="2026-Q2", entered=4100, converted=230)
    FunnelFigure.objects.create(stage=stage, period="2026-Q3", entered=stage.entered, converted=stage.converted)
    return loaded(journey_map)


def expected_texts(journey_map: JourneyMap) -> list[str]:
    """What the map holds that a reader must find: read from the database."""
    texts = []
    for metric in Metric.objects.filter(stage__map=journey_map):
        texts += [metric.name, number(metric.target), number(metric.actual)]
    for figure in FunnelFigure.objects.filter(stage__map=journey_map):
        texts += [figure.period, number(figure.entered), number(figure.converted)]
    for stage in Stage.objects.filter(map=journey_map).exclude(entered=None):
        texts += [number(stage.entered), number(stage.converted)]
    for tp in Touchpoint.objects.filter(map=journey_map):
        texts += [text for text in (tp.pain_point, tp.opportunity) if text]
    texts += [gap.message for gap in find_gaps(journey_map)]
    return texts


def test_the_demo_deck_holds_every_kpi_figure_pain_point_opportunity_and_gap(demo):
    text = deck_text(open_pptx(exports.export_pptx(demo)))
    expected = expected_texts(demo)
    assert len(expected) > 40
    missing = [item for item in expected if item not in text]
    assert not missing


def test_the_handout_holds_the_same_texts_as_the_deck(demo):
    text = squeezed(pdf_text(exports.export_handout(demo)))
    missing = [item for item in expected_texts(demo) if squeezed(item) not in text]
    assert not missing


def test_the_title_slide_gives_the_goal_the_date_and_a_verdict(demo):
    deck = open_pptx(exports.export_pptx(demo))
    title = slide_text(deck.slides[0])
    assert demo.goal[:40] in title
    errors = sum(gap.severity == "error" for gap in find_gaps(demo))
    assert f"Gaps: {errors} errors" in title and "worst stage: " in title
    assert "Review due · Never reviewed" in title  # the demo map was never reviewed


def test_stage_slides_show_kpis_as_native_tables_and_keep_details_in_the_notes(demo):
    deck = open_pptx(exports.export_pptx(demo))
    tables = [shape for slide in deck.slides for shape in slide.shapes if shape.has_table]
    assert tables, "KPIs, touchpoints and matrices are PowerPoint tables, not pictures"
    described = Touchpoint.objects.filter(map=demo).exclude(description="").first()
    assert any(described.description in notes_text(slide) for slide in deck.slides)
    assert {"Content coverage", "Accountability", "Funnel", "What to fix first on the funnel"} <= set(titles(deck))


def test_a_stage_with_twenty_touchpoints_goes_on_over_continuation_slides(small_map):
    awareness = Stage.objects.get(key="awareness")
    Touchpoint.objects.bulk_create(
        Touchpoint(
            map=small_map,
            stage=awareness,
            key=f"extra-{n}",
            name=f"Extra touchpoint {n}",
            pain_point="Slow answers " * 6,
            order=10 + n,
        )
        for n in range(20)
    )
    deck = open_pptx(exports.export_pptx(loaded(small_map)))
    awareness_slides = [slide for slide, title in zip(deck.slides, titles(deck), strict=True) if "Awareness" in title]
    assert len(awareness_slides) >= 3
    assert "1 · Awareness: touchpoints (continued)" in titles(deck)
    text = "\n".join(slide_text(slide) for slide in awareness_slides)
    assert all(f"Extra touchpoint {n}" in text.splitlines() for n in range(20))
    assert "more" not in deck_text(deck).replace("more impressions", "")  # no "+ 17 more"


def test_a_wide_diagram_is_split_by_stages_with_the_whole_map_last(small_map):
    for n in range(10):
        Stage.objects.create(map=small_map, key=f"extra-{n}", name=f"Extra stage {n}", order=10 + n)
    deck = open_pptx(exports.export_pptx(loaded(small_map)))
    names = titles(deck)
    parts = [name for name in names if name.startswith("Diagram: stages")]
    assert len(parts) >= 2 and parts[0].startswith("Diagram: stages 1–")
    assert names[names.index(parts[-1]) + 1] == "Diagram: the whole map"


def test_the_japanese_demo_map_gives_a_japanese_deck_and_handout():
    call_command("seed_demo", verbosity=0)
    journey_map = loaded(JourneyMap.objects.get(workspace__slug="demo-ja"))
    with translation.override("ja"):
        deck = open_pptx(exports.export_pptx(journey_map))
        handout = squeezed(pdf_text(exports.export_handout(journey_map)))
        messages = [gap.message for gap in find_gaps(journey_map)]
    stage = journey_map.stages.all()[0]
    text = deck_text(deck)
    assert f"1 · {stage.name}" in text and "タッチポイント" in text and "ゴール" in text
    assert squeezed(stage.name) in handout and "タッチポイント" in handout
    assert messages and all(squeezed(message) in handout for message in messages)


def test_hostile_text_still_gives_a_deck_and_a_handout(small_map):
    # NUL only where the database can hold it: PostgreSQL refuses it in text.
    nul = "\x00" if connection.vendor == "sqlite" else ""
    hostile = f"bad{nul}\x01\x0b\x1f\ufffe\uffff 😀 " + "long" * 2500
    word = "x" * 10_000
    Stage.objects.filter(key="awareness").update(name="\x07Awareness\ufffe", goal=hostile, handoff_sla=word)
    channel, name = (model._meta.get_field(f).max_length for model, f in ((Touchpoint, "channel"), (Metric, "name")))
    Touchpoint.objects.filter(stage__key="awareness").update(
        description=hostile, pain_point=word, channel=hostile[:channel]
    )
    Metric.objects.create(stage=Stage.objects.get(key="awareness"), name=hostile[:name], target=1e15, actual=-0.5)
    journey_map = loaded(small_map)
    deck = open_pptx(exports.export_pptx(journey_map))
    assert "\ufffdAwareness\ufffd" in deck_text(deck)
    assert word in deck_text(deck)  # the notes keep the whole text
    handout = pdf_text(exports.export_handout(journey_map))
    assert "Awareness" in handout and "Decision" in handout


def test_open_comments_are_counted_on_the_stage_slide_and_told_in_full_in_its_notes(small_map, owner):
    body = "Ask sales why the demo runs long. " * 20
    comments.post(small_map, comments.target_from({"target": "stage", "stage": "awareness"}, small_map), body, owner)
    deck = open_pptx(exports.export_pptx(loaded(small_map)))
    (slide,) = [slide for slide, title in zip(deck.slides, titles(deck), strict=True) if title == "1 · Awareness"]
    assert "1 open comment" in slide_text(slide).splitlines()
    assert body.strip() in notes_text(slide)


def test_a_map_without_stages_still_gives_a_deck_and_a_handout(workspace):
    journey_map = loaded(JourneyMap.objects.create(workspace=workspace, key="empty", name="Empty"))
    deck = open_pptx(exports.export_pptx(journey_map))
    assert titles(deck)[0].startswith("Empty\n") and "Content coverage" in titles(deck)
    assert "Empty" in pdf_text(exports.export_handout(journey_map))


def _decided(journey_map: JourneyMap) -> dict:
    """The demo map after a workshop: an answered question, SWOT items, ranked actions, a
    KPI that counts lower as better with its actuals by period, a lead definition."""
    from maps.models import Action, MetricActual, QualificationCriterion, StageAnswer, SwotItem

    stage = journey_map.stages.get(key="capture")
    answer = StageAnswer.objects.create(
        stage=stage, question=stage.questions[0], answer="One in eight, from the benchmark", by="demo"
    )
    weakness = SwotItem.objects.create(map=journey_map, key="w-pricing", kind="W", text="No pricing page", stage=stage)
    threat = SwotItem.objects.create(map=journey_map, key="t-rival", kind="T", text="A rival gives it away")
    first = Action.objects.create(map=journey_map, key="a1", title="Cut the form to three fields", impact=5, effort=1)
    second = Action.objects.create(
        map=journey_map, key="a2", title="Publish a pricing page", impact=2, effort=4, source="swot:w-pricing"
    )
    metric = stage.metrics.create(name="Cost per lead", target=80, actual=95, unit="EUR", direction="lower")
    for period, actual in (("2026-08", 120), ("2026-09", 101), ("2026-10", 95)):
        MetricActual.objects.create(metric=metric, period=period, actual=actual)
    criterion = QualificationCriterion.objects.create(
        stage=stage, kind="behaviour", description="Student e-mail address", points=-30
    )
    return {
        "answer": answer.answer,
        "swot": [weakness.text, threat.text],
        "actions": [first.title, second.title],
        "kpi": metric.name,
        "criterion": criterion.description,
    }


def test_the_deck_carries_the_decisions_answers_swot_ranked_actions_kpi_tracks_and_lead_definition(demo):
    said = _decided(demo)
    deck = open_pptx(exports.export_pptx(loaded(demo)))
    text = deck_text(deck)
    assert said["answer"] in text and said["criterion"] in text and "-30" in text
    assert all(item in text for item in said["swot"])
    # The ranked actions: the quick win first, in one table with its formula.
    (ranked,) = [slide for slide, title in zip(deck.slides, titles(deck), strict=True) if title == "What to fix first"]
    shown = slide_text(ranked)
    assert "Score = impact" in shown
    assert shown.index(said["actions"][0]) < shown.index(said["actions"][1])
    # Cost per lead counts lower as better: 95 against 80 is off track; its periods are told.
    (row,) = [
        [cell.text for cell in r.cells]
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_table
        for r in shape.table.rows
        if r.cells[0].text == said["kpi"]
    ]
    assert row[1] == "↓ 80" and row[-1].endswith("off track") and len(row[-2]) == 3
    assert "Cost per lead by period: 2026-08: 120, 2026-09: 101, 2026-10: 95" in text
    handout = squeezed(pdf_text(exports.export_handout(loaded(demo))))
    assert all(squeezed(item) in handout for item in [said["answer"], *said["swot"], *said["actions"]])


def test_the_japanese_deck_names_the_swot_and_the_actions_in_japanese():
    call_command("seed_demo", verbosity=0)
    journey_map = JourneyMap.objects.get(workspace__slug="demo-ja")
    with translation.override("ja"):
        deck = open_pptx(exports.export_pptx(loaded(journey_map)))
        wanted = [translation.gettext("What to fix first"), translation.gettext("SWOT")]
        strengths = str(dict(SwotItem.KIND_CHOICES)["S"])
    assert wanted[0] != "What to fix first" and set(wanted) <= set(titles(deck))
    assert strengths in deck_text(deck)
