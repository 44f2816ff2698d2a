"""Comments on a map, a stage, a touchpoint or a gap row: threads that members post,
answer, @mention each other in, resolve and reopen.

Comments are not map content: they have no revisions and no undo. Every write tells the
others who have the map open (maps.live) once it is committed.

A thread is a top comment and its replies. Replies take their parent's target; a thread
is resolved on its top comment, and its replies go with it. Counts are of open threads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, Prefetch
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import gaps as gap_rules
from . import live
from .models import Comment, JourneyMap, Membership
from .said import Said

# A Django username: letters, digits and @ . + - _. A mention ends before a trailing
# full stop or dash ("thanks @bob." mentions bob), and needs a space or the start
# before its @ (an e-mail address mentions nobody).
MENTION = re.compile(r"(?<![\w@.+-])@([\w.@+-]*[\w+])")
OPEN, RESOLVED, EVERY = "open", "resolved", "all"
STATES = (OPEN, RESOLVED, EVERY)


@dataclass(frozen=True)
class Target:
    """What a thread is about: the map (kind "map"), a stage, a touchpoint or a gap row."""

    kind: str = Comment.MAP
    stage: str = ""
    touchpoint: str = ""
    gap: str = ""

    def fields(self) -> dict:
        return {"target": self.kind, "stage_key": self.stage, "touchpoint_key": self.touchpoint, "gap": self.gap}

    def query(self) -> list[tuple[str, str]]:
        """The query string that names it (`?target=stage&stage=KEY`)."""
        pairs = [("target", self.kind)]
        if self.kind == Comment.STAGE:
            pairs.append(("stage", self.stage))
        elif self.kind == Comment.TOUCHPOINT:
            pairs.append(("touchpoint", self.touchpoint))
        elif self.kind == Comment.GAP:
            pairs.append(("gap", self.gap))
        return pairs

    @classmethod
    def of(cls, comment: Comment) -> Target:
        return cls(comment.target, comment.stage_key, comment.touchpoint_key, comment.gap)


def target_from(params: Mapping, journey_map: JourneyMap) -> Target | None:
    """The target the query string or form names, checked against the map; None when it
    names none (every open comment of the map). A stage or touchpoint that the map does
    not have is a 404, like its editor's address would be."""
    kind = params.get("target", "")
    if kind == Comment.MAP:
        return Target()
    if kind == Comment.STAGE:
        key = params.get("stage", "")
        if not journey_map.stages.filter(key=key).exists():
            raise Http404(_("No such stage"))
        return Target(Comment.STAGE, stage=key)
    if kind == Comment.TOUCHPOINT:
        key = params.get("touchpoint", "")
        if not journey_map.touchpoints.filter(key=key).exists():
            raise Http404(_("No such touchpoint"))
        return Target(Comment.TOUCHPOINT, touchpoint=key)
    if kind == Comment.GAP:
        gap_id = params.get("gap", "")
        parts = gap_id.split("|")
        # A gap row's id: code|stage|persona|touchpoint|content|role (maps.gaps.Gap.id).
        if len(parts) != 6 or len(gap_id) > 400 or not journey_map.stages.filter(key=parts[1]).exists():
            raise Http404(_("No such gap"))
        return Target(Comment.GAP, stage=parts[1], gap=gap_id)
    return None


# --- reading ---------------------------------------------------------------------------


def threads(journey_map: JourneyMap, target: Target | None = None, state: str = OPEN) -> list[Comment]:
    """The top comments of the map (of `target` if given), oldest first, each with its
    replies, authors and mentions, in a fixed number of queries."""
    people = Comment.objects.select_related("author").prefetch_related("mentions")
    found = people.filter(map=journey_map, parent=None).prefetch_related(
        Prefetch("replies", queryset=people.order_by("created", "id"))
    )
    if target is not None:
        found = found.filter(**target.fields())
    if state == OPEN:
        found = found.filter(resolved=None)
    elif state == RESOLVED:
        found = found.exclude(resolved=None).select_related("resolved_by")
    return list(found)


def open_counts(journey_map: JourneyMap) -> dict[tuple[str, str], int]:
    """Open threads per target, in one query: ("stage", KEY), ("touchpoint", KEY),
    ("gap", ID) and ("map", "") -> count. Kept on the map: the page asks more than once."""
    cached = getattr(journey_map, "_open_comment_counts", None)
    if cached is None:
        cached = journey_map._open_comment_counts = open_counts_of(journey_map.pk)
    return cached


def counts_stamp(counts: Mapping[tuple[str, str], int]) -> str:
    """The open counts as one string: what a cached board or gap list keys on, since
    they show them (the badges) and they change without a new map version."""
    return "|".join(f"{target}:{name}:{n}" for (target, name), n in sorted(counts.items()))


