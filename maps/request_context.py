"""What is known about the request being served, wherever it is needed: its id (in every
log line, on the 500 page, in the X-Request-ID header) and the client's address (for the
audit log and the sign-in throttle).

Both are kept in context variables for the length of the request, so that code far from
the view (a log record, an audit event written by maps/members.py) finds them without
being handed the request.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("journeymap_request_id", default="-")
_address: contextvars.ContextVar[str | None] = contextvars.ContextVar("journeymap_address", default=None)

# An id a trusted proxy already gave the request (nginx's $request_id, a load balancer's
# trace id) is kept, so that its log and ours can be matched; anything else gets our own.
_GIVEN_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
HEADER = "X-Request-ID"


def current_request_id() -> str:
    return _request_id.get()


def current_address() -> str | None:
    return _address.get()


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, as far as it can be trusted (settings.TRUSTED_PROXY_COUNT).

    Behind N proxies, each appends the address it saw to X-Forwarded-For: the N-th from
    the right was written by our outermost proxy. A header shorter than that did not come
    through all of them: the connection's own address is used."""
    remote = request.META.get("REMOTE_ADDR") or None
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            remote = hops[-count]
    return _valid(remote)


def _valid(address: str | None) -> str | None:
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def _request_id_of(request: HttpRequest) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if settings.TRUSTED_PROXY_COUNT and _GIVEN_ID.match(given):
        return given
    return uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = _request_id_of(request)
        id_token = _request_id.set(request.request_id)
        address_token = _address.set(client_address(request))
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(id_token)
            _address.reset(address_token)
        response.headers.setdefault(HEADER, request.request_id)
        return response


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record: the request's, or "-" outside one."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        record.request_id = getattr(request, "request_id", None) or current_request_id()
        return True
