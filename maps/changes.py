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

import functools
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pykakasi
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy

from . import conflicts, live, revisions
from .models import (
    Action,
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Metric,
    MetricActual,
    Persona,
    QualificationCriterion,
    Revision,
    Stage,
    StageAnswer,
    SwotItem,
    Touchpoint,
    TrashItem,
    Workspace,
    figures_in_order,
    history_in_order,
)
from .said import Said
from .validators import looked_up

# Every key of the domain is a SlugField of this length (the model says so, not we).
KEY_MAX_LENGTH = JourneyMap._meta.get_field("key").max_length


class Refused(Exception):
    """A change refused before anything was written; `str(err)` says why, for a person."""


class Stale(Refused):
    """The same order was changed by someone else since the person's page was drawn."""


class AlreadyDone(Exception):
    """The same form was sent twice (a double click): it was saved the first time."""


# --- keys and order ----------------------------------------------------------------------


# Kanji, kana and the full-width forms: text that slugify() would drop entirely.
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


@functools.cache
def _kakasi() -> pykakasi.kakasi:
    # Loading its dictionaries takes half a second: once per process, when first needed.
    return pykakasi.kakasi()


def key_words(text: str) -> str:
    """`text` with its Japanese spelt out in Hepburn romaji (認知から推奨まで ->
    "ninchi kara suishou made"), so that a key made from it is readable; other text as it is."""
    if not _JAPANESE.search(text):
        return text
    parts = _kakasi().convert(text)
    words = []
    for before, part in zip([None, *parts], parts):
        # pykakasi reads some kanji with their okurigana (向け -> "muke") and then gives
        # the kana again on its own ("ke"): skip the echo, or 日本向け reads "nihonmuke ke".
        echo = before and part["orig"] == part["hira"] and before["hira"].endswith(part["orig"])
        if not (echo and not before["orig"].endswith(part["orig"])):
            words.append(part["hepburn"] or part["orig"])
    return " ".join(words)


def free_key(
    text: str, taken: Iterable[str], fallback: str = "item", max_length: int = KEY_MAX_LENGTH, *, is_key: bool = False
) -> str:
    """A key for `text` that is not in `taken`: `name`, then `name-2`, `name-3`...

    A name is slugified, Japanese romanised first (`key_words`); what has no letters
    to spell gets `fallback`. A text that `is_key` already (an imported key) is kept as
    it is. Suffixed keys are cut so that they still fit `max_length`. A key is made
    once, when its object is: renaming never changes it.
    """
    taken = set(taken)
    base = (text if is_key else slugify(key_words(text)))[:max_length].strip("-") or fallback
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


@dataclass
class Change:
    """What the change being made will be recorded as; the change function fills it in."""

    user: object = None
    # A Said, so that each reader reads it in their language; a text is kept as it is.
    summary: Said | str = ""
    stage: str = ""
    undoes: Revision | None = None
    token: str = ""


# The first revision of a map made before maps had a history.
HISTORY_STARTS = Said(gettext_noop("History starts here."))


@contextmanager
def editing(
    journey_map: JourneyMap, user=None, summary: Said | str = "", stage: str = "", token: str = ""
) -> Iterator[Change]:
    """One transaction holding the map's row lock; every change to a map runs inside it.

    On the way out it records the change as a revision (maps.revisions) and bumps the
    map's version, unless the change changed nothing. `journey_map.version` is updated.
    The summary is a Said (maps.said), so that each reader of the history reads it in
    their own language; a plain text (an old caller's) is kept as it is.
    A `token` already recorded (the same form sent twice) raises AlreadyDone.
    """
    with transaction.atomic():
        # The map row first, always: the fixed lock order that keeps writers from deadlocking.
        locked = JourneyMap.objects.select_for_update().get(pk=journey_map.pk)
        if token and Revision.objects.filter(map=locked, token=token).exists():
            raise AlreadyDone()
        if locked.version == 0:
            _record(locked, Change(summary=HISTORY_STARTS))
        change = Change(user=user, summary=summary, stage=stage, token=token)
        yield change
        _record(locked, change)
        journey_map.version = locked.version
        # The map as the revision read it, inside this transaction: the answer to the
        # change draws its board columns and gap list from it instead of reading it again.
        journey_map.loaded_now = getattr(locked, "loaded_now", None)


def _record(journey_map: JourneyMap, change: Change) -> Revision | None:
    """Store the difference the change made to the map's document; None if it made none.
    The map as read for it is left on `journey_map.loaded_now`, at its new version."""
    loaded = journey_map.loaded_now = JourneyMap.objects.loaded().get(pk=journey_map.pk)
    after = _export(journey_map, loaded)
    number = journey_map.version + 1
    before = document_at(journey_map, journey_map.version) if journey_map.version else {}
    delta = revisions.diff(before, after)
    if not delta and journey_map.version:
        return None
    user = change.user if getattr(change.user, "is_authenticated", False) else None
    revision = Revision.objects.create(
        map=journey_map,
        number=number,
        user=user,
        summary=change.summary,
        stage=change.stage,
        delta=revisions.pack(delta),
        undoes=change.undoes,
        token=change.token[:64],
        checkpoint=revisions.pack(after) if number == 1 or number % revisions.CHECKPOINT_EVERY == 0 else None,
    )
    now = timezone.now()
    JourneyMap.objects.filter(pk=journey_map.pk).update(version=number, updated=now)
    journey_map.version = loaded.version = number
    journey_map.updated = loaded.updated = now
    live.announce(journey_map.pk, user, change.summary)
    return revision


