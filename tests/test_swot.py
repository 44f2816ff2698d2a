"""The SWOT of a map: strengths, weaknesses, opportunities and threats, for the whole map
or one stage. Stored items are map content (revisions, export, import, backup); the
touchpoints' pain points and opportunities join them, computed, linking to their card.
"""

from __future__ import annotations

import json

import lxml.html
import pytest
from django.urls import reverse

from maps import backup, changes, history, interchange, trash
from maps.forms import SwotItemForm
from maps.models import Revision, SwotItem, TrashItem, Workspace
from maps.swot import swot_items

from .web import HX, client_events, snapshot

pytestmark = pytest.mark.django_db


def swot_url(jm, **query) -> str:
    url = reverse("map_swot", args=[jm.workspace.slug, jm.key])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def add(client, jm, kind: str, text: str, stage=None, htmx: bool = True):
    prefix = f"swot-{kind.lower()}"
    data = {"kind": kind, f"{prefix}-kind": kind, f"{prefix}-text": text, f"{prefix}-stage": stage.pk if stage else ""}
    return client.post(reverse("swot_create", args=[jm.workspace.slug, jm.key]), data, **(HX if htmx else {}))


def stored(jm, kind: str, text: str, stage=None, user=None) -> SwotItem:
    form = SwotItemForm(
        {"kind": kind, "text": text, "stage": stage.pk if stage else ""}, instance=SwotItem(map=jm), journey_map=jm
    )
    assert form.is_valid(), form.errors
    return changes.save_swot(jm, form, user)


def quadrant(doc, kind: str) -> list[str]:
    items = doc.xpath(f'//section[@id="swot-{kind.lower()}"]//li[contains(@class, "swot-item")]//span[@class="text"]')
    return [item.text_content() for item in items]


def html(response):
    return lxml.html.fromstring(response.content.decode())


@pytest.fixture
def painful(small_map):
    """The small map with a pain point and an opportunity on its live demo, and a history."""
    demo = small_map.touchpoints.get(key="demo")
    demo.pain_point, demo.opportunity = "Demos start late", "Record the demo"
    demo.save()
    changes.record_creation(small_map)
    return small_map


def test_an_editor_adds_a_strength_through_the_page_as_a_revision(client, editor, painful):
    client.force_login(editor)
    response = add(client, painful, "S", "Customers refer us")
    assert response.status_code == 200
    assert "journeymap-saved" in client_events(response)
    assert quadrant(html(response), "S") == ["Customers refer us"]
    item = SwotItem.objects.get()
    assert (item.key, item.kind, item.stage) == ("strength-customers-refer-us", "S", None)
    latest = Revision.objects.order_by("-number").first()
    assert (latest.user, str(latest.summary_value)) == (editor, "added the strength ‘Customers refer us’ to the SWOT")


def test_an_item_for_one_stage_shows_under_that_stage_only(client, editor, painful):
    client.force_login(editor)
    decision = painful.stages.get(key="decision")
    add(client, painful, "T", "A rival halves its price", stage=decision)
    add(client, painful, "T", "Budgets freeze")
    assert quadrant(html(client.get(swot_url(painful))), "T") == ["A rival halves its price", "Budgets freeze"]
    assert quadrant(html(client.get(swot_url(painful, stage="decision"))), "T") == ["A rival halves its price"]
    assert quadrant(html(client.get(swot_url(painful, stage="awareness"))), "T") == []


def test_a_plain_form_adds_and_goes_back_to_the_swot_page(client, editor, painful):
    client.force_login(editor)
    response = add(client, painful, "O", "Partner channel", htmx=False)
    assert response.status_code == 302
    assert response["Location"] == swot_url(painful)
    assert SwotItem.objects.filter(text="Partner channel").exists()


def test_an_empty_or_too_long_item_is_refused_with_a_message_and_nothing_written(client, editor, painful):
    client.force_login(editor)
    before = snapshot()
    response = add(client, painful, "W", "")
    assert response.status_code == 422
    assert "This field is required." in html(response).xpath('//section[@id="swot-w"]')[0].text_content()
    response = add(client, painful, "W", "x" * 301)
    assert response.status_code == 422
    assert "at most 300 characters" in html(response).xpath('//section[@id="swot-w"]')[0].text_content()
    assert snapshot() == before


