"""The one way views fetch what they show: strangers get 404, viewers who try to write
get PermissionDenied (healthchecks' _get_check_for_user pattern)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from .models import JourneyMap, Membership, Workspace


def get_membership(request: HttpRequest, workspace_slug: str, write: bool = False, own: bool = False) -> Membership:
    """The user's membership of the workspace: 404 for non-members, 403 for viewers
    writing, and 403 for anyone but an owner where `own` (deleting maps, managing members)."""
    try:
        membership = Membership.objects.select_related("workspace").get(
            workspace__slug=workspace_slug, user=request.user
        )
    except Membership.DoesNotExist:
        raise Http404(_("No such workspace")) from None
    if write and not membership.can_edit:
        raise PermissionDenied(_("Viewers cannot change this workspace."))
    if own and membership.role != Membership.OWNER:
        raise PermissionDenied(_("Only an owner of the workspace can do this."))
    return membership


def get_workspace_for_user(
    request: HttpRequest, workspace_slug: str, write: bool = False, own: bool = False
) -> Workspace:
    return get_membership(request, workspace_slug, write, own).workspace


def get_map_for_user(
    request: HttpRequest,
    workspace_slug: str,
    map_key: str,
    write: bool = False,
    loaded: bool | str = False,
    own: bool = False,
) -> JourneyMap:
    """The map, loaded for gaps and diagrams when `loaded` (a fixed number of queries);
    `loaded="stages"` loads only what JourneyMap.objects.stages_only() does."""
    membership = get_membership(request, workspace_slug, write, own)
    if loaded == "stages":
        maps = JourneyMap.objects.stages_only()
    elif loaded:
        maps = JourneyMap.objects.loaded()
    else:
        maps = JourneyMap.objects.select_related("workspace")
    # A map in the trash is gone for the pages until it is brought back.
    journey_map = get_object_or_404(maps, workspace=membership.workspace, key=map_key, deleted=None)
    journey_map.membership = membership
    return journey_map