def document_at(journey_map: JourneyMap, number: int) -> dict:
    """The map's journeymap/1 document as it was after revision `number`."""
    history = Revision.objects.filter(map=journey_map, number__lte=number)
    start = history.exclude(checkpoint=None).order_by("-number").values_list("number", "checkpoint").first()
    if start is None:
        raise Refused(_("This map has no revision %(number)s.") % {"number": number})
    doc = revisions.unpack(start[1])
    later = history.filter(number__gt=start[0]).order_by("number").values_list("delta", flat=True)
    for delta in later:
        doc = revisions.apply(doc, revisions.unpack(delta))
    return doc


def changed_by_since(journey_map: JourneyMap, version: str | int | None) -> list[str]:
    """Who changed the map after `version` (the version a form was drawn on), newest first."""
    try:
        since = int(version)
    except (TypeError, ValueError):
        since = max(journey_map.version - 1, 0)
    names = (
        Revision.objects.filter(map=journey_map, number__gt=since)
        .order_by("-number")
        .values_list("user__username", flat=True)
    )
    return list(dict.fromkeys(name or _("Someone") for name in names))


def record_creation(journey_map: JourneyMap, user=None, summary: Said | str = "") -> None:
    """A new map's first revision: the whole map as it was created."""
    with transaction.atomic():
        locked = JourneyMap.objects.select_for_update().get(pk=journey_map.pk)
        _record(locked, Change(user=user, summary=summary or Said(gettext_noop("created the map"))))
        journey_map.version = locked.version


def _export(journey_map: JourneyMap, loaded: JourneyMap | None = None) -> dict:
    from .interchange import export_map

    return export_map(journey_map, loaded)


# --- the map itself -----------------------------------------------------------------------


def create_map(workspace: Workspace, form, user=None) -> JourneyMap:
    """A new map from a valid MapCreateForm: blank, from a stage template, or a copy."""
    from .stage_templates import apply_template, ensure_workspace_defaults

    cleaned = form.cleaned_data
    with transaction.atomic():
        if cleaned["start"] == "copy":
            return copy_map(
                cleaned["source"],
                key=cleaned["key"],
                name=cleaned["name"],
                description=cleaned["description"],
                goal=cleaned["goal"],
                user=user,
            )
        journey_map = form.save()
        if cleaned["start"] == "template":
            workspace = journey_map.workspace
            if not workspace.departments.exists() and not workspace.roles.exists():
                # A new workspace's first map: its defaults in the map's language.
                ensure_workspace_defaults(workspace, journey_map.language)
            apply_template(journey_map, cleaned["template"], journey_map.language)
        record_creation(journey_map, user)
    return journey_map


def copy_map(source: JourneyMap, key: str, name: str, description: str = "", goal: str = "", user=None) -> JourneyMap:
    """A full copy through the interchange format, so a copy holds exactly what an export
    would; the library objects it uses are shared, not duplicated."""
    from . import interchange

    doc = interchange.export_map(source)
    doc["map"].update(key=key, name=name)
    if description:
        doc["map"]["description"] = description
    if goal:
        doc["map"]["goal"] = goal
    with transaction.atomic():
        journey_map = interchange.import_map(doc, source.workspace)
        record_creation(journey_map, user, Said(gettext_noop("copied the map from ‘%(map)s’"), map=source.name))
    return journey_map


def save_map(journey_map: JourneyMap, form, user=None) -> JourneyMap:
    """Name, key, description and goal from a valid MapForm."""
    with editing(journey_map, user, Said(gettext_noop("changed the map’s settings"))):
        conflicts.merge(form)
        return form.save()


def set_archived(journey_map: JourneyMap, archived: bool, user=None) -> JourneyMap:
    summary = Said(
        gettext_noop("archived the map") if archived else gettext_noop("brought the map back from the archive")
    )
    with editing(journey_map, user, summary):
        journey_map.archived = archived
        journey_map.save(update_fields=["archived", "updated"])
    return journey_map


def delete_map(journey_map: JourneyMap, user=None) -> None:
    """The map goes to the trash: hidden everywhere, kept for trash.KEEP_DAYS days."""
    from . import trash

    with transaction.atomic():
        JourneyMap.objects.filter(pk=journey_map.pk).update(deleted=timezone.now())
        trash.keep(journey_map, journey_map.workspace, TrashItem.MAP, journey_map.name, {}, user)


# --- stages and KPIs ------------------------------------------------------------------------


def save_stage(journey_map: JourneyMap, form, user=None) -> Stage:
    """A new or edited stage from a valid StageForm; a new one goes last."""
    new = form.instance.pk is None
    with editing(journey_map, user, token=_token(form)) as change:
        if new:
            _claim_key(form, journey_map.stages)
            form.instance.order = next_order(journey_map.stages)
        else:
            conflicts.merge(form)
        before = [] if new else list(Stage.objects.filter(pk=form.instance.pk).values_list("questions", flat=True))
        stage = form.save()
        if before:
            answers_follow_questions(stage, before[0])
        _figures_follow_stage(stage)
        _record_agreement(stage, form.cleaned_data)
        change.summary = Said(
            gettext_noop("added the stage ‘%(stage)s’") if new else gettext_noop("edited the stage ‘%(stage)s’"),
            stage=stage.name,
        )
        change.stage = stage.key
        return stage


