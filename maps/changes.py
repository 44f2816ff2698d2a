"""Every change to a map, in one place: the model layer's write path.

Views parse a request, call one function here and render the answer; commands and the
importer write through here too. Each change runs in one transaction that first locks
the map's row (`editing`), so that concurrent changes to one map queue up in one fixed
lock order (the map, then its rows) instead of deadlocking: NOTES.md measured crossed
reorders deadlocking on PostgreSQL. Orders are computed inside that lock, never from a
form built earlier, so two quick "add"s never share a place.

A change that cannot be made as asked raises `Refused` with a message for a person,
before anything is written.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Metric,
    Persona,
    Stage,
    Touchpoint,
    Workspace,
)

KEY_MAX_LENGTH = 64


class Refused(Exception):
    """A change refused before anything was written; `str(err)` says why, for a person."""


# --- keys and order ----------------------------------------------------------------------


def free_key(text: str, taken: Iterable[str], fallback: str = "item",
             max_length: int = KEY_MAX_LENGTH) -> str:
    """A slug made from `text` that is not in `taken`: `name`, then `name-2`, `name-3`...

    Japanese names slugify to nothing, hence `fallback`. Suffixed keys are cut so that
    they still fit `max_length`.
    """
    taken = set(taken)
    base = slugify(text)[:max_length] or fallback
    candidate, n = base, 2
    while candidate in taken:
        suffix = f"-{n}"
        candidate, n = base[: max_length - len(suffix)] + suffix, n + 1
    return candidate


def next_order(queryset: models.QuerySet) -> int:
    """The place after the last item of `queryset`."""
    current = queryset.aggregate(m=Max("order"))["m"]
    return 0 if current is None else current + 1


def renumber(objects: Iterable[models.Model]) -> None:
    """Give `objects` the orders 0, 1, 2... in the sequence given, writing only changes."""
    for index, obj in enumerate(objects):
        if obj.order != index:
            obj.order = index
            obj.save(update_fields=["order"])


# --- the one way into a map ---------------------------------------------------------------


@contextmanager
def editing(journey_map: JourneyMap) -> Iterator[JourneyMap]:
    """One transaction holding the map's row lock: every change to a map runs inside it."""
    with transaction.atomic():
        # The map row first, always: the fixed lock order that keeps writers from deadlocking.
        list(JourneyMap.objects.select_for_update().filter(pk=journey_map.pk).values_list("pk"))
        yield journey_map
        JourneyMap.objects.filter(pk=journey_map.pk).update(updated=timezone.now())


# --- the map itself -----------------------------------------------------------------------


def create_map(workspace: Workspace, form) -> JourneyMap:
    """A new map from a valid MapCreateForm: blank, from a stage template, or a copy."""
    from .stage_templates import apply_template

    cleaned = form.cleaned_data
    with transaction.atomic():
        if cleaned["start"] == "copy":
            return copy_map(cleaned["source"], key=cleaned["key"], name=cleaned["name"],
                            description=cleaned["description"], goal=cleaned["goal"])
        journey_map = form.save()
        if cleaned["start"] == "template":
            apply_template(journey_map, cleaned["template"], cleaned["language"])
    return journey_map


def copy_map(source: JourneyMap, key: str, name: str, description: str = "", goal: str = "") -> JourneyMap:
    """A full copy through the interchange format, so a copy holds exactly what an export
    would; the library objects it uses are shared, not duplicated."""
    from . import interchange

    doc = interchange.export_map(source)
    doc["map"].update(key=key, name=name)
    if description:
        doc["map"]["description"] = description
    if goal:
        doc["map"]["goal"] = goal
    return interchange.import_map(doc, source.workspace)


def save_map(journey_map: JourneyMap, form) -> JourneyMap:
    """Name, key, description and goal from a valid MapForm."""
    with editing(journey_map):
        return form.save()


def set_archived(journey_map: JourneyMap, archived: bool) -> JourneyMap:
    with editing(journey_map):
        journey_map.archived = archived
        journey_map.save(update_fields=["archived", "updated"])
    return journey_map


def delete_map(journey_map: JourneyMap) -> None:
    with editing(journey_map):
        journey_map.delete()


# --- stages and KPIs ------------------------------------------------------------------------


def save_stage(journey_map: JourneyMap, form) -> Stage:
    """A new or edited stage from a valid StageForm; a new one goes last."""
    with editing(journey_map):
        if form.instance.pk is None:
            form.instance.order = next_order(journey_map.stages)
        return form.save()


def delete_stage(journey_map: JourneyMap, stage: Stage) -> None:
    """The stage with its touchpoints, their flows and its KPIs; the rest close up."""
    with editing(journey_map):
        stage.delete()
        renumber(journey_map.stages.all())


