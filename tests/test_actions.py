"""Priorities (maps.actions and its views): pain points, opportunities and gap rows made
into actions, the ranking by its formula and the workshop's votes, the Actions tab, the
CSV of the ranking, and actions in the journeymap/1 document."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone, translation

from maps import actions, changes, history, interchange, tables, trash
from maps.gaps import find_gaps
from maps.interchange import InterchangeError
from maps.models import (
    Action,
    Department,
    JourneyMap,
    Revision,
    SwotItem,
    Touchpoint,
    TrashItem,
    UserSettings,
    VoteDot,
    VoteItem,
    VoteSession,
    Workspace,
)

from .web import HX, client_events, field_errors, html, login, snapshot

pytestmark = pytest.mark.django_db


def loaded(journey_map: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=journey_map.pk)


def url(name: str, journey_map: JourneyMap, *args) -> str:
    return reverse(name, args=[journey_map.workspace.slug, journey_map.key, *args])


@pytest.fixture
def painful_map(small_map) -> JourneyMap:
    Touchpoint.objects.filter(map=small_map, key="demo").update(pain_point="Too  long", opportunity="Shorter demo")
    changes.record_creation(small_map)
    return small_map


def form_data(journey_map: JourneyMap, **values) -> dict:
    """What the new-action form posts, as a person fills it in."""
    data = {
        "title": "Cut the demo to 20 minutes",
        "impact": "4",
        "effort": "2",
        "owner": str(Department.objects.get(workspace=journey_map.workspace, key="sales").pk),
        "due": "2027-01-31",
        "status": Action.OPEN,
        "stage": str(journey_map.stages.get(key="decision").pk),
        "source": "",
    }
    data.update(values)
    return data


def prefilled(response) -> dict:
    """The values the form shows before the person types anything."""
    doc = html(response)
    return {
        "title": doc.xpath('//input[@name="title"]/@value'),
        "stage": doc.xpath('//select[@name="stage"]/option[@selected]/text()'),
        "owner": doc.xpath('//select[@name="owner"]/option[@selected]/text()'),
        "source": doc.xpath('//input[@name="source"]/@value'),
    }


# --- made from a pain point, an opportunity, a gap row ---------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"), [("pain", "Too long"), ("opportunity", "Shorter demo")], ids=["pain point", "opportunity"]
)
def test_an_editor_turns_a_touchpoints_pain_point_or_opportunity_into_an_action(
    client, editor, painful_map, kind, text
):
    login(client, editor)
    source = f"{kind}:demo"
    shown = client.get(url("action_create", painful_map) + f"?source={source}", **HX)
    assert shown.status_code == 200
    assert prefilled(shown) == {"title": [text], "stage": ["Decision"], "owner": ["Sales"], "source": [source]}
    assert "Live demo" in " ".join(html(shown).xpath('//p[contains(@class, "action-intro")]//text()'))
    revisions = Revision.objects.filter(map=painful_map).count()

    response = client.post(url("action_create", painful_map), form_data(painful_map, title=text, source=source), **HX)

    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    action = Action.objects.get(map=painful_map)
    assert (action.title, action.source, action.stage.key, action.owner.key) == (text, source, "decision", "sales")
    assert Revision.objects.filter(map=painful_map).count() == revisions + 1
    assert str(Revision.objects.filter(map=painful_map).latest("number").summary) == f"added the action ‘{text}’"


def test_an_editor_turns_a_gap_row_into_an_action_named_by_the_votes_key_of_the_row(client, editor, painful_map):
    gap = find_gaps(loaded(painful_map))[-1]
    login(client, editor)
    source = f"gap:{gap.id}"
    shown = client.get(url("action_create", painful_map), {"source": source}, **HX)
    stage = painful_map.stages.get(key=gap.stage)
    assert prefilled(shown) == {
        "title": [gap.message],
        "stage": [stage.name],
        "owner": [stage.lead.name],  # the lead of the gap's stage
        "source": [source],
    }

    response = client.post(url("action_create", painful_map), form_data(painful_map, title=gap.message, source=source))

    assert response.status_code == 302
    assert response["Location"] == url("map_actions", painful_map)
    assert Action.objects.get(map=painful_map).source == source
    assert (
        Revision.objects.filter(map=painful_map).latest("number").summary_said.msgid == "added the action ‘%(action)s’"
    )


def test_an_editor_turns_a_swot_item_into_an_action_that_the_ranking_names_by_its_text(client, editor, painful_map):
    stage = painful_map.stages.get(key="decision")
    SwotItem.objects.create(map=painful_map, key="weakness-no-pricing", kind="W", text="No pricing page", stage=stage)
    login(client, editor)
    source = "swot:weakness-no-pricing"
    shown = client.get(url("action_create", painful_map), {"source": source}, **HX)
    assert prefilled(shown) == {
        "title": ["No pricing page"],
        "stage": ["Decision"],
        "owner": [stage.lead.name],
        "source": [source],
    }

    client.post(url("action_create", painful_map), form_data(painful_map, title="Publish prices", source=source))

    (row,) = actions.ranked(painful_map)
    assert row.action.source == source
    assert "No pricing page" in row.source_label


def test_the_swot_page_offers_an_action_for_every_item_to_editors_only(client, editor, viewer, painful_map):
    SwotItem.objects.create(map=painful_map, key="threat-rival", kind="T", text="A rival halves its price")
    for user, offered in ((editor, True), (viewer, False)):
        client.force_login(user)
        page = html(client.get(url("map_swot", painful_map)))
        links = page.xpath('//section[@id="swot"]//a[contains(@class, "action-button")]/@href')
        expected = [
            url("action_create", painful_map) + f"?source={s}"
            for s in ("swot%3Athreat-rival", "pain%3Ademo", "opportunity%3Ademo")
        ]
        assert sorted(links) == (sorted(expected) if offered else [])


def test_the_touchpoint_editor_and_the_gap_list_offer_to_make_an_action_to_editors_only(
    client, editor, viewer, painful_map
):
    for user, offered in ((editor, True), (viewer, False)):
        client.force_login(user)
        drawer = html(client.get(url("touchpoint_edit", painful_map, "demo"), **HX))
        links = drawer.xpath('//a[@id="action-from-pain" or @id="action-from-opportunity"]/@href')
        assert bool(links) is offered
        gaps = html(client.get(url("map_gaps", painful_map), **HX))
        assert bool(gaps.xpath('//a[contains(@class, "action-button")]')) is offered
    client.force_login(editor)
    drawer = html(client.get(url("touchpoint_edit", painful_map, "demo"), **HX))
    assert drawer.xpath('//a[@id="action-from-pain"]/@href') == [
        url("action_create", painful_map) + "?source=pain:demo"
    ]


def test_a_viewer_can_make_no_action_and_nothing_is_written(client, viewer, painful_map):
    login(client, viewer)
    before = snapshot()
    assert client.get(url("action_create", painful_map) + "?source=pain:demo", **HX).status_code == 403
    assert client.post(url("action_create", painful_map), form_data(painful_map), **HX).status_code == 403
    assert snapshot() == before


def test_a_viewer_reads_the_ranking_without_any_control_to_change_it(client, viewer, painful_map):
    Action.objects.create(map=painful_map, key="a", title="Shorter demo", impact=4, effort=2)
    login(client, viewer)
    page = html(client.get(url("map_actions", painful_map)))
    assert page.xpath('//li[@id="action-a"]//a[@class="action-title"]')
    assert not page.xpath('//*[@id="actions"]//form')
    assert not page.xpath('//a[@id="new-action"]')
    before = snapshot()
    assert client.post(url("action_status", painful_map, "a"), {"status": "done"}, **HX).status_code == 403
    assert client.post(url("action_delete", painful_map, "a"), **HX).status_code == 403
    assert client.post(url("action_edit", painful_map, "a"), form_data(painful_map), **HX).status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize("value", ["0", "6"])
def test_an_impact_or_effort_outside_one_to_five_is_refused_with_a_message(client, editor, painful_map, value):
    login(client, editor)
    before = snapshot()
    for name in ("impact", "effort"):
        response = client.post(url("action_create", painful_map), form_data(painful_map, **{name: value}), **HX)
        assert response.status_code == 422
        assert field_errors(response, name) in (
            ["Ensure this value is greater than or equal to 1."],
            ["Ensure this value is less than or equal to 5."],
        )
    assert snapshot() == before


def test_a_source_that_is_not_kind_and_key_is_refused(client, editor, painful_map):
    login(client, editor)
    response = client.post(url("action_create", painful_map), form_data(painful_map, source="rumour:x"), **HX)
    assert response.status_code == 422
    assert not Action.objects.exists()


# --- status, edit, delete, undo ----------------------------------------------------------------


def test_an_editor_changes_an_actions_status_and_undo_takes_it_back(client, editor, painful_map):
    login(client, editor)
    client.post(url("action_create", painful_map), form_data(painful_map), **HX)
    action = Action.objects.get(map=painful_map)

    response = client.post(url("action_status", painful_map, action.key), {"status": Action.DONE}, **HX)

    assert response.status_code == 200 and "map-changed" in client_events(response)
    action.refresh_from_db()
    assert action.status == Action.DONE
    latest = Revision.objects.filter(map=painful_map).latest("number")
    assert str(latest.summary) == f"marked the action ‘{action.title}’ done"
    history.undo(painful_map, editor)
    action = Action.objects.get(map=painful_map, key=action.key)
    assert action.status == Action.OPEN


def test_a_deleted_action_comes_back_with_undo(client, editor, painful_map):
    login(client, editor)
    client.post(url("action_create", painful_map), form_data(painful_map, source="pain:demo"), **HX)
    key = Action.objects.get(map=painful_map).key

    response = client.post(url("action_delete", painful_map, key))

    assert response.status_code == 302 and response["Location"] == url("map_actions", painful_map)
    assert not Action.objects.filter(map=painful_map).exists()
    client.post(url("map_undo", painful_map), **HX)
    back = Action.objects.get(map=painful_map)
    assert (back.key, back.source, back.owner.key, back.due) == (key, "pain:demo", "sales", datetime.date(2027, 1, 31))


def test_an_unknown_status_is_refused_and_nothing_changes(client, editor, painful_map):
    Action.objects.create(map=painful_map, key="a", title="A")
    login(client, editor)
    before = snapshot()
    response = client.post(url("action_status", painful_map, "a"), {"status": "someday"}, **HX)
    assert response.status_code == 400
    assert snapshot() == before


# --- the ranking -------------------------------------------------------------------------------


def expected_score(impact: int, effort: int, weight: int = 1, votes: int = 0) -> float:
    """The formula the Actions tab states, written out again here on purpose."""
    return impact * (6 - effort) * weight * (1 + votes / 10)


def close_a_vote(journey_map: JourneyMap, user, dots: dict[str, int], closed: bool = True) -> None:
    session = VoteSession.objects.create(
        map=journey_map, title="Fix first?", created_by=user, closed=timezone.now() if closed else None
    )
    for order, (key, n) in enumerate(dots.items()):
        item = VoteItem.objects.create(session=session, kind=key.partition(":")[0], key=key, label=key, order=order)
        VoteDot.objects.bulk_create(VoteDot(item=item, user=user) for _ in range(n))


@pytest.fixture
def ranked_map(painful_map) -> JourneyMap:
    """Five actions whose scores differ in impact, effort and the severity of their gap."""
    gap = next(g for g in find_gaps(loaded(painful_map)) if g.severity == "error")
    made = [
        ("big", 5, 5, ""),  # 5 x 1 = 5
        ("small", 2, 1, ""),  # 2 x 5 = 10
        ("gap", 3, 3, f"gap:{gap.id}"),  # 3 x 3 x 3 (an error) = 27
        ("solid", 4, 2, ""),  # 4 x 4 = 16
        ("pain", 3, 2, "pain:demo"),  # 3 x 4 = 12
    ]
    for order, (key, impact, effort, source) in enumerate(made):
        Action.objects.create(
            map=painful_map, key=key, title=key, impact=impact, effort=effort, source=source, order=order
        )
    painful_map.error_gap = gap
    return painful_map


def test_actions_rank_by_impact_effort_and_the_severity_of_their_gap(ranked_map):
    scores = {
        "big": expected_score(5, 5),
        "small": expected_score(2, 1),
        "gap": expected_score(3, 3, weight=3),
        "solid": expected_score(4, 2),
        "pain": expected_score(3, 2),
    }
    rows = actions.ranked(ranked_map)
    assert [row.action.key for row in rows] == sorted(scores, key=lambda key: -scores[key])
    assert {row.action.key: row.score for row in rows} == scores
    assert [row.rank for row in rows] == [1, 2, 3, 4, 5]


def test_votes_on_an_actions_source_in_closed_votes_move_it_up(ranked_map, owner):
    def order() -> list[str]:
        return [row.action.key for row in actions.ranked(ranked_map)]

    assert order().index("pain") > order().index("solid")
    close_a_vote(ranked_map, owner, {"pain:demo": 3}, closed=False)  # still open: does not count
    assert order().index("pain") > order().index("solid")

    close_a_vote(ranked_map, owner, {"pain:demo": 2, "pain:ad": 4})
    close_a_vote(ranked_map, owner, {"pain:demo": 3})

    rows = {row.action.key: row for row in actions.ranked(ranked_map)}
    assert rows["pain"].votes == 5
    assert rows["pain"].score == expected_score(3, 2, votes=5) > expected_score(4, 2)
    assert order().index("pain") < order().index("solid")


def test_equal_scores_go_to_the_earlier_due_date_then_the_title_and_finished_actions_last(painful_map):
    for key, title, due, status in [
        ("late", "Alpha", datetime.date(2027, 3, 1), Action.OPEN),
        ("undated", "Aardvark", None, Action.OPEN),
        ("soon-b", "Beta", datetime.date(2027, 1, 1), Action.OPEN),
        ("soon-a", "Able", datetime.date(2027, 1, 1), Action.OPEN),
        ("done", "Zero", datetime.date(2026, 1, 1), Action.DONE),
    ]:
        Action.objects.create(map=painful_map, key=key, title=title, due=due, status=status)
    assert [row.action.key for row in actions.ranked(painful_map)] == ["soon-a", "soon-b", "late", "undated", "done"]


def test_ranked_actions_is_plain_data_for_a_slide(ranked_map):
    ranked_map.actions.filter(key="solid").update(owner=Department.objects.get(key="sales"), stage=None)
    rows = actions.ranked_actions(ranked_map)
    solid = next(row for row in rows if row["key"] == "solid")
    assert solid == {
        "rank": 2,
        "key": "solid",
        "title": "solid",
        "stage": "",
        "impact": 4,
        "effort": 2,
        "owner": "Sales",
        "due": None,
        "status": "open",
        "score": 16.0,
        "votes": 0,
        "quadrant": "Quick wins",
        "source": "",
    }
    assert next(row for row in rows if row["key"] == "pain")["source"] == "pain point: Live demo"
    json.dumps(rows, default=str)


def test_the_actions_tab_says_the_formula_and_places_each_action_in_its_quadrant(client, owner, ranked_map):
    login(client, owner)
    page = html(client.get(url("map_actions", ranked_map)))
    formula = " ".join(page.xpath('//p[contains(@class, "formula")]//text()'))
    assert "impact × (6 − effort)" in formula and "closed votes" in formula
    listed = page.xpath('//ol[@class="action-list"]/li/@id')
    assert listed == [f"action-{row.action.key}" for row in actions.ranked(ranked_map)]
    quadrants = {
        q.get("class").split()[1]: [t.strip() for t in q.xpath('.//span[@class="q-title"]/text()')]
        for q in page.xpath('//section[contains(@class, "quadrant")]')
    }
    assert quadrants == {
        "q-quick-wins": ["solid", "pain"],  # impact 3 or more, effort under 3
        "q-big-bets": ["gap", "big"],
        "q-fill-ins": ["small"],
        "q-money-pits": [],
    }


def test_the_actions_tab_reads_in_japanese(client, owner, ranked_map):
    UserSettings.choose_language(owner, "ja")
    login(client, owner)
    response = client.get(url("map_actions", ranked_map))
    text = response.content.decode()
    assert "クイックウィン" in text and "スコア" in text


# --- the CSV of the ranking ----------------------------------------------------------------


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def test_the_actions_csv_lists_the_ranking_with_its_scores(ranked_map):
    rows = read_csv(tables.export(ranked_map, "actions"))
    assert rows[0][:4] == ["rank", "key", "title", "score"]
    ranking = actions.ranked(ranked_map)
    assert [row[1] for row in rows[1:]] == [row.action.key for row in ranking]
    assert [row[3] for row in rows[1:]] == ["27", "16", "12", "10", "5"]
    assert rows[1][-1] == f"gap:{ranked_map.error_gap.id}"


def test_the_actions_csv_has_japanese_headers_in_japanese(ranked_map):
    with translation.override("ja"):
        header = read_csv(tables.export(ranked_map, "actions"))[0]
    assert header[:4] == ["順位", "キー", "タイトル", "スコア"]


def test_the_actions_csv_downloads_from_the_map(client, viewer, ranked_map):
    login(client, viewer)
    response = client.get(reverse("csv_download", args=["acme", "launch", "actions"]))
    assert response.status_code == 200
    assert read_csv(response.content.decode())[1][1] == "gap"


def test_export_csv_writes_the_ranking_in_the_language_asked(ranked_map, tmp_path):
    out = tmp_path / "actions.csv"
    call_command("export_csv", "actions", "acme/launch", "-o", str(out), "--language", "ja")
    rows = read_csv(out.read_text("utf-8"))
    assert rows[0][0] == "順位"
    assert [row[1] for row in rows[1:]] == [row.action.key for row in actions.ranked(ranked_map)]


# --- the journeymap/1 document -----------------------------------------------------------------


def test_export_import_export_of_a_map_with_actions_is_identical(ranked_map):
    ranked_map.actions.filter(key="solid").update(
        owner=Department.objects.get(key="sales"), due=datetime.date(2027, 2, 1), status=Action.IN_PROGRESS
    )
    first = interchange.export_map(ranked_map)
    assert [a["key"] for a in first["actions"]] == ["big", "small", "gap", "solid", "pain"]
    assert first["actions"][3] == {
        "key": "solid",
        "title": "solid",
        "impact": 4,
        "effort": 2,
        "owner": "sales",
        "due": "2027-02-01",
        "status": "in-progress",
        "stage": None,
        "source": None,
    }
    elsewhere = Workspace.objects.create(slug="elsewhere-2", name="Elsewhere")
    copy = interchange.import_map(json.loads(interchange.dumps(first)), elsewhere)
    assert interchange.dumps(interchange.export_map(copy)) == interchange.dumps(first)


def test_a_map_without_actions_exports_as_it_always_did(small_map):
    assert "actions" not in interchange.export_map(small_map)


def document_with(action: dict) -> dict:
    return {
        "format": "journeymap/1",
        "map": {"key": "m", "name": "M"},
        "departments": [{"key": "sales", "name": "Sales"}],
        "stages": [{"key": "convert", "name": "Convert"}],
        "actions": [{"key": "ok", "title": "Fine"}, {"key": "x", "title": "X", **action}],
    }


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"impact": 6}, "actions[1].impact: must be a whole number from 1 to 5"),
        ({"effort": 0}, "actions[1].effort: must be a whole number from 1 to 5"),
        ({"impact": None}, "actions[1].impact: must be a whole number from 1 to 5"),
        ({"owner": "legal"}, 'actions[1].owner: no department "legal"'),
        ({"stage": "close"}, 'actions[1].stage: no stage "close"'),
        ({"status": "someday"}, "actions[1].status: must be one of open, in-progress, done, dropped"),
        ({"due": "31/01/2027"}, "actions[1].due: must be a date as YYYY-MM-DD, or null"),
        (
            {"source": "rumour:x"},
            "actions[1].source: must be empty or KIND:KEY, KIND being one of pain, opportunity, gap, swot",
        ),
        ({"key": "ok"}, 'actions[1].key: "ok" is already the key of actions[0]'),
        ({"colour": "red"}, "actions[1].colour: unknown field"),
    ],
)
def test_a_bad_action_in_a_document_is_refused_naming_its_place(workspace, action, message):
    with pytest.raises(InterchangeError) as refused:
        interchange.import_map(document_with(action), workspace)
    assert str(refused.value) == message
    assert not JourneyMap.objects.filter(key="m").exists()


def test_an_action_of_a_document_takes_the_models_defaults_for_what_it_leaves_out(workspace):
    journey_map = interchange.import_map(document_with({"source": "swot:cheap-rivals"}), workspace)
    fine, x = journey_map.actions.all()
    assert (fine.impact, fine.effort, fine.status, fine.owner, fine.stage, fine.source) == (
        3,
        3,
        "open",
        None,
        None,
        "",
    )
    assert x.source == "swot:cheap-rivals" and x.source_kind == "swot"


def test_a_department_that_owns_an_action_cannot_be_deleted(ranked_map, owner):
    service = Department.objects.get(key="service")
    ranked_map.actions.filter(key="big").update(owner=service)
    with pytest.raises(changes.Refused, match="1 action it owns"):
        changes.delete_library_item(service, user=owner)
    assert Department.objects.filter(key="service").exists()


def test_an_action_changed_in_the_admin_is_a_revision_and_keeps_the_models_rules(admin_client, painful_map):
    action = Action.objects.create(map=painful_map, key="a", title="Shorter demo")
    url = reverse("admin:maps_action_change", args=[action.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}

    refused = admin_client.post(url, {**data, "impact": "6"})
    assert refused.status_code == 200 and Action.objects.get(pk=action.pk).impact == 3

    response = admin_client.post(url, {**data, "impact": "5"})
    assert response.status_code == 302
    assert Action.objects.get(pk=action.pk).impact == 5
    latest = Revision.objects.filter(map=painful_map).latest("number")
    assert latest.summary == "changed action ‘Shorter demo’ in the admin"


def test_an_action_stays_when_its_stage_is_deleted_and_is_about_it_again_when_it_comes_back(painful_map, owner):
    awareness = painful_map.stages.get(key="awareness")
    with changes.editing(painful_map, owner, "an action"):
        Action.objects.create(map=painful_map, key="a", title="More webinars", stage=awareness)
    before = interchange.export_map(painful_map)

    changes.delete_stage(painful_map, awareness, user=owner)
    assert Action.objects.get(key="a").stage is None

    trash.restore(TrashItem.objects.get(kind=TrashItem.STAGE), user=owner)
    assert interchange.export_map(painful_map) == before


def test_without_javascript_a_status_change_goes_back_to_the_actions_tab(client, editor, painful_map):
    Action.objects.create(map=painful_map, key="a", title="A")
    login(client, editor)
    response = client.post(url("action_status", painful_map, "a"), {"status": Action.IN_PROGRESS})
    assert response.status_code == 302 and response["Location"] == url("map_actions", painful_map)
    assert Action.objects.get(key="a").status == Action.IN_PROGRESS
    page = client.get(response["Location"])
    assert "Action “A”: in progress." in page.content.decode()