def _figures_follow_stage(stage: Stage) -> None:
    """A stage with figures per period shows the latest period's: entered and converted
    typed into the stage's form are that period's figures."""
    figures = figures_in_order(stage)
    if not figures or stage.entered is None or stage.converted is None:
        return
    latest = figures[-1]
    if (latest.entered, latest.converted) != (stage.entered, stage.converted):
        latest.entered, latest.converted = stage.entered, stage.converted
        latest.save(update_fields=["entered", "converted"])


def _record_agreement(stage: Stage, cleaned: dict) -> None:
    """The hand-off's agreement boxes: ticked keeps the day it was agreed (today, if it
    was not yet), unticked clears it. A box the form left out (someone else's change,
    see conflicts.merge) leaves the stored date alone."""
    today = timezone.localdate()
    changed = []
    for box, name in (("agreed_lead", "agreed_by_lead"), ("agreed_next", "agreed_by_next")):
        if box not in cleaned:
            continue
        wanted = (getattr(stage, name) or today) if cleaned[box] else None
        if getattr(stage, name) != wanted:
            setattr(stage, name, wanted)
            changed.append(name)
    if changed:
        stage.save(update_fields=changed)


def stage_follows_figures(stage: Stage) -> None:
    """After its figures per period changed: the stage shows the latest period's."""
    figures = figures_in_order(stage)
    if figures and (stage.entered, stage.converted) != (figures[-1].entered, figures[-1].converted):
        stage.entered, stage.converted = figures[-1].entered, figures[-1].converted
        stage.save(update_fields=["entered", "converted"])


def answers_follow_questions(stage: Stage, before: list[str]) -> None:
    """After a stage's questions were edited (they were `before`): an answer stays with
    its question's text; a question reworded in its place (the same line, now a text
    that was not a question before) keeps its answer; an answer whose question is gone
    goes with it. Undo brings it back, as any edit."""
    after = list(stage.questions)
    for answer in stage.answers.all():
        if answer.question in after:
            continue
        place = before.index(answer.question) if answer.question in before else None
        reworded = after[place] if place is not None and place < len(after) else None
        if reworded is not None and reworded not in before and not stage.answers.filter(question=reworded).exists():
            answer.question = reworded
            answer.save(update_fields=["question"])
        else:
            answer.delete()


def delete_stage(journey_map: JourneyMap, stage: Stage, user=None) -> None:
    """The stage with its touchpoints, their flows and its KPIs; the rest close up."""
    from . import trash

    summary = Said(gettext_noop("deleted the stage ‘%(stage)s’"), stage=stage.name)
    with editing(journey_map, user, summary, stage.key):
        payload = trash.stage_payload(_export(journey_map), stage.key)
        trash.keep(journey_map, journey_map.workspace, TrashItem.STAGE, stage.name, payload, user)
        stage.delete()
        renumber(journey_map.stages.all())


def move_stage(journey_map: JourneyMap, stage_key: str, step: int, user=None) -> Stage:
    """One place left (-1) or right (+1)."""
    with editing(journey_map, user, stage=stage_key) as change:
        stages = list(journey_map.stages.all())
        index = _index_of(stages, stage_key)
        other = index + step
        if not 0 <= other < len(stages):
            refusal = (
                _("“%(stage)s” is already the first stage.")
                if step < 0
                else _("“%(stage)s” is already the last stage.")
            )
            raise Refused(refusal % {"stage": stages[index].name})
        stages[index], stages[other] = stages[other], stages[index]
        renumber(stages)
        change.summary = Said(
            gettext_noop("moved the stage ‘%(stage)s’ left")
            if step < 0
            else gettext_noop("moved the stage ‘%(stage)s’ right"),
            stage=stages[other].name,
        )
        return stages[other]


def reorder_stages(journey_map: JourneyMap, keys: list[str], user=None, seen: str | None = None) -> None:
    """Drag and drop: `keys` is the whole new order of the map's stages, made on the page
    drawn at version `seen`."""
    with editing(journey_map, user, Said(gettext_noop("reordered the stages"))):
        stages = {stage.key: stage for stage in journey_map.stages.all()}
        if sorted(keys) != sorted(stages):
            raise Refused(_("The stages changed meanwhile; reload the page and try again."))
        then = _seen_document(journey_map, seen)
        order_then, order_now = ([s["key"] for s in then["stages"]] if then else []), list(stages)
        if then is not None and _in_common_order(order_then, order_now) != _in_common_order(order_now, order_then):
            raise Stale(
                _("%(who)s reordered the stages meanwhile; the board now shows their order.")
                % {"who": ", ".join(changed_by_since(journey_map, seen))}
            )
        renumber(stages[key] for key in keys)


def _seen_document(journey_map: JourneyMap, seen: str | int | None) -> dict | None:
    """The map's document at the version a page was drawn on, if it is an older one."""
    try:
        number = int(seen)
    except (TypeError, ValueError):
        return None
    current = JourneyMap.objects.values_list("version", flat=True).get(pk=journey_map.pk)
    if not 0 < number < current:
        return None
    return document_at(journey_map, number)


def _in_common_order(keys: list[str], other: list[str]) -> list[str]:
    """`keys` without those `other` lacks: what two orders can be compared on."""
    present = set(other)
    return [key for key in keys if key in present]