def test_an_editor_edits_an_item_and_its_key_stays(client, editor, painful):
    item = stored(painful, "W", "No pricing page")
    client.force_login(editor)
    form = html(client.get(swot_url(painful, edit=item.key), **HX))
    assert form.xpath(f'//li[@id="swot-{item.key}"]//textarea')[0].text_content().strip() == "No pricing page"
    url = reverse("swot_edit", args=[painful.workspace.slug, painful.key, item.key])
    response = client.post(url, {"edit-kind": "T", "edit-text": "Pricing is hidden", "edit-stage": ""}, **HX)
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.key, item.kind, item.text) == ("weakness-no-pricing-page", "T", "Pricing is hidden")
    assert quadrant(html(response), "T") == ["Pricing is hidden"]


def test_an_editor_deletes_an_item_and_undo_brings_it_back(client, editor, painful):
    item = stored(painful, "S", "Fast demos")
    before = interchange.export_map(painful)
    client.force_login(editor)
    response = client.post(reverse("swot_delete", args=[painful.workspace.slug, painful.key, item.key]), **HX)
    assert response.status_code == 200
    assert not SwotItem.objects.exists()
    assert str(Revision.objects.order_by("-number").first().summary_value) == (
        "deleted the strength ‘Fast demos’ from the SWOT"
    )
    history.undo(painful, editor)
    assert interchange.export_map(painful) == before


def test_a_viewer_sees_the_swot_read_only_and_cannot_change_it(client, viewer, painful):
    item = stored(painful, "S", "Fast demos")
    client.force_login(viewer)
    doc = html(client.get(swot_url(painful)))
    assert quadrant(doc, "S") == ["Fast demos"]
    assert not doc.xpath("//section[@id='swot']//form[@method='post']")
    assert doc.xpath("//section[@id='swot']//form[@method='get']")  # the stage filter
    before = snapshot()
    assert add(client, painful, "S", "Mine").status_code == 403
    edit_url = reverse("swot_edit", args=[painful.workspace.slug, painful.key, item.key])
    assert client.post(edit_url, {"edit-kind": "S", "edit-text": "x"}, **HX).status_code == 403
    delete_url = reverse("swot_delete", args=[painful.workspace.slug, painful.key, item.key])
    assert client.post(delete_url, **HX).status_code == 403
    assert snapshot() == before


def test_a_stranger_learns_nothing(client, stranger, painful):
    client.force_login(stranger)
    assert client.get(swot_url(painful)).status_code == 404


def test_pain_points_and_opportunities_appear_as_weaknesses_and_opportunities_linking_their_touchpoint(
    client, viewer, painful
):
    client.force_login(viewer)
    doc = html(client.get(swot_url(painful)))
    assert quadrant(doc, "W") == ["Demos start late"]
    assert quadrant(doc, "O") == ["Record the demo"]
    edit = reverse("touchpoint_edit", args=[painful.workspace.slug, painful.key, "demo"])
    for kind, source in (("w", "pain"), ("o", "opportunity")):
        item = doc.xpath(f'//section[@id="swot-{kind}"]//li[@id="swot-{source}-demo"]')[0]
        assert item.xpath(".//a[@class='tp-link']/@href") == [edit]
        assert "Live demo" in item.text_content()
        assert not item.xpath(".//form")  # computed: changed on its touchpoint, not here


def test_swot_items_gives_stored_and_computed_items_as_plain_data(painful):
    decision = painful.stages.get(key="decision")
    stored(painful, "S", "Customers refer us")
    stored(painful, "W", "Slow legal review", stage=decision)
    found = swot_items(painful)
    assert list(found) == ["S", "W", "O", "T"]
    assert found["W"] == [
        {
            "key": "weakness-slow-legal-review",
            "kind": "W",
            "text": "Slow legal review",
            "stage": "decision",
            "source": "swot",
            "touchpoint": None,
            "touchpoint_name": None,
        },
        {
            "key": "pain:demo",
            "kind": "W",
            "text": "Demos start late",
            "stage": "decision",
            "source": "pain",
            "touchpoint": "demo",
            "touchpoint_name": "Live demo",
        },
    ]
    assert [item["key"] for item in found["O"]] == ["opportunity:demo"]
    assert swot_items(painful, "awareness") == {"S": [], "W": [], "O": [], "T": []}
    assert [item["text"] for item in swot_items(painful, "decision")["S"]] == []


def test_keys_are_stable_slugs_and_never_taken_twice(painful):
    first = stored(painful, "O", "Partner channel in Japan — with resellers and systems integrators")
    second = stored(painful, "O", "Partner channel in Japan — with resellers and systems integrators")
    japanese = stored(painful, "T", "競合が無料で提供")
    assert first.key == "opportunity-partner-channel-in-japan-with"
    assert second.key == "opportunity-partner-channel-in-japan-with-2"
    assert japanese.key.startswith("threat-") and japanese.key.isascii()


