"""The trash: what was deleted, kept whole for KEEP_DAYS days and brought back with its links.

A stage or touchpoint is kept as the journeymap/1 items it was (the stage with its
touchpoints, KPIs, content links and personas' scope; the touchpoint with its flows in
and out and its content), so that bringing it back is writing those items into the map's
current document (maps.history). A map is only marked deleted until then; a library
item (which nothing used when it was deleted) is kept as its fields and the content
that targeted it. Bringing back and emptying are for editors and owners respectively.
"""

from __future__ import annotations

import datetime

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import audit, changes, interchange
from .models import AuditEvent, BuyingRole, ContentAsset, Department, JourneyMap, Persona, TrashItem, Workspace
from .said import Said

KEEP_DAYS = 30
LIBRARY_MODELS = {model._meta.model_name: model for model in (Department, BuyingRole, Persona, ContentAsset)}
# What bringing a library item back says, per kind: whole sentences for the translators.
LIBRARY_BACK = {
    Department: gettext_noop("brought back the department ‘%(name)s’ from the trash"),
    BuyingRole: gettext_noop("brought back the buying role ‘%(name)s’ from the trash"),
    Persona: gettext_noop("brought back the persona ‘%(name)s’ from the trash"),
    ContentAsset: gettext_noop("brought back the content asset ‘%(name)s’ from the trash"),
}


def _by_key(items: list[dict]) -> dict[str, dict]:
    return {item["key"]: item for item in items}


# --- putting things in -----------------------------------------------------------------------


def touchpoint_payload(doc: dict, key: str) -> dict:
    """A touchpoint as items of `doc`: itself, where it stood, the flows into it, its content."""
    item = _by_key(doc["touchpoints"])[key]
    siblings = [tp["key"] for tp in doc["touchpoints"] if tp["stage"] == item["stage"]]
    flows_in = [[tp["key"], tp["next"].index(key)] for tp in doc["touchpoints"] if key in tp["next"]]
    content = [c for c in doc["content"] if c["key"] in item["content"]]
    return {"touchpoint": item, "position": siblings.index(key), "flows_in": flows_in, "content": content}


def stage_payload(doc: dict, key: str) -> dict:
    """A stage as items of `doc`, with its touchpoints and everything that pointed at it."""
    stage = _by_key(doc["stages"])[key]
    touchpoints = [tp for tp in doc["touchpoints"] if tp["stage"] == key]
    inside = {tp["key"] for tp in touchpoints}
    flows_in = [
        [tp["key"], target, tp["next"].index(target)]
        for tp in doc["touchpoints"]
        if tp["key"] not in inside
        for target in tp["next"]
        if target in inside
    ]
    used = {ref for tp in touchpoints for ref in tp["content"]}
    content = [c for c in doc["content"] if key in c["stages"] or c["key"] in used]
    scoped = [p["key"] for p in doc["personas"] if key in p["stages"]]
    return {
        "stage": stage,
        "position": [s["key"] for s in doc["stages"]].index(key),
        "touchpoints": touchpoints,
        "flows_in": flows_in,
        "content": content,
        "scoped": scoped,
        # The actions about the stage: they stay on the map (for the whole journey) and
        # are about the stage again when it comes back.
        "actions": [action["key"] for action in doc.get("actions", []) if action["stage"] == key],
        # The SWOT items about the stage: they stay, as the map's, and are the stage's again
        # if it comes back.
        "swot": [item["key"] for item in doc.get("swot", []) if item["stage"] == key],
    }


def keep(
    journey_map: JourneyMap | None, workspace: Workspace, kind: str, name: str, payload: dict, user=None
) -> TrashItem:
    user = user if getattr(user, "is_authenticated", False) else None
    return TrashItem.objects.create(
        workspace=workspace, map=journey_map, kind=kind, name=name[:300], payload=payload, deleted_by=user
    )


def library_payload(item: models.Model) -> dict:
    """A library item's own fields, its links by key, and the content that targeted it."""
    fields = {}
    for field in item._meta.concrete_fields:
        if field.name in ("id", "workspace"):
            continue
        value = getattr(item, field.name)
        if field.is_relation:
            value = value.key if value is not None else None
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        fields[field.name] = value
    links = {field.name: [obj.key for obj in getattr(item, field.name).all()] for field in item._meta.many_to_many}
    targeted_by = [asset.key for asset in item.content.all()] if isinstance(item, Persona) else []
    return {"model": item._meta.model_name, "fields": fields, "links": links, "targeted_by": targeted_by}


# --- bringing things back --------------------------------------------------------------------------


