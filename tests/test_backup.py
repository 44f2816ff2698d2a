"""The workspace backup (maps/backup.py, export_workspace / import_workspace and the
owners' download): everything a team made comes back, byte for byte, and a bad backup
is refused with its place and writes nothing."""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from maps import backup, changes, comments, history, votes
from maps.interchange import dumps
from maps.models import (
    Action,
    AuditEvent,
    BuyingRole,
    Comment,
    ContentAsset,
    Department,
    JourneyMap,
    Membership,
    Persona,
    Revision,
    TrashItem,
    VoteDot,
    Workspace,
)

from .conftest import PASSWORD

# Text a CSV, a JSON writer or a shell would trip over, and Japanese.
HOSTILE = "He said \"no\", then; left\nnew line, 'quote', back\\slash, 「日本語の引用」、句読点；改行"


@pytest.fixture
def busy_workspace(workspace, owner, editor, viewer, small_map):
    """The small map edited, commented, voted on and partly deleted; a Japanese map, an
    archived one and one in the trash beside it."""
    jm = small_map
    cfo = Persona.objects.get(workspace=workspace, key="cfo")
    with changes.editing(jm, owner, "described the map"):
        jm.description = HOSTILE
        jm.save()
    with changes.editing(jm, editor, "pain"):
        demo = jm.touchpoints.get(key="demo")
        demo.pain_point, demo.opportunity = HOSTILE, "Shorter demo; 短いデモ"
        demo.save()
    with changes.editing_library(workspace, editor, "persona"):
        cfo.goals = HOSTILE
        cfo.save()
    with changes.editing(jm, editor, "renamed the ad"):
        ad = jm.touchpoints.get(key="ad")
        ad.name = 'LinkedIn 広告, "sponsored"'
        ad.save()
    history.undo(jm, editor)
    with changes.editing(jm, editor, "actions"):
        Action.objects.create(
            map=jm, key="shorter-demo", title=HOSTILE[:200], impact=5, effort=2, source="pain:demo", due="2027-01-31"
        )
        Action.objects.create(
            map=jm, key="lead", title="リードを決める", owner=Department.objects.get(key="sales"), order=1
        )
    changes.delete_touchpoint(jm, jm.touchpoints.get(key="webinar"), user=owner)
    changes.delete_library_item(Department.objects.get(workspace=workspace, key="service"), user=owner)

    thread = comments.post(jm, comments.Target(), f"@bob {HOSTILE}", owner)
    comments.reply(thread, '返信です; ok, "fine"', editor)
    comments.post(jm, comments.Target(Comment.STAGE, stage="decision"), "Who leads?", viewer)
    comments.resolve(thread, owner)

    session = votes.open_vote(JourneyMap.objects.loaded().get(pk=jm.pk), owner, "What first? 最優先は")
    item = session.items.first()
    votes.place_dot(session, owner, item.pk)
    votes.place_dot(session, editor, item.pk)
    votes.close_vote(session, owner)

    japanese = JourneyMap.objects.create(workspace=workspace, key="ja", name="日本の旅", language="ja", goal=HOSTILE)
    changes.record_creation(japanese, owner)
    archived = JourneyMap.objects.create(workspace=workspace, key="old", name='Old, "archived"')
    changes.record_creation(archived, owner)
    changes.set_archived(archived, True, user=owner)
    gone = JourneyMap.objects.create(workspace=workspace, key="gone", name="Gone; deleted")
    changes.record_creation(gone, owner)
    changes.delete_map(gone, user=owner)
    return workspace


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as caught:
        run(*args)
    assert caught.value.returncode == 2
    assert "\n" not in str(caught.value)
    return str(caught.value)


def empty_the_database() -> None:
    """As on a new installation: no workspace, no account (maps first: the library is
    protected while a map uses it)."""
    JourneyMap.objects.all().delete()
    for model in (Persona, ContentAsset, BuyingRole, Department, Workspace, get_user_model()):
        model.objects.all().delete()


def snapshot() -> dict:
    return {model.__name__: model.objects.count() for model in (Workspace, JourneyMap, Revision, Comment, Membership)}


# --- round trips ---------------------------------------------------------------------------