def test_hostile_text_is_shown_as_text(client, viewer, painful):
    stored(painful, "S", "<img src=x onerror=alert(1)>")
    client.force_login(viewer)
    body = client.get(swot_url(painful)).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(1)&gt;" in body


# --- the format, the trash and the backup ---------------------------------------------------


def test_export_import_export_with_swot_items_and_answers_is_identical(painful, workspace):
    decision = painful.stages.get(key="decision")
    decision.questions = ["Who signs?"]
    decision.save()
    decision.answers.create(question="Who signs?", answer="The CFO", evidence="https://example.com/x", by="bob")
    stored(painful, "S", "Customers refer us")
    stored(painful, "T", "Budgets freeze", stage=decision)
    doc = interchange.export_map(painful)
    assert doc["swot"] == [
        {"key": "strength-customers-refer-us", "kind": "S", "text": "Customers refer us", "stage": None},
        {"key": "threat-budgets-freeze", "kind": "T", "text": "Budgets freeze", "stage": "decision"},
    ]
    elsewhere = Workspace.objects.create(slug="other", name="Other")
    text = interchange.dumps(doc)
    again = interchange.import_map(interchange.parse(text), elsewhere)
    assert interchange.dumps(interchange.export_map(again)) == text


@pytest.mark.parametrize(
    ("item", "refusal"),
    [
        ({"key": "a", "kind": "X", "text": "t"}, "swot[0].kind: must be one of S, W, O, T"),
        ({"key": "a", "kind": "S", "text": ""}, "swot[0].text: must not be empty"),
        ({"key": "a", "kind": "S", "text": "t" * 301}, "swot[0].text: must be at most 300 characters"),
        ({"key": "a", "kind": "S", "text": "t", "stage": "nowhere"}, 'swot[0].stage: no stage "nowhere"'),
        ({"key": "not a slug", "kind": "S", "text": "t"}, "swot[0].key: must be a slug"),
        ({"kind": "S", "text": "t"}, "swot[0].key: is missing"),
    ],
)
def test_bad_swot_items_are_refused_with_their_place_and_nothing_written(painful, workspace, item, refusal):
    doc = interchange.export_map(painful)
    doc["swot"] = [item]
    before = snapshot()
    with pytest.raises(interchange.InterchangeError) as err:
        interchange.import_map(doc, workspace)
    assert str(err.value).startswith(refusal)
    assert snapshot() == before


def test_two_items_with_one_key_are_refused(painful, workspace):
    doc = interchange.export_map(painful)
    doc["swot"] = [{"key": "a", "kind": "S", "text": "t"}, {"key": "a", "kind": "W", "text": "u"}]
    with pytest.raises(interchange.InterchangeError, match=r"swot\[1\]\.key"):
        interchange.import_map(doc, workspace)


def test_a_stage_item_becomes_the_maps_when_its_stage_is_deleted_and_the_stages_again_when_it_comes_back(
    painful, editor
):
    decision = painful.stages.get(key="decision")
    item = stored(painful, "T", "Budgets freeze", stage=decision)
    changes.delete_stage(painful, decision, user=editor)
    item.refresh_from_db()
    assert item.stage is None
    trash.restore(TrashItem.objects.get(kind=TrashItem.STAGE), user=editor)
    item = SwotItem.objects.get(key=item.key)
    assert item.stage.key == "decision"


def test_the_workspace_backup_round_trips_swot_items_and_answers(painful, editor):
    awareness = painful.stages.get(key="awareness")
    awareness.questions = ["Who reads?"]
    awareness.save()
    awareness.answers.create(question="Who reads?", answer="IT leads", by="bob")
    stored(painful, "S", "Customers refer us", user=editor)
    before = backup.export_workspace(painful.workspace)
    document = before["maps"][0]["document"]
    assert document["swot"][0]["text"] == "Customers refer us"
    assert document["stages"][0]["answers"][0]["answer"] == "IT leads"
    restored = backup.import_workspace(json.loads(interchange.dumps(before)), slug="acme-copy")
    after = backup.export_workspace(restored.workspace)
    after["workspace"]["slug"] = "acme"
    assert interchange.dumps(after) == interchange.dumps(before)


def test_the_history_shows_a_swot_change_and_its_revision_opens(client, editor, painful):
    stored(painful, "O", "Partner channel", user=editor)
    client.force_login(editor)
    ws, key = painful.workspace.slug, painful.key
    listing = client.get(reverse("map_history", args=[ws, key])).content.decode()
    assert "added the opportunity ‘Partner channel’ to the SWOT" in listing
    revision = client.get(reverse("map_revision", args=[ws, key, painful.version]))
    assert revision.status_code == 200