def save_metric(journey_map: JourneyMap, form, user=None) -> Metric:
    """A new or edited KPI from a valid MetricForm; a new one goes last in its stage.

    With a period, the actual typed is that period's (added, or replacing the one the
    period had); the KPI then shows its latest period's actual. Without one, the actual
    typed is the latest period's, as a stage's entered and converted are its latest figures."""
    new = form.instance.pk is None
    stage = form.instance.stage
    period = form.cleaned_data.get("period") or ""
    with editing(journey_map, user, stage=stage.key, token=_token(form)) as change:
        if new:
            form.instance.order = next_order(stage.metrics)
        else:
            conflicts.merge(form)
        metric = form.save()
        if period and metric.actual is not None:
            MetricActual.objects.update_or_create(metric=metric, period=period, defaults={"actual": metric.actual})
            metric_follows_history(metric)
        elif metric.actual is not None:
            history_follows_metric(metric)
        else:
            metric_follows_history(metric)  # an actual cleared: the latest period's is still the KPI's
        if period and not new:
            change.summary = Said(
                gettext_noop("recorded %(period)s for the KPI ‘%(kpi)s’ of ‘%(stage)s’"),
                period=period,
                kpi=metric.name,
                stage=stage.name,
            )
        else:
            change.summary = Said(
                gettext_noop("added the KPI ‘%(kpi)s’ to ‘%(stage)s’")
                if new
                else gettext_noop("edited the KPI ‘%(kpi)s’ of ‘%(stage)s’"),
                kpi=metric.name,
                stage=stage.name,
            )
        return metric


def history_follows_metric(metric: Metric) -> None:
    """A KPI with actuals per period shows the latest's: an actual typed without a
    period is the latest period's."""
    history = history_in_order(metric)
    if history and metric.actual is not None and history[-1].actual != metric.actual:
        history[-1].actual = metric.actual
        history[-1].save(update_fields=["actual"])


def metric_follows_history(metric: Metric) -> None:
    """After its actuals per period changed: the KPI shows the latest period's."""
    history = history_in_order(metric)
    if history and metric.actual != history[-1].actual:
        metric.actual = history[-1].actual
        metric.save(update_fields=["actual"])


def delete_metric(journey_map: JourneyMap, metric: Metric, user=None) -> None:
    summary = Said(gettext_noop("deleted the KPI ‘%(kpi)s’ of ‘%(stage)s’"), kpi=metric.name, stage=metric.stage.name)
    with editing(journey_map, user, summary, metric.stage.key):
        metric.delete()


# --- monitoring: reviews and lead qualification -------------------------------------------


def mark_reviewed(journey_map: JourneyMap, user=None, today=None) -> JourneyMap:
    """The team looked at the map today: its next review is due a cadence from now."""
    today = today or timezone.localdate()
    with editing(journey_map, user, Said(gettext_noop("marked the map as reviewed"))):
        journey_map.last_reviewed = today
        journey_map.save(update_fields=["last_reviewed", "updated"])
    return journey_map


def add_criterion(journey_map: JourneyMap, form, user=None) -> QualificationCriterion:
    """A lead qualification criterion from a valid CriterionForm; it goes last in its stage."""
    stage = form.instance.stage
    with editing(journey_map, user, stage=stage.key, token=_token(form)) as change:
        form.instance.order = next_order(stage.criteria)
        criterion = form.save()
        change.summary = Said(
            gettext_noop("added the qualification criterion ‘%(criterion)s’ to ‘%(stage)s’"),
            criterion=criterion.description,
            stage=stage.name,
        )
        return criterion


def delete_criterion(journey_map: JourneyMap, criterion: QualificationCriterion, user=None) -> None:
    stage = criterion.stage
    summary = Said(
        gettext_noop("removed the qualification criterion ‘%(criterion)s’ from ‘%(stage)s’"),
        criterion=criterion.description,
        stage=stage.name,
    )
    with editing(journey_map, user, summary, stage.key):
        criterion.delete()
        renumber(stage.criteria.all())


# --- answers to guiding questions, SWOT items ----------------------------------------------


def answer_question(journey_map: JourneyMap, stage: Stage, form, user=None) -> StageAnswer | None:
    """The answer to one of the stage's questions from a valid AnswerForm (its instance
    names the question), by `user`, today. An empty answer and evidence clear it (None)."""
    answer = form.instance
    with editing(journey_map, user, stage=stage.key, token=_token(form)) as change:
        stage = Stage.objects.get(pk=stage.pk)
        if answer.question not in stage.questions:
            raise Refused(
                _("That question is no longer asked in “%(stage)s”; reload the page.") % {"stage": stage.name}
            )
        existed = answer.pk is not None
        if existed:
            if not StageAnswer.objects.filter(pk=answer.pk).exists():
                raise Refused(_("Someone cleared that answer meanwhile; reload the page."))
            conflicts.merge(form)
        elif stage.answers.filter(question=answer.question).exists():
            raise Refused(_("Someone answered that question meanwhile; reload the page to see their answer."))
        if not answer.answer and not answer.evidence:
            if existed:
                answer.delete()
            change.summary = Said(gettext_noop("cleared an answer in ‘%(stage)s’"), stage=stage.name)
            return None
        if existed and not form.changed_data:
            return answer  # sent again unchanged: no revision, and who answered stays
        answer.by = getattr(user, "username", "") or ""
        answer.at = timezone.localdate()
        answer.save()
        change.summary = Said(
            gettext_noop("answered a question of ‘%(stage)s’")
            if not existed
            else gettext_noop("changed an answer in ‘%(stage)s’"),
            stage=stage.name,
        )
        return answer


