"""Dot voting: a facilitator opens a vote on a map's pain points, opportunities and (if
they like) gap rows; every member places up to N dots, takes them back, until the vote
closes or its end time passes; the result is the items ranked by their dots.

Votes are not map content: no revision is recorded for them (maps.changes is the write
path of the map itself). Every write announces itself (maps.live) for the open pages.

What a vote is on is written down when it opens (VoteItem), so the ranking keeps its
words whatever happens to the map afterwards.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from . import live
from .changes import Refused
from .gaps import find_gaps
from .models import JourneyMap, Membership, VoteDot, VoteItem, VoteSession
from .said import Said

VOTES_MIN, VOTES_MAX = 1, 20
TITLE_MAX = 200

__all__ = [
    "Refused",
    "Row",
    "Tally",
    "can_facilitate",
    "check_ends",
    "close_vote",
    "closed_dots",
    "collect_items",
    "current_vote",
    "latest_closed",
    "open_vote",
    "past_votes",
    "place_dot",
    "take_back",
    "tally",
]


def can_facilitate(membership: Membership) -> bool:
    """Who opens and closes votes: the map's editors and owners. Everyone votes."""
    return membership.can_edit


def check_ends(ends: datetime.datetime | None) -> None:
    """A vote cannot end before it opens: the one rule on an end time (form and model layer)."""
    if ends is not None and ends <= timezone.now():
        raise ValidationError(_("The end time must be in the future."), code="ends_past")


# --- what a vote is on -------------------------------------------------------------------------


def collect_items(journey_map: JourneyMap, include_gaps: bool = False) -> list[VoteItem]:
    """The items a vote opened now would be on, unsaved, in board order: stage by stage,
    its pain points, then its opportunities, then (if asked) its gap rows.
    `journey_map` comes from JourneyMap.objects.loaded()."""
    gaps_by_stage: dict[str, list] = {}
    if include_gaps:
        for gap in find_gaps(journey_map):
            gaps_by_stage.setdefault(gap.stage, []).append(gap)
    items: list[VoteItem] = []
    seen: set[str] = set()

    def add(kind: str, key: str, stage_key: str, label: str) -> None:
        if key in seen:  # a gap row named twice is one thing to vote on
            return
        seen.add(key)
        items.append(VoteItem(kind=kind, key=key, stage_key=stage_key, label=label, order=len(items)))

    for stage in journey_map.stages.all():
        touchpoints = list(stage.touchpoints.all())
        for kind, attribute in ((VoteItem.PAIN, "pain_point"), (VoteItem.OPPORTUNITY, "opportunity")):
            for tp in touchpoints:
                text = " ".join(getattr(tp, attribute).split())
                if text:
                    add(kind, f"{kind}:{tp.key}", stage.key, f"{tp.name}: {text}")
        for gap in gaps_by_stage.get(stage.key, []):
            add(VoteItem.GAP, f"gap:{gap.id}", stage.key, gap.message)
    return items


# --- writes --------------------------------------------------------------------------------


def open_vote(
    journey_map: JourneyMap,
    user,
    title: str,
    votes_each: int = 3,
    hidden: bool = True,
    ends: datetime.datetime | None = None,
    include_gaps: bool = False,
) -> VoteSession:
    """Open a vote on the map as it is now. Refused (nothing written) while another vote
    of the map is open, or when there is nothing to vote on. `journey_map` is loaded."""
    title = " ".join((title or "").split())
    if not title:
        raise Refused(_("Give the vote a question."))
    if not isinstance(votes_each, int) or not VOTES_MIN <= votes_each <= VOTES_MAX:
        raise Refused(_("Each member has from %(min)d to %(max)d votes.") % {"min": VOTES_MIN, "max": VOTES_MAX})
    try:
        check_ends(ends)
    except ValidationError as error:
        raise Refused(error.messages[0]) from None
    items = collect_items(journey_map, include_gaps)
    if not items:
        raise Refused(_("There is nothing to vote on: the map has no pain points or opportunities yet."))
    with transaction.atomic():
        # The map row locked: two facilitators opening at once open one vote, not two.
        JourneyMap.objects.select_for_update().get(pk=journey_map.pk)
        if current_vote(journey_map) is not None:
            raise Refused(_("A vote is open on this map already: close it first."))
        session = VoteSession(
            map=journey_map, title=title[:TITLE_MAX], votes_each=votes_each, hidden=hidden, ends=ends, created_by=user
        )
        try:
            session.full_clean()
        except ValidationError as error:
            raise Refused(" ".join(error.messages)) from None
        session.save()
        for item in items:
            item.session = session
        VoteItem.objects.bulk_create(items)
        live.announce(journey_map.pk, user, Said(gettext_noop("opened the vote ‘%(title)s’"), title=title), "votes")
    return session


