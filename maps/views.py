"""Function views: pages and the fragments they refresh.

Every view fetches its object through maps.access, so strangers get 404 and viewers
who try to write get 403. A POST from htmx answers with the fragment it changed and a
`map-changed` event (the diagram, gaps and board listen for it); the same POST without
htmx redirects, so every form works without JavaScript.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import math
import re
import uuid
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from . import (
    accounts,
    audit,
    backup,
    board_html,
    changes,
    conflicts,
    diagram,
    exports,
    history,
    interchange,
    live,
    matrices,
    members,
    monitoring,
    sharing,
    swot,
    tables,
    trash,
    uploads,
    versioned,
    votes,
    whatif,
)
from . import actions as priorities
from . import comments as talk
from . import gaps as gap_rules
from .access import get_map_for_user, get_membership, get_workspace_for_user
from .board import build_board, question_rows
from .forms import (
    ActionForm,
    AnswerForm,
    BuyingRoleForm,
    CommentForm,
    ContentAssetForm,
    CriterionForm,
    DepartmentForm,
    MapCreateForm,
    MapForm,
    MapPersonaForm,
    MetricForm,
    PersonaForm,
    ShareLinkForm,
    StageForm,
    SwotItemForm,
    TouchpointForm,
    VoteSessionForm,
)
from .middleware import no_session, remember_language
from .models import (
    DEFAULT_LANGUAGE,
    LANGUAGE_CODES,
    Action,
    AuditEvent,
    BuyingRole,
    ContentAsset,
    Department,
    JourneyMap,
    MapPersona,
    Membership,
    Metric,
    Persona,
    QualificationCriterion,
    ShareLink,
    Stage,
    StageAnswer,
    SwotItem,
    Touchpoint,
    TrashItem,
    Workspace,
    history_in_order,
)
from .rendering import CONTENT_TYPES, download_stem, render_map
from .said import Said
from .validators import looked_up, search_problem


def _fragment(request: HttpRequest) -> bool:
    """htmx asks for a part of a page; a boosted link (the map's tabs) wants the page."""
    return bool(request.htmx) and not request.htmx.boosted


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the other regions of the map page to refresh themselves."""
    return trigger_client_event(response, "map-changed", after="settle")


# --- the interface language ----------------------------------------------------


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The header's language switch: remembered on the person (and, for the sign-in
    page, in the language cookie), then back to the page it was used on."""
    language = request.POST.get("language", "")
    if language not in dict(settings.LANGUAGES):
        return HttpResponse(_("Unknown language."), status=400, content_type="text/plain; charset=utf-8")
    remember_language(request, language)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("home")
    response = redirect(back)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


# --- workspaces and the map list -------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(Membership.objects.filter(user=request.user).select_related("workspace"))
    if len(memberships) == 1:
        return redirect("workspace", memberships[0].workspace.slug)
    return render(request, "maps/home.html", {"memberships": memberships})


def _new_map(workspace: Workspace) -> JourneyMap:
    """A map not yet saved, in the language the person is using (they may pick another)."""
    language = translation.get_language() or DEFAULT_LANGUAGE
    return JourneyMap(workspace=workspace, language=language if language in LANGUAGE_CODES else DEFAULT_LANGUAGE)


@login_required
@require_GET
def workspace(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws)
    show_archived = request.GET.get("archived") == "1"
    maps = membership.workspace.maps.filter(archived=show_archived, deleted=None).annotate(
        stage_count=Count("stages", distinct=True), touchpoint_count=Count("touchpoints", distinct=True)
    )
    form = MapCreateForm(workspace=membership.workspace, instance=_new_map(membership.workspace))
    ctx = {
        "workspace": membership.workspace,
        "membership": membership,
        "maps": maps,
        "show_archived": show_archived,
        "form": form,
    }
    return render(request, "maps/workspace.html", ctx)


@login_required
@require_POST
def map_create(request: HttpRequest, ws: str) -> HttpResponse:
    workspace_obj = get_workspace_for_user(request, ws, write=True)
    form = MapCreateForm(request.POST, workspace=workspace_obj, instance=_new_map(workspace_obj))
    if not form.is_valid():
        ctx = {"workspace": workspace_obj, "form": form}
        template = "maps/_map_create_form.html" if request.htmx else "maps/map_create.html"
        return render(request, template, ctx, status=422 if request.htmx else 200)
    journey_map = changes.create_map(workspace_obj, form, user=request.user)
    messages.success(request, _("Map “%(name)s” created.") % {"name": journey_map.name})
    url = journey_map.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- journeymap/1 files uploaded: a new map, or a map's content replaced ----------------


def _upload_page(request: HttpRequest, workspace_obj: Workspace, journey_map=None, status: int = 200, **ctx):
    ctx = {
        "workspace": workspace_obj,
        "map": journey_map,
        "max_bytes": settings.IMPORT_MAX_BYTES,
        "crumb": _("Import a map"),
        **ctx,
    }
    if journey_map is not None:
        ctx["now"] = {"stages": journey_map.stages.count(), "touchpoints": journey_map.touchpoints.count()}
    return render(request, "maps/map_upload.html", ctx, status=status)


def _previewed(request: HttpRequest, workspace_obj: Workspace, journey_map=None) -> HttpResponse:
    """The upload checked: its preview, or the command line's refusal, naming the place."""
    upload = request.FILES.get("file")
    try:
        found = uploads.preview(
            uploads.read(upload), getattr(upload, "name", ""), workspace_obj, request.user, into=journey_map
        )
    except (interchange.InterchangeError, changes.Refused) as err:
        return _upload_page(request, workspace_obj, journey_map, status=_invalid_status(request), error=str(err))
    return _upload_page(request, workspace_obj, journey_map, preview=found)


@login_required
@require_http_methods(["GET", "POST"])
def map_import(request: HttpRequest, ws: str) -> HttpResponse:
    workspace_obj = get_workspace_for_user(request, ws, write=True)
    if request.method == "POST":
        return _previewed(request, workspace_obj)
    return _upload_page(request, workspace_obj)


@login_required
@require_POST
def map_import_apply(request: HttpRequest, ws: str) -> HttpResponse:
    workspace_obj = get_workspace_for_user(request, ws, write=True)
    try:
        journey_map = uploads.apply_import(
            workspace_obj, request.user, request.POST.get("token", ""), request.POST.get("update_library") == "on"
        )
    except (interchange.InterchangeError, changes.Refused) as err:
        return _upload_page(request, workspace_obj, status=409, error=str(err))
    messages.success(
        request, _("Map “%(name)s” imported as %(key)s.") % {"name": journey_map.name, "key": journey_map.key}
    )
    for item in journey_map.reused:
        messages.warning(request, str(item))
    return redirect(journey_map.get_absolute_url())


@login_required
@require_http_methods(["GET", "POST"])
def map_replace(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    if request.method == "POST":
        return _previewed(request, journey_map.workspace, journey_map)
    return _upload_page(request, journey_map.workspace, journey_map)


@login_required
@require_POST
def map_replace_apply(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    try:
        uploads.apply_replace(journey_map, request.user, request.POST.get("token", ""))
    except (interchange.InterchangeError, changes.Refused) as err:  # changed since the preview, or expired
        return _upload_page(request, journey_map.workspace, journey_map, status=409, error=str(err))
    messages.success(
        request,
        _("The content of “%(name)s” was replaced from the file as one change; Undo in the History tab brings it back.")
        % {"name": journey_map.name},
    )
    return redirect(journey_map.get_absolute_url())


# --- the map page --------------------------------------------------------------------


def _map_context(request: HttpRequest, journey_map: JourneyMap, board: bool = True, gaps: bool = True) -> dict:
    """What the map page shows; a fragment asks only for its own part."""
    found = gap_rules.find_gaps(journey_map)
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "gaps": found,
        "view": request.GET.get("view", "stages"),
        "views": _diagram_views(journey_map),
    }
    if gaps:
        totals = [(sev, sum(1 for g in found if g.severity == sev)) for sev in gap_rules.SEVERITIES]
        ctx["gap_totals"] = [(sev, n) for sev, n in totals if n]
        ctx["gap_groups"] = _group_gaps(journey_map, found)
    if board:
        ctx["board"] = build_board(journey_map, found)
    talk.add_counts(ctx)  # open comments per stage, card and gap row: one query
    return ctx


def _diagram_views(journey_map: JourneyMap) -> list[tuple[str, str]]:
    views = [("stages", _("Stages")), ("departments", _("Departments"))]
    prefetched = "map_personas" in getattr(journey_map, "_prefetched_objects_cache", {})
    entries = journey_map.map_personas.all() if prefetched else journey_map.map_personas.select_related("persona")
    views += [(f"persona:{mp.persona.key}", _("Persona: %(name)s") % {"name": mp.persona.name}) for mp in entries]
    return views


def _group_gaps(journey_map: JourneyMap, found: list) -> list[dict]:
    """Gap rows grouped under their stage, in stage order, each with a link."""
    by_stage: dict[str, list] = {}
    for gap in found:
        by_stage.setdefault(gap.stage, []).append(gap)
    summary = gap_rules.stage_summary(found)
    groups = []
    for stage in journey_map.stages.all():
        rows = [
            {
                "gap": gap,
                "url": _gap_url(journey_map, stage, gap),
                # Touchpoints and stages open beside the board; content and cells are pages.
                "in_editor": bool(gap.touchpoint) or not (gap.content or gap.code == gap_rules.CONTENT_GAP),
            }
            for gap in by_stage.get(stage.key, [])
        ]
        worst, count = summary.get(stage.key, (None, 0))
        groups.append({"stage": stage, "rows": rows, "worst": worst, "count": count})
    return groups


def _gap_url(journey_map: JourneyMap, stage, gap) -> str:
    ws, key = journey_map.workspace.slug, journey_map.key
    if gap.touchpoint:
        return reverse("touchpoint_edit", args=[ws, key, gap.touchpoint])
    if gap.code == gap_rules.CONTENT_GAP:
        return reverse("coverage", args=[ws, key]) + f"#cell-{stage.key}-{gap.persona}"
    if gap.content:
        return reverse("library_edit", args=[ws, "content", gap.content])
    return reverse("stage_edit", args=[ws, key, stage.key])


@login_required
@require_GET
def map_detail(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The map page. Its board and gap list come from the cache while the map, the
    reader's role and the open comments they show are as they were drawn."""
    journey_map = get_map_for_user(request, ws, key)
    counts = talk.open_counts(journey_map)
    stamp = versioned.stamp_of(journey_map)
    drawn: dict = {}

    def full_context() -> dict:
        # Loaded once, and only if a part is not in the cache.
        if not drawn:
            drawn.update(_loaded_context(request, ws, key, counts))
        return drawn

    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "view": request.GET.get("view", "stages"),
        "views": _diagram_views(journey_map),
        "open_comment_total": sum(counts.values()),
        "board_html": _cached_part(request, stamp, "board", counts, full_context),
        "gaps_html": _gap_list(request, stamp, counts, full_context)[0],
    }
    return render(request, "maps/map_detail.html", ctx)


@login_required
@require_GET
def map_board(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The board. Asked what changed since the stamp the page shows (`since`): nothing
    (204), only the changed columns (swapped out of band), or the whole board."""
    stamp = versioned.stamp(request, ws, key)
    counts = talk.open_counts_of(stamp.map_id)
    now = board_html.shown(stamp.version, counts)
    since = request.GET.get("since", "")
    if since == now:
        return HttpResponse(status=204)
    # The changed columns are most often drawn already (by the edit's own answer).
    columns = _board_delta(request, stamp, since, now) if since else None
    if columns is None:
        context = partial(_loaded_context, request, ws, key, counts, gaps=False)
        whole = _cached_part(request, stamp, "board", counts, context)
        columns = _board_delta(request, stamp, since, now) if since else None
        if columns is None:
            return _board_stamped(HttpResponse(whole), now)
    return _board_stamped(reswap(HttpResponse(columns), "none"), now)


def _board_delta(request: HttpRequest, stamp: versioned.Stamp, since: str, now: str) -> SafeString | None:
    columns = board_html.delta(stamp, since, now)
    if columns is not None and _CSRF_MARK in columns:
        columns = mark_safe(columns.replace(_CSRF_MARK, get_token(request)))
    return columns


def _board_stamped(response: HttpResponse, now: str) -> HttpResponse:
    """What the page's board shows once this answer is in (live.js keeps it)."""
    response["X-Board-Stamp"] = now
    return response


@login_required
@require_GET
def map_gaps(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    stamp = versioned.stamp(request, ws, key)
    counts = talk.open_counts_of(stamp.map_id)
    context = partial(_loaded_context, request, ws, key, counts, board=False)
    html, digest = _gap_list(request, stamp, counts, context)
    if request.GET.get("since") == digest:
        return HttpResponse(status=204)  # the page shows this list already
    return HttpResponse(html)


def _gap_list_shows(ctx: dict) -> tuple:
    """Everything templates/maps/_gaps.html shows, as plain values (the gap rows are
    frozen dataclasses); with the map's identity, language and the reader's role, which
    the cache key adds."""
    groups = [
        (
            group["stage"].key,
            group["stage"].name,
            group["worst"],
            group["count"],
            [(row["url"], row["in_editor"], row["gap"], row.get("open_comments")) for row in group["rows"]],
        )
        for group in ctx["gap_groups"]
    ]
    return ctx["can_edit"], ctx["gap_totals"], groups


def _gap_list(request: HttpRequest, stamp: versioned.Stamp, counts: dict, context) -> tuple[SafeString, str]:
    """The gap list, and the digest of what it shows. The digest goes first in the list
    (live.js reads it), so that a page showing the list is not sent it again: its
    refresh answers 204, an edit's answer leaves it out (most edits do not change it,
    and at 500 cards it is some 300 kB)."""
    html = _cached_part(request, stamp, "gaps", counts, context, reader_token=False, content=_gap_list_shows)
    digest = hashlib.sha256(html.encode()).hexdigest()[:16]
    if _CSRF_MARK in html:
        html = html.replace(_CSRF_MARK, get_token(request))
    marked = format_html('<span hidden data-gaps-digest="{}"></span>', digest) + mark_safe(html)
    return marked, digest


def _loaded_context(
    request: HttpRequest, ws: str, key: str, counts: dict, preloaded: JourneyMap | None = None, **parts
) -> dict:
    """The context of the map page's parts; `preloaded` is the map as a change just read
    it (changes.editing's `loaded_now`), which saves reading it again."""
    if preloaded is not None and hasattr(preloaded, "membership"):
        journey_map = preloaded
    else:
        journey_map = get_map_for_user(request, ws, key, loaded=True)
    journey_map._open_comment_counts = counts  # read once already
    ctx = _map_context(request, journey_map, **parts)
    if "board" in ctx:
        board_html.draw(journey_map, ctx["board"], ctx["can_edit"], _CSRF_MARK)
    return ctx


# What stands in a cached part for the reader's own CSRF token (a form's hidden field):
# a token is the reader's, the part is everyone's. Made from the secret key, so that no
# text a person types can be it.
_CSRF_MARK = salted_hmac("journeymap.cached-part", "csrf").hexdigest()


def _cached_part(
    request: HttpRequest,
    stamp: versioned.Stamp,
    name: str,
    counts: dict,
    context,
    *parts: str,
    reader_token: bool = True,
    content=None,
) -> SafeString:
    """A part of a map page (templates/maps/_NAME.html: the board, the gap list, a
    matrix) as HTML, cached by the map's version, whether the reader edits (controls),
    the open comment counts it shows and `parts` (a matrix's grouping). `context` makes
    what the template needs, on a miss only. Without `reader_token`, the part is as it
    is for everyone: the reader's CSRF token is still to be put in.

    `content(context)`, if given, is everything the template shows, as plain values: a
    new version that shows the same (most edits leave the gap list as it was) takes the
    HTML drawn for the one before instead of drawing it again."""
    # Owners and editors see the same controls: one part for both.
    controls = "edit" if stamp.can_edit else "read"
    cache_key = versioned.cache_key(stamp, "part", name, controls, talk.counts_stamp(counts), *parts)
    html = cache.get(cache_key)
    if html is None:
        ctx = context()
        same_key = None
        if content is not None:
            shown = hashlib.sha256(repr(content(ctx)).encode()).hexdigest()
            same_key = versioned.cache_key(dataclasses.replace(stamp, version=0), "part-content", name, controls, shown)
            html = cache.get(same_key)
        if html is None:
            html = str(render_to_string(f"maps/_{name}.html", {**ctx, "csrf_token": _CSRF_MARK}, request=request))
            if same_key:
                cache.set(same_key, html)
        cache.set(cache_key, html)
    if reader_token and _CSRF_MARK in html:
        html = html.replace(_CSRF_MARK, get_token(request))
    # Our own template's output, escaped as it was drawn; the cache holds it as text.
    return mark_safe(html)


@login_required
@require_GET
def map_present(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Presenter mode: the map full-screen for a projector, one stage at a time."""
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    ctx = _map_context(request, journey_map)
    rows = {group["stage"].key: group for group in ctx["gap_groups"]}
    ctx["slides"] = [(column, rows[column.stage.key]) for column in ctx["board"]["columns"]]
    talk.add_stage_threads(journey_map, ctx["board"]["columns"])
    ctx["show"] = "board" if request.GET.get("show") == "board" else "diagram"
    return render(request, "maps/map_present.html", ctx)


def _touchpoint_url_factory(journey_map: JourneyMap):
    ws, key = journey_map.workspace.slug, journey_map.key
    return lambda tp_key: reverse("touchpoint_edit", args=[ws, key, tp_key])


def _not_modified(request: HttpRequest, etag: str | None) -> HttpResponseNotModified | None:
    """A 304 when the browser holds this very rendering. Compressed answers carry the tag
    as a weak one (W/"…", GZipMiddleware), which names the same rendering here."""
    if not etag:
        return None
    held = [tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")]
    if etag in held or "*" in held:
        return HttpResponseNotModified(headers={"ETag": etag})
    return None


@login_required
@require_GET
def map_diagram(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The inline SVG of the map page: a fragment cached by the map's version, with an
    ETag. A hit (or a 304) costs the stamp's query and no map load."""
    view = request.GET.get("view", "stages")

    def fragment(journey_map: JourneyMap) -> versioned.Entry:
        rendering = render_map(journey_map, view, "svg", _touchpoint_url_factory(journey_map))
        html = render_to_string("maps/_diagram.html", {"svg": _inline_svg(rendering.body), "view": view})
        return versioned.Entry(html.encode(), "text/html; charset=utf-8")

    try:
        not_modified, entry, etag = _versioned(request, ws, key, ("page-svg", view), fragment, wait=False)
    except versioned.Busy:
        # Someone else is drawing this very picture: say so, and ask again shortly.
        return render(request, "maps/_diagram_drawing.html", {"url": request.get_full_path()}, status=202)
    if not_modified:
        return not_modified
    if entry.error:
        return render(request, "maps/_diagram_error.html", {"message": entry.error})
    response = HttpResponse(entry.body, content_type=entry.content_type)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _versioned(request: HttpRequest, ws: str, key: str, parts: tuple, make, wait: bool = True) -> tuple:
    """(a 304 or None, the cached entry, its ETag) of a rendering of the map at its
    version; `make(loaded_map)` draws it on a miss, and a DiagramError is kept as the
    entry's error. Raises versioned.Busy while another request draws it, unless `wait`."""
    stamp = versioned.stamp(request, ws, key)
    cache_key = versioned.cache_key(stamp, *parts)
    etag = versioned.etag(cache_key)
    if not_modified := _not_modified(request, etag):
        return not_modified, None, etag

    def drawn() -> versioned.Entry:
        try:
            return make(get_map_for_user(request, ws, key, loaded=True))
        except diagram.DiagramError as exc:
            return versioned.Entry(error=str(exc))

    return None, versioned.get_or_render(cache_key, drawn, wait=wait), etag


# An id attribute of a tag of Graphviz's SVG, where text and attribute values have their
# < > " escaped: within one tag, never across.
_SVG_ID = re.compile(r'(<[a-z]+\b[^<>]*?)\s+id="[^"<>]*"')


def _inline_svg(svg: bytes) -> str:
    """The <svg> element alone: an XML prolog or DOCTYPE is not allowed inside HTML.

    Without Graphviz's ids (graph0, node1, edge1…): nothing reads them, and htmx looks
    up every id of what it swaps in the page it replaces, one search of the page each:
    a second of work in the browser for the 2,000 ids of a 500-card diagram."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return _SVG_ID.sub(r"\1", text[start:]) if start >= 0 else ""


@login_required
@require_GET
def map_download(request: HttpRequest, ws: str, key: str, fmt: str) -> HttpResponse:
    if fmt not in CONTENT_TYPES:
        raise Http404(_("No such export format"))
    view = request.GET.get("view", "stages")
    if fmt not in diagram.FORMATS:
        # The deck shows comments and votes, which change without a new map version,
        # and the CSV and the Mermaid text are cheap: they are made each time.
        journey_map = get_map_for_user(request, ws, key, loaded=True)
        try:
            rendering = render_map(journey_map, view, fmt)
        except diagram.DiagramError as exc:
            messages.error(request, str(exc))
            return redirect(journey_map.get_absolute_url())
        entry, etag = versioned.Entry(rendering.body, rendering.content_type, rendering.filename), None
    else:

        def download(journey_map: JourneyMap) -> versioned.Entry:
            rendering = render_map(journey_map, view, fmt)
            return versioned.Entry(rendering.body, rendering.content_type, rendering.filename)

        not_modified, entry, etag = _versioned(request, ws, key, ("download", fmt, view), download)
        if not_modified:
            return not_modified
        if entry.error:
            messages.error(request, entry.error)
            return redirect(reverse("map_detail", args=[ws, key]))
    response = HttpResponse(entry.body, content_type=entry.content_type)
    response["Content-Disposition"] = content_disposition_header(True, entry.filename)
    if etag:
        response["ETag"] = etag
    return response


@login_required
@require_GET
def map_export_json(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    # export_map reads the map afresh in its own fixed set of queries.
    journey_map = get_map_for_user(request, ws, key)
    response = HttpResponse(
        interchange.dumps(interchange.export_map(journey_map)), content_type="application/json; charset=utf-8"
    )
    # The whole map leaves the app: the security log says who took it.
    audit.record(AuditEvent.EXPORTED, user=request.user, workspace=journey_map.workspace, map=journey_map.name)
    response["Content-Disposition"] = content_disposition_header(True, f"{download_stem(journey_map)}.journeymap.json")
    return response


# --- CSV tables in and out (maps.tables) ------------------------------------------------

# How long an uploaded file waits in the cache for its Apply: a preview is read, not left.
CSV_PREVIEW_SECONDS = 3600
CSV_TABLE_NAMES = {
    "content": gettext_lazy("Content inventory"),
    "touchpoints": gettext_lazy("Touchpoints"),
    "funnel": gettext_lazy("Funnel figures per period"),
    "gaps": gettext_lazy("Gap list"),
    "coverage": gettext_lazy("Content coverage"),
    "actions": gettext_lazy("Actions, ranked"),
}


@login_required
@require_GET
def csv_download(request: HttpRequest, ws: str, key: str, table: str) -> HttpResponse:
    if table not in tables.EXPORTABLE:
        raise Http404(_("No such table"))
    journey_map = get_map_for_user(request, ws, key)
    response = HttpResponse(tables.export(journey_map, table), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{download_stem(journey_map)}.{table}.csv")
    return response


def _csv_page(request: HttpRequest, journey_map: JourneyMap, ctx: dict, status: int = 200) -> HttpResponse:
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "tables": [
            (name, CSV_TABLE_NAMES[name], [c.name for c in tables.TABLES[name].columns]) for name in tables.IMPORTABLE
        ],
        "exports": [(name, CSV_TABLE_NAMES[name]) for name in tables.EXPORTABLE],
        "max_bytes": settings.IMPORT_MAX_BYTES,
        **ctx,
    }
    return render(request, "maps/csv_import.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def csv_import(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Upload a CSV table and see what it would add, change and leave alone."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    if request.method == "GET":
        return _csv_page(request, journey_map, {"chosen": request.GET.get("table", "touchpoints")})
    table = request.POST.get("table", "")
    upload = request.FILES.get("file")
    if table not in tables.IMPORTABLE or upload is None:
        ctx = {"chosen": table, "refusal": _("Choose a table and a CSV file to import.")}
        return _csv_page(request, journey_map, ctx, status=422)
    if upload.size > settings.IMPORT_MAX_BYTES:
        ctx = {"chosen": table, "refusal": interchange.too_large()}
        return _csv_page(request, journey_map, ctx, status=422)
    data = upload.read()
    token = uuid.uuid4().hex
    cache.set(_csv_cache_key(journey_map, request, token), (table, upload.name, data), CSV_PREVIEW_SECONDS)
    return _csv_preview(request, journey_map, table, upload.name, data, token)


def _csv_cache_key(journey_map: JourneyMap, request: HttpRequest, token: str) -> str:
    return f"csv-import:{journey_map.pk}:{request.user.pk}:{looked_up(token)}"


def _csv_preview(
    request: HttpRequest, journey_map: JourneyMap, table: str, name: str, data: bytes, token: str, note: str = ""
) -> HttpResponse:
    result = tables.plan(journey_map, table, data)
    ctx = {"chosen": table, "plan": result, "file_name": name, "token": token, "note": note}
    return _csv_page(request, journey_map, ctx, status=200 if result.ok else 422)


@login_required
@require_POST
def csv_apply(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Apply a previewed file: planned again against the map as it is now, all or nothing."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    token = request.POST.get("token", "")
    kept = cache.get(_csv_cache_key(journey_map, request, token))
    if kept is None:
        ctx = {"refusal": _("That preview is no longer kept; upload the file again.")}
        return _csv_page(request, journey_map, ctx, status=422)
    table, name, data = kept
    try:
        seen = int(request.POST.get("version", ""))
    except ValueError:
        seen = None
    try:
        result = tables.apply(journey_map, table, data, user=request.user, file=name, seen=seen)
    except (tables.TableError, changes.Refused) as err:
        # Shown again against the map as it is now; the person looks before applying.
        journey_map = get_map_for_user(request, ws, key, write=True)
        note = str(err) if isinstance(err, changes.Refused) else ""
        return _csv_preview(request, journey_map, table, name, data, token, note)
    cache.delete(_csv_cache_key(journey_map, request, token))
    counts = {"added": result.count(tables.ADDED), "changed": result.count(tables.CHANGED), "file": name}
    messages.success(request, _("Imported %(file)s: %(added)s added, %(changed)s changed.") % counts)
    return redirect(journey_map.get_absolute_url())


# --- editing: shared answers ---------------------------------------------------------


def _saved(request: HttpRequest, journey_map: JourneyMap, message: str) -> HttpResponse:
    """After a successful edit: htmx closes the editor and refreshes the page's regions."""
    if request.htmx:
        # An empty answer empties the editor panel; the events refresh the rest. A page
        # with the board gets the columns and the gap list that changed with the answer.
        parts, now = _changed_parts(request, journey_map)
        response = trigger_client_event(HttpResponse(parts), "journeymap-saved", {"message": message})
        return changed(_board_stamped(response, now) if parts else response)
    messages.success(request, message)
    return redirect(journey_map.get_absolute_url())


def _changed_parts(request: HttpRequest, journey_map: JourneyMap) -> tuple[str, str]:
    """After an edit made on the map page (its board says which stamp it shows): the
    changed board columns and the gap list, as out-of-band swaps. The regions' own
    refreshes that follow then find them up to date (the board) or cached (the rest)."""
    since = request.headers.get("X-Board-Stamp", "")
    if not since:
        return "", ""
    ws, key = journey_map.workspace.slug, journey_map.key
    stamp = versioned.stamp(request, ws, key)
    counts = talk.open_counts_of(stamp.map_id)
    # The map as the change read it, if it is still the version the cache is asked for.
    preloaded = getattr(journey_map, "loaded_now", None)
    if preloaded is not None and preloaded.version == stamp.version and hasattr(journey_map, "membership"):
        preloaded.membership = journey_map.membership
    else:
        preloaded = None
    context = functools.cache(partial(_loaded_context, request, ws, key, counts, preloaded))  # loaded once, if at all
    _cached_part(request, stamp, "board", counts, context)  # the whole board, for the room
    if live.others_present(stamp.map_id, request.user.pk):
        _draw_for_readers(request, stamp, counts, context)
    now = board_html.shown(stamp.version, counts)
    columns = _board_delta(request, stamp, since, now)
    if columns is None:
        return "", ""  # the stages themselves changed: the board's refresh draws it whole
    gaps, digest = _gap_list(request, stamp, counts, context)
    if request.headers.get("X-Gaps-Digest") == digest:
        return columns, now  # the page's gap list is this one already
    return columns + format_html('<div id="gaps" hx-swap-oob="innerHTML">{}</div>', gaps), now


def _draw_for_readers(request: HttpRequest, stamp: versioned.Stamp, counts: dict, context) -> None:
    """The board and the gap list as the viewers of the map read them (no controls),
    drawn from the map the change has read already: the refreshes of a room of viewers
    then find them in the cache, instead of the first of them reading the whole map again
    for each. The board's columns are digested once; only those that changed are drawn.
    Only while someone else has the map open: one person alone draws nothing for nobody."""
    if not stamp.can_edit:
        return
    reader = dataclasses.replace(stamp, role=Membership.VIEWER)

    @functools.cache
    def read_only() -> dict:
        ctx = context()
        board = dict(ctx["board"])  # its own html and stamp; the same columns and digests
        board_html.draw(ctx["map"], board, False, _CSRF_MARK)
        return {**ctx, "can_edit": False, "board": board}

    _cached_part(request, reader, "board", counts, read_only)
    _cached_part(request, reader, "gaps", counts, read_only, reader_token=False, content=_gap_list_shows)


def _editor(request: HttpRequest, journey_map: JourneyMap, ctx: dict, status: int = 200) -> HttpResponse:
    """An edit form: in the map page's editor panel for htmx, else as a page of its own."""
    ctx = {"map": journey_map, "workspace": journey_map.workspace, "can_edit": journey_map.membership.can_edit, **ctx}
    template = "maps/_editor.html" if _fragment(request) else "maps/edit_page.html"
    return render(request, template, ctx, status=status)


def _edit(request: HttpRequest, journey_map: JourneyMap, form, save, message, ctx: dict) -> HttpResponse:
    """The one shape of an edit view. GET shows the form; a valid POST writes through
    `save(form)` (a function of maps.changes) and answers `_saved` with `message(obj)`;
    an invalid POST shows the form again with its errors.

    `ctx` (title, action, delete link) is built by the caller before validation, which
    writes the unsaved values into the instance: links and titles name what is stored.
    """
    conflicts.track(form)
    # The same form sent twice (a double click) is saved once: see Revision.token.
    token = request.POST.get("token") or uuid.uuid4().hex
    ctx = {"form": form, "version": journey_map.version, "token": token, **ctx}
    if request.method == "POST" and form.is_valid():
        try:
            obj = save(form)
        except changes.AlreadyDone:
            return _saved(request, journey_map, _("That was saved already."))
        except changes.Refused as refused:
            return _refused(request, str(refused))
        except conflicts.Conflict as conflict:
            _show_conflict(request, journey_map, form, conflict, ctx)
            return _editor(request, journey_map, ctx, status=409)
        return _saved(request, journey_map, message(obj))
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


def _show_conflict(request: HttpRequest, journey_map: JourneyMap, form, conflict, ctx: dict) -> None:
    """The form again with the person's input, over what the other person changed; its
    what-you-saw values are now the stored ones, so sending it again applies it anyway."""
    journey_map.refresh_from_db(fields=["version"])
    form.data = conflict.data
    form._bound_fields_cache.clear()
    ctx.update(
        conflict=conflict.clashes,
        version=journey_map.version,
        conflict_by=changes.changed_by_since(journey_map, request.POST.get("version")),
    )


def _change(request: HttpRequest, journey_map: JourneyMap, write, message: str) -> HttpResponse:
    """A one-click change (move, reorder, flow, delete): `write()` calls maps.changes."""
    try:
        write()
    except changes.Stale as stale:
        # Someone else changed the same order: refuse, and redraw the board to show theirs.
        return changed(_refused(request, str(stale), status=409))
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _saved(request, journey_map, message)


def _refused(request: HttpRequest, message: str, status: int = 400) -> HttpResponse:
    """A refused change: nothing was written; the message says why."""
    if request.htmx:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
        return trigger_client_event(response, "journeymap-error", {"message": message})
    messages.error(request, message)
    return redirect(request.META.get("HTTP_REFERER") or reverse("home"))


def _invalid_status(request: HttpRequest) -> int:
    # htmx swaps 422 answers too (configured in app.js); plain browsers need a 200 page.
    return 422 if request.htmx else 200


def _posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (every box unticked is an answer too)."""
    return request.POST if request.method == "POST" else None


def _write_map(request: HttpRequest, ws: str, key: str) -> JourneyMap:
    return get_map_for_user(request, ws, key, write=request.method == "POST")


TRASH_NOTE = gettext_lazy("It goes to the trash, where it waits 30 days to be brought back whole.")


def _confirm_delete(
    request: HttpRequest,
    journey_map: JourneyMap,
    what: str,
    action: str,
    warning: str = "",
    after_delete: str = TRASH_NOTE,
):
    return _editor(
        request,
        journey_map,
        {
            "confirm": True,
            "title": _("Delete %(what)s?") % {"what": what},
            "action": action,
            "warning": warning,
            "after_delete": after_delete,
        },
    )


# --- the map itself --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def map_settings(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    old_key = journey_map.key
    form = conflicts.track(MapForm(_posted(request), instance=journey_map, workspace=journey_map.workspace))
    ctx = {
        "form": form,
        "title": _("Map settings"),
        "action": reverse("map_settings", args=[ws, key]),
        "version": journey_map.version,
        "replace_url": reverse("map_replace", args=[ws, key]),
    }
    if request.method == "POST" and form.is_valid():
        try:
            changes.save_map(journey_map, form, user=request.user)
        except conflicts.Conflict as conflict:
            journey_map = _write_map(request, ws, key)  # links must name the saved map
            _show_conflict(request, journey_map, form, conflict, ctx)
            return _editor(request, journey_map, ctx, status=409)
        return _map_settings_saved(request, journey_map, old_key)
    if form.errors:
        # Validation wrote the unsaved key into the instance; links must name the saved map.
        journey_map = _write_map(request, ws, key)
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_POST
def map_archive(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    changes.set_archived(journey_map, not journey_map.archived, user=request.user)
    if journey_map.archived:
        messages.success(request, _("Map “%(name)s” archived.") % {"name": journey_map.name})
    else:
        messages.success(request, _("Map “%(name)s” restored.") % {"name": journey_map.name})
    url = reverse("workspace", args=[ws])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def map_delete(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    # Only owners delete maps: a map holds a team's workshop work, comments and votes.
    journey_map = get_map_for_user(request, ws, key, write=True, own=True)
    if request.method == "GET":
        warning = _("Its stages, touchpoints, flows and KPIs are deleted. The library (personas, content) stays.")
        return _confirm_delete(
            request,
            journey_map,
            _("the map “%(name)s”") % {"name": journey_map.name},
            reverse("map_delete", args=[ws, key]),
            warning,
        )
    changes.delete_map(journey_map, user=request.user)
    messages.success(request, _("Map “%(name)s” deleted.") % {"name": journey_map.name})
    url = reverse("workspace", args=[ws])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- stages ----------------------------------------------------------------------------


def _get_stage(journey_map: JourneyMap, stage_key: str) -> Stage:
    return get_object_or_404(journey_map.stages, key=looked_up(stage_key))


@login_required
@require_http_methods(["GET", "POST"])
def stage_create(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    form = StageForm(_posted(request), instance=Stage(map=journey_map), journey_map=journey_map)
    ctx = {"title": _("Add a stage"), "action": reverse("stage_create", args=[ws, key])}
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_stage(journey_map, f, user=request.user),
        lambda stage: _("Stage “%(name)s” added.") % {"name": stage.name},
        ctx,
    )


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    stage_obj = _get_stage(journey_map, stage)
    ctx = {
        "title": _("Stage: %(name)s") % {"name": stage_obj.name},
        "stage": stage_obj,
        # The key as stored: a refused form leaves its own (possibly blank) key on the stage.
        "stage_key": stage_obj.key,
        "metrics": list(stage_obj.metrics.all()),
        "metric_form": MetricForm(prefix="kpi"),
        "criteria": list(stage_obj.criteria.all()),
        "criterion_form": CriterionForm(prefix="criterion"),
        "action": reverse("stage_edit", args=[ws, key, stage]),
        "delete_url": reverse("stage_delete", args=[ws, key, stage]),
    }
    form = StageForm(_posted(request), instance=stage_obj, journey_map=journey_map)
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_stage(journey_map, f, user=request.user),
        lambda saved: _("Stage “%(name)s” saved.") % {"name": saved.name},
        ctx,
    )


@login_required
@require_http_methods(["GET", "POST"])
def stage_delete(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, stage)
    if request.method == "GET":
        count = stage_obj.touchpoints.count()
        warning = ngettext(
            "Its %(n)d touchpoint and its flows are deleted too.",
            "Its %(n)d touchpoints and their flows are deleted too.",
            count,
        ) % {"n": count}
        return _confirm_delete(
            request,
            journey_map,
            _("the stage “%(name)s”") % {"name": stage_obj.name},
            reverse("stage_delete", args=[ws, key, stage]),
            warning if count else "",
        )
    return _change(
        request,
        journey_map,
        lambda: changes.delete_stage(journey_map, stage_obj, user=request.user),
        _("Stage “%(name)s” deleted.") % {"name": stage_obj.name},
    )


@login_required
@require_POST
def stage_move(request: HttpRequest, ws: str, key: str, stage: str, direction: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    step = {"left": -1, "right": 1}.get(direction)
    if step is None:
        raise Http404(_("No such direction"))
    stage_obj = _get_stage(journey_map, stage)
    return _change(
        request,
        journey_map,
        lambda: changes.move_stage(journey_map, stage, step, user=request.user),
        _("Stage “%(name)s” moved.") % {"name": stage_obj.name},
    )


@login_required
@require_POST
def stage_reorder(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Drag and drop: the full new order of stage keys."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    keys = request.POST.getlist("order")
    return _change(
        request,
        journey_map,
        lambda: changes.reorder_stages(journey_map, keys, user=request.user, seen=request.POST.get("version")),
        _("Stages reordered."),
    )


# --- KPIs --------------------------------------------------------------------------------


@login_required
@require_POST
def metric_create(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, stage)
    form = MetricForm(request.POST, instance=Metric(stage=stage_obj), prefix="kpi")
    ctx = {
        "title": _("Add a KPI to %(stage)s") % {"stage": stage_obj.name},
        "action": reverse("metric_create", args=[ws, key, stage]),
    }
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_metric(journey_map, f, user=request.user),
        lambda metric: _("KPI “%(name)s” added to %(stage)s.") % {"name": metric.name, "stage": stage_obj.name},
        ctx,
    )


def _get_metric(journey_map: JourneyMap, pk: int) -> Metric:
    return get_object_or_404(Metric.objects.select_related("stage"), pk=pk, stage__map=journey_map)


@login_required
@require_http_methods(["GET", "POST"])
def metric_edit(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    metric = _get_metric(journey_map, pk)
    ctx = {
        "title": _("KPI of %(stage)s") % {"stage": metric.stage.name},
        "history": history_in_order(metric),
        "history_spark": monitoring.kpi_sparkline(monitoring.kpi_row(metric.stage, metric)),
        "action": reverse("metric_edit", args=[ws, key, pk]),
        "delete_url": reverse("metric_delete", args=[ws, key, pk]),
    }
    form = MetricForm(_posted(request), instance=metric)
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_metric(journey_map, f, user=request.user),
        lambda saved: _("KPI “%(name)s” saved.") % {"name": saved.name},
        ctx,
    )


@login_required
@require_http_methods(["GET", "POST"])
def metric_delete(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    metric = _get_metric(journey_map, pk)
    if request.method == "GET":
        return _confirm_delete(
            request,
            journey_map,
            _("the KPI “%(name)s”") % {"name": metric.name},
            reverse("metric_delete", args=[ws, key, pk]),
            after_delete=_("Undo (Ctrl+Z) or the map’s history can bring it back."),
        )
    return _change(
        request,
        journey_map,
        lambda: changes.delete_metric(journey_map, metric, user=request.user),
        _("KPI “%(name)s” deleted.") % {"name": metric.name},
    )


# --- lead qualification of a hand-off ------------------------------------------------------


@login_required
@require_POST
def criterion_create(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, stage)
    form = CriterionForm(request.POST, instance=QualificationCriterion(stage=stage_obj), prefix="criterion")
    ctx = {
        "title": _("Add a qualification criterion to %(stage)s") % {"stage": stage_obj.name},
        "action": reverse("criterion_create", args=[ws, key, stage]),
    }
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.add_criterion(journey_map, f, user=request.user),
        lambda criterion: (
            _("Criterion “%(name)s” added to %(stage)s.") % {"name": criterion.description, "stage": stage_obj.name}
        ),
        ctx,
    )


@login_required
@require_POST
def criterion_delete(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    criterion = get_object_or_404(QualificationCriterion.objects.select_related("stage"), pk=pk, stage__map=journey_map)
    return _change(
        request,
        journey_map,
        lambda: changes.delete_criterion(journey_map, criterion, user=request.user),
        _("Criterion “%(name)s” removed.") % {"name": criterion.description},
    )


# --- reviews ---------------------------------------------------------------------------


@login_required
@require_GET
def map_review(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The review tab: when the map was last looked at, whether a review is due, and
    what changed since."""
    journey_map = get_map_for_user(request, ws, key)
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": "review",
        "due": monitoring.review_due(journey_map),
        "next_review": monitoring.next_review(journey_map),
        "review_word": monitoring.review_word(journey_map),
        "since": monitoring.changes_since_review(journey_map),
    }
    return render(request, "maps/map_review.html", ctx)


@login_required
@require_POST
def map_mark_reviewed(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    changes.mark_reviewed(journey_map, user=request.user)
    messages.success(request, _("Map “%(name)s” marked as reviewed.") % {"name": journey_map.name})
    url = reverse("map_review", args=[ws, key])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- touchpoints and flows -------------------------------------------------------------


def _get_touchpoint(journey_map: JourneyMap, tp_key: str) -> Touchpoint:
    return get_object_or_404(journey_map.touchpoints.select_related("stage", "owner"), key=tp_key)


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_create(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    stage_obj = _get_stage(journey_map, stage)
    form = TouchpointForm(
        _posted(request),
        instance=Touchpoint(map=journey_map, stage=stage_obj),
        journey_map=journey_map,
        initial={"stage": stage_obj},
    )
    ctx = {
        "title": _("Add a touchpoint to %(stage)s") % {"stage": stage_obj.name},
        "action": reverse("touchpoint_create", args=[ws, key, stage]),
    }
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_touchpoint(journey_map, f, user=request.user),
        lambda tp: _("Touchpoint “%(name)s” added.") % {"name": tp.name},
        ctx,
    )


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_edit(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    touchpoint = _get_touchpoint(journey_map, tp)
    ctx = {
        "title": _("Touchpoint: %(name)s") % {"name": touchpoint.name},
        "touchpoint": touchpoint,
        "action": reverse("touchpoint_edit", args=[ws, key, tp]),
        "delete_url": reverse("touchpoint_delete", args=[ws, key, tp]),
    }
    form = TouchpointForm(_posted(request), instance=touchpoint, journey_map=journey_map)
    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_touchpoint(journey_map, f, user=request.user),
        lambda saved: _("Touchpoint “%(name)s” saved.") % {"name": saved.name},
        ctx,
    )


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_delete(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    touchpoint = _get_touchpoint(journey_map, tp)
    if request.method == "GET":
        return _confirm_delete(
            request,
            journey_map,
            _("the touchpoint “%(name)s”") % {"name": touchpoint.name},
            reverse("touchpoint_delete", args=[ws, key, tp]),
            _("Flows from and to it are deleted too."),
        )
    return _change(
        request,
        journey_map,
        lambda: changes.delete_touchpoint(journey_map, touchpoint, user=request.user),
        _("Touchpoint “%(name)s” deleted.") % {"name": touchpoint.name},
    )


@login_required
@require_POST
def touchpoint_move(request: HttpRequest, ws: str, key: str, tp: str, direction: str) -> HttpResponse:
    """Keyboard-usable moves: up/down within the stage, left/right to the next stage."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    if direction not in ("up", "down", "left", "right"):
        raise Http404(_("No such direction"))
    touchpoint = _get_touchpoint(journey_map, tp)
    return _change(
        request,
        journey_map,
        lambda: changes.move_touchpoint(journey_map, touchpoint, direction, user=request.user),
        _("Touchpoint “%(name)s” moved.") % {"name": touchpoint.name},
    )


@login_required
@require_POST
def touchpoint_reorder(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Drag and drop: the new order of one stage's touchpoints (possibly with a newcomer)."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, request.POST.get("stage", ""))
    keys = request.POST.getlist("order")
    return _change(
        request,
        journey_map,
        lambda: changes.reorder_touchpoints(
            journey_map, stage_obj, keys, user=request.user, seen=request.POST.get("version")
        ),
        _("Touchpoints of %(stage)s reordered.") % {"stage": stage_obj.name},
    )


@login_required
@require_POST
def flow_add(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    source = _get_touchpoint(journey_map, tp)
    try:
        flow = changes.add_flow(journey_map, source, request.POST.get("target", ""), user=request.user)
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _saved(
        request,
        journey_map,
        _("Flow added: %(source)s → %(target)s.") % {"source": source.name, "target": flow.target.name},
    )


@login_required
@require_POST
def flow_delete(request: HttpRequest, ws: str, key: str, tp: str, target: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    source = _get_touchpoint(journey_map, tp)
    flow = get_object_or_404(source.flows_out.select_related("target"), target__key=target)
    return _change(
        request,
        journey_map,
        lambda: changes.remove_flow(journey_map, flow, user=request.user),
        _("Flow removed: %(source)s → %(target)s.") % {"source": source.name, "target": flow.target.name},
    )


# --- personas of a map -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def map_personas(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The personas panel: the map's personas, a form that adds one from the library and
    one that creates a new one. It stays open after a change, so several can be added."""
    journey_map = _write_map(request, ws, key)
    form = MapPersonaForm(_posted(request), instance=MapPersona(map=journey_map), journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        entry = changes.save_map_persona(journey_map, form, user=request.user)
        return _personas_saved(
            request, journey_map, _("Persona “%(name)s” added to the map.") % {"name": entry.persona.name}
        )
    return _personas_panel(request, journey_map, form=form, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def map_persona_edit(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    entry = get_object_or_404(journey_map.map_personas.select_related("persona"), pk=pk)
    form = conflicts.track(MapPersonaForm(_posted(request), instance=entry, journey_map=journey_map))
    ctx = {
        "form": form,
        "title": _("%(name)s in this map") % {"name": entry.persona.name},
        "action": reverse("map_persona_edit", args=[ws, key, pk]),
        "version": journey_map.version,
        "delete_url": reverse("map_persona_remove", args=[ws, key, pk]),
        "delete_label": _("Remove from map"),
    }
    if request.method == "POST" and form.is_valid():
        try:
            changes.save_map_persona(journey_map, form, user=request.user)
        except conflicts.Conflict as conflict:
            _show_conflict(request, journey_map, form, conflict, ctx)
            return _editor(request, journey_map, ctx, status=409)
        return _personas_saved(request, journey_map, _("Scope of “%(name)s” saved.") % {"name": entry.persona.name})
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def map_persona_remove(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    """GET asks first (the scope editor's "Remove from map" is a link); POST removes."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    entry = get_object_or_404(journey_map.map_personas.select_related("persona"), pk=pk)
    if request.method == "GET":
        return _editor(
            request,
            journey_map,
            {
                "confirm": True,
                "title": _("Remove %(name)s from this map?") % {"name": entry.persona.name},
                "action": reverse("map_persona_remove", args=[ws, key, pk]),
                "confirm_label": _("Remove"),
                "warning": _("The persona stays in the library."),
                "after_delete": _("Undo (Ctrl+Z) or the map’s history can bring it back."),
            },
        )
    changes.remove_map_persona(journey_map, entry, user=request.user)
    return _personas_saved(
        request, journey_map, _("Persona “%(name)s” removed from the map.") % {"name": entry.persona.name}
    )


# --- matrices ------------------------------------------------------------------------------


def _matrix_page(request: HttpRequest, journey_map: JourneyMap, name: str, ctx: dict) -> HttpResponse:
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": name,
        **ctx,
    }
    template = f"maps/_{name}.html" if _fragment(request) else f"maps/map_{name}.html"
    return render(request, template, ctx)


def _cached_matrix(
    request: HttpRequest, ws: str, key: str, name: str, grid, *parts: str, loaded: bool | str = True
) -> HttpResponse:
    """A matrix tab, or its fragment for htmx, drawn from the cache while the map is as
    it was. `grid(journey_map)` gives the matrix's own context from a map loaded as
    `loaded` says (get_map_for_user)."""

    def context() -> dict:
        journey_map = get_map_for_user(request, ws, key, loaded=loaded)
        return {
            "map": journey_map,
            "workspace": journey_map.workspace,
            "can_edit": journey_map.membership.can_edit,
            "matrix": name,
            **grid(journey_map),
        }

    if _fragment(request):
        stamp = versioned.stamp(request, ws, key)
        return HttpResponse(_cached_part(request, stamp, name, {}, context, *parts))
    journey_map = get_map_for_user(request, ws, key)
    part = _cached_part(request, versioned.stamp_of(journey_map), name, {}, context, *parts)
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": name,
        "part_html": part,
    }
    return render(request, f"maps/map_{name}.html", ctx)


@login_required
@require_GET
def coverage(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    by = "roles" if request.GET.get("by") == "roles" else "personas"

    def grid(journey_map: JourneyMap) -> dict:
        ctx = {"by": by, "grid": matrices.coverage(journey_map, by, gap_rules.find_gaps(journey_map))}
        if journey_map.membership.can_edit:
            ctx["live_content"] = list(journey_map.workspace.content.filter(status=ContentAsset.LIVE))
        return ctx

    return _cached_matrix(request, ws, key, "coverage", grid, by)


@login_required
@require_POST
def coverage_link(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Link content from a coverage cell: the asset joins the stage and, if it did not
    target the persona yet, now does, so the cell's gap closes."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, request.POST.get("stage", ""))
    content = journey_map.workspace.content.filter(key=looked_up(request.POST.get("content", ""))).first()
    persona = journey_map.workspace.personas.filter(key=looked_up(request.POST.get("persona", ""))).first()
    if content is None:
        return _refused(request, _("Pick a content asset to link."))
    changes.link_content(journey_map, stage_obj, content, persona, user=request.user)
    names = {"content": content.title, "stage": stage_obj.name, "persona": persona.name if persona else ""}
    message = (
        _("“%(content)s” linked to %(stage)s for %(persona)s.") if persona else _("“%(content)s” linked to %(stage)s.")
    ) % names
    if request.htmx:
        journey_map = get_map_for_user(request, ws, key, loaded=True)
        by = "roles" if request.POST.get("by") == "roles" else "personas"
        ctx = {
            "by": by,
            "grid": matrices.coverage(journey_map, by, gap_rules.find_gaps(journey_map)),
            "live_content": journey_map.workspace.content.filter(status=ContentAsset.LIVE),
            "flash": message,
        }
        return changed(_matrix_page(request, journey_map, "coverage", ctx))
    messages.success(request, message)
    return redirect("coverage", ws, key)


@login_required
@require_GET
def accountability(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    def grid(journey_map: JourneyMap) -> dict:
        return {"grid": matrices.accountability(journey_map, gap_rules.find_stage_gaps(journey_map))}

    return _cached_matrix(request, ws, key, "accountability", grid, loaded="stages")


@login_required
@require_GET
def funnel(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    def grid(journey_map: JourneyMap) -> dict:
        rows = matrices.funnel(journey_map, gap_rules.find_stage_gaps(journey_map))
        # The period columns only for a map that keeps figures per period.
        return {"rows": rows, "has_periods": any(row["period"] for row in rows), "whatif": whatif.table(journey_map)}

    return _cached_matrix(request, ws, key, "funnel", grid, loaded="stages")


@login_required
@require_GET
def funnel_whatif(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The funnel's what-if with one stage's rate tried at another value (?stage=KEY&
    rate=PERCENT): for htmx the what-if section (the page picks the stage's result from
    it), else the section as a page of its own."""
    journey_map = get_map_for_user(request, ws, key, loaded="stages")
    stage_key = looked_up(request.GET.get("stage", ""))
    rate = _percent_to_try(request.GET.get("rate", ""))
    tried, problem = {}, None
    if rate is None:
        problem = _("Enter a rate from 0 to 100 %.")
    elif whatif.trial(journey_map, stage_key, rate) is None:
        problem = _("This stage has no funnel figures to try another rate on.")
    else:
        tried = {stage_key: rate}
    table = whatif.table(journey_map, tried)
    context = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": "funnel",
        "whatif": table,
        "whatif_problem": problem,
        # A problem shows beside the stage's slider; a stage without one hears it on top.
        "problem_stage": stage_key if any(row.step.stage.key == stage_key for row in table["rows"]) else None,
    }
    return render(request, "maps/_whatif.html" if _fragment(request) else "maps/map_whatif.html", context)


def _percent_to_try(value: str) -> float | None:
    """A typed or slid percentage as a rate (0 to 1), or None if it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number / 100 if math.isfinite(number) and 0 <= number <= 100 else None


# --- guiding questions and their answers ----------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def question_answer(request: HttpRequest, ws: str, key: str, stage: str, number: int) -> HttpResponse:
    """Answer one of a stage's guiding questions (its `number`, from 1), with evidence."""
    journey_map = _write_map(request, ws, key)
    stage_obj = _get_stage(journey_map, stage)
    if not 1 <= number <= len(stage_obj.questions):
        raise Http404(_("No such question"))
    question = stage_obj.questions[number - 1]
    instance = stage_obj.answers.filter(question=question).first() or StageAnswer(stage=stage_obj, question=question)
    form = AnswerForm(_posted(request), instance=instance, question=question)
    ctx = {
        "title": _("A question of %(stage)s") % {"stage": stage_obj.name},
        "question": question,
        "answered": instance if instance.pk else None,
        "action": reverse("question_answer", args=[ws, key, stage, number]),
        "submit_label": _("Save the answer"),
    }

    def said(answer: StageAnswer | None) -> str:
        if answer is None:
            return _("Answer cleared.")
        return _("Answer saved in %(stage)s.") % {"stage": stage_obj.name}

    return _edit(
        request,
        journey_map,
        form,
        lambda f: changes.answer_question(journey_map, stage_obj, f, user=request.user),
        said,
        ctx,
    )


@login_required
@require_GET
def map_questions(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Every stage's guiding questions with their answers, the open ones counted: what
    the team still has to find out, with a way to answer each."""
    journey_map = get_map_for_user(request, ws, key)
    stages = []
    for stage in journey_map.stages.prefetch_related("answers"):
        rows = question_rows(stage)
        stages.append((stage, rows, sum(1 for row in rows if row.answer is None)))
    ctx = {
        "stages": stages,
        "open_total": sum(open_ for _stage, _rows, open_ in stages),
        "asked_total": sum(len(rows) for _stage, rows, _open in stages),
    }
    return _matrix_page(request, journey_map, "questions", ctx)


# --- SWOT -------------------------------------------------------------------------------------


SWOT_HEADINGS = {
    SwotItem.STRENGTH: pgettext_lazy("SWOT quadrant", "Strengths"),
    SwotItem.WEAKNESS: pgettext_lazy("SWOT quadrant", "Weaknesses"),
    SwotItem.OPPORTUNITY: pgettext_lazy("SWOT quadrant", "Opportunities"),
    SwotItem.THREAT: pgettext_lazy("SWOT quadrant", "Threats"),
}


def _swot_context(request: HttpRequest, journey_map: JourneyMap, stage_key: str, forms: dict | None = None) -> dict:
    """The four quadrants (stored and computed items), filtered to one stage or not,
    each with its add form (or the refused one, with its errors)."""
    stages = list(journey_map.stages.all())
    if stage_key not in {stage.key for stage in stages}:
        stage_key = ""
    found = swot.swot_items(journey_map, stage_key or None)
    names = {stage.key: stage.name for stage in stages}
    stored = {item.key: item for item in journey_map.swot_items.all()}
    editing = looked_up(request.GET.get("edit", ""))
    quadrants = []
    for kind in swot.KINDS:
        items = [
            {
                **item,
                "stage_name": names.get(item["stage"], ""),
                "obj": stored.get(item["key"]) if item["source"] == swot.STORED else None,
            }
            for item in found[kind]
        ]
        form = (forms or {}).get(kind) or SwotItemForm(
            initial={"kind": kind, "stage": next((s.pk for s in stages if s.key == stage_key), None)},
            journey_map=journey_map,
            prefix=f"swot-{kind.lower()}",
        )
        quadrants.append({"kind": kind, "heading": SWOT_HEADINGS[kind], "items": items, "form": form})
    edit_form = (forms or {}).get("edit")
    if edit_form is None and editing in stored and journey_map.membership.can_edit:
        edit_form = SwotItemForm(instance=stored[editing], journey_map=journey_map, prefix="edit")
    return {
        "quadrants": quadrants,
        "stages": stages,
        "stage_key": stage_key,
        "edit_form": edit_form,
        "editing": edit_form.instance.key if edit_form is not None else "",
    }


def _swot_url(journey_map: JourneyMap, stage_key: str = "") -> str:
    url = reverse("map_swot", args=[journey_map.workspace.slug, journey_map.key])
    return f"{url}?{urlencode({'stage': stage_key})}" if stage_key else url


@login_required
@require_GET
def map_swot(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The map's SWOT: a 2 x 2 grid, for the whole map or one stage."""
    journey_map = get_map_for_user(request, ws, key)
    ctx = _swot_context(request, journey_map, looked_up(request.GET.get("stage", "")))
    return _matrix_page(request, journey_map, "swot", ctx)


def _swot_answer(request: HttpRequest, journey_map: JourneyMap, message: str = "", forms=None) -> HttpResponse:
    """After a SWOT change (or a refused one): htmx gets the grid again, a plain POST
    goes back to the page (or sees the page with the form's errors)."""
    stage_key = looked_up(request.POST.get("filter", ""))
    if forms is None and not request.htmx:
        messages.success(request, message)
        return redirect(_swot_url(journey_map, stage_key))
    ctx = _swot_context(request, journey_map, stage_key, forms)
    response = _matrix_page(request, journey_map, "swot", ctx)
    if forms is not None:
        response.status_code = _invalid_status(request)
        return response
    # The answer is the grid as it now is: no region of the page needs telling.
    return trigger_client_event(response, "journeymap-saved", {"message": message})


@login_required
@require_POST
def swot_create(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    kind = request.POST.get("kind", "")
    if kind not in swot.KINDS:
        return _refused(request, _("Pick strengths, weaknesses, opportunities or threats."))
    form = SwotItemForm(
        request.POST, instance=SwotItem(map=journey_map), journey_map=journey_map, prefix=f"swot-{kind.lower()}"
    )
    if not form.is_valid():
        return _swot_answer(request, journey_map, forms={kind: form})
    try:
        item = changes.save_swot(journey_map, form, user=request.user)
    except changes.AlreadyDone:
        return _swot_answer(request, journey_map, _("That was saved already."))
    return _swot_answer(
        request, journey_map, _("Added to the SWOT: “%(text)s”.") % {"text": Truncator(item.text).chars(80)}
    )


def _get_swot(journey_map: JourneyMap, item_key: str) -> SwotItem:
    return get_object_or_404(journey_map.swot_items, key=looked_up(item_key))


@login_required
@require_http_methods(["GET", "POST"])
def swot_edit(request: HttpRequest, ws: str, key: str, item: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    item_obj = _get_swot(journey_map, item)
    if request.method == "GET":
        query = urlencode(
            {"edit": item_obj.key, **({"stage": request.GET["stage"]} if request.GET.get("stage") else {})}
        )
        return redirect(reverse("map_swot", args=[ws, key]) + f"?{query}#swot-{item_obj.key}")
    form = SwotItemForm(request.POST, instance=item_obj, journey_map=journey_map, prefix="edit")
    if not form.is_valid():
        return _swot_answer(request, journey_map, forms={"edit": form})
    saved = changes.save_swot(journey_map, form, user=request.user)
    return _swot_answer(
        request, journey_map, _("SWOT item saved: “%(text)s”.") % {"text": Truncator(saved.text).chars(80)}
    )


@login_required
@require_POST
def swot_delete(request: HttpRequest, ws: str, key: str, item: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    item_obj = _get_swot(journey_map, item)
    changes.delete_swot(journey_map, item_obj, user=request.user)
    return _swot_answer(
        request, journey_map, _("Deleted from the SWOT: “%(text)s”.") % {"text": Truncator(item_obj.text).chars(80)}
    )


# --- the workspace library -------------------------------------------------------------------

LIBRARY = {
    "personas": {
        "model": Persona,
        "form": PersonaForm,
        "title": gettext_lazy("Personas"),
        "one": gettext_lazy("persona"),
    },
    "content": {
        "model": ContentAsset,
        "form": ContentAssetForm,
        "title": gettext_lazy("Content assets"),
        "one": gettext_lazy("content asset"),
    },
    "roles": {
        "model": BuyingRole,
        "form": BuyingRoleForm,
        "title": gettext_lazy("Buying roles"),
        "one": gettext_lazy("buying role"),
    },
    "departments": {
        "model": Department,
        "form": DepartmentForm,
        "title": gettext_lazy("Departments"),
        "one": gettext_lazy("department"),
    },
}


def _library_kind(kind: str) -> dict:
    if kind not in LIBRARY:
        raise Http404(_("No such library"))
    return LIBRARY[kind]


def _library_items(workspace_obj, kind: str, params) -> tuple[list, dict]:
    """The library list, filtered by the query string (text, and status/type for content)."""
    model = LIBRARY[kind]["model"]
    items = model.objects.filter(workspace=workspace_obj)
    q = params.get("q", "").strip()
    filters = {"q": q}
    if q:
        text_field = "title" if kind == "content" else "name"
        items = items.filter(**{f"{text_field}__icontains": q}) | items.filter(key__icontains=q)
    if kind == "content":
        for name, choices in (("status", ContentAsset.STATUSES), ("type", ContentAsset.TYPES)):
            value = params.get(name, "")
            if value in choices:
                items = items.filter(**{name: value})
                filters[name] = value
        items = items.prefetch_related("personas", "stages__map")
    if kind == "personas":
        items = items.select_related("role").prefetch_related("map_entries__map")
    return list(items.distinct()), filters


@login_required
@require_GET
def library_list(request: HttpRequest, ws: str, kind: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws)
    items, filters = _library_items(membership.workspace, kind, _searchable(request, request.GET, "q"))
    ctx = {
        "workspace": membership.workspace,
        "can_edit": membership.can_edit,
        "kind": kind,
        "info": info,
        "items": items,
        "filters": filters,
        "library": LIBRARY,
        "statuses": ContentAsset.STATUS_CHOICES,
        "types": ContentAsset.TYPE_CHOICES,
    }
    return render(request, "maps/_library_table.html" if _fragment(request) else "maps/library_list.html", ctx)


def _library_form(request: HttpRequest, membership, kind: str, form, ctx: dict, message) -> HttpResponse:
    """The library's edit-view shape: like `_edit`, but it answers with the library list."""
    conflicts.track(form)
    ctx = {
        "workspace": membership.workspace,
        "can_edit": membership.can_edit,
        "kind": kind,
        "info": LIBRARY[kind],
        "form": form,
        "library": LIBRARY,
        **ctx,
    }
    status = _invalid_status(request) if form.errors else 200
    if request.method == "POST" and form.is_valid():
        try:
            item = changes.save_library_item(form, user=request.user)
        except conflicts.Conflict as conflict:
            form.data = conflict.data
            form._bound_fields_cache.clear()
            ctx.update(conflict=conflict.clashes, conflict_by=[_("Someone")])
            status = 409
        else:
            return _library_saved(request, membership.workspace.slug, kind, message(item))
    return render(request, "maps/_editor.html" if _fragment(request) else "maps/library_edit.html", ctx, status=status)


def _library_saved(request: HttpRequest, ws: str, kind: str, message: str) -> HttpResponse:
    messages.success(request, message)
    url = reverse("library_list", args=[ws, kind])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def library_create(request: HttpRequest, ws: str, kind: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws, write=request.method == "POST")
    form = info["form"](
        _posted(request), instance=info["model"](workspace=membership.workspace), workspace=membership.workspace
    )
    ctx = {"title": _("Add a %(thing)s") % {"thing": info["one"]}, "action": reverse("library_create", args=[ws, kind])}
    return _library_form(
        request,
        membership,
        kind,
        form,
        ctx,
        lambda item: _("%(thing)s “%(item)s” added.") % {"thing": capfirst(info["one"]), "item": item},
    )


@login_required
@require_http_methods(["GET", "POST"])
def library_edit(request: HttpRequest, ws: str, kind: str, item: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws, write=request.method == "POST")
    obj = get_object_or_404(info["model"], workspace=membership.workspace, key=item)
    ctx = {"title": f"{capfirst(info['one'])}: {obj}", "action": reverse("library_edit", args=[ws, kind, item])}
    if membership.can_edit:
        ctx["delete_url"] = reverse("library_delete", args=[ws, kind, item])
    form = info["form"](_posted(request), instance=obj, workspace=membership.workspace)
    return _library_form(
        request,
        membership,
        kind,
        form,
        ctx,
        lambda saved: _("%(thing)s “%(item)s” saved.") % {"thing": capfirst(info["one"]), "item": saved},
    )


@login_required
@require_http_methods(["GET", "POST"])
def library_delete(request: HttpRequest, ws: str, kind: str, item: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws, write=True)
    obj = get_object_or_404(info["model"], workspace=membership.workspace, key=item)
    ctx = {"workspace": membership.workspace, "kind": kind, "info": info, "library": LIBRARY}
    if request.method == "POST":
        try:
            changes.delete_library_item(obj, user=request.user)
        except changes.Refused as refused:
            return _refused(request, str(refused))
        return _library_saved(
            request, ws, kind, _("%(thing)s “%(item)s” deleted.") % {"thing": capfirst(info["one"]), "item": obj}
        )
    uses = changes.library_uses(obj)
    if uses:
        ctx.update(
            title=_("Delete “%(item)s”?") % {"item": obj},
            refused=_("“%(item)s” cannot be deleted while it is used by %(uses)s. Remove those uses first.")
            % {"item": obj, "uses": ", ".join(uses)},
        )
    else:
        ctx.update(
            confirm=True,
            title=_("Delete the %(thing)s “%(item)s”?") % {"thing": info["one"], "item": obj},
            after_delete=TRASH_NOTE,
            action=reverse("library_delete", args=[ws, kind, item]),
        )
    return render(request, "maps/_editor.html" if _fragment(request) else "maps/library_edit.html", ctx)


# --- the map's header and personas panel -------------------------------------------------------


def _map_settings_saved(request: HttpRequest, journey_map: JourneyMap, old_key: str) -> HttpResponse:
    """Saved settings: the drawer closes and the page's header, breadcrumb and title take
    the new name (out of band); a new key needs the new address, so the page reloads there."""
    message = _("Settings of “%(name)s” saved.") % {"name": journey_map.name}
    url = journey_map.get_absolute_url()
    if not request.htmx or journey_map.key != old_key:
        messages.success(request, message)
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    ctx = {"map": journey_map, "workspace": journey_map.workspace, "can_edit": journey_map.membership.can_edit}
    response = render(request, "maps/_map_settings_saved.html", ctx)
    # Only out-of-band parts: what is left lands in the drawer, and whitespace would keep it open.
    response.content = response.content.strip()
    return changed(trigger_client_event(response, "journeymap-saved", {"message": message}))


def _new_persona_form(journey_map: JourneyMap, data: QueryDict | None = None) -> PersonaForm:
    """PersonaForm with its own rules; the panel shows name, role and title only."""
    workspace_obj = journey_map.workspace
    return PersonaForm(data, prefix="new", instance=Persona(workspace=workspace_obj), workspace=workspace_obj)


def _personas_panel(
    request: HttpRequest, journey_map: JourneyMap, form=None, new_form=None, flash: str = "", status: int = 200
) -> HttpResponse:
    ws, key = journey_map.workspace.slug, journey_map.key
    if form is None:
        form = MapPersonaForm(instance=MapPersona(map=journey_map), journey_map=journey_map)
    ctx = {
        "form": form,
        "new_persona_form": new_form or _new_persona_form(journey_map),
        "title": _("Personas of this map"),
        "action": reverse("map_personas", args=[ws, key]),
        "new_persona_action": reverse("map_persona_new", args=[ws, key]),
        "entries": journey_map.map_personas.select_related("persona__role").prefetch_related("stages"),
        "submit_label": _("Add persona"),
        "flash": flash,
    }
    return _editor(request, journey_map, ctx, status=status)


def _personas_saved(request: HttpRequest, journey_map: JourneyMap, message: str) -> HttpResponse:
    """After a change to the map's personas the panel stays open with the new list."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(journey_map.get_absolute_url())
    return changed(_personas_panel(request, journey_map, flash=message))


@login_required
@require_POST
def map_persona_new(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Create a persona from inside a map: it joins the library and this map at once."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    form = _new_persona_form(journey_map, request.POST)
    if not form.is_valid():
        return _personas_panel(request, journey_map, new_form=form, status=_invalid_status(request))
    entry = changes.create_persona_in_map(journey_map, form, user=request.user)
    return _personas_saved(
        request, journey_map, _("Persona “%(name)s” created and added to the map.") % {"name": entry.persona.name}
    )


# --- history, undo and the trash -----------------------------------------------------------

HISTORY_PAGE = 50


@login_required
@require_GET
def map_history(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The map's revisions, newest first, by person and by stage, 50 to a page."""
    journey_map = get_map_for_user(request, ws, key)
    params = _searchable(request, request.GET, "user", "stage")
    user, stage = params.get("user", ""), params.get("stage", "")
    page = _page_number(request)
    found = history.history(journey_map, user=user, stage=stage)
    shown = found[(page - 1) * HISTORY_PAGE : page * HISTORY_PAGE + 1]
    ctx = {
        "revisions": shown[:HISTORY_PAGE],
        "more": len(shown) > HISTORY_PAGE,
        "next_page": page + 1,
        "people": history.people(journey_map),
        "stages": list(journey_map.stages.all()),
        "filters": {"user": user, "stage": stage, "query": _filters_query(user, stage)},
    }
    return _matrix_page(request, journey_map, "history", ctx)


def _filters_query(user: str, stage: str) -> str:
    return urlencode([(name, value) for name, value in (("user", user), ("stage", stage)) if value])


def _searchable(request: HttpRequest, params: QueryDict, *names: str) -> QueryDict:
    """The query string without a search or filter value that cannot be searched for
    (control characters), each refused with a message on the page."""
    params = params.copy()
    for name in names:
        problem = search_problem(params.get(name, ""))
        if problem:
            messages.error(request, problem)
            params.pop(name)
    return params


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@require_GET
def map_revision(request: HttpRequest, ws: str, key: str, number: int) -> HttpResponse:
    """The diagram and gaps of the map as they were at revision `number`."""
    journey_map = get_map_for_user(request, ws, key)
    revision = get_object_or_404(
        journey_map.revisions.select_related("user").defer("delta", "checkpoint"), number=number
    )
    then = history.as_it_was(journey_map, number)
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "revision": revision,
        "matrix": "history",
        "then_gaps": then["gaps"],
        "svg": then["svg"],
        "diagram_error": then["error"],
    }
    return render(request, "maps/map_revision.html", ctx)


@login_required
@require_POST
def map_restore(request: HttpRequest, ws: str, key: str, number: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    try:
        history.restore(journey_map, number, user=request.user)
    except changes.Refused as refused:
        return _refused(request, str(refused))
    message = _("The map is back as it was at revision %(n)s.") % {"n": number}
    if request.htmx:
        return _saved(request, journey_map, message)
    messages.success(request, message)
    return redirect("map_history", ws, key)


@login_required
@require_POST
def map_undo(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Ctrl+Z: take back the person's own last change of this map."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    try:
        undone = history.undo(journey_map, request.user)
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _saved(request, journey_map, _("Undone: %(summary)s") % {"summary": undone.summary})


@login_required
@require_GET
def trash_list(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws)
    ctx = {
        "workspace": membership.workspace,
        "can_edit": membership.can_edit,
        "can_empty": membership.role == Membership.OWNER,
        "items": trash.items(membership.workspace),
        "keep_days": trash.KEEP_DAYS,
    }
    return render(request, "maps/trash.html", ctx)


@login_required
@require_POST
def trash_restore(request: HttpRequest, ws: str, pk: int) -> HttpResponse:
    membership = get_membership(request, ws, write=True)
    item = get_object_or_404(TrashItem, workspace=membership.workspace, pk=pk)
    try:
        said = trash.restore(item, user=request.user)
    except changes.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, capfirst(said) + ".")
    return redirect("trash", ws)


@login_required
@require_POST
def trash_empty(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws, write=True)
    if membership.role != Membership.OWNER:
        raise PermissionDenied(_("Only owners can empty the trash."))
    count = trash.empty(membership.workspace)
    messages.success(
        request, ngettext("%(n)d item deleted for good.", "%(n)d items deleted for good.", count) % {"n": count}
    )
    return redirect("trash", ws)


# --- share links ----------------------------------------------------------------------
#
# Editors make and revoke links from the map's "Share" panel; anyone holding a link's
# token opens /s/<token>/ without signing in and sees that one map, read-only. Answers
# under /s/ are marked as seen by the request log (see _shared), so the token in their
# path is not written to it.


def _share_panel(
    request: HttpRequest, journey_map: JourneyMap, form=None, new_url: str = "", flash: str = "", status: int = 200
) -> HttpResponse:
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": True,
        "title": _("Share a read-only link"),
        "form": form or ShareLinkForm(),
        "links": sharing.links_of(journey_map),
        "new_url": new_url,
        "flash": flash,
    }
    template = "maps/_share_panel.html" if _fragment(request) else "maps/share_links.html"
    return render(request, template, ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def map_shares(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The map's share links and a form for a new one. The new link's secret is in this
    answer only (the database keeps its hash), so a plain POST renders instead of
    redirecting: a redirect would have to park the secret somewhere to show it."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    if request.method == "GET":
        return _share_panel(request, journey_map)
    form = ShareLinkForm(request.POST, instance=ShareLink(map=journey_map))
    if not form.is_valid():
        return _share_panel(request, journey_map, form=form, status=_invalid_status(request))
    data = form.cleaned_data
    _link, token = sharing.create_link(journey_map, request.user, data["label"], data["password"], form.expires())
    new_url = request.build_absolute_uri(reverse("share_page", args=[token]))
    flash = _("Link created. Copy it now: it is shown only once.")
    return _share_panel(request, journey_map, new_url=new_url, flash=flash)


@login_required
@require_POST
def share_revoke(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    link = get_object_or_404(journey_map.share_links, pk=pk)
    sharing.revoke(link, by=request.user)
    message = _("The link “%(label)s” no longer works.") % {"label": link.label or _("without a label")}
    if request.htmx:
        return _share_panel(request, journey_map, flash=message)
    messages.success(request, message)
    return redirect("map_shares", ws, key)


def _shared(response: HttpResponse) -> HttpResponse:
    """Every answer under /s/: not for search engines, and no Referer carrying the token
    to another site (same-origin: the password form's own post still carries its origin,
    which the CSRF check needs). Refusals are marked as logged, so Django's request log
    does not write the path (with its token) as a warning."""
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("Cache-Control", "private, no-store")
    if response.status_code >= 400:
        response._has_been_logged = True
    return response


def _share_invalid(request: HttpRequest) -> HttpResponse:
    """One answer for an unknown, revoked or expired token, so none can be told apart."""
    return _shared(render(request, "maps/share_invalid.html", status=404))


def _share_password(request: HttpRequest, link: ShareLink, token: str, error: str = "", status: int = 200):
    ctx = {"link": link, "workspace": link.map.workspace, "token": token, "error": error}
    return _shared(render(request, "maps/share_password.html", ctx, status=status))


def _share_view(request: HttpRequest, journey_map: JourneyMap) -> str:
    view = request.GET.get("view", "stages")
    return view if view in dict(_diagram_views(journey_map)) else "stages"


@require_GET
def share_page(request: HttpRequest, token: str) -> HttpResponse:
    """The map as a stranger with the link sees it: diagram, gaps, matrices; no way in."""
    link = sharing.find_link(token)
    if link is None:
        return _share_invalid(request)
    if not sharing.is_unlocked(link, request.session):
        return _share_password(request, link, token)
    sharing.count_view(link)
    journey_map = JourneyMap.objects.loaded().get(pk=link.map_id)
    found = gap_rules.find_gaps(journey_map)
    totals = [(sev, sum(1 for g in found if g.severity == sev)) for sev in gap_rules.SEVERITIES]
    by = "roles" if request.GET.get("by") == "roles" else "personas"
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "token": token,
        "can_edit": False,
        "shared": True,
        "view": _share_view(request, journey_map),
        "views": _diagram_views(journey_map),
        "gap_totals": [(sev, n) for sev, n in totals if n],
        "gap_groups": _group_gaps(journey_map, found),
        "by": by,
        "grid": matrices.coverage(journey_map, by, found),
        "accountability": matrices.accountability(journey_map, found),
        "rows": matrices.funnel(journey_map, found),
    }
    return _shared(render(request, "maps/share_page.html", ctx))


@require_POST
def share_unlock(request: HttpRequest, token: str) -> HttpResponse:
    """The password of a protected link. Right: remembered for this session, on to the
    page. Wrong: said so; the fifth wrong try in ten minutes locks the link a while."""
    link = sharing.find_link(token)
    if link is None:
        return _share_invalid(request)
    if not sharing.needs_password(link):
        return _shared(redirect("share_page", token))
    if sharing.is_locked_out(link):
        error = _("Too many wrong passwords for this link. Try again in a few minutes.")
        return _share_password(request, link, token, error, status=429)
    if not sharing.try_password(link, request.POST.get("password", ""), request.session):
        return _share_password(request, link, token, _("That password is not right."), status=400)
    request.session.cycle_key()  # a session id planted before the password is not the one let in
    return _shared(redirect("share_page", token))


@require_GET
def share_diagram(request: HttpRequest, token: str) -> HttpResponse:
    """The picture of the share page. Rendered without links: nothing in it leads into the
    workspace, and a stranger who opens it alone gets an image, nothing to run."""
    link = sharing.find_link(token)
    if link is None or not sharing.is_unlocked(link, request.session):
        return _share_invalid(request)
    journey_map = JourneyMap.objects.loaded().get(pk=link.map_id)
    try:
        rendering = render_map(journey_map, _share_view(request, journey_map), "svg")
    except diagram.DiagramError as exc:
        return _shared(HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8"))
    if not_modified := _not_modified(request, rendering.etag):
        return _shared(not_modified)
    response = HttpResponse(rendering.body, content_type=rendering.content_type)
    response["ETag"] = rendering.etag
    response["Cache-Control"] = "private, no-cache"
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"  # i18n: not for people
    return _shared(response)


# --- members ---------------------------------------------------------------------------
# The workspace settings page (members, invitation links, leaving) and the invitation
# link itself. The rules are maps.members'; these views parse, call it and render.

NEW_LINK_SESSION_KEY = "journeymap-new-invitation-link"


def _settings_context(request: HttpRequest, membership: Membership, new_link: str = "") -> dict:
    workspace_obj = membership.workspace
    return {
        "workspace": workspace_obj,
        "membership": membership,
        "is_owner": membership.is_owner,
        "members": members.members(workspace_obj),
        "invitations": members.active_invitations(workspace_obj) if membership.is_owner else [],
        "roles": Membership.ROLE_CHOICES,
        "expiry_days": members.EXPIRY_DAYS,
        "new_link": new_link,
        "crumb": _("Members & settings"),
    }


@login_required
@require_GET
def workspace_settings(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws)
    # A link made by a form sent without htmx waits here for the one page that shows it.
    new_link = request.session.pop(NEW_LINK_SESSION_KEY, "") if membership.is_owner else ""
    return render(request, "maps/workspace_settings.html", _settings_context(request, membership, new_link))


@login_required
@require_GET
def workspace_backup(request: HttpRequest, ws: str) -> HttpResponse:
    # Every map, comment and member leaves the app: owners only, and the log says who.
    workspace_obj = get_workspace_for_user(request, ws, own=True)
    text = interchange.dumps(backup.export_workspace(workspace_obj))
    audit.record(AuditEvent.BACKED_UP, user=request.user, workspace=workspace_obj)
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = content_disposition_header(True, f"{workspace_obj.slug}-{stamp}.workspace.json")
    return response


def _members_saved(request: HttpRequest, ws: str, message: str, part: str, new_link: str = "") -> HttpResponse:
    """After a change: htmx gets the changed part of the page again, a form the page."""
    if not request.htmx:
        messages.success(request, message)
        return redirect("workspace_settings", ws)
    try:
        membership = get_membership(request, ws)
    except Http404:  # the person removed themselves
        messages.success(request, message)
        return HttpResponseClientRedirect(reverse("home"))
    if not membership.is_owner:  # the person made themselves editor or viewer: the page changes
        messages.success(request, message)
        return HttpResponseClientRedirect(reverse("workspace_settings", args=[ws]))
    response = render(request, f"maps/_{part}.html", _settings_context(request, membership, new_link))
    return trigger_client_event(response, "journeymap-saved", {"message": message})


def _members_refused(request: HttpRequest, ws: str, refused: members.Refused) -> HttpResponse:
    if request.htmx:
        return _refused(request, str(refused))
    messages.error(request, str(refused))
    return redirect("workspace_settings", ws)


def _posted_int(request: HttpRequest, name: str) -> int | None:
    try:
        return int(request.POST.get(name, ""))
    except ValueError:
        return None


@login_required
@require_POST
def member_role(request: HttpRequest, ws: str, pk: int) -> HttpResponse:
    membership = get_membership(request, ws, own=True)
    try:
        changed_member = members.set_role(membership.workspace, pk, request.POST.get("role", ""), by=request.user)
    except members.Refused as refused:
        return _members_refused(request, ws, refused)
    message = _("%(user)s is now %(role)s.") % {
        "user": changed_member.user.get_username(),
        "role": changed_member.get_role_display().lower(),
    }
    return _members_saved(request, ws, message, "members")


@login_required
@require_POST
def member_remove(request: HttpRequest, ws: str, pk: int) -> HttpResponse:
    membership = get_membership(request, ws, own=True)
    try:
        removed = members.remove(membership.workspace, pk, by=request.user)
    except members.Refused as refused:
        return _members_refused(request, ws, refused)
    message = _("%(user)s is no longer a member of %(workspace)s.") % {
        "user": removed.user.get_username(),
        "workspace": membership.workspace.name,
    }
    return _members_saved(request, ws, message, "members")


@login_required
@require_POST
def workspace_leave(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws)
    try:
        members.leave(membership.workspace, request.user)
    except members.Refused as refused:
        return _members_refused(request, ws, refused)
    messages.success(request, _("You left %(workspace)s.") % {"workspace": membership.workspace.name})
    url = reverse("home")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def invitation_create(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws, own=True)
    days = _posted_int(request, "days")
    try:
        invitation, token = members.invite(
            membership.workspace, request.POST.get("role", ""), days or 0, by=request.user
        )
    except members.Refused as refused:
        return _members_refused(request, ws, refused)
    link = request.build_absolute_uri(reverse("invite_accept", args=[token]))
    if not request.htmx:
        request.session[NEW_LINK_SESSION_KEY] = link
    message = _("Invitation link for a new %(role)s created.") % {"role": invitation.get_role_display().lower()}
    return _members_saved(request, ws, message, "invitations", new_link=link)


@login_required
@require_POST
def invitation_revoke(request: HttpRequest, ws: str, pk: int) -> HttpResponse:
    membership = get_membership(request, ws, own=True)
    try:
        members.revoke(membership.workspace, pk, by=request.user)
    except members.Refused as refused:
        return _members_refused(request, ws, refused)
    return _members_saved(request, ws, _("Invitation link revoked: it no longer works."), "invitations")


def _invitation_invalid(request: HttpRequest, refused: members.Refused) -> HttpResponse:
    status = 410 if isinstance(refused, members.InvitationGone) else 404
    return render(request, "maps/invite_invalid.html", {"message": str(refused)}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link: who opens it signed in is asked to join, and joins by POST."""
    try:
        invitation = members.find_invitation(token)
    except members.Refused as refused:
        return _invitation_invalid(request, refused)
    existing = Membership.objects.filter(workspace=invitation.workspace, user=request.user).first()
    if request.method == "POST" and existing is None:
        try:
            membership, joined = members.accept(token, request.user)
        except members.Refused as refused:
            return _invitation_invalid(request, refused)
        if joined:
            messages.success(
                request,
                _("Welcome to %(workspace)s. You are %(role)s.")
                % {"workspace": invitation.workspace.name, "role": membership.get_role_display().lower()},
            )
            return redirect("workspace", invitation.workspace.slug)
        existing = membership
    ctx = {"invitation": invitation, "workspace": invitation.workspace, "existing": existing}
    return render(request, "maps/invite_accept.html", ctx)


# --- actions: what to fix first ---------------------------------------------------------


def _actions_context(journey_map: JourneyMap) -> dict:
    rows = priorities.ranked(journey_map)
    return {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": "actions",
        "rows": rows,
        "quadrants": priorities.by_quadrant(rows),
        "formula": priorities.formula(),
        "high_from": priorities.HIGH_FROM,
        "statuses": Action.STATUS_CHOICES,
    }


@login_required
@require_GET
def map_actions(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The Actions tab: the ranked list and the impact x effort picture. Not cached by the
    map's version: closing a vote moves the ranking without changing the map."""
    journey_map = get_map_for_user(request, ws, key)
    template = "maps/_actions.html" if _fragment(request) else "maps/map_actions.html"
    return render(request, template, _actions_context(journey_map))


def _get_action(journey_map: JourneyMap, action_key: str) -> Action:
    return get_object_or_404(journey_map.actions.select_related("owner", "stage"), key=looked_up(action_key))


def _actions_edit(request: HttpRequest, journey_map: JourneyMap, form, message, ctx: dict) -> HttpResponse:
    """An action's form, in the editor panel; a plain POST goes back to the Actions tab."""
    response = _edit(
        request,
        journey_map,
        form,
        lambda f: changes.save_action(journey_map, f, user=request.user),
        message,
        ctx,
    )
    return _to_actions_tab(request, journey_map, response)


def _to_actions_tab(request: HttpRequest, journey_map: JourneyMap, response: HttpResponse) -> HttpResponse:
    if not request.htmx and request.method == "POST" and response.status_code == 302:
        return redirect("map_actions", journey_map.workspace.slug, journey_map.key)
    return response


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """A new action; `?source=KIND:KEY` (a pain point, an opportunity, a gap row) fills in
    its title and stage from what it is made from."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    ctx = {"title": _("New action"), "action": reverse("action_create", args=[ws, key])}
    initial = {}
    wanted = request.GET.get("source", "")
    if request.method == "GET" and wanted:
        source = priorities.resolve(journey_map, wanted)
        if source is None:
            ctx["flash"] = _("What this action was to be made from is no longer on the map; describe it yourself.")
        else:
            initial = {"title": source.title, "stage": source.stage, "owner": source.owner, "source": source.key}
            ctx["intro"] = _("Made from the %(source)s") % {"source": source.label}
    form = ActionForm(_posted(request), instance=Action(map=journey_map), journey_map=journey_map, initial=initial)
    return _actions_edit(
        request, journey_map, form, lambda action: _("Action “%(name)s” added.") % {"name": action.title}, ctx
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_edit(request: HttpRequest, ws: str, key: str, act: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    action = _get_action(journey_map, act)
    ctx = {
        "title": _("Action: %(name)s") % {"name": action.title},
        "action": reverse("action_edit", args=[ws, key, act]),
        "delete_url": reverse("action_delete", args=[ws, key, act]),
    }
    form = ActionForm(_posted(request), instance=action, journey_map=journey_map)
    return _actions_edit(
        request, journey_map, form, lambda saved: _("Action “%(name)s” saved.") % {"name": saved.title}, ctx
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_delete(request: HttpRequest, ws: str, key: str, act: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    action = _get_action(journey_map, act)
    if request.method == "GET":
        return _confirm_delete(
            request,
            journey_map,
            _("the action “%(name)s”") % {"name": action.title},
            reverse("action_delete", args=[ws, key, act]),
            after_delete=_("Undo (Ctrl+Z) or the map’s history can bring it back."),
        )
    response = _change(
        request,
        journey_map,
        lambda: changes.delete_action(journey_map, action, user=request.user),
        _("Action “%(name)s” deleted.") % {"name": action.title},
    )
    return _to_actions_tab(request, journey_map, response)


@login_required
@require_POST
def action_status(request: HttpRequest, ws: str, key: str, act: str) -> HttpResponse:
    """One click: open, in progress, done or dropped."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    action = _get_action(journey_map, act)
    status = request.POST.get("status", "")
    labels = dict(Action.STATUS_CHOICES)
    response = _change(
        request,
        journey_map,
        lambda: changes.set_action_status(journey_map, action, status, user=request.user),
        _("Action “%(name)s”: %(status)s.") % {"name": action.title, "status": labels.get(status, status)},
    )
    return _to_actions_tab(request, journey_map, response)


# --- dot voting ---


def _vote_session(journey_map: JourneyMap, pk: int):
    return get_object_or_404(journey_map.vote_sessions, pk=pk)


def _new_vote_form(data: QueryDict | None = None) -> VoteSessionForm:
    return VoteSessionForm(data, initial={"title": _("What should we fix first?")})


def _votes_context(request: HttpRequest, journey_map: JourneyMap, form: VoteSessionForm | None = None) -> dict:
    """The votes tab: the open vote as this member sees it, the form that opens one
    (facilitators, while none is open) and the past votes with their rankings."""
    current = votes.current_vote(journey_map)
    facilitates = votes.can_facilitate(journey_map.membership)
    ctx = {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "can_facilitate": facilitates,
        "matrix": "votes",
        "current": votes.tally(current, request.user, journey_map) if current else None,
        "past": [votes.tally(session, request.user, journey_map) for session in votes.past_votes(journey_map)],
    }
    if facilitates and current is None:
        ctx["vote_form"] = form or _new_vote_form()
    return ctx


def _votes_saved(request: HttpRequest, journey_map: JourneyMap, message: str = "") -> HttpResponse:
    """After a vote changed: htmx refreshes what shows votes (`votes-changed`); a plain
    form goes back to the votes tab."""
    if request.htmx:
        response = HttpResponse("")
        if message:
            response = trigger_client_event(response, "journeymap-saved", {"message": message})
        return trigger_client_event(response, "votes-changed", after="settle")
    if message:
        messages.success(request, message)
    return redirect("map_votes", journey_map.workspace.slug, journey_map.key)


@login_required
@require_GET
def map_votes(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key)
    template = "maps/_votes.html" if _fragment(request) else "maps/map_votes.html"
    return render(request, template, _votes_context(request, journey_map))


@login_required
@require_POST
def vote_open(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """A facilitator (editor or owner) opens a vote on the map as it is now."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    form = _new_vote_form(request.POST)
    if not form.is_valid():
        ctx = _votes_context(request, journey_map, form)
        template = "maps/_vote_form.html" if request.htmx else "maps/map_votes.html"
        return render(request, template, ctx, status=_invalid_status(request))
    data = form.cleaned_data
    try:
        session = votes.open_vote(
            JourneyMap.objects.loaded().get(pk=journey_map.pk),
            request.user,
            data["title"],
            votes_each=data["votes_each"],
            hidden=data["hidden"],
            ends=data["ends"],
            include_gaps=data["include_gaps"],
        )
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _votes_saved(request, journey_map, _("Vote “%(title)s” opened.") % {"title": session.title})


@login_required
@require_POST
def vote_dot(request: HttpRequest, ws: str, key: str, pk: int, action: str) -> HttpResponse:
    """Place a dot on an item or take one back: every member, viewers too."""
    journey_map = get_map_for_user(request, ws, key)
    write = {"add": votes.place_dot, "remove": votes.take_back}.get(action)
    if write is None:
        raise Http404(_("No such action"))
    session = _vote_session(journey_map, pk)
    try:
        write(session, request.user, request.POST.get("item"))
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _votes_saved(request, journey_map)


@login_required
@require_POST
def vote_close(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    session = _vote_session(journey_map, pk)
    try:
        votes.close_vote(session, request.user)
    except changes.Refused as refused:
        return _refused(request, str(refused))
    return _votes_saved(request, journey_map, _("Vote “%(title)s” closed.") % {"title": session.title})


@login_required
@require_GET
def vote_csv(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    """The ranked result as CSV: once the counts are shown (at once, or when the vote closes)."""
    journey_map = get_map_for_user(request, ws, key)
    result = votes.tally(_vote_session(journey_map, pk), request.user, journey_map)
    if not result.shown:
        hidden = _("The counts of this vote are hidden until it closes.")
        if request.htmx:
            return _refused(request, hidden, status=403)
        messages.error(request, hidden)
        return redirect("map_votes", ws, key)
    response = HttpResponse(exports.vote_csv(result), content_type="text/csv; charset=utf-8")
    filename = f"{download_stem(journey_map)}.vote-{result.session.pk}.csv"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
@require_GET
def vote_latest(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The board's small panel: the open vote, if any, and the top of the latest result."""
    journey_map = get_map_for_user(request, ws, key)
    current, latest = votes.current_vote(journey_map), votes.latest_closed(journey_map)
    ctx = {
        "map": journey_map,
        "current": votes.tally(current, request.user, journey_map) if current else None,
        "latest": votes.tally(latest, request.user, journey_map) if latest else None,
    }
    return render(request, "maps/_vote_latest.html", ctx)


# --- comments ---------------------------------------------------------------------------
# Threads on a map, its stages, touchpoints and gap rows. Anyone who may see the map may
# comment and reply (viewers too); the author or an editor resolves and reopens. Comments
# are not map content: no revision, no `map-changed`, but `comments-changed`.

COMMENT_REGIONS = {"panel": "comment-panel", "page": "comments"}


def _comment_filter(params, journey_map: JourneyMap) -> tuple:
    """The list's target (None: every thread of the map), its state and where it is drawn."""
    state = params.get("state", talk.OPEN)
    where = params.get("where", "page")
    return (
        talk.target_from(params, journey_map),
        state if state in talk.STATES else talk.OPEN,
        where if where in COMMENT_REGIONS else "page",
    )


def _reply_form(pk: int, data: QueryDict | None = None) -> CommentForm:
    form = CommentForm(data, prefix=f"reply-{pk}")
    form.fields["body"].label = _("Your reply")
    form.fields["body"].widget.attrs["rows"] = 2
    return form


def _comment_rows(request: HttpRequest, journey_map: JourneyMap, found: list, names: dict, refused=None) -> list[dict]:
    """Each thread as the list draws it; `refused` is a reply form sent back with errors."""

    def row(comment) -> dict:
        mentions_me = talk.mentions_user(comment, request.user)
        return {"comment": comment, "segments": talk.segments(comment), "mentions_me": mentions_me}

    def reply_form(thread):
        return refused if refused is not None and refused.prefix == f"reply-{thread.pk}" else _reply_form(thread.pk)

    membership = journey_map.membership
    return [
        {
            **row(thread),
            "about": talk.about(talk.Target.of(thread), names),
            "replies": [row(answer) for answer in thread.replies.all()],
            "can_resolve": talk.can_resolve(thread, membership),
            "reply_form": reply_form(thread),
        }
        for thread in found
    ]


def _comments_context(request: HttpRequest, journey_map: JourneyMap, params, **extra) -> dict:
    target, state, where = _comment_filter(params, journey_map)
    names = talk.labels(journey_map, gap_rules.find_gaps(journey_map))
    ws, key = journey_map.workspace.slug, journey_map.key
    query = (target.query() if target else []) + [("state", state), ("where", where)]
    return {
        "map": journey_map,
        "workspace": journey_map.workspace,
        "can_edit": journey_map.membership.can_edit,
        "matrix": "comments",
        "target": target,
        "state": state,
        "where": where,
        "region": COMMENT_REGIONS[where],
        "hidden": query,
        "list_url": reverse("map_comments", args=[ws, key]) + "?" + urlencode(query),
        "page_url": reverse("map_comments", args=[ws, key]) + "?" + urlencode(query[:-1]),
        "title": talk.about(target, names),
        "threads": _comment_rows(
            request, journey_map, talk.threads(journey_map, target, state), names, extra.get("reply_form")
        ),
        "open_total": talk.total_open(journey_map),
        "form": CommentForm(prefix="new"),
        **extra,
    }


def _comments_answer(request: HttpRequest, journey_map: JourneyMap, params, status: int = 200, **extra) -> HttpResponse:
    """The comment list again: the region alone for htmx, else the comments page."""
    ctx = _comments_context(request, journey_map, params, **extra)
    listed = {row["comment"].pk for row in ctx["threads"]}
    listed |= {reply["comment"].pk for row in ctx["threads"] for reply in row["replies"]}
    if ctx.get("focus_pk") is not None and ctx["focus_pk"] not in listed:
        ctx["form"].fields["body"].widget.attrs["autofocus"] = True
    template = "maps/_comments.html" if request.htmx else "maps/map_comments.html"
    return render(request, template, ctx, status=status)


def _comments_changed(request: HttpRequest, journey_map: JourneyMap, comment, message: str) -> HttpResponse:
    """After a write: htmx gets the refreshed list and `comments-changed` (the board's,
    gaps' and presenter's badges listen); a plain form goes back to the comments page."""
    if request.htmx:
        # Focus goes back to the comment acted on, or to the new-comment box if it left the list.
        response = _comments_answer(request, journey_map, request.POST, flash=message, focus_pk=comment.pk)
        return trigger_client_event(response, "comments-changed", after="settle")
    messages.success(request, message)
    ctx = _comments_context(request, journey_map, request.POST)
    return redirect(f"{ctx['page_url']}#comment-{comment.pk}")


def _get_comment(journey_map: JourneyMap, pk: int):
    return get_object_or_404(journey_map.comments.select_related("parent", "map"), pk=pk)


@login_required
@require_GET
def map_comments(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Comments of a map: in the editor drawer for htmx (`?target=stage&stage=KEY`,
    touchpoint, gap; none: every open thread), else the map's Comments tab."""
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    if _fragment(request):
        params = request.GET.copy()
        if params.get("where") == "page":
            # The Comments tab's list refreshing itself after another person's comment.
            return render(request, "maps/_comments.html", _comments_context(request, journey_map, params))
        params["where"] = "panel"
        return render(request, "maps/_comments_panel.html", _comments_context(request, journey_map, params))
    return render(request, "maps/map_comments.html", _comments_context(request, journey_map, request.GET))


@login_required
@require_POST
def comment_post(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    target = talk.target_from(request.POST, journey_map) or talk.Target()
    form = CommentForm(request.POST, prefix="new")
    if not form.is_valid():
        return _comments_answer(request, journey_map, request.POST, status=_invalid_status(request), form=form)
    comment = talk.post(journey_map, target, form.cleaned_data["body"], request.user)
    return _comments_changed(request, journey_map, comment, _("Comment posted."))


@login_required
@require_POST
def comment_reply(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    parent = _get_comment(journey_map, pk)
    top = parent.parent_id or parent.pk
    form = _reply_form(top, request.POST)
    if not form.is_valid():
        status = _invalid_status(request)
        return _comments_answer(request, journey_map, request.POST, status=status, reply_form=form, reply_to=top)
    comment = talk.reply(parent, form.cleaned_data["body"], request.user)
    return _comments_changed(request, journey_map, comment, _("Reply posted."))


def _resolving(request: HttpRequest, ws: str, key: str, pk: int, write, message: str) -> HttpResponse:
    """Resolve or reopen: the author, or anyone who may edit the workspace."""
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    comment = _get_comment(journey_map, pk)
    top = comment.parent or comment
    if not talk.can_resolve(top, journey_map.membership):
        raise PermissionDenied(_("Only its author or an editor can resolve or reopen this comment."))
    write(top, request.user)
    return _comments_changed(request, journey_map, top, message)


@login_required
@require_POST
def comment_resolve(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    return _resolving(request, ws, key, pk, talk.resolve, _("Comment resolved."))


@login_required
@require_POST
def comment_reopen(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    return _resolving(request, ws, key, pk, talk.reopen, _("Comment reopened."))


# --- live ---------------------------------------------------------------------------------
# Polled every 2 s by every open map page. Its access check is the page's signed pass
# (maps.live.read_pass), not the session: while nothing changed it answers 204 from the
# cache alone, without one query. Only an answer with news asks the database whether
# the reader is still a member of the map's workspace.


def _live_refused(message: str, status: int) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _live_line(event: dict | None, reader: live.Reader, since: int) -> dict | None:
    """Who changed what, if it is news to the reader and not their own doing."""
    if not event or event.get("stamp", 0) <= since or not event.get("what"):
        return None
    if event.get("who") == reader.username:
        return None
    what = event["what"]
    try:
        what = str(Said.from_json(what)) if isinstance(what, dict) else str(what)
    except ValueError:
        return None
    return {"who": event.get("who") or _("Someone"), "what": what}


@no_session
@never_cache
@require_GET
def map_live(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    try:
        reader = live.read_pass(request.GET.get("token", ""), ws, key)
    except live.Expired:
        return _live_refused(_("This page is out of date: reload it to see others’ changes live."), 410)
    except live.Refused:
        return _live_refused(_("This page cannot follow the map’s changes: reload it."), 403)
    try:
        since = int(request.GET.get("stamp") or reader.stamp)
    except ValueError:
        since = reader.stamp
    current = live.stamp(reader.map_id)
    people = live.visit(reader.map_id, reader.user_id, reader.username, reader.name)
    presence = live.presence_hash(people)
    if current == since and presence == request.GET.get("presence", ""):
        return HttpResponse(status=204)
    still_member = JourneyMap.objects.filter(
        pk=reader.map_id, deleted=None, workspace__memberships__user_id=reader.user_id
    ).exists()
    if not still_member:
        return _live_refused(_("You can no longer open this map."), 403)
    with translation.override(reader.language or None):
        ctx = {"people": people, "stamp": current, "presence": presence, "oob": True}
        if current != since:
            ctx["line"] = _live_line(live.last_event(reader.map_id), reader, since)
            ctx["show_line"] = ctx["line"] is not None
        response = HttpResponse(render_to_string("maps/_live.html", ctx))
    if current != since:
        for kind in live.changed_kinds(reader.map_id, since):
            trigger_client_event(response, live.KINDS[kind])
    return response


# --- security: the audit log, the account page ---------------------------------------------


@login_required
@require_GET
def audit_log(request: HttpRequest, ws: str) -> HttpResponse:
    """The workspace's security events, newest first, for its owners."""
    membership = get_membership(request, ws, own=True)
    events = audit.page_of(membership.workspace, request.GET.get("page"))
    for event in events:
        event.sentence = audit.describe(event)
    ctx = {"workspace": membership.workspace, "events": events, "crumb": _("Security log")}
    return render(request, "maps/audit_log.html", ctx)


@login_required
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """One's own account: change the password, or (a form posting to sign_out_everywhere)
    end every session."""
    form = PasswordChangeForm(request.user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        accounts.change_password(request, form)  # every other session ends with the old password
        messages.success(request, _("Password changed. Your other sessions were signed out."))
        return redirect("account")
    status = _invalid_status(request) if form.is_bound else 200
    return render(request, "registration/account.html", {"form": form}, status=status)


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    accounts.sign_out_everywhere(request)
    messages.success(request, _("You were signed out on every device, this one too."))
    return redirect("login")
