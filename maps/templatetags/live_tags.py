"""`{% live_box map %}`: the small live element of a map page (who else is here, who
changed what), with the signed pass its poll of `map_live` carries (maps.live)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils import translation

from maps import live

register = template.Library()


@register.inclusion_tag("maps/_live_box.html", takes_context=True)
def live_box(context, journey_map) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    # Only a member's page follows the map: a share link's visitor is nobody's user.
    if not getattr(user, "is_authenticated", False) or journey_map is None or not journey_map.pk:
        return {"live": None}
    token = live.page_pass(journey_map, user, translation.get_language() or "")
    people = live.visit(journey_map.pk, user.pk, user.get_username(), user.get_full_name() or user.get_username())
    url = reverse("map_live", args=[journey_map.workspace.slug, journey_map.key])
    return {
        "live": {"url": f"{url}?token={token}"},
        "people": people,
        "stamp": live.stamp(journey_map.pk),
        "presence": live.presence_hash(people),
        "line": "",
        "oob": False,
    }