def _locked(session: VoteSession) -> VoteSession:
    """The session row, locked until the transaction ends: whatever counts a member's dots
    and then places one runs one at a time per vote, so a double click cannot pass N."""
    locked = VoteSession.objects.select_for_update().get(pk=session.pk)
    if not locked.is_open:
        raise Refused(_("This vote is closed: votes can no longer change."))
    return locked


def _item(session: VoteSession, item_id) -> VoteItem:
    try:
        return session.items.get(pk=int(item_id))
    except (TypeError, ValueError, VoteItem.DoesNotExist):
        raise Refused(_("That is not one of the things this vote is on.")) from None


def place_dot(session: VoteSession, user, item_id) -> VoteDot:
    """One more dot of `user` on the item; refused when they have none left."""
    with transaction.atomic():
        locked = _locked(session)
        item = _item(locked, item_id)
        used = VoteDot.objects.filter(item__session=locked, user=user).count()
        if used >= locked.votes_each:
            raise Refused(
                ngettext(
                    "You have used your %(n)d vote: take one back to vote for something else.",
                    "You have used all your %(n)d votes: take one back to vote for something else.",
                    locked.votes_each,
                )
                % {"n": locked.votes_each}
            )
        dot = VoteDot.objects.create(item=item, user=user)
        live.announce(locked.map_id, user, Said(gettext_noop("voted in ‘%(title)s’"), title=locked.title), "votes")
    return dot


def take_back(session: VoteSession, user, item_id) -> None:
    """Take back the last dot `user` placed on the item."""
    with transaction.atomic():
        locked = _locked(session)
        item = _item(locked, item_id)
        dot = VoteDot.objects.filter(item=item, user=user).order_by("-created", "-id").first()
        if dot is None:
            raise Refused(_("You have no vote on that to take back."))
        dot.delete()
        live.announce(
            locked.map_id, user, Said(gettext_noop("took back a vote in ‘%(title)s’"), title=locked.title), "votes"
        )


def close_vote(session: VoteSession, user) -> VoteSession:
    """Close the vote now (also one whose end time has passed: it is then closed for good)."""
    with transaction.atomic():
        locked = VoteSession.objects.select_for_update().get(pk=session.pk)
        if locked.closed is not None:
            raise Refused(_("This vote is closed already."))
        locked.closed = timezone.now()
        locked.save(update_fields=["closed"])
        live.announce(
            locked.map_id, user, Said(gettext_noop("closed the vote ‘%(title)s’"), title=locked.title), "votes"
        )
    session.closed = locked.closed
    return locked


# --- reading --------------------------------------------------------------------------------


def _open_filter() -> Q:
    return Q(closed__isnull=True) & (Q(ends__isnull=True) | Q(ends__gt=timezone.now()))


def current_vote(journey_map: JourneyMap) -> VoteSession | None:
    """The map's open vote, if it has one."""
    return journey_map.vote_sessions.filter(_open_filter()).order_by("-created", "-id").first()


def past_votes(journey_map: JourneyMap, limit: int = 20) -> list[VoteSession]:
    """The map's closed (or ended) votes, the latest first."""
    return list(journey_map.vote_sessions.exclude(_open_filter()).order_by("-created", "-id")[:limit])