def restore(item: TrashItem, user=None) -> Said:
    """Bring `item` back as it was, with the links that can still be made; say what came
    back. The audit log keeps who did, in the same transaction."""
    workspace, name, kind = item.workspace, item.name, item.kind
    with transaction.atomic():
        said = _restore(item, user)
        audit.record(AuditEvent.RESTORED, user=user, workspace=workspace, name=name, what=kind)
    return said


def _restore(item: TrashItem, user=None) -> Said:
    if item.kind == TrashItem.MAP:
        return _restore_map(item)
    if item.kind == TrashItem.LIBRARY:
        return _restore_library_item(item, user)
    journey_map = item.map
    summary = Said(
        gettext_noop("brought back the stage ‘%(name)s’ from the trash")
        if item.kind == TrashItem.STAGE
        else gettext_noop("brought back the touchpoint ‘%(name)s’ from the trash"),
        name=item.name,
    )
    with changes.editing(journey_map, user, summary) as change:
        doc = interchange.export_map(journey_map)
        if item.kind == TrashItem.STAGE:
            _put_stage(doc, item.payload)
            change.stage = item.payload["stage"]["key"]
        else:
            _put_touchpoint(doc, item.payload)
            change.stage = item.payload["touchpoint"]["stage"]
        try:
            interchange.replace_content(journey_map, doc)
        except interchange.InterchangeError as err:
            raise changes.Refused(
                _("“%(name)s” cannot come back as it was: %(why)s") % {"name": item.name, "why": err.message}
            ) from None
        item.delete()
    return summary


def _restore_map(item: TrashItem) -> Said:
    with transaction.atomic():
        JourneyMap.objects.filter(pk=item.map_id).update(deleted=None)
        item.delete()
    return Said(gettext_noop("brought back the map ‘%(name)s’ from the trash"), name=item.name)


def _put_touchpoint(doc: dict, payload: dict) -> None:
    item = dict(payload["touchpoint"])
    stage_keys = {stage["key"] for stage in doc["stages"]}
    if item["stage"] not in stage_keys:
        raise changes.Refused(_("Its stage is gone: bring the stage back first."))
    if item["key"] in _by_key(doc["touchpoints"]):
        raise changes.Refused(_("The map has another touchpoint with the key “%(key)s” now.") % {"key": item["key"]})
    _add_content(doc, payload["content"], stage_keys)
    item["personas"] = [key for key in item["personas"] if key in _by_key(doc["personas"])]
    item["content"] = [key for key in item["content"] if key in _by_key(doc["content"])]
    touchpoints = doc["touchpoints"]
    item["next"] = [key for key in item["next"] if key in _by_key(touchpoints)]
    siblings = [i for i, tp in enumerate(touchpoints) if tp["stage"] == item["stage"]]
    if payload["position"] < len(siblings):
        at = siblings[payload["position"]]
    else:
        at = siblings[-1] + 1 if siblings else _stage_end(doc, item["stage"])
    touchpoints.insert(at, item)
    _add_flows_in(touchpoints, [(source, item["key"], index) for source, index in payload["flows_in"]])


def _stage_end(doc: dict, stage_key: str) -> int:
    """Where a first touchpoint of `stage_key` goes in the stage-by-stage list."""
    order = [stage["key"] for stage in doc["stages"]]
    later = set(order[order.index(stage_key) + 1 :])
    return next((i for i, tp in enumerate(doc["touchpoints"]) if tp["stage"] in later), len(doc["touchpoints"]))


def _put_stage(doc: dict, payload: dict) -> None:
    stage = dict(payload["stage"])
    if stage["key"] in _by_key(doc["stages"]):
        raise changes.Refused(_("The map has another stage with the key “%(key)s” now.") % {"key": stage["key"]})
    taken = _by_key(doc["touchpoints"])
    clash = next((tp["key"] for tp in payload["touchpoints"] if tp["key"] in taken), None)
    if clash:
        raise changes.Refused(_("The map has another touchpoint with the key “%(key)s” now.") % {"key": clash})
    departments, roles = _by_key(doc["departments"]), _by_key(doc["roles"])
    stage["lead"] = stage["lead"] if stage["lead"] in departments else None
    stage["contributors"] = [key for key in stage["contributors"] if key in departments]
    stage["required_roles"] = [key for key in stage["required_roles"] if key in roles]
    doc["stages"].insert(min(payload["position"], len(doc["stages"])), stage)
    stage_keys = {s["key"] for s in doc["stages"]}
    _add_content(doc, payload["content"], stage_keys)
    for persona in doc["personas"]:
        if persona["key"] in payload["scoped"] and persona["stages"]:
            persona["stages"] = [s["key"] for s in doc["stages"] if s["key"] in persona["stages"] + [stage["key"]]]
    personas, content = _by_key(doc["personas"]), _by_key(doc["content"])
    inside = {tp["key"] for tp in payload["touchpoints"]}
    kept = [
        dict(
            tp,
            personas=[k for k in tp["personas"] if k in personas],
            content=[k for k in tp["content"] if k in content],
            owner=tp["owner"] if tp["owner"] in departments else None,
            next=[k for k in tp["next"] if k in taken or k in inside],
        )
        for tp in payload["touchpoints"]
    ]
    at = _stage_end(doc, stage["key"])
    doc["touchpoints"][at:at] = kept
    _add_flows_in(doc["touchpoints"], payload["flows_in"])
    about = set(payload.get("actions", []))
    for action in doc.get("actions", []):
        if action["key"] in about and action["stage"] is None:
            action["stage"] = stage["key"]
    for item in doc.get("swot", []):
        if item["key"] in payload.get("swot", []) and item["stage"] is None:
            item["stage"] = stage["key"]