# What a SWOT change says, per kind: whole sentences (a translation words each its own way).
SWOT_SAYS = {
    SwotItem.STRENGTH: {
        "added": gettext_noop("added the strength ‘%(text)s’ to the SWOT"),
        "edited": gettext_noop("edited the strength ‘%(text)s’ of the SWOT"),
        "deleted": gettext_noop("deleted the strength ‘%(text)s’ from the SWOT"),
    },
    SwotItem.WEAKNESS: {
        "added": gettext_noop("added the weakness ‘%(text)s’ to the SWOT"),
        "edited": gettext_noop("edited the weakness ‘%(text)s’ of the SWOT"),
        "deleted": gettext_noop("deleted the weakness ‘%(text)s’ from the SWOT"),
    },
    SwotItem.OPPORTUNITY: {
        "added": gettext_noop("added the opportunity ‘%(text)s’ to the SWOT"),
        "edited": gettext_noop("edited the opportunity ‘%(text)s’ of the SWOT"),
        "deleted": gettext_noop("deleted the opportunity ‘%(text)s’ from the SWOT"),
    },
    SwotItem.THREAT: {
        "added": gettext_noop("added the threat ‘%(text)s’ to the SWOT"),
        "edited": gettext_noop("edited the threat ‘%(text)s’ of the SWOT"),
        "deleted": gettext_noop("deleted the threat ‘%(text)s’ from the SWOT"),
    },
}
SWOT_KEY_WORDS = {"S": "strength", "W": "weakness", "O": "opportunity", "T": "threat"}
# Keys stay readable (the kind and the first words): actions link to them.
SWOT_KEY_MAX_LENGTH = 48


def save_swot(journey_map: JourneyMap, form, user=None) -> SwotItem:
    """A new or edited SWOT item from a valid SwotItemForm; a new one goes last, with a
    key made from its kind and text that it keeps for good."""
    item = form.instance
    new = item.pk is None
    with editing(journey_map, user, token=_token(form)) as change:
        if new:
            taken = journey_map.swot_items.values_list("key", flat=True)
            item.key = free_key(
                _swot_key_base(item), taken, SWOT_KEY_WORDS[item.kind], SWOT_KEY_MAX_LENGTH, is_key=True
            )
            item.order = next_order(journey_map.swot_items)
        else:
            conflicts.merge(form)
        item = form.save()
        change.stage = item.stage.key if item.stage else ""
        change.summary = Said(SWOT_SAYS[item.kind]["added" if new else "edited"], text=_short(item.text))
        return item


def _swot_key_base(item: SwotItem) -> str:
    """The kind and the first words of the text, cut between words: `weakness-no-pricing-page`."""
    slug = slugify(key_words(f"{SWOT_KEY_WORDS[item.kind]} {item.text}"))
    room = SWOT_KEY_MAX_LENGTH - 3  # for a "-2" that may follow
    return slug if len(slug) <= room else slug[:room].rsplit("-", 1)[0]


def delete_swot(journey_map: JourneyMap, item: SwotItem, user=None) -> None:
    summary = Said(SWOT_SAYS[item.kind]["deleted"], text=_short(item.text))
    with editing(journey_map, user, summary, item.stage.key if item.stage else ""):
        item.delete()
        renumber(journey_map.swot_items.all())


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- touchpoints and flows ---------------------------------------------------------------


def save_touchpoint(journey_map: JourneyMap, form, user=None) -> Touchpoint:
    """A new or edited touchpoint from a valid TouchpointForm, with exactly the flows
    ticked (kept in the order they were added). A touchpoint that is new, or moved to
    another stage, goes last in its stage."""
    new = form.instance.pk is None
    with editing(journey_map, user, token=_token(form)) as change:
        touchpoint = form.instance
        if new:
            _claim_key(form, journey_map.touchpoints)
        else:
            conflicts.merge(form)
        if new or touchpoint.stage_id != _stored_stage_id(touchpoint):
            touchpoint.order = next_order(touchpoint.stage.touchpoints.exclude(pk=touchpoint.pk))
        touchpoint = form.save()
        if "next_touchpoints" in form.cleaned_data:  # not when the flows are someone else's change
            set_flows(touchpoint, form.cleaned_data["next_touchpoints"])
        change.summary = Said(
            gettext_noop("added the touchpoint ‘%(touchpoint)s’ to ‘%(stage)s’")
            if new
            else gettext_noop("edited the touchpoint ‘%(touchpoint)s’ in ‘%(stage)s’"),
            touchpoint=touchpoint.name,
            stage=touchpoint.stage.name,
        )
        change.stage = touchpoint.stage.key
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


def delete_touchpoint(journey_map: JourneyMap, touchpoint: Touchpoint, user=None) -> None:
    """The touchpoint and the flows from and to it; its stage closes up."""
    stage = touchpoint.stage
    summary = Said(
        gettext_noop("deleted the touchpoint ‘%(touchpoint)s’ from ‘%(stage)s’"),
        touchpoint=touchpoint.name,
        stage=stage.name,
    )
    from . import trash

    with editing(journey_map, user, summary, stage.key):
        payload = trash.touchpoint_payload(_export(journey_map), touchpoint.key)
        trash.keep(journey_map, journey_map.workspace, TrashItem.TOUCHPOINT, touchpoint.name, payload, user)
        touchpoint.delete()
        renumber(stage.touchpoints.all())