def move_stage(journey_map: JourneyMap, stage_key: str, step: int) -> Stage:
    """One place left (-1) or right (+1)."""
    with editing(journey_map):
        stages = list(journey_map.stages.all())
        index = _index_of(stages, stage_key)
        other = index + step
        if not 0 <= other < len(stages):
            where = _("first") if step < 0 else _("last")
            raise Refused(_("“%(stage)s” is already the %(where)s stage.")
                          % {"stage": stages[index].name, "where": where})
        stages[index], stages[other] = stages[other], stages[index]
        renumber(stages)
        return stages[other]


def reorder_stages(journey_map: JourneyMap, keys: list[str]) -> None:
    """Drag and drop: `keys` is the whole new order of the map's stages."""
    with editing(journey_map):
        stages = {stage.key: stage for stage in journey_map.stages.all()}
        if sorted(keys) != sorted(stages):
            raise Refused(_("The stages changed meanwhile; reload the page and try again."))
        renumber(stages[key] for key in keys)


def save_metric(journey_map: JourneyMap, form) -> Metric:
    """A new or edited KPI from a valid MetricForm; a new one goes last in its stage."""
    with editing(journey_map):
        if form.instance.pk is None:
            form.instance.order = next_order(form.instance.stage.metrics)
        return form.save()


def delete_metric(journey_map: JourneyMap, metric: Metric) -> None:
    with editing(journey_map):
        metric.delete()


# --- touchpoints and flows ---------------------------------------------------------------


def save_touchpoint(journey_map: JourneyMap, form) -> Touchpoint:
    """A new or edited touchpoint from a valid TouchpointForm, with exactly the flows
    ticked (kept in the order they were added). A touchpoint that is new, or moved to
    another stage, goes last in its stage."""
    with editing(journey_map):
        touchpoint = form.instance
        moved = touchpoint.pk is None or touchpoint.stage_id != _stored_stage_id(touchpoint)
        if moved:
            touchpoint.order = next_order(touchpoint.stage.touchpoints.exclude(pk=touchpoint.pk))
        touchpoint = form.save()
        set_flows(touchpoint, form.cleaned_data["next_touchpoints"])
        return touchpoint


def _stored_stage_id(touchpoint: Touchpoint) -> int | None:
    return Touchpoint.objects.filter(pk=touchpoint.pk).values_list("stage_id", flat=True).first()


def set_flows(touchpoint: Touchpoint, targets: Iterable[Touchpoint]) -> None:
    """Make the touchpoint's flows exactly `targets`; flows it keeps keep their order."""
    wanted = [target for target in targets if target.pk != touchpoint.pk]
    touchpoint.flows_out.exclude(target__in=wanted).delete()
    existing = set(touchpoint.flows_out.values_list("target_id", flat=True))
    order = next_order(touchpoint.flows_out)
    for target in wanted:
        if target.pk not in existing:
            Flow.objects.create(source=touchpoint, target=target, order=order)
            order += 1


def delete_touchpoint(journey_map: JourneyMap, touchpoint: Touchpoint) -> None:
    """The touchpoint and the flows from and to it; its stage closes up."""
    with editing(journey_map):
        stage = touchpoint.stage
        touchpoint.delete()
        renumber(stage.touchpoints.all())


def move_touchpoint(journey_map: JourneyMap, touchpoint: Touchpoint, direction: str) -> Touchpoint:
    """Keyboard moves: up/down within the stage, left/right to the end of the next stage."""
    with editing(journey_map):
        if direction in ("up", "down"):
            siblings = list(touchpoint.stage.touchpoints.all())
            index = _index_of(siblings, touchpoint.key)
            other = index + (-1 if direction == "up" else 1)
            if not 0 <= other < len(siblings):
                raise Refused(_("“%(name)s” is already at the %(end)s of its stage.")
                              % {"name": touchpoint.name, "end": _("top") if direction == "up" else _("bottom")})
            siblings[index], siblings[other] = siblings[other], siblings[index]
            renumber(siblings)
            return touchpoint
        stages = list(journey_map.stages.all())
        index = _index_of(stages, touchpoint.stage.key)
        other = index + (-1 if direction == "left" else 1)
        if not 0 <= other < len(stages):
            where = _("first") if direction == "left" else _("last")
            raise Refused(_("“%(name)s” is already in the %(where)s stage.")
                          % {"name": touchpoint.name, "where": where})
        old_stage = touchpoint.stage
        touchpoint.stage = stages[other]
        touchpoint.order = next_order(stages[other].touchpoints)
        touchpoint.save(update_fields=["stage", "order"])
        renumber(old_stage.touchpoints.all())
        return touchpoint


