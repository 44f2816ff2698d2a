"""Function views: pages and the fragments they refresh.

Every view fetches its object through maps.access, so strangers get 404 and viewers
who try to write get 403. A POST from htmx answers with the fragment it changed and a
`map-changed` event (the diagram, gaps and board listen for it); the same POST without
htmx redirects, so every form works without JavaScript.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, ProtectedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, trigger_client_event

from . import diagram, exports, gaps as gap_rules, interchange, matrices
from .access import get_map_for_user, get_membership, get_workspace_for_user
from .board import build_board
from .forms import (
    BuyingRoleForm,
    ContentAssetForm,
    DepartmentForm,
    MapCreateForm,
    MapForm,
    MapPersonaForm,
    MetricForm,
    PersonaForm,
    StageForm,
    TouchpointForm,
    next_order,
)
from .models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Membership,
    Metric,
    Persona,
    Stage,
    Touchpoint,
)
from .stage_templates import apply_template

DOWNLOAD_TYPES = {
    "svg": "image/svg+xml",
    "png": "image/png",
    "pdf": "application/pdf",
    "dot": "text/vnd.graphviz; charset=utf-8",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "csv": "text/csv; charset=utf-8",
}


def _fragment(request: HttpRequest) -> bool:
    """htmx asks for a part of a page; a boosted link (the map's tabs) wants the page."""
    return bool(request.htmx) and not request.htmx.boosted


def changed(response: HttpResponse) -> HttpResponse:
    """Tell the other regions of the map page to refresh themselves."""
    return trigger_client_event(response, "map-changed", after="settle")


# --- workspaces and the map list -------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(Membership.objects.filter(user=request.user).select_related("workspace"))
    if len(memberships) == 1:
        return redirect("workspace", memberships[0].workspace.slug)
    return render(request, "maps/home.html", {"memberships": memberships})


@login_required
@require_GET
def workspace(request: HttpRequest, ws: str) -> HttpResponse:
    membership = get_membership(request, ws)
    show_archived = request.GET.get("archived") == "1"
    maps = membership.workspace.maps.filter(archived=show_archived).annotate(
        stage_count=Count("stages", distinct=True), touchpoint_count=Count("touchpoints", distinct=True)
    )
    form = MapCreateForm(workspace=membership.workspace, instance=JourneyMap(workspace=membership.workspace))
    ctx = {"workspace": membership.workspace, "membership": membership, "maps": maps,
           "show_archived": show_archived, "form": form}
    return render(request, "maps/workspace.html", ctx)


@login_required
@require_POST
def map_create(request: HttpRequest, ws: str) -> HttpResponse:
    workspace_obj = get_workspace_for_user(request, ws, write=True)
    form = MapCreateForm(request.POST, workspace=workspace_obj, instance=JourneyMap(workspace=workspace_obj))
    if not form.is_valid():
        ctx = {"workspace": workspace_obj, "form": form}
        template = "maps/_map_create_form.html" if request.htmx else "maps/map_create.html"
        return render(request, template, ctx, status=422 if request.htmx else 200)
    with transaction.atomic():
        if form.cleaned_data["start"] == "copy":
            journey_map = _copy_map(form.cleaned_data["source"], form.cleaned_data)
        else:
            journey_map = form.save()
            if form.cleaned_data["start"] == "template":
                apply_template(journey_map, form.cleaned_data["template"], form.cleaned_data["language"])
    messages.success(request, f"Map “{journey_map.name}” created.")
    url = journey_map.get_absolute_url()
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _copy_map(source: JourneyMap, cleaned: dict) -> JourneyMap:
    """A full copy through the interchange format, so a copy holds exactly what an
    export would; the library objects it uses are shared, not duplicated."""
    doc = interchange.export_map(source)
    doc["map"].update(key=cleaned["key"], name=cleaned["name"])
    for field in ("description", "goal"):
        if cleaned[field]:
            doc["map"][field] = cleaned[field]
    return interchange.import_map(doc, source.workspace)


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
    return ctx


def _diagram_views(journey_map: JourneyMap) -> list[tuple[str, str]]:
    views = [("stages", "Stages"), ("departments", "Departments")]
    views += [(f"persona:{mp.persona.key}", f"Persona: {mp.persona.name}") for mp in journey_map.map_personas.all()]
    return views


def _group_gaps(journey_map: JourneyMap, found: list) -> list[dict]:
    """Gap rows grouped under their stage, in stage order, each with a link."""
    by_stage: dict[str, list] = {}
    for gap in found:
        by_stage.setdefault(gap.stage, []).append(gap)
    summary = gap_rules.stage_summary(found)
    groups = []
    for stage in journey_map.stages.all():
        rows = [{"gap": gap, "url": _gap_url(journey_map, stage, gap),
                 # Touchpoints and stages open beside the board; content and cells are pages.
                 "in_editor": bool(gap.touchpoint) or not (gap.content or gap.code == "content-gap")}
                for gap in by_stage.get(stage.key, [])]
        worst, count = summary.get(stage.key, (None, 0))
        groups.append({"stage": stage, "rows": rows, "worst": worst, "count": count})
    return groups


def _gap_url(journey_map: JourneyMap, stage, gap) -> str:
    ws, key = journey_map.workspace.slug, journey_map.key
    if gap.touchpoint:
        return reverse("touchpoint_edit", args=[ws, key, gap.touchpoint])
    if gap.code == "content-gap":
        return reverse("coverage", args=[ws, key]) + f"#cell-{stage.key}-{gap.persona}"
    if gap.content:
        return reverse("library_edit", args=[ws, "content", gap.content])
    return reverse("stage_edit", args=[ws, key, stage.key])


@login_required
@require_GET
def map_detail(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    return render(request, "maps/map_detail.html", _map_context(request, journey_map))


@login_required
@require_GET
def map_board(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    return render(request, "maps/_board.html", _map_context(request, journey_map, gaps=False))


@login_required
@require_GET
def map_gaps(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    return render(request, "maps/_gaps.html", _map_context(request, journey_map, board=False))


def _touchpoint_url_factory(journey_map: JourneyMap):
    ws, key = journey_map.workspace.slug, journey_map.key
    return lambda tp_key: reverse("touchpoint_edit", args=[ws, key, tp_key])


def _diagram_source(journey_map: JourneyMap, view: str) -> str:
    found = gap_rules.find_gaps(journey_map)
    data = diagram.build_graph_data(journey_map, found, view)
    return diagram.build_dot(data, url_for_touchpoint=_touchpoint_url_factory(journey_map))


@login_required
@require_GET
def map_diagram(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The inline SVG of the map page: a fragment, cached by its DOT source, with an ETag."""
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    view = request.GET.get("view", "stages")
    try:
        source = _diagram_source(journey_map, view)
        etag = diagram.dot_etag(source, "svg")
        if request.headers.get("If-None-Match") == etag:
            return HttpResponseNotModified(headers={"ETag": etag})
        svg = diagram.render(source, "svg")
    except diagram.DiagramError as exc:
        return render(request, "maps/_diagram_error.html", {"message": str(exc)})
    response = render(request, "maps/_diagram.html", {"svg": _inline_svg(svg), "map": journey_map, "view": view})
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


def _inline_svg(svg: bytes) -> str:
    """The <svg> element alone: an XML prolog or DOCTYPE is not allowed inside HTML."""
    text = svg.decode("utf-8")
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


@login_required
@require_GET
def map_download(request: HttpRequest, ws: str, key: str, fmt: str) -> HttpResponse:
    if fmt not in DOWNLOAD_TYPES:
        raise Http404("No such export format")
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    view = request.GET.get("view", "stages")
    try:
        body, etag = _download_body(journey_map, view, fmt)
    except diagram.DiagramError as exc:
        messages.error(request, str(exc))
        return redirect(journey_map.get_absolute_url())
    if etag and request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified(headers={"ETag": etag})
    response = HttpResponse(body, content_type=DOWNLOAD_TYPES[fmt])
    suffix = "" if view == "stages" else "-" + view.replace(":", "-")
    filename = f"{journey_map.key}{suffix}.{'gaps.csv' if fmt == 'csv' else fmt}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    if etag:
        response["ETag"] = etag
    return response


def _download_body(journey_map: JourneyMap, view: str, fmt: str) -> tuple[bytes | str, str | None]:
    if fmt == "csv":
        return exports.gaps_csv(journey_map), None
    if fmt == "pptx":
        return exports.export_pptx(journey_map, view), None
    source = _diagram_source(journey_map, view)
    etag = diagram.dot_etag(source, fmt)
    return (source if fmt == "dot" else diagram.render(source, fmt)), etag


@login_required
@require_GET
def map_export_json(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    # export_map reads the map afresh in its own fixed set of queries.
    journey_map = get_map_for_user(request, ws, key)
    response = HttpResponse(interchange.dumps(interchange.export_map(journey_map)),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, f"{journey_map.key}.journeymap.json")
    return response


# --- editing: shared answers ---------------------------------------------------------


def _saved(request: HttpRequest, journey_map: JourneyMap, message: str) -> HttpResponse:
    """After a successful edit: htmx closes the editor and refreshes the page's regions."""
    if request.htmx:
        # An empty answer empties the editor panel; the events refresh the rest.
        response = trigger_client_event(HttpResponse(""), "journeymap-saved", {"message": message})
        return changed(response)
    messages.success(request, message)
    return redirect(journey_map.get_absolute_url())


def _editor(request: HttpRequest, journey_map: JourneyMap, ctx: dict, status: int = 200) -> HttpResponse:
    """An edit form: in the map page's editor panel for htmx, else as a page of its own."""
    ctx = {"map": journey_map, "workspace": journey_map.workspace,
           "can_edit": journey_map.membership.can_edit, **ctx}
    template = "maps/_editor.html" if _fragment(request) else "maps/edit_page.html"
    return render(request, template, ctx, status=status)


def _invalid_status(request: HttpRequest) -> int:
    # htmx swaps 422 answers too (configured in app.js); plain browsers need a 200 page.
    return 422 if request.htmx else 200


def _posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (every box unticked is an answer too)."""
    return request.POST if request.method == "POST" else None


def _write_map(request: HttpRequest, ws: str, key: str) -> JourneyMap:
    return get_map_for_user(request, ws, key, write=request.method == "POST")


def _confirm_delete(request: HttpRequest, journey_map: JourneyMap, what: str, action: str, warning: str = ""):
    return _editor(request, journey_map, {"confirm": True, "title": f"Delete {what}?",
                                          "action": action, "warning": warning})


# --- the map itself --------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def map_settings(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    old_key = journey_map.key
    form = MapForm(_posted(request), instance=journey_map, workspace=journey_map.workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        if request.htmx and journey_map.key != old_key:
            return HttpResponseClientRedirect(journey_map.get_absolute_url())
        if request.htmx:
            response = render(request, "maps/_map_header.html", {"map": journey_map, "can_edit": True})
            return changed(response)
        return redirect(journey_map.get_absolute_url())
    if form.errors:
        # Validation wrote the unsaved key into the instance; links must name the saved map.
        journey_map = _write_map(request, ws, key)
    ctx = {"form": form, "title": "Map settings", "action": reverse("map_settings", args=[ws, key])}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_POST
def map_archive(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    journey_map.archived = not journey_map.archived
    journey_map.save(update_fields=["archived", "updated"])
    state = "archived" if journey_map.archived else "restored"
    messages.success(request, f"Map “{journey_map.name}” {state}.")
    url = reverse("workspace", args=[ws])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_http_methods(["GET", "POST"])
def map_delete(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    if request.method == "GET":
        warning = "Its stages, touchpoints, flows and KPIs are deleted. The library (personas, content) stays."
        return _confirm_delete(request, journey_map, f"the map “{journey_map.name}”",
                               reverse("map_delete", args=[ws, key]), warning)
    name = journey_map.name
    journey_map.delete()
    messages.success(request, f"Map “{name}” deleted.")
    url = reverse("workspace", args=[ws])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- stages ----------------------------------------------------------------------------


def _get_stage(journey_map: JourneyMap, stage_key: str) -> Stage:
    return get_object_or_404(journey_map.stages, key=stage_key)


@login_required
@require_http_methods(["GET", "POST"])
def stage_create(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    stage = Stage(map=journey_map, order=next_order(journey_map.stages))
    form = StageForm(_posted(request), instance=stage, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, journey_map, f"Stage “{stage.name}” added.")
    ctx = {"form": form, "title": "Add a stage", "action": reverse("stage_create", args=[ws, key])}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def stage_edit(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    stage_obj = _get_stage(journey_map, stage)
    form = StageForm(_posted(request), instance=stage_obj, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, journey_map, f"Stage “{stage_obj.name}” saved.")
    if form.errors:
        # Validation wrote the unsaved key into the instance; links must name the saved stage.
        stage_obj = _get_stage(journey_map, stage)
    ctx = {"form": form, "title": f"Stage: {stage_obj.name}", "stage": stage_obj,
           "metrics": stage_obj.metrics.all(), "metric_form": MetricForm(),
           "action": reverse("stage_edit", args=[ws, key, stage_obj.key]),
           "delete_url": reverse("stage_delete", args=[ws, key, stage_obj.key])}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def stage_delete(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, stage)
    if request.method == "GET":
        count = stage_obj.touchpoints.count()
        warning = f"Its {count} touchpoint(s) and their flows are deleted too." if count else ""
        return _confirm_delete(request, journey_map, f"the stage “{stage_obj.name}”",
                               reverse("stage_delete", args=[ws, key, stage]), warning)
    stage_obj.delete()
    return _saved(request, journey_map, f"Stage “{stage_obj.name}” deleted.")


def _renumber(objects) -> None:
    for index, obj in enumerate(objects):
        if obj.order != index:
            obj.order = index
            obj.save(update_fields=["order"])


@login_required
@require_POST
def stage_move(request: HttpRequest, ws: str, key: str, stage: str, direction: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stages = list(journey_map.stages.all())
    index = next((i for i, s in enumerate(stages) if s.key == stage), None)
    step = {"left": -1, "right": 1}.get(direction)
    if index is None or step is None:
        raise Http404("No such stage or direction")
    other = index + step
    if 0 <= other < len(stages):
        stages[index], stages[other] = stages[other], stages[index]
        with transaction.atomic():
            _renumber(stages)
    return _saved(request, journey_map, f"Stage “{stages[max(0, min(other, len(stages) - 1))].name}” moved.")


@login_required
@require_POST
def stage_reorder(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Drag and drop: the full new order of stage keys."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    stages = {s.key: s for s in journey_map.stages.all()}
    keys = request.POST.getlist("order")
    if sorted(keys) != sorted(stages):
        return _bad_request(request, "The stages changed meanwhile; reload the page and try again.")
    with transaction.atomic():
        _renumber([stages[k] for k in keys])
    return _saved(request, journey_map, "Stages reordered.")


def _bad_request(request: HttpRequest, message: str) -> HttpResponse:
    """A refused change: nothing was written; the message says why."""
    if request.htmx:
        response = HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
        return trigger_client_event(response, "journeymap-error", {"message": message})
    messages.error(request, message)
    return redirect(request.META.get("HTTP_REFERER") or reverse("home"))


# --- KPIs --------------------------------------------------------------------------------


@login_required
@require_POST
def metric_create(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, stage)
    form = MetricForm(request.POST, instance=Metric(stage=stage_obj, order=next_order(stage_obj.metrics)))
    if form.is_valid():
        form.save()
        return _saved(request, journey_map, f"KPI “{form.instance.name}” added to {stage_obj.name}.")
    ctx = {"form": form, "title": f"Add a KPI to {stage_obj.name}",
           "action": reverse("metric_create", args=[ws, key, stage])}
    return _editor(request, journey_map, ctx, status=_invalid_status(request))


def _get_metric(journey_map: JourneyMap, pk: int) -> Metric:
    return get_object_or_404(Metric.objects.select_related("stage"), pk=pk, stage__map=journey_map)


@login_required
@require_http_methods(["GET", "POST"])
def metric_edit(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    metric = _get_metric(journey_map, pk)
    form = MetricForm(_posted(request), instance=metric)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, journey_map, f"KPI “{metric.name}” saved.")
    ctx = {"form": form, "title": f"KPI of {metric.stage.name}", "action": reverse("metric_edit", args=[ws, key, pk]),
           "delete_url": reverse("metric_delete", args=[ws, key, pk])}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def metric_delete(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    metric = _get_metric(journey_map, pk)
    if request.method == "GET":
        return _confirm_delete(request, journey_map, f"the KPI “{metric.name}”",
                               reverse("metric_delete", args=[ws, key, pk]))
    metric.delete()
    return _saved(request, journey_map, f"KPI “{metric.name}” deleted.")


# --- touchpoints and flows -------------------------------------------------------------


def _get_touchpoint(journey_map: JourneyMap, tp_key: str) -> Touchpoint:
    return get_object_or_404(journey_map.touchpoints.select_related("stage", "owner"), key=tp_key)


def _save_touchpoint(form: TouchpointForm) -> Touchpoint:
    """Save the touchpoint and make its flows exactly the ones ticked, keeping order."""
    with transaction.atomic():
        touchpoint = form.save()
        wanted = list(form.cleaned_data["next_touchpoints"])
        touchpoint.flows_out.exclude(target__in=wanted).delete()
        existing = set(touchpoint.flows_out.values_list("target_id", flat=True))
        order = next_order(touchpoint.flows_out)
        for target in wanted:
            if target.pk not in existing:
                Flow.objects.create(source=touchpoint, target=target, order=order)
                order += 1
    return touchpoint


def _touchpoint_ctx(journey_map: JourneyMap, form, title: str, action: str, touchpoint=None) -> dict:
    ws, key = journey_map.workspace.slug, journey_map.key
    ctx = {"form": form, "title": title, "action": action, "touchpoint": touchpoint}
    if touchpoint and touchpoint.pk:
        ctx["delete_url"] = reverse("touchpoint_delete", args=[ws, key, touchpoint.key])
    return ctx


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_create(request: HttpRequest, ws: str, key: str, stage: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    stage_obj = _get_stage(journey_map, stage)
    touchpoint = Touchpoint(map=journey_map, stage=stage_obj, order=next_order(stage_obj.touchpoints))
    form = TouchpointForm(_posted(request), instance=touchpoint, journey_map=journey_map,
                          initial={"stage": stage_obj})
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["stage"] != stage_obj:
            form.instance.order = next_order(form.cleaned_data["stage"].touchpoints)
        _save_touchpoint(form)
        return _saved(request, journey_map, f"Touchpoint “{touchpoint.name}” added.")
    ctx = _touchpoint_ctx(journey_map, form, f"Add a touchpoint to {stage_obj.name}",
                          reverse("touchpoint_create", args=[ws, key, stage]))
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_edit(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    touchpoint = _get_touchpoint(journey_map, tp)
    old_stage = touchpoint.stage_id
    form = TouchpointForm(_posted(request), instance=touchpoint, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["stage"].pk != old_stage:
            form.instance.order = next_order(form.cleaned_data["stage"].touchpoints)
        _save_touchpoint(form)
        return _saved(request, journey_map, f"Touchpoint “{touchpoint.name}” saved.")
    if form.errors:
        # Validation wrote the unsaved key into the instance; links must name the saved touchpoint.
        touchpoint = _get_touchpoint(journey_map, tp)
    ctx = _touchpoint_ctx(journey_map, form, f"Touchpoint: {touchpoint.name}",
                          reverse("touchpoint_edit", args=[ws, key, tp]), touchpoint)
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def touchpoint_delete(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    touchpoint = _get_touchpoint(journey_map, tp)
    if request.method == "GET":
        return _confirm_delete(request, journey_map, f"the touchpoint “{touchpoint.name}”",
                               reverse("touchpoint_delete", args=[ws, key, tp]),
                               "Flows from and to it are deleted too.")
    touchpoint.delete()
    return _saved(request, journey_map, f"Touchpoint “{touchpoint.name}” deleted.")


@login_required
@require_POST
def touchpoint_move(request: HttpRequest, ws: str, key: str, tp: str, direction: str) -> HttpResponse:
    """Keyboard-usable moves: up/down within the stage, left/right to the next stage."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    touchpoint = _get_touchpoint(journey_map, tp)
    if direction in ("up", "down"):
        siblings = list(touchpoint.stage.touchpoints.all())
        index = next(i for i, t in enumerate(siblings) if t.pk == touchpoint.pk)
        other = index + (-1 if direction == "up" else 1)
        if 0 <= other < len(siblings):
            siblings[index], siblings[other] = siblings[other], siblings[index]
            with transaction.atomic():
                _renumber(siblings)
    elif direction in ("left", "right"):
        stages = list(journey_map.stages.all())
        index = next(i for i, s in enumerate(stages) if s.pk == touchpoint.stage_id)
        other = index + (-1 if direction == "left" else 1)
        if 0 <= other < len(stages):
            touchpoint.stage = stages[other]
            touchpoint.order = next_order(stages[other].touchpoints)
            touchpoint.save(update_fields=["stage", "order"])
    else:
        raise Http404("No such direction")
    return _saved(request, journey_map, f"Touchpoint “{touchpoint.name}” moved.")


@login_required
@require_POST
def touchpoint_reorder(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Drag and drop: the new order of one stage's touchpoints (possibly with a newcomer)."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, request.POST.get("stage", ""))
    keys = request.POST.getlist("order")
    touchpoints = {t.key: t for t in journey_map.touchpoints.filter(key__in=keys)}
    if len(touchpoints) != len(keys) or len(set(keys)) != len(keys):
        return _bad_request(request, "The touchpoints changed meanwhile; reload the page and try again.")
    with transaction.atomic():
        for index, tp_key in enumerate(keys):
            touchpoint = touchpoints[tp_key]
            touchpoint.stage, touchpoint.order = stage_obj, index
            touchpoint.save(update_fields=["stage", "order"])
    return _saved(request, journey_map, f"Touchpoints of {stage_obj.name} reordered.")


@login_required
@require_POST
def flow_add(request: HttpRequest, ws: str, key: str, tp: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    source = _get_touchpoint(journey_map, tp)
    target = journey_map.touchpoints.filter(key=request.POST.get("target", "")).first()
    if target is None:
        return _bad_request(request, "Pick the touchpoint the buyer goes to next.")
    if target.pk == source.pk:
        return _bad_request(request, "A touchpoint cannot flow to itself.")
    if source.flows_out.filter(target=target).exists():
        return _bad_request(request, f"“{source.name}” already flows to “{target.name}”.")
    Flow.objects.create(source=source, target=target, order=next_order(source.flows_out))
    return _saved(request, journey_map, f"Flow added: {source.name} → {target.name}.")


@login_required
@require_POST
def flow_delete(request: HttpRequest, ws: str, key: str, tp: str, target: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    source = _get_touchpoint(journey_map, tp)
    flow = get_object_or_404(source.flows_out.select_related("target"), target__key=target)
    flow.delete()
    return _saved(request, journey_map, f"Flow removed: {source.name} → {flow.target.name}.")


# --- personas of a map -------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def map_personas(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """The personas added to this map, and the form that adds one from the library."""
    journey_map = _write_map(request, ws, key)
    entry = MapPersona(map=journey_map, order=next_order(journey_map.map_personas))
    form = MapPersonaForm(_posted(request), instance=entry, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, journey_map, f"Persona “{entry.persona.name}” added to the map.")
    ctx = {"form": form, "title": "Personas of this map", "action": reverse("map_personas", args=[ws, key]),
           "entries": journey_map.map_personas.select_related("persona__role").prefetch_related("stages"),
           "submit_label": "Add persona"}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def map_persona_edit(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = _write_map(request, ws, key)
    entry = get_object_or_404(journey_map.map_personas.select_related("persona"), pk=pk)
    form = MapPersonaForm(_posted(request), instance=entry, journey_map=journey_map)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _saved(request, journey_map, f"Scope of “{entry.persona.name}” saved.")
    ctx = {"form": form, "title": f"{entry.persona.name} in this map",
           "action": reverse("map_persona_edit", args=[ws, key, pk]),
           "delete_url": reverse("map_persona_remove", args=[ws, key, pk]), "delete_label": "Remove from map"}
    return _editor(request, journey_map, ctx, status=_invalid_status(request) if form.errors else 200)


@login_required
@require_POST
def map_persona_remove(request: HttpRequest, ws: str, key: str, pk: int) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, write=True)
    entry = get_object_or_404(journey_map.map_personas.select_related("persona"), pk=pk)
    entry.delete()
    return _saved(request, journey_map, f"Persona “{entry.persona.name}” removed from the map.")


# --- matrices ------------------------------------------------------------------------------


def _matrix_page(request: HttpRequest, journey_map: JourneyMap, name: str, ctx: dict) -> HttpResponse:
    ctx = {"map": journey_map, "workspace": journey_map.workspace,
           "can_edit": journey_map.membership.can_edit, "matrix": name, **ctx}
    template = f"maps/_{name}.html" if _fragment(request) else f"maps/map_{name}.html"
    return render(request, template, ctx)


@login_required
@require_GET
def coverage(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    by = "roles" if request.GET.get("by") == "roles" else "personas"
    ctx = {"by": by, "grid": matrices.coverage(journey_map, by, gap_rules.find_gaps(journey_map))}
    if journey_map.membership.can_edit:
        ctx["live_content"] = journey_map.workspace.content.filter(status=ContentAsset.LIVE)
    return _matrix_page(request, journey_map, "coverage", ctx)


@login_required
@require_POST
def coverage_link(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    """Link content from a coverage cell: the asset joins the stage and, if it did not
    target the persona yet, now does, so the cell's gap closes."""
    journey_map = get_map_for_user(request, ws, key, write=True)
    stage_obj = _get_stage(journey_map, request.POST.get("stage", ""))
    content = journey_map.workspace.content.filter(key=request.POST.get("content", "")).first()
    persona = journey_map.workspace.personas.filter(key=request.POST.get("persona", "")).first()
    if content is None:
        return _bad_request(request, "Pick a content asset to link.")
    with transaction.atomic():
        stage_obj.content.add(content)
        if persona is not None:
            content.personas.add(persona)
    message = f"“{content.title}” linked to {stage_obj.name}" + (f" for {persona.name}." if persona else ".")
    if request.htmx:
        journey_map = get_map_for_user(request, ws, key, loaded=True)
        by = "roles" if request.POST.get("by") == "roles" else "personas"
        ctx = {"by": by, "grid": matrices.coverage(journey_map, by, gap_rules.find_gaps(journey_map)),
               "live_content": journey_map.workspace.content.filter(status=ContentAsset.LIVE), "flash": message}
        return changed(_matrix_page(request, journey_map, "coverage", ctx))
    messages.success(request, message)
    return redirect("coverage", ws, key)


@login_required
@require_GET
def accountability(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    return _matrix_page(request, journey_map, "accountability", {"grid": matrices.accountability(journey_map)})


@login_required
@require_GET
def funnel(request: HttpRequest, ws: str, key: str) -> HttpResponse:
    journey_map = get_map_for_user(request, ws, key, loaded=True)
    return _matrix_page(request, journey_map, "funnel", {"rows": matrices.funnel(journey_map)})


# --- the workspace library -------------------------------------------------------------------

LIBRARY = {
    "personas": {"model": Persona, "form": PersonaForm, "title": "Personas", "one": "persona"},
    "content": {"model": ContentAsset, "form": ContentAssetForm, "title": "Content assets", "one": "content asset"},
    "roles": {"model": BuyingRole, "form": BuyingRoleForm, "title": "Buying roles", "one": "buying role"},
    "departments": {"model": Department, "form": DepartmentForm, "title": "Departments", "one": "department"},
}


def _library_kind(kind: str) -> dict:
    if kind not in LIBRARY:
        raise Http404("No such library")
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
    items, filters = _library_items(membership.workspace, kind, request.GET)
    ctx = {"workspace": membership.workspace, "can_edit": membership.can_edit, "kind": kind, "info": info,
           "items": items, "filters": filters, "library": LIBRARY,
           "statuses": ContentAsset.STATUS_CHOICES, "types": ContentAsset.TYPE_CHOICES}
    return render(request, "maps/_library_table.html" if _fragment(request) else "maps/library_list.html", ctx)


def _library_form_response(request, membership, kind: str, form, title: str, action: str, item=None):
    ctx = {"workspace": membership.workspace, "can_edit": membership.can_edit, "kind": kind,
           "info": LIBRARY[kind], "form": form, "title": title, "action": action, "library": LIBRARY}
    if item is not None and membership.can_edit:
        ctx["delete_url"] = reverse("library_delete", args=[membership.workspace.slug, kind, item.key])
    status = _invalid_status(request) if form.errors else 200
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
    workspace_obj = membership.workspace
    item = info["model"](workspace=workspace_obj, order=next_order(info["model"].objects.filter(workspace=workspace_obj)))
    form = info["form"](_posted(request), instance=item, workspace=workspace_obj)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _library_saved(request, ws, kind, f"{info['one'].capitalize()} “{item}” added.")
    return _library_form_response(request, membership, kind, form, f"Add a {info['one']}",
                                  reverse("library_create", args=[ws, kind]))


@login_required
@require_http_methods(["GET", "POST"])
def library_edit(request: HttpRequest, ws: str, kind: str, item: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws, write=request.method == "POST")
    obj = get_object_or_404(info["model"], workspace=membership.workspace, key=item)
    form = info["form"](_posted(request), instance=obj, workspace=membership.workspace)
    if request.method == "POST" and form.is_valid():
        form.save()
        return _library_saved(request, ws, kind, f"{info['one'].capitalize()} “{obj}” saved.")
    if form.errors:
        # Validation wrote the unsaved key into the instance; links must name the saved item.
        obj = get_object_or_404(info["model"], workspace=membership.workspace, key=item)
    return _library_form_response(request, membership, kind, form, f"{info['one'].capitalize()}: {obj}",
                                  reverse("library_edit", args=[ws, kind, item]), obj)


def library_uses(kind: str, obj) -> list[str]:
    """What still uses a library item, in words; deleting is refused while this is not empty."""
    uses = []
    if kind == "personas":
        uses += [f"the map “{e.map.name}”" for e in obj.map_entries.select_related("map")]
        uses += [f"{n} touchpoint(s)" for n in [obj.touchpoints.count()] if n]
    elif kind == "content":
        uses += [f"a stage of “{s.map.name}”" for s in obj.stages.select_related("map")]
        uses += [f"{n} touchpoint(s)" for n in [obj.touchpoints.count()] if n]
    elif kind == "roles":
        uses += [f"persona “{p.name}”" for p in obj.personas.all()]
        uses += [f"{n} stage(s) that require it" for n in [obj.stages.count()] if n]
    elif kind == "departments":
        uses += [f"{n} stage(s) it leads" for n in [obj.led_stages.count()] if n]
        uses += [f"{n} stage(s) it contributes to" for n in [obj.contributed_stages.count()] if n]
        uses += [f"{n} touchpoint(s) it owns" for n in [obj.touchpoints.count()] if n]
    return uses


@login_required
@require_http_methods(["GET", "POST"])
def library_delete(request: HttpRequest, ws: str, kind: str, item: str) -> HttpResponse:
    info = _library_kind(kind)
    membership = get_membership(request, ws, write=True)
    obj = get_object_or_404(info["model"], workspace=membership.workspace, key=item)
    uses = library_uses(kind, obj)
    if uses:
        message = f"“{obj}” cannot be deleted while it is used by {', '.join(uses)}. Remove those uses first."
        if request.method == "POST":
            return _bad_request(request, message)
        ctx = {"workspace": membership.workspace, "kind": kind, "info": info, "title": f"Delete “{obj}”?",
               "refused": message, "library": LIBRARY}
        return render(request, "maps/_editor.html" if _fragment(request) else "maps/library_edit.html", ctx)
    if request.method == "GET":
        ctx = {"workspace": membership.workspace, "kind": kind, "info": info, "confirm": True,
               "title": f"Delete the {info['one']} “{obj}”?", "library": LIBRARY,
               "action": reverse("library_delete", args=[ws, kind, item])}
        return render(request, "maps/_editor.html" if _fragment(request) else "maps/library_edit.html", ctx)
    try:
        obj.delete()
    except ProtectedError:
        return _bad_request(request, f"“{obj}” is still in use and was not deleted.")
    return _library_saved(request, ws, kind, f"{info['one'].capitalize()} “{obj}” deleted.")