def move_touchpoint(journey_map: JourneyMap, touchpoint: Touchpoint, direction: str, user=None) -> Touchpoint:
    """Keyboard moves: up/down within the stage, left/right to the end of the next stage."""
    with editing(journey_map, user, stage=touchpoint.stage.key) as change:
        if direction in ("up", "down"):
            siblings = list(touchpoint.stage.touchpoints.all())
            index = _index_of(siblings, touchpoint.key)
            other = index + (-1 if direction == "up" else 1)
            if not 0 <= other < len(siblings):
                refusal = (
                    _("“%(name)s” is already at the top of its stage.")
                    if direction == "up"
                    else _("“%(name)s” is already at the bottom of its stage.")
                )
                raise Refused(refusal % {"name": touchpoint.name})
            siblings[index], siblings[other] = siblings[other], siblings[index]
            renumber(siblings)
            change.summary = Said(
                gettext_noop("moved ‘%(touchpoint)s’ up in ‘%(stage)s’")
                if direction == "up"
                else gettext_noop("moved ‘%(touchpoint)s’ down in ‘%(stage)s’"),
                touchpoint=touchpoint.name,
                stage=touchpoint.stage.name,
            )
            return touchpoint
        stages = list(journey_map.stages.all())
        index = _index_of(stages, touchpoint.stage.key)
        other = index + (-1 if direction == "left" else 1)
        if not 0 <= other < len(stages):
            refusal = (
                _("“%(name)s” is already in the first stage.")
                if direction == "left"
                else _("“%(name)s” is already in the last stage.")
            )
            raise Refused(refusal % {"name": touchpoint.name})
        old_stage = touchpoint.stage
        touchpoint.stage = stages[other]
        touchpoint.order = next_order(stages[other].touchpoints)
        touchpoint.save(update_fields=["stage", "order"])
        renumber(old_stage.touchpoints.all())
        change.summary = _moved(touchpoint, old_stage, touchpoint.stage)
        return touchpoint


def _moved(touchpoint: Touchpoint, old: Stage, new: Stage) -> Said:
    return Said(
        gettext_noop("moved ‘%(touchpoint)s’ from ‘%(old)s’ to ‘%(new)s’"),
        touchpoint=touchpoint.name,
        old=old.name,
        new=new.name,
    )


def reorder_touchpoints(
    journey_map: JourneyMap, stage: Stage, keys: list[str], user=None, seen: str | None = None
) -> None:
    """Drag and drop: `keys` is the new order of one stage's touchpoints, possibly with a
    newcomer from another stage, made on the page drawn at version `seen`. Touchpoints
    of the stage that the list does not name (added meanwhile by someone else) keep
    their relative order after the named ones; if someone reordered or moved the named
    ones meanwhile, the drop is refused (Stale) rather than undoing their change."""
    summary = Said(gettext_noop("reordered the touchpoints of ‘%(stage)s’"), stage=stage.name)
    with editing(journey_map, user, summary, stage.key) as change:
        named = {tp.key: tp for tp in journey_map.touchpoints.select_related("stage").filter(key__in=keys)}
        if len(named) != len(keys) or len(set(keys)) != len(keys):
            raise Refused(_("The touchpoints changed meanwhile; reload the page and try again."))
        then = _seen_document(journey_map, seen)
        if then is not None and _touchpoints_moved_since(then, stage, named):
            raise Stale(
                _("%(who)s moved touchpoints of ‘%(stage)s’ meanwhile; the board now shows their order.")
                % {"who": ", ".join(changed_by_since(journey_map, seen)), "stage": stage.name}
            )
        left_behind = {tp.stage_id for tp in named.values() if tp.stage_id != stage.pk}
        for tp in named.values():
            if tp.stage_id != stage.pk:
                change.summary = _moved(tp, tp.stage, stage)
                tp.stage = stage
                tp.save(update_fields=["stage"])
        others = [tp for tp in stage.touchpoints.all() if tp.key not in named]
        renumber([named[key] for key in keys] + others)
        for old_stage in Stage.objects.filter(pk__in=left_behind):
            renumber(old_stage.touchpoints.all())


def _touchpoints_moved_since(then: dict, stage: Stage, named: dict[str, Touchpoint]) -> bool:
    """Whether, between the document `then` and now, someone else changed the order of
    the stage's touchpoints or moved one of `named` to another stage."""
    stage_then = {tp["key"]: tp["stage"] for tp in then["touchpoints"]}
    if any(key in stage_then and stage_then[key] != tp.stage.key for key, tp in named.items()):
        return True
    order_then = [tp["key"] for tp in then["touchpoints"] if tp["stage"] == stage.key]
    order_now = list(stage.touchpoints.values_list("key", flat=True))
    return _in_common_order(order_then, order_now) != _in_common_order(order_now, order_then)


def add_flow(journey_map: JourneyMap, source: Touchpoint, target_key: str, user=None) -> Flow:
    with editing(journey_map, user, stage=source.stage.key) as change:
        target = journey_map.touchpoints.filter(key=target_key).first()
        if target is None:
            raise Refused(_("Pick the touchpoint the buyer goes to next."))
        if target.pk == source.pk:
            raise Refused(_("A touchpoint cannot flow to itself."))
        if source.flows_out.filter(target=target).exists():
            raise Refused(
                _("“%(source)s” already flows to “%(target)s”.") % {"source": source.name, "target": target.name}
            )
        change.summary = Said(
            gettext_noop("added a flow from ‘%(source)s’ to ‘%(target)s’"), source=source.name, target=target.name
        )
        return Flow.objects.create(source=source, target=target, order=next_order(source.flows_out))


def remove_flow(journey_map: JourneyMap, flow: Flow, user=None) -> None:
    summary = Said(
        gettext_noop("removed the flow from ‘%(source)s’ to ‘%(target)s’"),
        source=flow.source.name,
        target=flow.target.name,
    )
    with editing(journey_map, user, summary, flow.source.stage.key):
        flow.delete()


