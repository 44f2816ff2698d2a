"""Every change to a map is a revision: who, when, what, and the map as it was."""

from __future__ import annotations

from django.urls import reverse

from maps import changes, revisions
from maps.interchange import export_map
from maps.models import JourneyMap, Revision

from .web import HX, login


def summaries(journey_map: JourneyMap) -> list[str]:
    return list(Revision.objects.filter(map=journey_map).order_by("number").values_list("summary_text", flat=True))


def test_an_edit_through_the_page_is_a_revision_with_who_and_what(client, editor, small_map):
    login(client, editor)
    client.post(reverse("touchpoint_move", args=["acme", "launch", "ad", "right"]), **HX)
    latest = Revision.objects.filter(map=small_map).order_by("-number").first()
    assert latest.user == editor
    assert latest.summary == "moved ‘LinkedIn ad’ from ‘Awareness’ to ‘Decision’"
    assert latest.stage == "awareness"
    assert JourneyMap.objects.get(pk=small_map.pk).version == latest.number


def test_the_first_change_to_a_map_without_history_starts_it(client, editor, small_map):
    login(client, editor)
    client.post(reverse("stage_move", args=["acme", "launch", "decision", "left"]), **HX)
    assert summaries(small_map) == ["History starts here.", "moved the stage ‘Decision’ left"]


def test_a_save_that_changes_nothing_is_no_revision(client, editor, small_map):
    changes.record_creation(small_map)
    login(client, editor)
    page = client.get(reverse("stage_edit", args=["acme", "launch", "decision"]), **HX)
    assert page.status_code == 200
    client.post(
        reverse("stage_edit", args=["acme", "launch", "decision"]),
        {
            "name": "Decision",
            "key": "decision",
            "lead": small_map.stages.get(key="decision").lead_id,
            "required_roles": list(small_map.stages.get(key="decision").required_roles.values_list("pk", flat=True)),
            "content": list(small_map.stages.get(key="decision").content.values_list("pk", flat=True)),
        },
        **HX,
    )
    assert summaries(small_map) == ["created the map"]


def test_the_document_of_every_revision_is_the_export_of_that_moment(small_map, editor):
    changes.record_creation(small_map)
    exports = {1: export_map(small_map)}
    webinar = small_map.touchpoints.get(key="webinar")
    for step in range(2, 60):  # past two checkpoints
        direction = "right" if step % 2 == 0 else "left"
        changes.move_touchpoint(small_map, webinar, direction, user=editor)
        webinar.refresh_from_db()
        exports[small_map.version] = export_map(small_map)
    assert small_map.version == 59
    for number, doc in exports.items():
        assert changes.document_at(small_map, number) == doc
    checkpoints = Revision.objects.filter(map=small_map).exclude(checkpoint=None).values_list("number", flat=True)
    assert sorted(checkpoints) == [1, 25, 50]


def test_a_revision_stores_its_difference_not_the_whole_map(small_map, editor):
    changes.record_creation(small_map)
    changes.move_stage(small_map, "decision", -1, user=editor)
    latest = Revision.objects.get(map=small_map, number=2)
    assert latest.checkpoint is None
    # Touchpoints are listed stage by stage: the list moves, no stage's touchpoints do.
    assert revisions.touched(revisions.unpack(latest.delta)) == {("stages", "#order")}


def test_a_library_edit_is_a_revision_of_every_map_that_shows_it_and_no_other(client, owner, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    changes.record_creation(small_map)
    changes.record_creation(other)
    login(client, owner)
    client.post(
        reverse("library_edit", args=["acme", "personas", "cfo"]),
        {"name": "Carla the CFO", "key": "cfo", "influence": "5"},
        **HX,
    )
    assert summaries(small_map)[-1] == "edited the persona ‘Carla the CFO’ in the library"
    assert summaries(other) == ["created the map"]


def test_an_admin_edit_is_a_revision_by_the_admin(admin_client, admin_user, small_map):
    changes.record_creation(small_map)
    demo = small_map.touchpoints.get(key="demo")
    url = reverse("admin:maps_touchpoint_change", args=[demo.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update({"name": "Live demo (admin)", "flows_out-TOTAL_FORMS": "0", "flows_out-INITIAL_FORMS": "0"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    latest = Revision.objects.filter(map=small_map).order_by("-number").first()
    assert latest.user == admin_user
    assert latest.summary == "changed touchpoint ‘Live demo (admin)’ in the admin"
