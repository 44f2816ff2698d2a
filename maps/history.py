"""Going back: undo a person's last change, restore a map as it was at a revision, and
replace a map's content with a document (import --into). Each is itself a revision.

All three work on journeymap/1 documents (maps.revisions): the document wanted is
computed, then written over the map's content with `interchange.replace_content`, which
keeps the map's key and history.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import audit, changes, interchange, revisions
from .diagram import DiagramError
from .gaps import find_gaps
from .models import AuditEvent, JourneyMap, Revision, Workspace
from .rendering import render_map
from .said import Said


def revision_delta(revision: Revision) -> dict:
    return revisions.unpack(revision.delta)


def last_own_change(journey_map: JourneyMap, user) -> Revision | None:
    """The person's latest change of the map that can be undone: not an undo itself, not
    undone already, and not the map's creation."""
    return (
        Revision.objects.filter(map=journey_map, user=user, number__gt=1, undoes=None, undone_by=None)
        .order_by("-number")
        .first()
    )


def undo(journey_map: JourneyMap, user) -> Revision:
    """Revert the person's own last change, if nothing newer touches the same thing."""
    with changes.editing(journey_map, user) as change:
        target = last_own_change(journey_map, user)
        if target is None:
            raise changes.Refused(_("You have no change of this map to undo."))
        delta = revision_delta(target)
        mine = revisions.touched(delta)
        for later in Revision.objects.filter(map=journey_map, number__gt=target.number).order_by("number"):
            if revisions.touched(revision_delta(later)) & mine:
                who = later.user.get_username() if later.user else _("Someone")
                raise changes.Refused(
                    _("%(who)s changed the same thing since (%(what)s); undoing “%(yours)s” would lose it.")
                    % {"who": who, "what": later.summary, "yours": target.summary}
                )
        current = changes.document_at(journey_map, journey_map.version)
        wanted = revisions.apply(current, delta, backwards=True)
        _keep_key(journey_map, wanted)
        interchange.replace_content(journey_map, wanted)
        # What was undone is said as it was said, so that it reads in each reader's language too.
        change.summary = Said(gettext_noop("undid: %(summary)s"), summary=target.summary_value)
        change.stage = target.stage
        change.undoes = target
    return target


def restore(journey_map: JourneyMap, number: int, user=None) -> None:
    """The map's content as it was after revision `number`; its key stays."""
    summary = Said(gettext_noop("restored the map as it was at revision %(n)s"), n=str(number))
    with changes.editing(journey_map, user, summary):
        if not Revision.objects.filter(map=journey_map, number=number).exists():
            raise changes.Refused(_("This map has no revision %(number)s.") % {"number": number})
        wanted = changes.document_at(journey_map, number)
        _keep_key(journey_map, wanted)
        interchange.replace_content(journey_map, wanted)
        audit.record(
            AuditEvent.RESTORED, user=user, workspace=journey_map.workspace, map=journey_map.name, revision=number
        )


def replace(
    journey_map: JourneyMap, doc: dict, user=None, summary: Said | str = "", version: int | None = None
) -> None:
    """Replace the map's content with `doc` (validated first); its key and history stay.
    With `version` (the one a preview showed), refused if the map has changed since."""
    doc = dict(doc, map=dict(doc.get("map") or {}))
    interchange.validate(doc)
    with transaction.atomic():
        # The map's row locked first (as editing does), so no change slips in between.
        now = JourneyMap.objects.select_for_update().values_list("version", flat=True).get(pk=journey_map.pk)
        if version is not None and now != version:
            who = ", ".join(changes.changed_by_since(journey_map, version))
            raise changes.Stale(
                _(
                    "%(who)s changed the map since the preview; nothing was replaced. "
                    "Choose the file again to see what it would change now."
                )
                % {"who": who}
            )
        with changes.editing(journey_map, user, summary or Said(gettext_noop("replaced the map’s content"))):
            _keep_key(journey_map, doc)
            interchange.replace_content(journey_map, doc)


def _keep_key(journey_map: JourneyMap, doc: dict) -> None:
    doc["map"] = dict(doc["map"], key=journey_map.key)


def history(journey_map: JourneyMap, user: str = "", stage: str = "") -> list[Revision]:
    """Revisions newest first, optionally of one person (username) or one stage (key)."""
    found = Revision.objects.filter(map=journey_map).select_related("user", "undone_by").defer("delta", "checkpoint")
    if user:
        found = found.filter(user__username=user)
    if stage:
        found = found.filter(Q(stage=stage))
    return list(found.order_by("-number"))


def people(journey_map: JourneyMap) -> list[str]:
    """The usernames of everyone who changed the map, for the history's filter."""
    names = Revision.objects.filter(map=journey_map).exclude(user=None).values_list("user__username", flat=True)
    return sorted(set(names))


def as_it_was(journey_map: JourneyMap, number: int) -> dict:
    """The gaps and stage diagram of the map as it was after revision `number`.

    The old document is imported into a scratch workspace inside a transaction that is
    rolled back, so the same gap rules and diagram code read it as they read any map,
    and nothing of it stays.
    """
    doc = changes.document_at(journey_map, number)
    result = {"gaps": [], "svg": None, "error": None}
    with transaction.atomic():
        scratch = Workspace.objects.create(slug=f"as-it-was-{uuid.uuid4().hex[:12]}", name=journey_map.workspace.name)
        then = JourneyMap.objects.loaded().get(pk=interchange.import_map(doc, scratch).pk)
        found = find_gaps(then)
        result["gaps"] = [
            {"stage": stage.name, "rows": [gap for gap in found if gap.stage == stage.key]}
            for stage in then.stages.all()
        ]
        try:
            svg = render_map(then, "stages", "svg", gaps=found).body.decode()
            result["svg"] = svg[svg.find("<svg") :]
        except DiagramError as err:
            result["error"] = str(err)
        transaction.set_rollback(True)
    return result