# --- personas and content of a map ----------------------------------------------------------


def save_map_persona(journey_map: JourneyMap, form, user=None) -> MapPersona:
    """A persona added to the map (last), or its scope changed, from a valid MapPersonaForm."""
    new = form.instance.pk is None
    with editing(journey_map, user, token=_token(form)) as change:
        if new:
            if journey_map.map_personas.filter(persona=form.instance.persona_id).exists():
                raise AlreadyDone()
            form.instance.order = next_order(journey_map.map_personas)
        else:
            conflicts.merge(form)
        entry = form.save()
        change.summary = Said(
            gettext_noop("added the persona ‘%(persona)s’ to the map")
            if new
            else gettext_noop("changed the stages of the persona ‘%(persona)s’"),
            persona=entry.persona.name,
        )
        return entry


def create_persona_in_map(journey_map: JourneyMap, form, user=None) -> MapPersona:
    """A new library persona from a valid PersonaForm, added to the map (last, in every
    stage) in the same transaction."""
    with transaction.atomic():
        # The library first: it locks every map of the workspace in one order, this one included.
        persona = save_library_item(form, user=user)
        summary = Said(gettext_noop("added the persona ‘%(persona)s’ to the map"), persona=persona.name)
        with editing(journey_map, user, summary):
            return MapPersona.objects.create(
                map=journey_map, persona=persona, order=next_order(journey_map.map_personas)
            )


def remove_map_persona(journey_map: JourneyMap, entry: MapPersona, user=None) -> None:
    """The persona leaves the map; it stays in the library."""
    summary = Said(gettext_noop("removed the persona ‘%(persona)s’ from the map"), persona=entry.persona.name)
    with editing(journey_map, user, summary):
        entry.delete()


def link_content(
    journey_map: JourneyMap, stage: Stage, content: ContentAsset, persona: Persona | None = None, user=None
) -> None:
    """The asset serves the stage and, if a persona is named, now targets it too."""
    summary = Said(gettext_noop("linked ‘%(content)s’ to ‘%(stage)s’"), content=content.title, stage=stage.name)
    with editing(journey_map, user, summary, stage.key):
        stage.content.add(content)
        if persona is not None:
            content.personas.add(persona)


# --- actions (priorities) ------------------------------------------------------------------


def save_action(journey_map: JourneyMap, form, user=None) -> Action:
    """A new or edited action from a valid ActionForm; a new one goes last, with a key made
    from its title."""
    new = form.instance.pk is None
    with editing(journey_map, user, token=_token(form)) as change:
        action = form.instance
        if new:
            action.key = free_key(action.title, journey_map.actions.values_list("key", flat=True), "action")
            action.order = next_order(journey_map.actions)
        else:
            conflicts.merge(form)
        action = form.save()
        change.summary = Said(
            gettext_noop("added the action ‘%(action)s’") if new else gettext_noop("edited the action ‘%(action)s’"),
            action=action.title,
        )
        change.stage = action.stage.key if action.stage else ""
        return action


def set_action_status(journey_map: JourneyMap, action: Action, status: str, user=None) -> Action:
    """One click on the Actions tab: open, in progress, done or dropped."""
    if status not in ACTION_STATUS_SAID:
        raise Refused(_("Pick one of the statuses of an action."))
    summary = Said(ACTION_STATUS_SAID[status], action=action.title)
    with editing(journey_map, user, summary, action.stage.key if action.stage else ""):
        action.status = status
        action.save(update_fields=["status"])
    return action


# A change of status as the history says it: whole sentences, as a translation may put
# the status elsewhere in the sentence.
ACTION_STATUS_SAID = {
    Action.OPEN: gettext_noop("reopened the action ‘%(action)s’"),
    Action.IN_PROGRESS: gettext_noop("started the action ‘%(action)s’"),
    Action.DONE: gettext_noop("marked the action ‘%(action)s’ done"),
    Action.DROPPED: gettext_noop("dropped the action ‘%(action)s’"),
}


def delete_action(journey_map: JourneyMap, action: Action, user=None) -> None:
    """The action goes; undo or the history bring it back."""
    summary = Said(gettext_noop("deleted the action ‘%(action)s’"), action=action.title)
    with editing(journey_map, user, summary, action.stage.key if action.stage else ""):
        action.delete()
        renumber(journey_map.actions.all())


# --- the workspace library -------------------------------------------------------------------


@contextmanager
def editing_library(workspace: Workspace, user=None, summary: Said | str = "") -> Iterator[Change]:
    """A change to the workspace's library: every map that shows the item gets a revision.

    All the workspace's maps are locked first, in one order (by id), so that a library
    change and map changes never wait on each other in a cycle. Maps whose document the
    change leaves as it was get no revision.
    """
    with transaction.atomic():
        maps = list(JourneyMap.objects.select_for_update().filter(workspace=workspace, deleted=None).order_by("pk"))
        for journey_map in maps:
            if journey_map.version == 0:
                _record(journey_map, Change(summary=HISTORY_STARTS))
        change = Change(user=user, summary=summary)
        yield change
        for journey_map in maps:
            _record(journey_map, change)


def save_library_item(form, user=None) -> models.Model:
    """A new or edited department, role, persona or content asset; a new one goes last."""
    item = form.instance
    new = item.pk is None
    with editing_library(item.workspace, user) as change:
        if new:
            item.order = next_order(type(item).objects.filter(workspace=item.workspace))
        else:
            conflicts.merge(form)
        item = form.save()
        change.summary = Said(LIBRARY_SAYS[type(item)]["added" if new else "edited"], item=str(item))
        return item


