"""The three matrices of a map: content coverage (and linking content from a cell),
accountability, funnel."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from maps import gaps as gap_rules
from maps import matrices
from maps.gaps import find_gaps
from maps.models import ContentAsset, Department, JourneyMap, Stage

from .test_stage_edit import stage_data
from .web import EDITING_ROLES, HX, Edit, client_events, html, login, snapshot

MATRICES = ["coverage", "accountability", "funnel"]


def content_gaps(jm: JourneyMap) -> set[tuple[str, str]]:
    return {
        (g.stage, g.persona) for g in find_gaps(JourneyMap.objects.loaded().get(pk=jm.pk)) if g.code == "content-gap"
    }


def cell_classes(response, cell_id: str) -> list[str]:
    doc = html(response)
    (cell,) = doc.xpath(f'//td[@id="{cell_id}"]')
    return (cell.get("class") or "").split()


def cell_text(response, cell_id: str) -> str:
    doc = html(response)
    (cell,) = doc.xpath(f'//td[@id="{cell_id}"]')
    return " ".join(cell.text_content().split())


def check_gap_closed(jm: JourneyMap) -> None:
    calc = ContentAsset.objects.get(workspace=jm.workspace, key="roi-calc")
    assert {p.key for p in calc.personas.all()} == {"cfo", "it-lead"}
    assert [s.key for s in calc.stages.all()] == ["decision"]
    assert content_gaps(jm) == set()


CLOSE_GAP = Edit(
    "link content to close a gap",
    "coverage_link",
    lambda jm: [],
    lambda jm: {"stage": "decision", "persona": "it-lead", "content": "roi-calc", "by": "personas"},
    check_gap_closed,
    redirect_to=lambda jm: reverse("coverage", args=[jm.workspace.slug, jm.key]),
)


# --- reading: who may see the matrices ------------------------------------------------------


@pytest.mark.parametrize("name", MATRICES)
@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_every_member_can_see_the_matrices(client, request, small_map, role_name, name):
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse(name, args=["acme", "launch"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" in body and "Awareness" in body and "Decision" in body


@pytest.mark.parametrize("name", MATRICES)
def test_matrix_for_htmx_is_the_fragment_alone(client, owner, small_map, name):
    login(client, owner)
    body = client.get(reverse(name, args=["acme", "launch"]), **HX).content.decode()
    assert "<html" not in body
    assert f'id="{name}"' in body
    assert 'hx-trigger="map-changed from:body"' in body


@pytest.mark.parametrize("name", MATRICES)
def test_a_boosted_tab_link_gets_the_whole_page(client, owner, small_map, name):
    # The map's tabs are boosted links: htmx swaps the whole body, so they need the page.
    login(client, owner)
    body = client.get(reverse(name, args=["acme", "launch"]), HTTP_HX_BOOSTED="true", **HX).content.decode()
    assert "<html" in body and 'aria-label="Map views"' in body and "Export" in body


@pytest.mark.parametrize("name", MATRICES)
def test_stranger_cannot_see_the_matrices(client, stranger, small_map, name):
    login(client, stranger)
    assert client.get(reverse(name, args=["acme", "launch"])).status_code == 404


@pytest.mark.parametrize("name", MATRICES)
def test_anonymous_is_sent_to_login_for_the_matrices(client, small_map, name):
    url = reverse(name, args=["acme", "launch"])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# --- coverage ----------------------------------------------------------------------------------


def test_coverage_by_persona_marks_the_content_gap_and_the_covered_cells(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("coverage", args=["acme", "launch"]))
    assert cell_classes(response, "cell-decision-it-lead") == ["gap", "sev-error"]
    assert "✖ No live content" in cell_text(response, "cell-decision-it-lead")
    assert "Buyer's guide" in cell_text(response, "cell-awareness-cfo")
    assert "ROI calculator" in cell_text(response, "cell-decision-cfo")
    # Ivan IT is scoped to Decision only: no gap and nothing to link in Awareness.
    assert cell_classes(response, "cell-awareness-it-lead") == ["out"]
    assert not html(response).xpath('//td[@id="cell-awareness-it-lead"]//form')
    assert html(response).xpath('//td[@id="cell-decision-it-lead"]//form')


def test_coverage_by_role_shows_buying_roles_and_their_holders(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("coverage", args=["acme", "launch"]), {"by": "roles"})
    body = response.content.decode()
    assert "Decision maker" in body and "Technical evaluator" in body
    assert "Carla CFO" in body and "Ivan IT" in body
    assert cell_classes(response, "cell-decision-technical-evaluator") == ["gap", "sev-error"]
    assert "required role" in cell_text(response, "cell-decision-technical-evaluator")
    assert cell_classes(response, "cell-decision-decision-maker") == []
    assert "ROI calculator" in cell_text(response, "cell-decision-decision-maker")
    assert "Link content" not in body  # content is linked per persona, not per role


def test_unknown_coverage_rows_fall_back_to_personas(client, owner, small_map):
    login(client, owner)
    response = client.get(reverse("coverage", args=["acme", "launch"]), {"by": "<script>"})
    assert response.status_code == 200
    assert cell_classes(response, "cell-decision-it-lead") == ["gap", "sev-error"]
    assert "<script>" not in response.content.decode()


def test_viewer_sees_coverage_without_link_forms(client, viewer, small_map):
    login(client, viewer)
    body = client.get(reverse("coverage", args=["acme", "launch"])).content.decode()
    assert "Ivan IT" in body
    assert reverse("coverage_link", args=["acme", "launch"]) not in body


def test_link_forms_offer_only_live_content(client, owner, small_map, workspace):
    ContentAsset.objects.create(workspace=workspace, key="draft-deck", title="Draft deck", status=ContentAsset.DRAFT)
    login(client, owner)
    body = client.get(reverse("coverage", args=["acme", "launch"])).content.decode()
    assert '<option value="roi-calc">ROI calculator</option>' in body
    assert "Draft deck" not in body


@pytest.mark.parametrize("role_name", EDITING_ROLES)
def test_owner_and_editor_can_close_a_content_gap_from_its_cell(client, request, small_map, role_name):
    assert content_gaps(small_map) == {("decision", "it-lead")}
    login(client, request.getfixturevalue(role_name))
    response = CLOSE_GAP.post(client, small_map)
    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    CLOSE_GAP.verify(small_map)
    # The answer is the refreshed matrix: the cell is no longer a gap.
    assert "ROI calculator" in cell_text(response, "cell-decision-it-lead")
    assert cell_classes(response, "cell-decision-it-lead") == []
    assert "“ROI calculator” linked to Decision for Ivan IT." in response.content.decode()


def test_linking_content_without_htmx_redirects_to_the_coverage_page(client, owner, small_map):
    login(client, owner)
    response = CLOSE_GAP.post(client, small_map, htmx=False)
    assert response.status_code == 302
    assert response["Location"] == CLOSE_GAP.expected_redirect(small_map)
    CLOSE_GAP.verify(small_map)


def test_linked_content_answers_in_the_rows_the_matrix_was_showing(client, owner, small_map):
    login(client, owner)
    data = {"stage": "decision", "persona": "it-lead", "content": "roi-calc", "by": "roles"}
    response = client.post(reverse("coverage_link", args=["acme", "launch"]), data, **HX)
    assert response.status_code == 200
    assert cell_classes(response, "cell-decision-technical-evaluator") == []


def test_viewer_cannot_link_content(client, viewer, small_map):
    login(client, viewer)
    before = snapshot()
    assert CLOSE_GAP.post(client, small_map).status_code == 403
    assert snapshot() == before


def test_stranger_cannot_link_content(client, stranger, small_map):
    login(client, stranger)
    before = snapshot()
    assert CLOSE_GAP.post(client, small_map).status_code == 404
    assert snapshot() == before


def test_anonymous_is_sent_to_login_before_linking_content(client, small_map):
    before = snapshot()
    url = CLOSE_GAP.url(small_map)
    response = client.post(url, CLOSE_GAP.data(small_map), **HX)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
    assert snapshot() == before


def test_content_of_another_workspace_cannot_be_linked(client, owner, small_map, stranger):
    ContentAsset.objects.create(
        workspace=stranger.memberships.get().workspace, key="their-deck", title="Their deck", status=ContentAsset.LIVE
    )
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("coverage_link", args=["acme", "launch"]),
        {"stage": "decision", "persona": "it-lead", "content": "their-deck"},
        **HX,
    )
    assert response.status_code == 400
    assert response.content.decode() == "Pick a content asset to link."
    assert snapshot() == before


def test_content_cannot_be_linked_to_a_stage_of_another_map(client, owner, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    Stage.objects.create(map=other, key="retention", name="Retention")
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("coverage_link", args=["acme", "launch"]),
        {"stage": "retention", "persona": "cfo", "content": "roi-calc"},
        **HX,
    )
    assert response.status_code == 404
    assert snapshot() == before


def test_linking_draft_content_does_not_close_the_gap(client, owner, small_map, workspace):
    ContentAsset.objects.create(workspace=workspace, key="it-faq", title="IT FAQ", status=ContentAsset.DRAFT)
    login(client, owner)
    client.post(
        reverse("coverage_link", args=["acme", "launch"]),
        {"stage": "decision", "persona": "it-lead", "content": "it-faq"},
        **HX,
    )
    assert ContentAsset.objects.get(key="it-faq").stages.get().key == "decision"
    assert content_gaps(small_map) == {("decision", "it-lead")}


# --- accountability -----------------------------------------------------------------------------


def test_accountability_shows_who_leads_and_who_contributes(client, owner, small_map):
    login(client, owner)
    doc = html(client.get(reverse("accountability", args=["acme", "launch"]), **HX))
    rows = {
        " ".join(tr.xpath("th")[0].text_content().split()): [
            " ".join(td.text_content().split()) for td in tr.xpath("td")
        ]
        for tr in doc.xpath("//tbody/tr")
    }
    assert rows == {
        "Awareness": ["★ Lead", "Contributes", "–", "MQL within 2 days"],
        "Decision": ["–", "★ Lead", "–", "last stage"],
    }


def test_accountability_flags_a_stage_without_lead_and_a_missing_handoff(client, owner, small_map, workspace):
    awareness = small_map.stages.get(key="awareness")
    awareness.handoff_sla = ""
    awareness.save()
    Stage.objects.create(map=small_map, key="loyalty", name="Loyalty", order=2)
    login(client, owner)
    body = client.get(reverse("accountability", args=["acme", "launch"])).content.decode()
    assert "▲ No SLA for the hand-off to Sales" in body
    assert body.count("✖ No lead") == 1
    assert 'class="no-lead"' in body


def test_accountability_lists_every_department_even_one_without_a_part(client, owner, small_map, workspace):
    Department.objects.create(workspace=workspace, key="finance", name="Finance", order=9)
    login(client, owner)
    doc = html(client.get(reverse("accountability", args=["acme", "launch"])))
    assert [" ".join(th.text_content().split()) for th in doc.xpath("//thead//th")] == [
        "Stage",
        "Marketing",
        "Sales",
        "Service",
        "Finance",
        "Hand-off to next stage",
    ]


# --- funnel ---------------------------------------------------------------------------------------


def test_funnel_shows_figures_rate_and_target_per_stage(client, owner, small_map):
    login(client, owner)
    doc = html(client.get(reverse("funnel", args=["acme", "launch"])))
    rows = [
        [" ".join(td.text_content().split()) for td in tr.xpath("td")]
        for tr in doc.xpath("//section[@id='funnel']//tbody/tr")
    ]
    assert rows == [
        ["Awareness", "1,000", "200", "20 %", "10 %", ""],
        ["Decision", "–", "–", "–", "–", ""],
    ]


def test_funnel_marks_a_drop_off_below_target(client, owner, small_map):
    Stage.objects.filter(map=small_map, key="decision").update(entered=200, converted=10, target_conversion=0.25)
    login(client, owner)
    response = client.get(reverse("funnel", args=["acme", "launch"]))
    doc = html(response)
    decision = [
        " ".join(td.text_content().split()) for td in doc.xpath("//section[@id='funnel']//tbody/tr")[1].xpath("td")
    ]
    assert decision == ["Decision", "200", "10", "5 %", "25 %", "✖ drop-off"]
    assert len(doc.xpath('//div[contains(@class, "funnel-row") and contains(@class, "drop")]')) == 1
    assert any(
        g.code == "drop-off" and g.stage == "decision"
        for g in find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))
    )


def test_funnel_of_a_map_without_stages_says_so(client, owner, workspace):
    JourneyMap.objects.create(workspace=workspace, key="empty", name="Empty")
    login(client, owner)
    body = client.get(reverse("funnel", args=["acme", "empty"])).content.decode()
    assert "This map has no stages yet." in body


def test_stage_edited_from_the_funnel_shows_new_figures(client, owner, small_map):
    login(client, owner)
    body = client.get(reverse("funnel", args=["acme", "launch"])).content.decode()
    assert reverse("stage_edit", args=["acme", "launch", "decision"]) in body
    edited = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        stage_data(small_map, "decision", entered="200", converted="50"),
        **HX,
    )
    assert edited.status_code == 200
    doc = html(client.get(reverse("funnel", args=["acme", "launch"])))
    decision = [
        " ".join(td.text_content().split()) for td in doc.xpath("//section[@id='funnel']//tbody/tr")[1].xpath("td")
    ]
    assert decision[:4] == ["Decision", "200", "50", "25 %"]


def test_coverage_cell_lists_content_linked_through_a_touchpoint(small_map):
    small_map.touchpoints.get(key="demo").content.add(small_map.workspace.content.get(key="guide"))
    loaded = JourneyMap.objects.loaded().get(pk=small_map.pk)
    grid = matrices.coverage(loaded, "personas", find_gaps(loaded))
    it_row = next(row for row in grid["rows"] if row["key"] == "it-lead")
    decision = next(cell for cell in it_row["cells"] if cell["stage"].key == "decision")
    assert [c.key for c in decision["content"]] == ["guide"] and not decision["gap"]


def test_a_role_cell_shows_the_role_missing_warning_of_the_gap_list_not_a_gap_of_its_own(client, owner, small_map):
    """Defect 4: the role matrix said "Gap" in red where the gap list has a role-missing warning."""
    small_map.touchpoints.get(key="demo").personas.remove(small_map.workspace.personas.get(key="it-lead"))
    small_map.workspace.content.get(key="roi-calc").personas.add(small_map.workspace.personas.get(key="it-lead"))
    login(client, owner)
    response = client.get(reverse("coverage", args=["acme", "launch"]), {"by": "roles"})
    found = [
        g
        for g in find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))
        if g.stage == "decision" and g.role == "technical-evaluator"
    ]
    assert [(g.code, g.severity) for g in found] == [("role-missing", "warning")]
    assert cell_classes(response, "cell-decision-technical-evaluator") == ["gap", "sev-warning"]
    assert "▲ No touchpoint reaches this role" in cell_text(response, "cell-decision-technical-evaluator")


def test_a_late_stage_with_a_thousandth_of_the_entries_still_gets_a_visible_bar(small_map):
    awareness, decision = small_map.stages.all()
    Stage.objects.filter(pk=awareness.pk).update(entered=10000, converted=10)
    Stage.objects.filter(pk=decision.pk).update(entered=10, converted=1)
    rows = matrices.funnel(JourneyMap.objects.loaded().get(pk=small_map.pk), [])
    assert rows[0]["width"] == 100
    assert rows[1]["width"] >= 20 and rows[1]["converted_width"] >= 8


def test_the_funnel_and_the_gap_message_give_a_rate_the_same_words(small_map):
    awareness = small_map.stages.get(key="awareness")
    Stage.objects.filter(pk=awareness.pk).update(entered=2000, converted=119, target_conversion=0.1)
    loaded = JourneyMap.objects.loaded().get(pk=small_map.pk)
    found = find_gaps(loaded)
    (drop,) = [g for g in found if g.code == "drop-off"]
    row = matrices.funnel(loaded, found)[0]
    assert row["rate"] == "5.95 %" and row["rate"] in drop.message and row["drop_off"]


def test_the_funnel_and_the_gap_message_agree_on_a_rate_in_japanese_too(small_map):
    Stage.objects.filter(map=small_map, key="awareness").update(entered=2000, converted=119, target_conversion=0.1)
    loaded = JourneyMap.objects.loaded().get(pk=small_map.pk)
    with translation.override("ja"):
        found = find_gaps(loaded)
        row = matrices.funnel(loaded, found)[0]
    (drop,) = [g for g in found if g.code == "drop-off"]
    assert row["rate"] == "5.95%" and row["target"] == "10%" and row["rate"] in drop.message


# --- the funnel and accountability tabs read the stages alone ---------------------------------


def _stage_rows_changed(jm: JourneyMap) -> None:
    """Give the map every stage-only gap: a drop-off and a hand-off without SLA in its
    first stage (Marketing hands over to Sales), a last stage without lead."""
    first = jm.stages.first()
    Stage.objects.filter(pk=first.pk).update(handoff_sla="", entered=100, converted=1, target_conversion=0.5)
    Stage.objects.create(map=jm, key="retention", name="Retention", order=9)


def test_stage_only_rules_find_exactly_what_the_whole_map_finds(small_map):
    _stage_rows_changed(small_map)
    whole = find_gaps(JourneyMap.objects.loaded().get(pk=small_map.pk))
    stages_only = gap_rules.find_stage_gaps(JourneyMap.objects.stages_only().get(pk=small_map.pk))
    expected = [g for g in whole if g.code in gap_rules.STAGE_ONLY_CODES]
    assert {g.code for g in expected} == set(gap_rules.STAGE_ONLY_CODES)
    assert stages_only == expected


@pytest.mark.parametrize("name", ["funnel", "accountability"])
def test_funnel_and_accountability_never_read_a_touchpoint(client, owner, small_map, name):
    _stage_rows_changed(small_map)
    login(client, owner)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(name, args=[small_map.workspace.slug, small_map.key]), **HX)
    body = response.content.decode()
    # What the tab marks comes from the stage-only rules: a drop-off, a missing lead and hand-off.
    shows = {
        "funnel": ["✖ drop-off", "Retention"],
        "accountability": ["✖ No lead", "▲ No SLA for the hand-off to Sales"],
    }
    assert all(words in body for words in shows[name])
    read = " ".join(q["sql"] for q in queries.captured_queries)
    assert "maps_touchpoint" not in read and "maps_contentasset" not in read