def open_counts_of(map_id: int) -> dict[tuple[str, str], int]:
    rows = (
        Comment.objects.filter(map_id=map_id, parent=None, resolved=None)
        .values("target", "stage_key", "touchpoint_key", "gap")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, str], int] = {}
    for row in rows:
        name = {
            Comment.STAGE: row["stage_key"],
            Comment.TOUCHPOINT: row["touchpoint_key"],
            Comment.GAP: row["gap"],
        }.get(row["target"], "")
        counts[(row["target"], name)] = counts.get((row["target"], name), 0) + row["n"]
    return counts


def total_open(journey_map: JourneyMap) -> int:
    return sum(open_counts(journey_map).values())


def stage_totals(journey_map: JourneyMap) -> dict[str, int]:
    """Open threads per stage key, counting the stage's own, its touchpoints' and its
    gap rows' (for the presenter and the deck). Reads a loaded map's touchpoints."""
    counts = open_counts(journey_map)
    totals: dict[str, int] = {}
    for stage in journey_map.stages.all():
        total = counts.get((Comment.STAGE, stage.key), 0)
        total += sum(counts.get((Comment.TOUCHPOINT, tp.key), 0) for tp in stage.touchpoints.all())
        total += sum(n for (kind, name), n in counts.items() if kind == Comment.GAP and _gap_stage(name) == stage.key)
        totals[stage.key] = total
    return totals


def _gap_stage(gap_id: str) -> str:
    parts = gap_id.split("|")
    return parts[1] if len(parts) > 1 else ""


def add_counts(ctx: dict) -> None:
    """Put the open-comment counts on what the map page draws: board columns and cards,
    gap rows, presenter slides. One query for the whole page."""
    journey_map = ctx["map"]
    counts = open_counts(journey_map)
    ctx["open_comment_total"] = sum(counts.values())
    for column in ctx.get("board", {}).get("columns", []):
        column.open_comments = counts.get((Comment.STAGE, column.stage.key), 0)
        for card in column.cards:
            card.open_comments = counts.get((Comment.TOUCHPOINT, card.touchpoint.key), 0)
    for group in ctx.get("gap_groups") or []:
        for row in group["rows"]:
            row["open_comments"] = counts.get((Comment.GAP, row["gap"].id), 0)


def stage_threads(journey_map: JourneyMap) -> dict[str, list[Comment]]:
    """Open threads grouped by the stage they are in (the stage itself, its touchpoints,
    its gap rows), for the presenter's slides. Reads a loaded map's touchpoints."""
    stage_of_touchpoint = {tp.key: stage.key for stage in journey_map.stages.all() for tp in stage.touchpoints.all()}
    grouped: dict[str, list[Comment]] = {}
    for thread in threads(journey_map):
        if thread.target == Comment.TOUCHPOINT:
            stage = stage_of_touchpoint.get(thread.touchpoint_key, "")
        elif thread.target in (Comment.STAGE, Comment.GAP):
            stage = thread.stage_key
        else:
            continue
        grouped.setdefault(stage, []).append(thread)
    return grouped


def labels(journey_map: JourneyMap, found: Iterable[gap_rules.Gap] | None = None) -> dict[tuple[str, str], str]:
    """What each target is called in the list: stage and touchpoint names, gap messages.
    Reads a loaded map (no query), and the gap rows if given."""
    names: dict[tuple[str, str], str] = {}
    for stage in journey_map.stages.all():
        names[(Comment.STAGE, stage.key)] = stage.name
        for tp in stage.touchpoints.all():
            names[(Comment.TOUCHPOINT, tp.key)] = tp.name
    for gap in found or []:
        names[(Comment.GAP, gap.id)] = gap.message
    return names


def about(target: Target | None, names: Mapping[tuple[str, str], str]) -> str:
    """ "Stage: Awareness", "Touchpoint: Webinar", "Gap: …", "The map"; None: every open comment."""
    if target is None:
        return _("Open comments")
    if target.kind == Comment.STAGE:
        return _("Stage: %(name)s") % {"name": names.get((Comment.STAGE, target.stage), target.stage)}
    if target.kind == Comment.TOUCHPOINT:
        name = names.get((Comment.TOUCHPOINT, target.touchpoint), target.touchpoint)
        return _("Touchpoint: %(name)s") % {"name": name}
    if target.kind == Comment.GAP:
        message = names.get((Comment.GAP, target.gap))
        if message is None:
            return _("A gap that is closed now (%(code)s)") % {"code": target.gap.split("|")[0]}
        return _("Gap: %(message)s") % {"message": message}
    return _("The map")