# What a library change says, per kind of item: whole sentences, since a translation
# may put the kind in another place or word it differently for each.
LIBRARY_SAYS = {
    Department: {
        "added": gettext_noop("added the department ‘%(item)s’ to the library"),
        "edited": gettext_noop("edited the department ‘%(item)s’ in the library"),
        "deleted": gettext_noop("deleted the department ‘%(item)s’ from the library"),
    },
    BuyingRole: {
        "added": gettext_noop("added the buying role ‘%(item)s’ to the library"),
        "edited": gettext_noop("edited the buying role ‘%(item)s’ in the library"),
        "deleted": gettext_noop("deleted the buying role ‘%(item)s’ from the library"),
    },
    Persona: {
        "added": gettext_noop("added the persona ‘%(item)s’ to the library"),
        "edited": gettext_noop("edited the persona ‘%(item)s’ in the library"),
        "deleted": gettext_noop("deleted the persona ‘%(item)s’ from the library"),
    },
    ContentAsset: {
        "added": gettext_noop("added the content asset ‘%(item)s’ to the library"),
        "edited": gettext_noop("edited the content asset ‘%(item)s’ in the library"),
        "deleted": gettext_noop("deleted the content asset ‘%(item)s’ from the library"),
    },
}

# What still uses a library item, counted (library_uses).
TOUCHPOINTS_USING = ngettext_lazy("%(n)d touchpoint", "%(n)d touchpoints", "n")
STAGES_REQUIRING = ngettext_lazy("%(n)d stage that requires it", "%(n)d stages that require it", "n")
STAGES_LED = ngettext_lazy("%(n)d stage it leads", "%(n)d stages it leads", "n")
STAGES_CONTRIBUTED_TO = ngettext_lazy("%(n)d stage it contributes to", "%(n)d stages it contributes to", "n")
TOUCHPOINTS_OWNED = ngettext_lazy("%(n)d touchpoint it owns", "%(n)d touchpoints it owns", "n")
ACTIONS_OWNED = ngettext_lazy("%(n)d action it owns", "%(n)d actions it owns", "n")


def library_uses(item: models.Model) -> list[str]:
    """What still uses a library item, in words; deleting it is refused while any is left."""
    uses: list[str] = []
    if isinstance(item, Persona):
        uses += [_("the map “%(map)s”") % {"map": e.map.name} for e in item.map_entries.select_related("map")]
        uses += _counted(item.touchpoints.count(), TOUCHPOINTS_USING)
    elif isinstance(item, ContentAsset):
        uses += [_("a stage of “%(map)s”") % {"map": s.map.name} for s in item.stages.select_related("map")]
        uses += _counted(item.touchpoints.count(), TOUCHPOINTS_USING)
    elif isinstance(item, BuyingRole):
        uses += [_("persona “%(name)s”") % {"name": p.name} for p in item.personas.all()]
        uses += _counted(item.stages.count(), STAGES_REQUIRING)
    elif isinstance(item, Department):
        uses += _counted(item.led_stages.count(), STAGES_LED)
        uses += _counted(item.contributed_stages.count(), STAGES_CONTRIBUTED_TO)
        uses += _counted(item.touchpoints.count(), TOUCHPOINTS_OWNED)
        uses += _counted(item.actions.count(), ACTIONS_OWNED)
    return uses


def _counted(n: int, words) -> list[str]:
    """`words` (an ngettext_lazy keyed on "n") for `n`, if there are any."""
    return [words % {"n": n}] if n else []


def delete_library_item(item: models.Model, user=None) -> None:
    """Delete a library item that nothing uses; refuse, naming every use, otherwise."""
    summary = Said(LIBRARY_SAYS[type(item)]["deleted"], item=str(item))
    with editing_library(item.workspace, user, summary):
        uses = library_uses(item)
        if uses:
            raise Refused(
                _("“%(item)s” cannot be deleted while it is used by %(uses)s. Remove those uses first.")
                % {"item": item, "uses": ", ".join(uses)}
            )
        from . import trash

        trash.keep(None, item.workspace, TrashItem.LIBRARY, str(item), trash.library_payload(item), user)
        try:
            item.delete()
        except models.ProtectedError:
            raise Refused(_("“%(item)s” is still in use and was not deleted.") % {"item": item}) from None


def _token(form) -> str:
    """The token of the form the person sent (see Revision.token), if it carried one."""
    return looked_up(str(form.data.get("token", ""))) if form.is_bound else ""


def _claim_key(form, siblings: models.QuerySet) -> None:
    """A new object's key, checked again under the lock: someone may have taken it since
    the form was validated. A key made from the name is made again; a key the person
    typed is refused."""
    instance = form.instance
    if not siblings.filter(key=instance.key).exists():
        return
    if form.data.get(form.add_prefix("key")):
        raise Refused(
            _("The key “%(key)s” was taken by someone else meanwhile; choose another.") % {"key": instance.key}
        )
    source = getattr(instance, getattr(form, "key_source", "name"), "")
    instance.key = free_key(source, siblings.values_list("key", flat=True), getattr(form, "key_fallback", "item"))


def _index_of(objects: list, key: str) -> int:
    for index, obj in enumerate(objects):
        if obj.key == key:
            return index
    raise Refused(_("That no longer exists; reload the page."))
