"""Guiding questions answered: on the board, the Questions tab and in presenter mode.

An answer is map content: each one is a revision that undo takes back, it is in the
journeymap/1 export (and so imported, backed up and restored), and the open questions
of a stage are counted where the team looks.
"""

from __future__ import annotations

import datetime

import lxml.html
import pytest
from django.urls import reverse
from django.utils import timezone

from maps import changes, history, interchange
from maps.forms import StageForm
from maps.models import Revision, StageAnswer

from .web import HX, client_events, current_form_data, snapshot

pytestmark = pytest.mark.django_db

QUESTIONS = ["Who reads our guide?", "Where do visitors come from?", "What makes them stay?"]


@pytest.fixture
def asked(small_map):
    """The small map with three guiding questions on its first stage, and a history."""
    awareness = small_map.stages.get(key="awareness")
    awareness.questions = list(QUESTIONS)
    awareness.save()
    changes.record_creation(small_map)
    return small_map


def answer_url(jm, number: int, stage: str = "awareness") -> str:
    return reverse("question_answer", args=[jm.workspace.slug, jm.key, stage, number])


def post_answer(client, jm, number: int, answer: str, evidence: str = "", htmx: bool = True, **extra):
    data = {"answer": answer, "evidence": evidence, "question": QUESTIONS[number - 1]}
    return client.post(answer_url(jm, number), data, **(HX if htmx else {}), **extra)


def page(client, url: str):
    return lxml.html.fromstring(client.get(url).content.decode())


def board(client, jm):
    return page(client, jm.get_absolute_url())


def open_badge(doc, stage: str = "awareness") -> str:
    return " ".join(doc.xpath(f'//details[@id="questions-{stage}"]//summary')[0].text_content().split())


def test_answering_a_question_records_a_revision_with_who_and_what(client, editor, asked):
    client.force_login(editor)
    response = post_answer(client, asked, 1, "Mostly IT leads", "https://example.com/survey")
    assert response.status_code == 200
    assert "map-changed" in client_events(response)
    latest = Revision.objects.filter(map=asked).order_by("-number").first()
    assert latest.user == editor
    assert str(latest.summary_value) == "answered a question of ‘Awareness’"
    answer = StageAnswer.objects.get(stage__key="awareness", question=QUESTIONS[0])
    assert (answer.answer, answer.evidence, answer.by, answer.at) == (
        "Mostly IT leads",
        "https://example.com/survey",
        "bob",
        timezone.localdate(),
    )


def test_the_answer_shows_on_the_board_and_the_open_count_goes_down(client, editor, asked):
    client.force_login(editor)
    assert open_badge(board(client, asked)) == "? 3 of 3 open"
    post_answer(client, asked, 2, "Search, then referrals", "https://example.com/analytics")
    doc = board(client, asked)
    assert open_badge(doc) == "? 2 of 3 open"
    answered = doc.xpath('//details[@id="questions-awareness"]//li[contains(@class, "answered")]')
    assert len(answered) == 1
    assert "Search, then referrals" in answered[0].text_content()
    assert answered[0].xpath(".//a/@href")[0] == "https://example.com/analytics"
    assert "bob" in answered[0].text_content()


def test_a_stage_whose_questions_are_all_answered_says_so(client, editor, asked):
    client.force_login(editor)
    for number in (1, 2, 3):
        post_answer(client, asked, number, f"Answer {number}")
    assert open_badge(board(client, asked)) == "✓ All answered"


def test_the_answer_shows_in_presenter_mode(client, viewer, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 1, "Mostly IT leads", "https://example.com/survey")
    client.force_login(viewer)
    doc = page(client, reverse("map_present", args=[asked.workspace.slug, asked.key]))
    slide = doc.xpath('//section[@id="stage-awareness"]')[0]
    items = slide.xpath(".//ol[contains(@class, 'questions')]/li")
    assert "Mostly IT leads" in items[0].text_content()
    assert items[0].xpath(".//a/@href") == ["https://example.com/survey"]
    assert "open" in items[1].get("class")


def test_the_questions_tab_lists_every_open_question_with_a_way_to_answer_it(client, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 1, "Mostly IT leads")
    doc = page(client, reverse("map_questions", args=[asked.workspace.slug, asked.key]))
    open_items = doc.xpath('//div[@id="questions-of-awareness"]//li[contains(@class, "open")]')
    assert [" ".join(li.xpath('.//span[@class="q"]')[0].text_content().split()[1:]) for li in open_items] == [
        QUESTIONS[1],
        QUESTIONS[2],
    ]
    assert [li.xpath(".//a/@href")[0] for li in open_items] == [answer_url(asked, 2), answer_url(asked, 3)]
    assert "2 of 3 questions still open" in doc.text_content()