def segments(comment: Comment) -> list[tuple[str, bool]]:
    """The body as (text, is a mention) pieces, for the page to highlight mentions with
    the text escaped as always. Only names of people the comment mentions count."""
    mentioned = {user.get_username().lower() for user in comment.mentions.all()}
    pieces: list[tuple[str, bool]] = []
    at = 0
    for match in MENTION.finditer(comment.body):
        if match.group(1).lower() not in mentioned:
            continue
        if match.start() > at:
            pieces.append((comment.body[at : match.start()], False))
        pieces.append((match.group(0), True))
        at = match.end()
    if at < len(comment.body):
        pieces.append((comment.body[at:], False))
    return pieces


def mentions_user(comment: Comment, user) -> bool:
    return any(person.pk == user.pk for person in comment.mentions.all())


def can_resolve(comment: Comment, membership: Membership) -> bool:
    """The author, or anyone who may edit the workspace."""
    return membership.can_edit or (comment.author_id is not None and comment.author_id == membership.user_id)


# --- writing ---------------------------------------------------------------------------


def mentioned_members(journey_map: JourneyMap, body: str) -> list:
    """The members of the map's workspace named as @username in `body` (any case);
    other names stay plain text."""
    names = {match.group(1).lower() for match in MENTION.finditer(body)}
    if not names:
        return []
    members = get_user_model().objects.filter(memberships__workspace=journey_map.workspace)
    return [user for user in members if user.get_username().lower() in names]


def _what(journey_map: JourneyMap, target: Target) -> Said:
    """The target as the live line names it."""
    if target.kind == Comment.STAGE:
        stage = journey_map.stages.filter(key=target.stage).first()
        return Said(gettext_noop("the stage ‘%(stage)s’"), stage=stage.name if stage else target.stage)
    if target.kind == Comment.TOUCHPOINT:
        tp = journey_map.touchpoints.filter(key=target.touchpoint).first()
        return Said(gettext_noop("the touchpoint ‘%(touchpoint)s’"), touchpoint=tp.name if tp else target.touchpoint)
    if target.kind == Comment.GAP:
        return Said(gettext_noop("a gap in ‘%(stage)s’"), stage=_stage_name(journey_map, target.stage))
    return Said(gettext_noop("the map"))


def _stage_name(journey_map: JourneyMap, key: str) -> str:
    stage = journey_map.stages.filter(key=key).first()
    return stage.name if stage else key


def post(journey_map: JourneyMap, target: Target, body: str, user) -> Comment:
    """A new thread. `body` has been validated (CommentForm: the model field's rules)."""
    with transaction.atomic():
        comment = Comment.objects.create(map=journey_map, author=user, body=body, **target.fields())
        comment.mentions.set(mentioned_members(journey_map, body))
        live.announce(
            journey_map.pk,
            user,
            Said(gettext_noop("commented on %(what)s"), what=_what(journey_map, target)),
            "comments",
        )
    return comment


def reply(parent: Comment, body: str, user) -> Comment:
    """An answer in `parent`'s thread, about the same target (a reply to a reply joins
    the thread of its top comment)."""
    top = parent.parent if parent.parent_id else parent
    with transaction.atomic():
        comment = Comment.objects.create(map=top.map, parent=top, author=user, body=body, **Target.of(top).fields())
        comment.mentions.set(mentioned_members(top.map, body))
        live.announce(top.map_id, user, Said(gettext_noop("replied to a comment")), "comments")
    return comment


def resolve(comment: Comment, user) -> Comment:
    """Resolve the comment's thread (its top comment; the replies go with it)."""
    top = comment.parent if comment.parent_id else comment
    with transaction.atomic():
        if top.resolved is None:
            top.resolved, top.resolved_by = timezone.now(), user
            top.save(update_fields=["resolved", "resolved_by"])
            live.announce(top.map_id, user, Said(gettext_noop("resolved a comment")), "comments")
    return top


def reopen(comment: Comment, user) -> Comment:
    top = comment.parent if comment.parent_id else comment
    with transaction.atomic():
        if top.resolved is not None:
            top.resolved, top.resolved_by = None, None
            top.save(update_fields=["resolved", "resolved_by"])
            live.announce(top.map_id, user, Said(gettext_noop("reopened a comment")), "comments")
    return top


def add_stage_threads(journey_map: JourneyMap, columns: Iterable) -> None:
    """Each board column gets the open threads in its stage, for the presenter's slides."""
    grouped = stage_threads(journey_map)
    for column in columns:
        column.open_threads = [
            {"comment": thread, "segments": segments(thread), "replies": len(thread.replies.all())}
            for thread in grouped.get(column.stage.key, [])
        ]