def test_a_backup_holds_every_map_member_comment_vote_and_revision(busy_workspace):
    doc = backup.export_workspace(busy_workspace)
    assert [entry["document"]["map"]["key"] for entry in doc["maps"]] == ["gone", "ja", "launch", "old"]
    assert {m["user"]: m["role"] for m in doc["members"]} == {"alice": "owner", "bob": "editor", "charlie": "viewer"}
    launch = doc["maps"][2]
    assert launch["document"]["map"]["description"] == HOSTILE
    assert [c["reply_to"] for c in launch["comments"]] == [None, 0, None]
    assert launch["comments"][0]["mentions"] == ["bob"] and launch["comments"][0]["resolved_by"] == "alice"
    assert [dot["user"] for dot in launch["votes"][0]["items"][0]["dots"]] == ["alice", "bob"]
    assert [r["number"] for r in launch["revisions"]] == list(range(1, launch["version"] + 1))
    assert {item["kind"] for item in doc["trash"]} == {"map", "touchpoint", "library"}
    assert "service" not in [d["key"] for d in doc["departments"]]
    assert [a["key"] for a in launch["document"]["actions"]] == ["shorter-demo", "lead"]


def test_a_workspace_restored_under_a_new_slug_exports_the_same_document(busy_workspace):
    before = backup.export_workspace(busy_workspace)
    restored = backup.import_workspace(json.loads(dumps(before)), slug="acme-copy")

    after = backup.export_workspace(restored.workspace)
    assert after["workspace"]["slug"] == "acme-copy"
    after["workspace"]["slug"] = "acme"
    assert dumps(after) == dumps(before)
    assert restored.accounts_created == []


def test_a_restore_into_an_empty_database_gives_back_the_same_bytes(busy_workspace):
    text = dumps(backup.export_workspace(busy_workspace))
    empty_the_database()

    restored = backup.import_workspace(json.loads(text))

    assert dumps(backup.export_workspace(restored.workspace)) == text
    assert restored.accounts_created == ["alice", "bob", "charlie"]


def test_a_restored_map_keeps_its_history_and_can_be_edited_and_undone(busy_workspace):
    original = busy_workspace.maps.get(key="launch")
    copy_ws = backup.import_workspace(backup.export_workspace(busy_workspace), slug="copy").workspace
    restored = copy_ws.maps.get(key="launch")
    for number in range(1, original.version + 1):
        assert changes.document_at(restored, number) == changes.document_at(original, number)

    bob = get_user_model().objects.get(username="bob")
    with changes.editing(restored, bob, "renamed the map"):
        restored.name = "Renamed after the restore"
        restored.save()
    assert restored.version == original.version + 1
    history.undo(restored, bob)
    assert JourneyMap.objects.get(pk=restored.pk).name == original.name


def test_restored_accounts_cannot_sign_in_until_a_password_is_set(busy_workspace, client):
    text = dumps(backup.export_workspace(busy_workspace))
    empty_the_database()
    backup.import_workspace(json.loads(text))

    alice = get_user_model().objects.get(username="alice")
    assert not alice.has_usable_password()
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert client.get(reverse("account")).status_code == 302
    assert Membership.objects.get(user=alice).role == Membership.OWNER


# --- the commands ---------------------------------------------------------------------------


def test_the_commands_round_trip_a_backup_file_and_print_the_slug(busy_workspace, tmp_path):
    path, again = tmp_path / "acme.json", tmp_path / "again.json"
    assert run("export_workspace", "acme", "-o", str(path)) == ("", "")
    assert run("import_workspace", str(path), "--slug", "acme-2") == ("acme-2\n", "")
    run("export_workspace", "acme-2", "-o", str(again))
    assert again.read_text(encoding="utf-8") == path.read_text(encoding="utf-8").replace(
        '"slug": "acme"', '"slug": "acme-2"', 1
    )


def test_import_workspace_names_the_accounts_it_created(busy_workspace, tmp_path):
    path = tmp_path / "acme.json"
    run("export_workspace", "acme", "-o", str(path))
    empty_the_database()

    out, err = run("import_workspace", str(path))

    assert out == "acme\n"
    assert 'created the account "alice" without a password: set one with manage.py changepassword alice' in err
    assert len(err.splitlines()) == 3


def test_import_workspace_refuses_a_taken_slug_and_writes_nothing(busy_workspace, tmp_path):
    path = tmp_path / "acme.json"
    run("export_workspace", "acme", "-o", str(path))
    before = snapshot()

    message = refused("import_workspace", str(path))

    assert message == 'workspace.slug: a workspace "acme" exists already: restore under another one with --slug'
    assert snapshot() == before


def test_import_workspace_refuses_a_slug_that_is_no_slug(busy_workspace, tmp_path):
    path = tmp_path / "acme.json"
    run("export_workspace", "acme", "-o", str(path))
    assert refused("import_workspace", str(path), "--slug", "not a slug").startswith("--slug: must be a slug")


def test_export_workspace_of_an_unknown_workspace_exits_2_and_keeps_the_file(db, tmp_path):
    path = tmp_path / "keep.json"
    path.write_text("precious", encoding="utf-8")
    assert refused("export_workspace", "nope", "-o", str(path)) == 'no workspace "nope"'
    assert path.read_text(encoding="utf-8") == "precious"