def _add_content(doc: dict, items: list[dict], stage_keys: set[str]) -> None:
    """Content the kept items link to, back in the document: a stage link comes back if
    its stage is there, targets if their persona is in the map."""
    current = _by_key(doc["content"])
    personas = _by_key(doc["personas"])
    for kept in items:
        wanted_stages = [key for key in kept["stages"] if key in stage_keys]
        if kept["key"] in current:
            item = current[kept["key"]]
            item["stages"] = [key for key in stage_keys_in_order(doc) if key in item["stages"] + wanted_stages]
        else:
            doc["content"].append(
                dict(kept, stages=wanted_stages, personas=[key for key in kept["personas"] if key in personas])
            )


def stage_keys_in_order(doc: dict) -> list[str]:
    return [stage["key"] for stage in doc["stages"]]


def _add_flows_in(touchpoints: list[dict], flows: list) -> None:
    by_key = _by_key(touchpoints)
    for source, target, index in flows:
        if source in by_key and target in by_key and target not in by_key[source]["next"]:
            by_key[source]["next"].insert(min(index, len(by_key[source]["next"])), target)


def _restore_library_item(item: TrashItem, user=None) -> Said:
    payload = item.payload
    model = LIBRARY_MODELS[payload["model"]]
    workspace = item.workspace
    summary = Said(LIBRARY_BACK[model], name=item.name)
    with changes.editing_library(workspace, user, summary):
        fields = dict(payload["fields"])
        if model.objects.filter(workspace=workspace, key=fields["key"]).exists():
            raise changes.Refused(
                _("The library has another item with the key “%(key)s” now.") % {"key": fields["key"]}
            )
        for field in model._meta.concrete_fields:
            if field.is_relation and field.name in fields:
                related = field.related_model
                fields[field.name] = related.objects.filter(workspace=workspace, key=fields[field.name]).first()
            elif isinstance(field, models.DateField) and fields.get(field.name):
                fields[field.name] = datetime.date.fromisoformat(fields[field.name])
        obj = model.objects.create(workspace=workspace, **fields)
        for name, keys in payload["links"].items():
            related = model._meta.get_field(name).related_model
            getattr(obj, name).set(related.objects.filter(workspace=workspace, key__in=keys))
        if payload["targeted_by"]:
            for asset in ContentAsset.objects.filter(workspace=workspace, key__in=payload["targeted_by"]):
                asset.personas.add(obj)
        item.delete()
    return summary


# --- the bin itself --------------------------------------------------------------------------------


def items(workspace: Workspace) -> list[TrashItem]:
    """What the workspace's trash holds, newest first, after what is older than KEEP_DAYS is gone."""
    purge(workspace)
    return list(TrashItem.objects.filter(workspace=workspace).select_related("map", "deleted_by"))


def purge(workspace: Workspace, now: datetime.datetime | None = None) -> None:
    """Delete for good what has waited longer than KEEP_DAYS."""
    limit = (now or timezone.now()) - datetime.timedelta(days=KEEP_DAYS)
    with transaction.atomic():
        JourneyMap.objects.filter(workspace=workspace, deleted__lt=limit).delete()
        TrashItem.objects.filter(workspace=workspace, deleted__lt=limit).delete()


def empty(workspace: Workspace) -> int:
    """Delete everything in the trash for good now; how many items went."""
    with transaction.atomic():
        found = TrashItem.objects.filter(workspace=workspace)
        count = found.count()
        JourneyMap.objects.filter(workspace=workspace).exclude(deleted=None).delete()
        found.delete()
    return count
