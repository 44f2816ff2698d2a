"""A map's SWOT as plain data: the items people noted (SwotItem) and, beside them, what
the touchpoints already say: each pain point is a weakness and each opportunity an
opportunity of the touchpoint's stage. Those are computed, never stored, so they follow
their touchpoint; each names it (`touchpoint`) so that a page or a slide can link to it.

`swot_items` is pure over the database's current state: no HTTP, no writes. The deck, the
SWOT page and other features (actions linking to an item by its `key`) read it.
"""

from __future__ import annotations

from .models import JourneyMap, SwotItem, Touchpoint

KINDS = tuple(SwotItem.KINDS)  # S, W, O, T: the order of the quadrants
STORED, PAIN, OPPORTUNITY = "swot", "pain", "opportunity"


def swot_items(journey_map: JourneyMap, stage_key: str | None = None) -> dict[str, list[dict]]:
    """Kind -> items, each `{"key", "kind", "text", "stage", "source", "touchpoint",
    "touchpoint_name"}`.

    Stored items come first in their order (`source` "swot", `touchpoint` None), then the
    touchpoints' pain points (kind W, source "pain") and opportunities (kind O, source
    "opportunity") in board order, keyed `pain:TOUCHPOINT` and `opportunity:TOUCHPOINT`
    (as the votes name them). With `stage_key`, only that stage's items: a stored item
    for the whole map has stage None and is then left out.
    """
    found: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    stored = journey_map.swot_items.select_related("stage")
    if stage_key is not None:
        stored = stored.filter(stage__key=stage_key)
    for item in stored:
        found[item.kind].append(
            {
                "key": item.key,
                "kind": item.kind,
                "text": item.text,
                "stage": item.stage.key if item.stage else None,
                "source": STORED,
                "touchpoint": None,
                "touchpoint_name": None,
            }
        )
    touchpoints = Touchpoint.objects.filter(map=journey_map).select_related("stage").order_by("stage__order", "order")
    if stage_key is not None:
        touchpoints = touchpoints.filter(stage__key=stage_key)
    for source, kind, field in (
        (PAIN, SwotItem.WEAKNESS, "pain_point"),
        (OPPORTUNITY, SwotItem.OPPORTUNITY, "opportunity"),
    ):
        for tp in touchpoints:
            text = getattr(tp, field).strip()
            if text:
                found[kind].append(
                    {
                        "key": f"{source}:{tp.key}",
                        "kind": kind,
                        "text": text,
                        "stage": tp.stage.key,
                        "source": source,
                        "touchpoint": tp.key,
                        "touchpoint_name": tp.name,
                    }
                )
    return found
