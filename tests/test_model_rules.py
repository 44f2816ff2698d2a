"""One set of rules (the model fields and Model.clean): what a form, the admin and the
importer refuse is the same, and what one of them saves the others take back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from maps.interchange import InterchangeError, import_map
from maps.models import ContentAsset, Workspace

from .web import HX, field_errors, login, snapshot

FULL_MAP = Path(__file__).parent / "data" / "full_map.json"


def test_an_ftp_address_is_refused_by_the_content_form(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("library_create", args=["acme", "content"]),
        {"title": "Spec sheet", "type": "tool", "status": "live", "url": "ftp://files.example.com/spec"},
        **HX,
    )
    assert response.status_code == 422
    assert field_errors(response, "url") == ["must be an http:// or https:// address"]
    assert snapshot() == before


def test_an_ftp_address_is_refused_by_the_admin(admin_client, small_map):
    guide = ContentAsset.objects.get(key="guide")
    url = reverse("admin:maps_contentasset_change", args=[guide.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: ("" if form[name].value() is None else form[name].value()) for name in form.fields}
    data["url"] = "ftp://files.example.com/guide.pdf"
    response = admin_client.post(url, data)
    assert response.status_code == 200  # the form again, not a redirect
    assert "must be an http:// or https:// address" in response.content.decode()
    guide.refresh_from_db()
    assert guide.url == ""


def test_a_count_too_big_for_the_database_is_refused_on_every_database(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {"name": "Decision", "key": "decision", "entered": str(2**40)},
        **HX,
    )
    assert response.status_code == 422
    assert field_errors(response, "entered") == ["Ensure this value is less than or equal to 2147483647."]
    assert snapshot() == before


@pytest.mark.parametrize("text", ["Why\x00now?", "Bell\x07", "Escape\x1b[31m"])
def test_control_characters_in_a_question_are_refused_by_the_form(client, owner, small_map, text):
    login(client, owner)
    before = snapshot()
    response = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {"name": "Decision", "key": "decision", "questions": f"Fine question\n{text}"},
        **HX,
    )
    assert response.status_code == 422
    assert field_errors(response, "questions") == ["line 2 must not contain control characters or line breaks"]
    assert snapshot() == before


def test_control_characters_in_a_name_are_refused_by_the_form(client, owner, small_map):
    login(client, owner)
    response = client.post(
        reverse("touchpoint_edit", args=["acme", "launch", "demo"]),
        {"name": "Live\x07demo", "key": "demo", "stage": small_map.stages.get(key="decision").pk},
        **HX,
    )
    assert response.status_code == 422
    assert "must not contain control characters (found U+0007)" in field_errors(response, "name")[0]


def test_the_importer_refuses_a_question_the_form_refuses(db):
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    doc["stages"][0]["questions"].append("Why\x07now?")
    with pytest.raises(InterchangeError, match=r"stages\[0\]\.questions: line \d+ must not contain control"):
        import_map(doc, Workspace.objects.create(slug="w", name="W"))


def test_tabs_and_line_breaks_are_allowed_in_long_texts(client, owner, small_map):
    login(client, owner)
    response = client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {"name": "Decision", "key": "decision", "goal": "Close\tthe deal\r\nthis quarter"},
        **HX,
    )
    assert response.status_code == 200
    assert small_map.stages.get(key="decision").goal == "Close\tthe deal\r\nthis quarter"