def test_import_workspace_of_a_missing_file_exits_2(db, tmp_path):
    assert refused("import_workspace", str(tmp_path / "missing.json")).startswith('cannot read "')


def test_import_workspace_of_a_file_that_is_not_json_exits_2(db, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": ', encoding="utf-8")
    assert refused("import_workspace", str(path)).startswith("line 1 column 12: not valid JSON")


def _spoiled(doc: dict, how: str) -> dict:
    doc = copy.deepcopy(doc)
    launch = next(entry for entry in doc["maps"] if entry["document"]["map"]["key"] == "launch")
    if how == "format":
        doc["format"] = "journeymap/1"
    elif how == "author":
        launch["comments"][0]["author"] = "eve"
    elif how == "reply":
        launch["comments"][0]["reply_to"] = 1
    elif how == "numbers":
        launch["revisions"][1]["number"] = 1
    elif how == "document":
        launch["document"]["touchpoints"][0]["next"] = ["contrat"]
    elif how == "library":
        launch["document"]["personas"][0]["name"] = "Someone else"
    elif how == "trash":
        doc["trash"][0]["map"] = "nowhere"
    elif how == "member":
        doc["members"][1]["user"] = "alice"
    elif how == "time":
        launch["created"] = "yesterday"
    elif how == "dots":
        launch["votes"][0]["items"][0]["dots"][0]["user"] = None
    return doc


@pytest.mark.parametrize(
    ("how", "message"),
    [
        ("format", 'format: must be "journeymap-workspace/1"'),
        ("author", "maps[2].comments[0].author: must be a user name listed in people"),
        ("reply", "maps[2].comments[0].reply_to: must be the position of an earlier comment, or null"),
        ("numbers", "maps[2].revisions[1].number: must be above the number of the revision before it"),
        ("document", 'maps[2].document.touchpoints[0].next[0]: no touchpoint "contrat"'),
        ("library", "maps[2].document.personas[0].name: differs from the workspace library of the backup"),
        ("trash", 'trash[0].map: no map "nowhere" in the backup'),
        ("member", "members[1].user: is the same as that of members[0]"),
        ("time", "maps[2].created: must be a time with its offset (2026-05-01T09:30:00+00:00)"),
        ("dots", "maps[2].votes[0].items[0].dots[0].user: must be a user name listed in people"),
    ],
)
def test_a_spoiled_backup_is_refused_naming_the_place_and_writes_nothing(busy_workspace, tmp_path, how, message):
    path = tmp_path / "spoiled.json"
    path.write_text(dumps(_spoiled(backup.export_workspace(busy_workspace), how)), encoding="utf-8")
    before = snapshot()

    assert refused("import_workspace", str(path), "--slug", "spoiled") == message
    assert snapshot() == before


# --- the owners' download ---------------------------------------------------------------------


def test_an_owner_downloads_the_backup_and_the_security_log_says_so(busy_workspace, owner, client):
    client.force_login(owner)
    response = client.get(reverse("workspace_backup", args=["acme"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="acme-')
    assert json.loads(response.content) == json.loads(dumps(backup.export_workspace(busy_workspace)))
    event = AuditEvent.objects.get(kind=AuditEvent.BACKED_UP)
    assert (event.user, event.workspace) == (owner, busy_workspace)


def test_the_settings_page_offers_the_backup_to_owners_only(workspace, owner, editor, client):
    client.force_login(owner)
    assert reverse("workspace_backup", args=["acme"]) in client.get(reverse("workspace_settings", args=["acme"])).text
    client.force_login(editor)
    assert (
        reverse("workspace_backup", args=["acme"]) not in client.get(reverse("workspace_settings", args=["acme"])).text
    )


@pytest.mark.parametrize(("who", "status"), [("editor", 403), ("viewer", 403), ("stranger", 404)])
def test_only_owners_may_download_the_backup(workspace, owner, editor, viewer, stranger, client, who, status):
    client.force_login({"editor": editor, "viewer": viewer, "stranger": stranger}[who])
    assert client.get(reverse("workspace_backup", args=["acme"])).status_code == status
    assert not AuditEvent.objects.filter(kind=AuditEvent.BACKED_UP).exists()


def test_dots_survive_for_every_voter(busy_workspace):
    restored = backup.import_workspace(backup.export_workspace(busy_workspace), slug="copy").workspace
    voters = VoteDot.objects.filter(item__session__map__workspace=restored).values_list("user__username", flat=True)
    assert sorted(voters) == ["alice", "bob"]
    assert TrashItem.objects.filter(workspace=restored).count() == 3