def reorder_touchpoints(journey_map: JourneyMap, stage: Stage, keys: list[str]) -> None:
    """Drag and drop: `keys` is the new order of one stage's touchpoints, possibly with a
    newcomer from another stage. Touchpoints of the stage that the list does not name
    (added meanwhile by someone else) keep their relative order after the named ones."""
    with editing(journey_map):
        named = {tp.key: tp for tp in journey_map.touchpoints.filter(key__in=keys)}
        if len(named) != len(keys) or len(set(keys)) != len(keys):
            raise Refused(_("The touchpoints changed meanwhile; reload the page and try again."))
        left_behind = {tp.stage_id for tp in named.values() if tp.stage_id != stage.pk}
        for tp in named.values():
            if tp.stage_id != stage.pk:
                tp.stage = stage
                tp.save(update_fields=["stage"])
        others = [tp for tp in stage.touchpoints.all() if tp.key not in named]
        renumber([named[key] for key in keys] + others)
        for old_stage in Stage.objects.filter(pk__in=left_behind):
            renumber(old_stage.touchpoints.all())


def add_flow(journey_map: JourneyMap, source: Touchpoint, target_key: str) -> Flow:
    with editing(journey_map):
        target = journey_map.touchpoints.filter(key=target_key).first()
        if target is None:
            raise Refused(_("Pick the touchpoint the buyer goes to next."))
        if target.pk == source.pk:
            raise Refused(_("A touchpoint cannot flow to itself."))
        if source.flows_out.filter(target=target).exists():
            raise Refused(_("“%(source)s” already flows to “%(target)s”.")
                          % {"source": source.name, "target": target.name})
        return Flow.objects.create(source=source, target=target, order=next_order(source.flows_out))


def remove_flow(journey_map: JourneyMap, flow: Flow) -> None:
    with editing(journey_map):
        flow.delete()


# --- personas and content of a map ----------------------------------------------------------


def save_map_persona(journey_map: JourneyMap, form) -> MapPersona:
    """A persona added to the map (last), or its scope changed, from a valid MapPersonaForm."""
    with editing(journey_map):
        if form.instance.pk is None:
            form.instance.order = next_order(journey_map.map_personas)
        return form.save()


def remove_map_persona(journey_map: JourneyMap, entry: MapPersona) -> None:
    """The persona leaves the map; it stays in the library."""
    with editing(journey_map):
        entry.delete()


def link_content(journey_map: JourneyMap, stage: Stage, content: ContentAsset,
                 persona: Persona | None = None) -> None:
    """The asset serves the stage and, if a persona is named, now targets it too."""
    with editing(journey_map):
        stage.content.add(content)
        if persona is not None:
            content.personas.add(persona)


# --- the workspace library -------------------------------------------------------------------


def save_library_item(form) -> models.Model:
    """A new or edited department, role, persona or content asset; a new one goes last."""
    with transaction.atomic():
        item = form.instance
        if item.pk is None:
            item.order = next_order(type(item).objects.filter(workspace=item.workspace))
        return form.save()


def library_uses(item: models.Model) -> list[str]:
    """What still uses a library item, in words; deleting it is refused while any is left."""
    uses: list[str] = []
    if isinstance(item, Persona):
        uses += [_("the map “%(map)s”") % {"map": e.map.name} for e in item.map_entries.select_related("map")]
        uses += _counted(item.touchpoints.count(), "%(n)d touchpoint", "%(n)d touchpoints")
    elif isinstance(item, ContentAsset):
        uses += [_("a stage of “%(map)s”") % {"map": s.map.name} for s in item.stages.select_related("map")]
        uses += _counted(item.touchpoints.count(), "%(n)d touchpoint", "%(n)d touchpoints")
    elif isinstance(item, BuyingRole):
        uses += [_("persona “%(name)s”") % {"name": p.name} for p in item.personas.all()]
        uses += _counted(item.stages.count(), "%(n)d stage that requires it", "%(n)d stages that require it")
    elif isinstance(item, Department):
        uses += _counted(item.led_stages.count(), "%(n)d stage it leads", "%(n)d stages it leads")
        uses += _counted(item.contributed_stages.count(), "%(n)d stage it contributes to",
                         "%(n)d stages it contributes to")
        uses += _counted(item.touchpoints.count(), "%(n)d touchpoint it owns", "%(n)d touchpoints it owns")
    return uses


def _counted(n: int, singular: str, plural: str) -> list[str]:
    return [ngettext(singular, plural, n) % {"n": n}] if n else []


def delete_library_item(item: models.Model) -> None:
    """Delete a library item that nothing uses; refuse, naming every use, otherwise."""
    with transaction.atomic():
        uses = library_uses(item)
        if uses:
            raise Refused(_("“%(item)s” cannot be deleted while it is used by %(uses)s. Remove those uses first.")
                          % {"item": item, "uses": ", ".join(uses)})
        try:
            item.delete()
        except models.ProtectedError:
            raise Refused(_("“%(item)s” is still in use and was not deleted.") % {"item": item}) from None


def _index_of(objects: list, key: str) -> int:
    for index, obj in enumerate(objects):
        if obj.key == key:
            return index
    raise Refused(_("That no longer exists; reload the page."))