def test_a_viewer_sees_the_questions_tab_but_no_answer_buttons(client, viewer, asked):
    client.force_login(viewer)
    doc = page(client, reverse("map_questions", args=[asked.workspace.slug, asked.key]))
    assert len(doc.xpath('//div[@id="questions-of-awareness"]//li')) == 3
    assert not doc.xpath(f'//a[@href="{answer_url(asked, 1)}"]')


def test_a_viewer_cannot_answer_and_nothing_is_written(client, viewer, asked):
    client.force_login(viewer)
    before = snapshot()
    response = post_answer(client, asked, 1, "I would say IT")
    assert response.status_code == 403
    assert snapshot() == before


def test_a_stranger_gets_no_answer_form(client, stranger, asked):
    client.force_login(stranger)
    assert client.get(answer_url(asked, 1)).status_code == 404


def test_an_evidence_link_that_is_no_web_address_is_refused_with_a_message(client, editor, asked):
    client.force_login(editor)
    before = snapshot()
    response = post_answer(client, asked, 1, "Mostly IT leads", "ftp://example.com/survey.csv")
    assert response.status_code == 422
    assert snapshot() == before
    assert "must be an http:// or https:// address" in response.content.decode()


def test_evidence_without_an_answer_is_refused(client, editor, asked):
    client.force_login(editor)
    before = snapshot()
    response = post_answer(client, asked, 1, "", "https://example.com/survey")
    assert response.status_code == 422
    assert snapshot() == before


def test_a_question_that_does_not_exist_is_not_found(client, editor, asked):
    client.force_login(editor)
    assert client.get(answer_url(asked, 4)).status_code == 404


def test_an_answer_sent_for_a_question_reworded_meanwhile_is_refused(client, editor, asked):
    client.force_login(editor)
    before = snapshot()
    data = {"answer": "IT", "evidence": "", "question": "Who read our old guide?"}
    response = client.post(answer_url(asked, 1), data, **HX)
    assert response.status_code == 422
    assert snapshot() == before


def test_undo_takes_an_answer_back(client, editor, asked):
    client.force_login(editor)
    before = interchange.export_map(asked)
    post_answer(client, asked, 1, "Mostly IT leads")
    assert interchange.export_map(asked) != before
    history.undo(asked, editor)
    assert interchange.export_map(asked) == before
    assert not StageAnswer.objects.exists()


def test_emptying_an_answer_clears_it_as_a_revision(client, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 1, "Mostly IT leads")
    post_answer(client, asked, 1, "")
    assert not StageAnswer.objects.exists()
    assert str(Revision.objects.order_by("-number").first().summary_value) == "cleared an answer in ‘Awareness’"


def test_changing_an_answer_keeps_one_answer_per_question(client, editor, owner, asked):
    client.force_login(editor)
    post_answer(client, asked, 1, "Mostly IT leads")
    client.force_login(owner)
    form = lxml.html.fromstring(client.get(answer_url(asked, 1), **HX).content.decode())
    data = {el.get("name"): el.get("value") or el.text or "" for el in form.xpath("//form//*[@name]")}
    data["answer"] = "IT leads and finance"
    response = client.post(answer_url(asked, 1), data, **HX)
    assert response.status_code == 200
    answer = StageAnswer.objects.get()
    assert (answer.answer, answer.by) == ("IT leads and finance", "alice")
    assert str(Revision.objects.order_by("-number").first().summary_value) == "changed an answer in ‘Awareness’"


