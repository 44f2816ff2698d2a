"""Is the app well: /healthz for load balancers, and the page a person gets when a request
fails on the server (500). The failure itself is logged to stderr with its traceback
by Django's request logger (settings.LOGGING); the page shows the same request id.
"""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .middleware import no_session
from .request_context import current_request_id

log = logging.getLogger(__name__)


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        log.exception("health check: the database cannot be reached")
        return False


def _cache_ok() -> bool:
    key, value = "healthz", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        return cache.get(key) == value
    except Exception:
        log.exception("health check: the cache cannot be reached")
        return False


@no_session
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the cache answer, else 503; never reads a session, so a
    probe every few seconds costs no session row and sets no cookie."""
    checks = {"database": _database_ok(), "cache": _cache_ok()}
    healthy = all(checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        **{name: "ok" if ok else "unreachable" for name, ok in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: the friendly page with the request id. Drawn with the request first
    (the header in the person's language, signed in); if that fails too (the database is
    what broke), without it; and if even that fails, in plain words."""
    context = {"request_id": current_request_id()}
    for with_request in (True, False):
        try:
            html = render_to_string("500.html", context, request=request if with_request else None)
            return HttpResponseServerError(html)
        except Exception:
            log.exception("the 500 page could not be drawn%s", " with the request" if with_request else "")
    text = _("Something went wrong on the server. Reference: %(id)s") % {"id": context["request_id"]}
    return HttpResponseServerError(text, content_type="text/plain; charset=utf-8")