def closed_dots(journey_map: JourneyMap) -> dict[str, int]:
    """Item key (pain:TOUCHPOINT, gap:GAP-ID...) -> the dots it got, added up over every
    closed (or ended) vote of the map. Open votes do not count: their counts may be hidden."""
    rows = (
        VoteItem.objects.filter(session__map=journey_map)
        .exclude(
            Q(session__closed__isnull=True) & (Q(session__ends__isnull=True) | Q(session__ends__gt=timezone.now()))
        )
        .order_by()
        .values("key")
        .annotate(n=Count("dots"))
    )
    totals: dict[str, int] = {}
    for row in rows:
        totals[row["key"]] = totals.get(row["key"], 0) + row["n"]
    return totals


def latest_closed(journey_map: JourneyMap) -> VoteSession | None:
    votes = past_votes(journey_map, limit=1)
    return votes[0] if votes else None


@dataclass
class Row:
    item: VoteItem
    count: int | None  # None while the counts are hidden
    mine: int
    rank: int | None = None
    bar: int = 0  # the count as a percentage of the most dots any item got

    @property
    def dots(self) -> str:
        """The member's own dots, as many marks."""
        return "●" * self.mine


@dataclass
class Tally:
    """A vote as one member sees it: every item with its dots (if shown) and theirs."""

    session: VoteSession
    rows: list[Row]  # in item order
    shown: bool
    used: int
    is_open: bool
    total: int | None = None
    voters: int | None = None
    stage_names: dict[str, str] = field(default_factory=dict)

    @property
    def left(self) -> int:
        return max(0, self.session.votes_each - self.used)

    @property
    def ranked(self) -> list[Row]:
        """Most dots first, ties in item order; in item order while the counts are hidden."""
        if not self.shown:
            return list(self.rows)
        return sorted(self.rows, key=lambda row: (-row.count, row.item.order, row.item.pk))

    def top(self, n: int) -> list[Row]:
        """The first `n` of the ranking that got at least one dot."""
        return [row for row in self.ranked if row.count][:n]

    @property
    def voted(self) -> list[Row]:
        """The ranking of the items that got a dot."""
        return [row for row in self.ranked if row.count]

    @property
    def unvoted(self) -> int:
        return sum(1 for row in self.rows if not row.count) if self.shown else 0

    @property
    def top_five(self) -> list[Row]:
        return self.top(5)

    @property
    def groups(self) -> list[dict]:
        """The rows under their stage, in the order the vote wrote them down."""
        groups: list[dict] = []
        for row in self.rows:
            key = row.item.stage_key
            if not groups or groups[-1]["key"] != key:
                groups.append({"key": key, "name": self.stage_names.get(key, key), "rows": []})
            groups[-1]["rows"].append(row)
        return groups


def tally(session: VoteSession, user=None, journey_map: JourneyMap | None = None) -> Tally:
    """The vote as `user` sees it: counts only once it is closed, if it hides them."""
    is_open = session.is_open
    shown = not session.hidden or not is_open
    items = list(session.items.annotate(dot_count=Count("dots")).order_by("order", "id"))
    mine: dict[int, int] = {}
    if user is not None and user.is_authenticated:
        rows = VoteDot.objects.filter(item__session=session, user=user).values("item").annotate(n=Count("id"))
        mine = {row["item"]: row["n"] for row in rows}
    result = Tally(
        session=session,
        rows=[Row(item=item, count=item.dot_count if shown else None, mine=mine.get(item.pk, 0)) for item in items],
        shown=shown,
        used=sum(mine.values()),
        is_open=is_open,
    )
    if shown:
        result.total = sum(item.dot_count for item in items)
        result.voters = VoteDot.objects.filter(item__session=session).values("user").distinct().count()
        most = max((row.count for row in result.rows), default=0)
        for row in result.rows:
            row.rank = 1 + sum(1 for other in result.rows if other.count > row.count)
            row.bar = round(100 * row.count / most) if most else 0
    stages = journey_map.stages.all() if journey_map is not None else session.map.stages.all()
    result.stage_names = {stage.key: stage.name for stage in stages}
    return result
