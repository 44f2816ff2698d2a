"""The open-comment count of the map's Comments tab, on every page of the map."""

from __future__ import annotations

from django import template

from maps import comments
from maps.models import JourneyMap

register = template.Library()


@register.simple_tag
def open_comment_total(journey_map: JourneyMap) -> int:
    # The map page has counted already (comments.add_counts): no second query there.
    return comments.total_open(journey_map)
