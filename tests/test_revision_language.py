"""A revision's summary reads in the reader's language, whoever wrote it and in whichever
language: it is kept as what was said (maps.said: an English msgid and its values) and
rendered when read. Until the Japanese catalogue exists, a small fake one stands in for
gettext, and records the language it was asked in."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from maps import changes, history, said
from maps.models import Revision, Stage
from maps.said import Said

JAPANESE = {
    "moved the stage ‘%(stage)s’ left": "ステージ「%(stage)s」を左へ移動しました",
    "undid: %(summary)s": "取り消し: %(summary)s",
    "History starts here.": "履歴はここから始まります。",
    # A translation that lost its placeholder: the English sentence is shown instead.
    "reordered the stages": "ステージを並べ替えました",
    "moved ‘%(touchpoint)s’ from ‘%(old)s’ to ‘%(new)s’": "「%(touchpoint)s」を移動しました（%(lost)s）",
}


@pytest.fixture(autouse=True)
def _english_interface():
    """Each test starts in English; a page asked for in Japanese leaves the thread in it."""
    with translation.override("en"):
        yield


@pytest.fixture
def asked_in(monkeypatch) -> list[str]:
    """gettext with JAPANESE as the ja catalogue; the languages it was asked in."""
    languages: list[str] = []

    def fake_gettext(msgid: str) -> str:
        languages.append(translation.get_language())
        return JAPANESE.get(msgid, msgid) if translation.get_language() == "ja" else msgid

    monkeypatch.setattr(said, "gettext", fake_gettext)
    return languages


def latest(journey_map) -> Revision:
    return Revision.objects.filter(map=journey_map).order_by("-number").first()


def test_a_change_made_in_english_reads_in_japanese_for_a_japanese_reader(small_map, editor, asked_in):
    with translation.override("en"):
        changes.move_stage(small_map, "decision", -1, user=editor)
    revision = latest(small_map)
    assert revision.summary_text == "moved the stage ‘Decision’ left"
    with translation.override("ja"):
        assert revision.summary == "ステージ「Decision」を左へ移動しました"
        assert Revision.objects.get(map=small_map, number=1).summary == "履歴はここから始まります。"
    with translation.override("en"):
        assert revision.summary == "moved the stage ‘Decision’ left"
    assert "ja" in asked_in and "en" in asked_in


def test_the_stored_summary_keeps_the_msgid_and_the_values_not_the_words(small_map, editor):
    changes.move_stage(small_map, "decision", -1, user=editor)
    revision = Revision.objects.get(pk=latest(small_map).pk)
    assert revision.said == {"msgid": "moved the stage ‘%(stage)s’ left", "values": {"stage": "Decision"}}
    assert revision.summary_said == Said("moved the stage ‘%(stage)s’ left", stage="Decision")


def test_the_history_page_shows_summaries_in_the_readers_language(client, owner, small_map, editor, asked_in):
    changes.move_stage(small_map, "decision", -1, user=editor)
    client.force_login(owner)
    with translation.override("en"):  # LocaleMiddleware picks the page's language
        page = client.get(reverse("map_history", args=["acme", "launch"]), HTTP_ACCEPT_LANGUAGE="ja")
    assert page.status_code == 200
    assert "ステージ「Decision」を左へ移動しました" in page.content.decode()


def test_a_revision_from_before_summaries_were_said_shows_its_stored_text(small_map, asked_in):
    old = Revision.objects.create(map=small_map, number=1, summary_text="moved the stage ‘Old’ left", delta=b"")
    old.refresh_from_db()
    assert old.said is None
    with translation.override("ja"):
        assert old.summary == "moved the stage ‘Old’ left"


def test_an_undo_says_what_it_undid_in_the_readers_language(small_map, editor, asked_in):
    changes.record_creation(small_map)
    changes.move_stage(small_map, "decision", -1, user=editor)
    history.undo(small_map, editor)
    undo = latest(small_map)
    assert undo.summary_text == "undid: moved the stage ‘Decision’ left"
    assert undo.said["values"]["summary"] == {
        "msgid": "moved the stage ‘%(stage)s’ left",
        "values": {"stage": "Decision"},
    }
    with translation.override("ja"):
        assert undo.summary == "取り消し: ステージ「Decision」を左へ移動しました"


def test_an_undo_of_a_change_from_before_summaries_were_said_quotes_its_text(small_map, editor, asked_in):
    changes.record_creation(small_map)
    changes.move_stage(small_map, "decision", -1, user=editor)
    Revision.objects.filter(pk=latest(small_map).pk).update(said=None, summary_text="an old change")
    history.undo(small_map, editor)
    with translation.override("ja"):
        assert latest(small_map).summary == "取り消し: an old change"


@pytest.mark.parametrize(
    "name", ["100% %(stage)s %s", "{0} {stage} }{", "‘quoted’ “double” \"straight\" 'single'", "%(", "%%"]
)
def test_names_with_placeholders_quotes_and_braces_are_kept_as_typed(small_map, editor, asked_in, name):
    Stage.objects.filter(map=small_map, key="decision").update(name=name)
    changes.move_stage(small_map, "decision", -1, user=editor)
    revision = Revision.objects.get(pk=latest(small_map).pk)
    assert revision.summary == f"moved the stage ‘{name}’ left"
    with translation.override("ja"):
        assert revision.summary == f"ステージ「{name}」を左へ移動しました"
    history.undo(small_map, editor)
    with translation.override("ja"):
        assert latest(small_map).summary == f"取り消し: ステージ「{name}」を左へ移動しました"


def test_a_translation_with_other_placeholders_falls_back_to_english(asked_in):
    moved = Said("moved ‘%(touchpoint)s’ from ‘%(old)s’ to ‘%(new)s’", touchpoint="Ad", old="A", new="B")
    with translation.override("ja"):
        assert str(moved) == "moved ‘Ad’ from ‘A’ to ‘B’"


def test_a_said_survives_json_and_refuses_what_it_did_not_write():
    nested = Said("undid: %(summary)s", summary=Said("moved the stage ‘%(stage)s’ left", stage="X"))
    assert Said.from_json(nested.as_json()) == nested
    for bad in (
        None,
        "text",
        {"values": {}},
        {"msgid": 3},
        {"msgid": "x", "values": []},
        {"msgid": "x", "values": {"a": 1}},
    ):
        with pytest.raises(ValueError):
            Said.from_json(bad)


def test_an_unreadable_stored_said_shows_the_stored_text(small_map):
    broken = Revision.objects.create(map=small_map, number=1, summary_text="as written", said={"nope": 1}, delta=b"")
    assert broken.summary == "as written"


def test_filtering_by_summary_filters_by_the_text_as_written(small_map, editor):
    changes.move_stage(small_map, "decision", -1, user=editor)
    assert Revision.objects.filter(map=small_map, summary__contains="‘Decision’").count() == 1
    assert Revision.objects.exclude(summary="moved the stage ‘Decision’ left").filter(map=small_map).count() == 1


def test_the_admin_searches_the_text_as_written(admin_client, small_map, editor):
    changes.move_stage(small_map, "decision", -1, user=editor)
    page = admin_client.get(reverse("admin:maps_revision_changelist"), {"q": "Decision"})
    assert page.status_code == 200
    assert "moved the stage ‘Decision’ left" in page.content.decode()
    one = admin_client.get(reverse("admin:maps_revision_change", args=[latest(small_map).pk]))
    assert one.status_code == 200
    assert "moved the stage ‘Decision’ left" in one.content.decode()
