"""journeymap-workspace/1: a whole workspace in one JSON document, to back up and restore.

`export_workspace` writes everything a team made in a workspace: its name, the members
(by user name) and their roles, the whole library, and every map (archived and trashed
ones too) as its journeymap/1 document with its revisions (the stored differences and
checkpoints, as they are, so the history survives), comments (threads, authors, times,
resolved state), votes (questions, items, every dot) and the trash. `import_workspace`
checks a document completely, then writes it in one transaction as a new workspace.
Exporting the restored workspace gives the same document, byte for byte (with the slug
it was given under `--slug`).

Decisions (docs/format.md, "Workspace backup"):
- Accounts are named by user name only. A restore uses the accounts the database has;
  one that is missing is created without a usable password (nobody can sign in with it
  until an administrator sets one), and the restore lists those it created.
- Share links and invitation links are left out: they are secrets, and a restore must
  not open old links in a new place. The security log stays with the installation.
- The slug of an existing workspace is refused; nothing is merged.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils.translation import gettext as _

from . import interchange, revisions
from .interchange import InterchangeError, Keys
from .models import (
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
    VoteItem,
    VoteSession,
    Workspace,
)
from .said import Said
from .validators import TEXT_MAX_LENGTH

FORMAT = "journeymap-workspace/1"
# The library lists of a map document, without what belongs to one map (stage links).
LIBRARY = ("departments", "roles", "personas", "content")
MAP_ONLY = {"personas": ("stages",), "content": ("stages",)}


def _when(value: datetime.datetime | None) -> str | None:
    return value.astimezone(datetime.UTC).isoformat() if value is not None else None


def _name(user) -> str | None:
    return user.get_username() if user is not None else None


# --- export ----------------------------------------------------------------------------


def export_workspace(workspace: Workspace) -> dict:
    """The journeymap-workspace/1 document of `workspace`, read afresh."""
    maps = list(JourneyMap.objects.filter(workspace=workspace).order_by("key"))
    library = _export_library(workspace)
    doc = {
        "format": FORMAT,
        "workspace": {"slug": workspace.slug, "name": workspace.name, "created": _when(workspace.created)},
        "people": [],
        "members": [
            {"user": m.user.get_username(), "role": m.role, "joined": _when(m.joined)}
            for m in Membership.objects.filter(workspace=workspace).select_related("user").order_by("user__username")
        ],
        **library,
        "maps": [_export_one_map(journey_map) for journey_map in maps],
        "trash": [
            {
                "kind": item.kind,
                "map": item.map.key if item.map_id else None,
                "name": item.name,
                "payload": item.payload,
                "deleted": _when(item.deleted),
                "deleted_by": _name(item.deleted_by),
            }
            for item in TrashItem.objects.filter(workspace=workspace)
            .select_related("map", "deleted_by")
            .order_by("deleted", "id")
        ],
    }
    doc["people"] = sorted(_people(doc))
    return doc


def _export_library(workspace: Workspace) -> dict:
    """Every library item, in the library's order, with the format's fields."""
    personas = list(workspace.personas.select_related("role"))
    return {
        "departments": [{"key": d.key, "name": d.name} for d in workspace.departments.all()],
        "roles": [{"key": r.key, "name": r.name} for r in workspace.roles.all()],
        "personas": [
            {
                "key": p.key,
                "name": p.name,
                "role": p.role.key if p.role else None,
                **{name: getattr(p, name) for name in PERSONA_TEXTS},
                "influence": p.influence,
            }
            for p in personas
        ],
        "content": [
            {
                "key": c.key,
                "title": c.title,
                "type": c.type,
                "url": c.url,
                "personas": [p.key for p in sorted(c.personas.all(), key=lambda p: (p.order, p.id))],
                "questions": list(c.questions),
                "status": c.status,
                "last_reviewed": c.last_reviewed.isoformat() if c.last_reviewed else None,
            }
            for c in workspace.content.prefetch_related("personas")
        ],
    }


PERSONA_TEXTS = ("title", "goals", "motivations", "triggers", "fears", "background")


def _export_one_map(journey_map: JourneyMap) -> dict:
    found = journey_map.revisions.select_related("user", "undoes").order_by("number")
    comments = list(
        journey_map.comments.select_related("author", "resolved_by")
        .prefetch_related("mentions")
        .order_by("created", "id")
    )
    at = {comment.id: i for i, comment in enumerate(comments)}
    return {
        "document": interchange.export_map(journey_map),
        "archived": journey_map.archived,
        "deleted": _when(journey_map.deleted),
        "created": _when(journey_map.created),
        "updated": _when(journey_map.updated),
        "version": journey_map.version,
        "revisions": [
            {
                "number": r.number,
                "user": _name(r.user),
                "at": _when(r.at),
                "summary": r.summary_text,
                "said": r.said,
                "stage": r.stage,
                "delta": revisions.unpack(r.delta),
                "checkpoint": revisions.unpack(r.checkpoint) if r.checkpoint is not None else None,
                "undoes": r.undoes.number if r.undoes else None,
                "token": r.token,
            }
            for r in found
        ],
        "comments": [
            {
                "target": c.target,
                "stage": c.stage_key,
                "touchpoint": c.touchpoint_key,
                "gap": c.gap,
                "reply_to": at.get(c.parent_id),
                "author": _name(c.author),
                "body": c.body,
                "mentions": sorted(user.get_username() for user in c.mentions.all()),
                "created": _when(c.created),
                "edited": _when(c.edited),
                "resolved": _when(c.resolved),
                "resolved_by": _name(c.resolved_by),
            }
            for c in comments
        ],
        "votes": [_export_vote(session) for session in journey_map.vote_sessions.order_by("created", "id")],
    }


def _export_vote(session: VoteSession) -> dict:
    items = session.items.prefetch_related("dots__user").order_by("order", "id")
    return {
        "title": session.title,
        "votes_each": session.votes_each,
        "hidden": session.hidden,
        "ends": _when(session.ends),
        "created": _when(session.created),
        "created_by": _name(session.created_by),
        "closed": _when(session.closed),
        "items": [
            {
                "kind": item.kind,
                "key": item.key,
                "stage": item.stage_key,
                "label": item.label,
                "dots": [{"user": dot.user.get_username(), "at": _when(dot.created)} for dot in item.dots.all()],
            }
            for item in items
        ],
    }


def _people(doc: dict) -> set[str]:
    """Every user name the document names (members, authors, voters...)."""
    names = {m["user"] for m in doc.get("members", [])}
    names |= {item["deleted_by"] for item in doc.get("trash", [])}
    for entry in doc.get("maps", []):
        names |= {r["user"] for r in entry["revisions"]}
        for c in entry["comments"]:
            names |= {c["author"], c["resolved_by"], *c["mentions"]}
        for vote in entry["votes"]:
            names.add(vote["created_by"])
            names |= {dot["user"] for item in vote["items"] for dot in item["dots"]}
    names.discard(None)
    return names


# --- validation ------------------------------------------------------------------------

Check = interchange.Check


def _is(kind: type, message: Callable[[], str], nullable: bool = False) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None and nullable:
            return
        # bool is an int to Python, never to the person who wrote `true`.
        if type(value) is not kind:
            raise InterchangeError(place, message())

    return check


def _a_boolean() -> str:
    # Translators: refusal of a workspace backup, after the place of a field ("maps[0].archived: ");
    # "true" and "false" are the JSON words: keep them.
    return _("must be true or false")


def _an_object() -> str:
    # Translators: refusal of a workspace backup, after the place of a field that must be
    # a JSON object {...} ("maps[0].revisions[3].delta: ").
    return _("must be an object")


def _when_check(nullable: bool = False) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None and nullable:
            return
        try:
            if not isinstance(value, str):
                raise ValueError
            parsed = datetime.datetime.fromisoformat(value)
            if parsed.tzinfo is None:
                raise ValueError
        except ValueError:
            if nullable:
                # Translators: refusal of a workspace backup, after the place of a time
                # ("maps[0].deleted: "); the example shows the form and stays as it is;
                # "null" is the JSON word for no value: keep it.
                message = _("must be a time with its offset (2026-05-01T09:30:00+00:00), or null")
            else:
                # Translators: refusal of a workspace backup, after the place of a time; keep the example.
                message = _("must be a time with its offset (2026-05-01T09:30:00+00:00)")
            raise InterchangeError(place, message) from None

    return check


def _person(nullable: bool = True) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None and nullable:
            return
        if not isinstance(value, str) or value not in keys["people"]:
            # Translators: refusal of a workspace backup, after the place of a user name
            # ("maps[0].comments[2].author: "); "people" is the name of the list in the
            # file that names every account: keep it as it is.
            raise InterchangeError(place, _("must be a user name listed in people"))

    return check


def _people_list(value: object, place: str, obj: dict, keys: Keys) -> None:
    if not isinstance(value, list):
        raise InterchangeError(place, _("must be a list"))
    for i, name in enumerate(value):
        _person(nullable=False)(name, f"{place}[{i}]", obj, keys)


def _short_text(limit: int) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if not isinstance(value, str):
            raise InterchangeError(place, _("must be text"))
        if len(value) > limit:
            raise InterchangeError(place, interchange._too_long(limit, value))

    return check


def _number_at_least(low: int) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if type(value) is not int or value < low:
            # Translators: refusal of a workspace backup, after the place of a number
            # ("maps[0].version: ").
            raise InterchangeError(place, _("must be a whole number of at least %(low)s") % {"low": low})

    return check


def _choice_of(model, name: str) -> Check:
    return interchange._choice([value for value, _label in model._meta.get_field(name).choices])


def _list_of(fields: dict[str, Check], required: tuple[str, ...]) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        for i, item in interchange._objects(value, place):
            interchange._check_object(item, f"{place}[{i}]", fields, required, keys)

    return check


def _said(value: object, place: str, obj: dict, keys: Keys) -> None:
    if value is None:
        return
    try:
        Said.from_json(value)
    except (ValueError, TypeError, RecursionError):
        # Translators: refusal of a workspace backup, after the place of a revision's
        # stored sentence ("maps[0].revisions[3].said: "); "msgid" and "values" are its
        # fields, "null" the JSON word for no value: keep them.
        raise InterchangeError(place, _('must be null or an object with "msgid" and "values"')) from None


def _username(value: object, place: str, obj: dict, keys: Keys) -> None:
    model = get_user_model()
    name_field = model._meta.get_field(model.USERNAME_FIELD)
    _short_text(name_field.max_length)(value, place, obj, keys)
    if not value:
        raise InterchangeError(place, _("must not be empty"))
    interchange._rules(name_field, value, place)


def _elsewhere(value: object, place: str, obj: dict, keys: Keys) -> None:
    """A field checked with its whole list (or document), after the field by field checks."""


DOT_FIELDS = {"user": _person(nullable=False), "at": _when_check()}
VOTE_ITEM_FIELDS = {
    "kind": _choice_of(VoteItem, "kind"),
    "key": _short_text(VoteItem._meta.get_field("key").max_length),
    "stage": _short_text(64),
    "label": _short_text(TEXT_MAX_LENGTH),
    "dots": _list_of(DOT_FIELDS, ("user", "at")),
}
VOTE_FIELDS = {
    "title": interchange._text(VoteSession, "title", required=True),
    "votes_each": interchange._whole(VoteSession, "votes_each"),
    "hidden": _is(bool, _a_boolean),
    "ends": _when_check(nullable=True),
    "created": _when_check(),
    "created_by": _person(),
    "closed": _when_check(nullable=True),
    "items": _list_of(VOTE_ITEM_FIELDS, ("kind", "key", "label")),
}
COMMENT_FIELDS = {
    "target": _choice_of(Comment, "target"),
    "stage": _short_text(64),
    "touchpoint": _short_text(64),
    "gap": _short_text(Comment._meta.get_field("gap").max_length),
    "reply_to": _elsewhere,  # checked with its list: an earlier comment
    "author": _person(),
    "body": interchange._text(Comment, "body", required=True),
    "mentions": _people_list,
    "created": _when_check(),
    "edited": _when_check(nullable=True),
    "resolved": _when_check(nullable=True),
    "resolved_by": _person(),
}
REVISION_FIELDS = {
    "number": _number_at_least(1),
    "user": _person(),
    "at": _when_check(),
    "summary": _short_text(Revision._meta.get_field("summary_text").max_length),
    "said": _said,
    "stage": _short_text(Revision._meta.get_field("stage").max_length),
    "delta": _is(dict, _an_object),
    "checkpoint": _is(dict, _an_object, nullable=True),
    "undoes": _elsewhere,  # checked with its list: an earlier revision
    "token": _short_text(Revision._meta.get_field("token").max_length),
}
MAP_ENTRY_FIELDS = {
    "document": _elsewhere,  # a journeymap/1 document: interchange.validate
    "archived": _is(bool, _a_boolean),
    "deleted": _when_check(nullable=True),
    "created": _when_check(),
    "updated": _when_check(),
    "version": _number_at_least(0),
    "revisions": _list_of(REVISION_FIELDS, ("number", "at", "delta")),
    "comments": _list_of(COMMENT_FIELDS, ("body", "created")),
    "votes": _list_of(VOTE_FIELDS, ("title", "created")),
}
MEMBER_FIELDS = {"user": _person(nullable=False), "role": _choice_of(Membership, "role"), "joined": _when_check(True)}
TRASH_FIELDS = {
    "kind": _choice_of(TrashItem, "kind"),
    "map": _elsewhere,  # checked with the maps: a key of one of them
    "name": _short_text(TrashItem._meta.get_field("name").max_length),
    "payload": _is(dict, _an_object),
    "deleted": _when_check(),
    "deleted_by": _person(),
}
WORKSPACE_FIELDS = {
    "slug": interchange._slug,
    "name": interchange._text(Workspace, "name", required=True),
    "created": _when_check(),
}
TOP_LEVEL = ("format", "workspace", "people", "members", *LIBRARY, "maps", "trash")


def _library_fields(list_name: str) -> dict[str, Check]:
    fields, _required = interchange.LISTS[list_name]
    return {name: check for name, check in fields.items() if name not in MAP_ONLY.get(list_name, ())}


def validate(doc: object) -> None:
    """Raise InterchangeError for the first problem of a backup, naming its place."""
    if not isinstance(doc, dict):
        raise InterchangeError(interchange._document(), interchange._json_object())
    if doc.get("format") != FORMAT:
        raise InterchangeError("format", _('must be "%(format)s"') % {"format": FORMAT})
    for name in doc:
        if name not in TOP_LEVEL:
            raise InterchangeError(name, interchange._unknown_field())
    for name in ("workspace", "people", "members", "maps"):
        if name not in doc:
            raise InterchangeError(name, interchange._missing())
    if not isinstance(doc["workspace"], dict):
        raise InterchangeError("workspace", _an_object())
    keys = interchange._collect_keys(doc)
    keys["people"] = {}
    if not isinstance(doc["people"], list):
        raise InterchangeError("people", _("must be a list"))
    for i, name in enumerate(doc["people"]):
        _username(name, f"people[{i}]", doc, keys)
        if name in keys["people"]:
            # Translators: refusal of a workspace backup, after the place of a user name
            # ("people[3]: "); %(name)s is the name as written (keep its quotes).
            raise InterchangeError(f"people[{i}]", _('"%(name)s" listed twice') % {"name": name})
        keys["people"][name] = (i, doc)
    interchange._check_object(doc["workspace"], "workspace", WORKSPACE_FIELDS, ("slug", "name"), keys)
    _list_of(MEMBER_FIELDS, ("user", "role"))(doc["members"], "members", doc, keys)
    _unique([m["user"] for m in doc["members"]], "members", "user")
    for list_name in LIBRARY:
        fields, required = interchange.LISTS[list_name]
        _list_of(_library_fields(list_name), required)(doc.get(list_name, []), list_name, doc, keys)
    for i, entry in interchange._objects(doc["maps"], "maps"):
        _validate_map(entry, f"maps[{i}]", doc, keys)
    _unique([entry["document"]["map"]["key"] for entry in doc["maps"]], "maps", "document.map.key")
    map_keys = {entry["document"]["map"]["key"] for entry in doc["maps"]}
    _list_of(TRASH_FIELDS, ("kind", "name", "payload", "deleted"))(doc.get("trash", []), "trash", doc, keys)
    for i, item in enumerate(doc.get("trash", [])):
        if item.get("map") is not None and item["map"] not in map_keys:
            # Translators: refusal of a workspace backup, after the place of a trashed
            # item's map ("trash[0].map: "); keep "%(key)s" as it is, in its quotes.
            raise InterchangeError(f"trash[{i}].map", _('no map "%(key)s" in the backup') % {"key": item["map"]})


def _unique(values: list, place: str, name: str) -> None:
    seen = {}
    for i, value in enumerate(values):
        if value in seen:
            # Translators: refusal of a workspace backup, after the place of an item
            # ("members[3].user: "); %(place)s is the place of the earlier one ("members[0]").
            message = _("is the same as that of %(place)s") % {"place": f"{place}[{seen[value]}]"}
            raise InterchangeError(f"{place}[{i}].{name}", message)
        seen[value] = i


def _validate_map(entry: dict, place: str, doc: dict, keys: Keys) -> None:
    interchange._check_object(entry, place, MAP_ENTRY_FIELDS, ("document", "version", "created", "updated"), keys)
    try:
        interchange.validate(entry["document"])
    except InterchangeError as err:
        # The document's own places, under the map's ("maps[2].document.stages[0].name").
        inner = "" if err.place == interchange._document() else f".{err.place}"
        raise InterchangeError(f"{place}.document{inner}", err.message) from None
    _same_library(entry["document"], f"{place}.document", doc)
    numbers: dict[int, int] = {}
    for i, revision in enumerate(entry.get("revisions", [])):
        here = f"{place}.revisions[{i}]"
        if numbers and revision["number"] <= max(numbers):
            # Translators: refusal of a workspace backup, after the place of a revision's
            # number ("maps[0].revisions[3].number: ").
            raise InterchangeError(f"{here}.number", _("must be above the number of the revision before it"))
        if revision["number"] > entry["version"]:
            # Translators: refusal of a workspace backup, after the place of a revision's
            # number; "version" is the name of the map's field in the file: keep it.
            raise InterchangeError(f"{here}.number", _("must not be above the map's version"))
        if i == 0 and revision.get("checkpoint") is None:
            # Translators: refusal of a workspace backup, after the place of a map's
            # first revision's "checkpoint" (the whole document, where history starts).
            raise InterchangeError(f"{here}.checkpoint", _("must hold the whole document: history starts here"))
        undoes = revision.get("undoes")
        if undoes is not None and undoes not in numbers:
            # Translators: refusal of a workspace backup, after the place of a revision's
            # "undoes" field: the number of the earlier revision it undid.
            raise InterchangeError(f"{here}.undoes", _("must be the number of an earlier revision, or null"))
        numbers[revision["number"]] = i
    for i, comment in enumerate(entry.get("comments", [])):
        reply_to = comment.get("reply_to")
        if reply_to is not None and (type(reply_to) is not int or not 0 <= reply_to < i):
            # Translators: refusal of a workspace backup, after the place of a comment's
            # "reply_to" field: the position of the comment it answers in the list.
            raise InterchangeError(
                f"{place}.comments[{i}].reply_to", _("must be the position of an earlier comment, or null")
            )
    for i, vote in enumerate(entry.get("votes", [])):
        _unique([item["key"] for item in vote.get("items", [])], f"{place}.votes[{i}].items", "key")


def _same_library(document: dict, place: str, doc: dict) -> None:
    """A map's library items are the workspace's: same keys, same fields."""
    for list_name in LIBRARY:
        library = {item["key"]: item for item in doc.get(list_name, [])}
        for i, item in enumerate(document.get(list_name, [])):
            here = f"{place}.{list_name}[{i}]"
            own = library.get(item["key"])
            if own is None:
                # Translators: refusal of a workspace backup: a map's document names a library
                # item (persona, content...) that the backup's library does not have.
                message = _('"%(key)s" is not in the workspace library of the backup') % {"key": item["key"]}
                raise InterchangeError(f"{here}.key", message)
            ignored = {"personas", "stages"} if list_name == "content" else {"stages"}
            for name, value in item.items():
                if name not in ignored and own.get(name, value) != value:
                    # Translators: refusal of a workspace backup: a map's copy of a library
                    # item differs from the item in the backup's library.
                    raise InterchangeError(f"{here}.{name}", _("differs from the workspace library of the backup"))


# --- restore ---------------------------------------------------------------------------


@dataclass
class Restored:
    workspace: Workspace
    maps: int = 0
    accounts_created: list[str] = field(default_factory=list)


def import_workspace(doc: dict, slug: str | None = None) -> Restored:
    """Validate `doc`, then write it as a new workspace (`slug`, else the document's):
    all of it or nothing. A slug that is taken is refused."""
    validate(doc)
    slug = doc["workspace"]["slug"] if slug is None else slug
    try:
        validate_slug(slug)
        if len(slug) > Workspace._meta.get_field("slug").max_length:
            raise ValueError
    except (ValidationError, ValueError):
        raise InterchangeError("--slug", _(interchange.SLUG_RULE)) from None
    with transaction.atomic():
        if Workspace.objects.filter(slug=slug).exists():
            # Translators: refusal of a workspace restore: %(slug)s is the slug asked for
            # (keep its quotes); --slug is the command's option: keep it as it is.
            message = _('a workspace "%(slug)s" exists already: restore under another one with --slug') % {"slug": slug}
            raise InterchangeError("workspace.slug", message)
        people, created = _accounts(doc["people"])
        workspace = Workspace.objects.create(slug=slug, name=doc["workspace"]["name"])
        Workspace.objects.filter(pk=workspace.pk).update(created=_time(doc["workspace"].get("created")))
        for member in doc["members"]:
            Membership.objects.create(
                workspace=workspace,
                user=people[member["user"]],
                role=member["role"],
                joined=_time(member.get("joined")),
            )
        _import_library(workspace, doc)
        maps = {entry["document"]["map"]["key"]: _import_one_map(workspace, entry, people) for entry in doc["maps"]}
        for item in doc.get("trash", []):
            TrashItem.objects.create(
                workspace=workspace,
                map=maps[item["map"]] if item.get("map") else None,
                kind=item["kind"],
                name=item["name"],
                payload=item["payload"],
                deleted=_time(item["deleted"]),
                deleted_by=people.get(item.get("deleted_by")),
            )
        # Last: every write above touched the maps' `updated`.
        for entry in doc["maps"]:
            JourneyMap.objects.filter(pk=maps[entry["document"]["map"]["key"]].pk).update(
                archived=entry.get("archived", False),
                deleted=_time(entry.get("deleted")),
                created=_time(entry["created"]),
                updated=_time(entry["updated"]),
                version=entry["version"],
            )
    workspace.refresh_from_db()
    return Restored(workspace, len(maps), created)


def _time(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value is not None else None


def _accounts(names: list[str]) -> tuple[dict, list[str]]:
    """The accounts by user name; missing ones created without a usable password."""
    model = get_user_model()
    found = {
        user.get_username(): user for user in model._default_manager.filter(**{f"{model.USERNAME_FIELD}__in": names})
    }
    created = []
    for name in names:
        if name not in found:
            user = model(**{model.USERNAME_FIELD: name})
            user.set_unusable_password()  # no hashing: nobody signs in until a password is set
            user.save()
            found[name] = user
            created.append(name)
    return found, created


def _import_library(workspace: Workspace, doc: dict) -> None:
    for order, item in enumerate(doc.get("departments", [])):
        Department.objects.create(workspace=workspace, key=item["key"], name=item["name"], order=order)
    roles = {}
    for order, item in enumerate(doc.get("roles", [])):
        roles[item["key"]] = BuyingRole.objects.create(
            workspace=workspace, key=item["key"], name=item["name"], order=order
        )
    personas = {}
    for order, item in enumerate(doc.get("personas", [])):
        fields = interchange._persona_fields(item, roles)
        personas[item["key"]] = Persona.objects.create(workspace=workspace, key=item["key"], order=order, **fields)
    for order, item in enumerate(doc.get("content", [])):
        asset = ContentAsset.objects.create(
            workspace=workspace, key=item["key"], order=order, **interchange._content_fields(item)
        )
        asset.personas.set(personas[key] for key in item.get("personas", []))


def _import_one_map(workspace: Workspace, entry: dict, people: dict) -> JourneyMap:
    # Every library item is there already: the map reuses them as they are.
    journey_map = interchange.import_map(entry["document"], workspace)
    by_number = {}
    for item in entry.get("revisions", []):
        checkpoint = item.get("checkpoint")
        by_number[item["number"]] = Revision.objects.create(
            map=journey_map,
            number=item["number"],
            user=people.get(item.get("user")),
            at=_time(item["at"]),
            summary_text=item.get("summary", ""),
            said=item.get("said"),
            stage=item.get("stage", ""),
            delta=revisions.pack(item["delta"]),
            checkpoint=revisions.pack(checkpoint) if checkpoint is not None else None,
            undoes=by_number.get(item.get("undoes")),
            token=item.get("token", ""),
        )
    comments = []
    for item in entry.get("comments", []):
        comment = Comment.objects.create(
            map=journey_map,
            target=item.get("target", Comment.MAP),
            stage_key=item.get("stage", ""),
            touchpoint_key=item.get("touchpoint", ""),
            gap=item.get("gap", ""),
            parent=comments[item["reply_to"]] if item.get("reply_to") is not None else None,
            author=people.get(item.get("author")),
            body=item["body"],
            created=_time(item["created"]),
            edited=_time(item.get("edited")),
            resolved=_time(item.get("resolved")),
            resolved_by=people.get(item.get("resolved_by")),
        )
        comment.mentions.set(people[name] for name in item.get("mentions", []))
        comments.append(comment)
    for item in entry.get("votes", []):
        _import_vote(journey_map, item, people)
    return journey_map


def _import_vote(journey_map: JourneyMap, item: dict, people: dict) -> None:
    session = VoteSession.objects.create(
        map=journey_map,
        title=item["title"],
        votes_each=item.get("votes_each", 3),
        hidden=item.get("hidden", True),
        ends=_time(item.get("ends")),
        created=_time(item["created"]),
        created_by=people.get(item.get("created_by")),
        closed=_time(item.get("closed")),
    )
    for order, thing in enumerate(item.get("items", [])):
        vote_item = VoteItem.objects.create(
            session=session,
            kind=thing["kind"],
            key=thing["key"],
            stage_key=thing.get("stage", ""),
            label=thing["label"],
            order=order,
        )
        VoteDot.objects.bulk_create(
            VoteDot(item=vote_item, user=people[dot["user"]], created=_time(dot["at"])) for dot in thing.get("dots", [])
        )