def test_a_plain_form_answer_goes_back_to_the_map(client, editor, asked):
    client.force_login(editor)
    response = post_answer(client, asked, 1, "Mostly IT leads", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == asked.get_absolute_url()


def test_hostile_answer_text_is_shown_as_text(client, editor, viewer, asked):
    client.force_login(editor)
    post_answer(client, asked, 1, "<script>alert(1)</script><b>bold</b>")
    client.force_login(viewer)
    for url in (
        asked.get_absolute_url(),
        reverse("map_questions", args=[asked.workspace.slug, asked.key]),
        reverse("map_present", args=[asked.workspace.slug, asked.key]),
    ):
        body = client.get(url).content.decode()
        assert "<script>alert(1)" not in body and "<b>bold</b>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- the stage editor: answers follow their questions ---------------------------------------


def edit_questions(client, jm, questions: list[str]):
    stage = jm.stages.get(key="awareness")
    data = current_form_data(StageForm(instance=stage, journey_map=jm))
    data["questions"] = "\n".join(questions)
    url = reverse("stage_edit", args=[jm.workspace.slug, jm.key, "awareness"])
    response = client.post(url, data, **HX)
    assert response.status_code == 200, response.content.decode()[:500]


def test_a_question_reworded_on_its_line_keeps_its_answer(client, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 2, "Search")
    edit_questions(client, asked, [QUESTIONS[0], "Where do our visitors come from?", QUESTIONS[2]])
    assert list(StageAnswer.objects.values_list("question", "answer")) == [
        ("Where do our visitors come from?", "Search")
    ]


def test_a_question_moved_to_another_line_keeps_its_answer(client, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 3, "The demo")
    edit_questions(client, asked, [QUESTIONS[2], QUESTIONS[0], QUESTIONS[1]])
    assert list(StageAnswer.objects.values_list("question", "answer")) == [(QUESTIONS[2], "The demo")]


def test_removing_a_question_removes_its_answer_and_undo_brings_both_back(client, editor, asked):
    client.force_login(editor)
    post_answer(client, asked, 2, "Search")
    with_answer = interchange.export_map(asked)
    edit_questions(client, asked, [QUESTIONS[0], QUESTIONS[2]])
    assert not StageAnswer.objects.exists()
    history.undo(asked, editor)
    assert interchange.export_map(asked) == with_answer


# --- the format -------------------------------------------------------------------------------


def test_answers_are_exported_in_question_order_and_imported_again(editor, asked, workspace):
    client_answer = StageAnswer.objects.create
    stage = asked.stages.get(key="awareness")
    client_answer(stage=stage, question=QUESTIONS[2], answer="Demo", by="bob", at=datetime.date(2026, 12, 7))
    client_answer(stage=stage, question=QUESTIONS[0], answer="IT", evidence="https://example.com/a")
    doc = interchange.export_map(asked)
    assert doc["stages"][0]["answers"] == [
        {"question": QUESTIONS[0], "answer": "IT", "evidence": "https://example.com/a", "by": "", "at": None},
        {"question": QUESTIONS[2], "answer": "Demo", "evidence": "", "by": "bob", "at": "2026-12-07"},
    ]
    assert "answers" not in doc["stages"][1]  # none: left out, as old documents were
    again = interchange.import_map(doc, workspace)
    assert interchange.export_map(again)["stages"] == doc["stages"]


@pytest.mark.parametrize(
    ("answers", "refusal"),
    [
        ([{"question": "Not asked here?", "answer": "x"}], "stages[0].answers[0].question: must be one of the stage's"),
        (
            [{"question": QUESTIONS[0], "answer": "x"}, {"question": QUESTIONS[0], "answer": "y"}],
            "stages[0].answers[1].question: is already answered by stages[0].answers[0]",
        ),
        ([{"question": QUESTIONS[0], "answer": ""}], "stages[0].answers[0].answer: must not be empty"),
        (
            [{"question": QUESTIONS[0], "answer": "x", "evidence": "javascript:alert(1)"}],
            "stages[0].answers[0].evidence: must be an http:// or https:// address",
        ),
        ([{"question": QUESTIONS[0], "answer": "x", "at": "7/12/2026"}], "stages[0].answers[0].at: must be a date"),
        ([{"question": QUESTIONS[0], "answer": "x", "why": "?"}], "stages[0].answers[0].why: unknown field"),
    ],
)
def test_bad_answers_in_a_document_are_refused_with_their_place(asked, workspace, answers, refusal):
    doc = interchange.export_map(asked)
    doc["stages"][0]["answers"] = answers
    before = snapshot()
    with pytest.raises(interchange.InterchangeError) as err:
        interchange.import_map(doc, workspace)
    assert str(err.value).startswith(refusal)
    assert snapshot() == before


def test_an_answer_from_the_board_brings_back_only_its_own_column(client, editor, asked):
    client.force_login(editor)
    board_url = reverse("map_board", args=[asked.workspace.slug, asked.key])
    stamp = lxml.html.fromstring(client.get(board_url, **HX).content).get("data-stamp")
    response = post_answer(client, asked, 1, "Mostly IT leads", HTTP_X_BOARD_STAMP=stamp)
    doc = lxml.html.fragment_fromstring(response.content.decode(), create_parent="div")
    columns = doc.xpath('//div[contains(@class, "stage-col")][@hx-swap-oob]')
    assert [column.get("data-key") for column in columns] == ["awareness"]
    assert "Mostly IT leads" in columns[0].text_content()
