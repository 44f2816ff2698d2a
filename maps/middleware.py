"""Two middlewares.

The interface language of a request: the signed-in person's choice, if they made one.
Django's LocaleMiddleware has already picked the browser's language (the language
cookie, then Accept-Language); a choice stored on the person (UserSettings) wins over
both, so it follows them to every browser they sign in from. The choice is read from
the database once per session and kept in the session after that.

A database that cannot be reached (restarting, down, out of connections) is said as
such: a 503 with Retry-After and "nothing was changed", as a page or, for htmx, as the
page's toast; never a bare "Server Error (500)".
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.functional import SimpleLazyObject, empty

from .models import UserSettings

try:  # psycopg's own errors, should one ever pass Django's wrapper (SQLite runs have no psycopg)
    import psycopg

    DATABASE_DOWN: tuple[type[Exception], ...] = (
        OperationalError,
        InterfaceError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # pragma: no cover
    DATABASE_DOWN = (OperationalError, InterfaceError)

# Seconds a browser or a script is asked to wait: a database restart takes a few.
RETRY_AFTER = 10

logger = logging.getLogger("journeymap.database")

SESSION_KEY = "journeymap_language"


def no_session(view: Callable) -> Callable:
    """Mark a view that must not load the session or the user: the live check, polled
    every 2 s by every open map page, answers from the cache alone and gets its language
    from its signed pass."""
    view.journeymap_no_session = True
    return view


class UserLanguageMiddleware:
    """Before the view is even known, so that what CSRF and URL resolution refuse (a 403,
    a 404) speaks the person's language too. A `no_session` view is skipped: reading
    request.user costs a query for the session and one for the user."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            language = "" if _skips_session(request) else user_language(request)
        except DATABASE_DOWN:
            # The browser's language, then; the view meets the same error and says so.
            language = ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response


def _skips_session(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    return getattr(match.func, "journeymap_no_session", False)


def user_language(request: HttpRequest) -> str:
    """The language the signed-in person chose, or "" to follow the browser."""
    if not request.user.is_authenticated:
        return ""
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = UserSettings.language_of(request.user)
    return request.session[SESSION_KEY]


def remember_language(request: HttpRequest, language: str) -> None:
    """Store a choice made in the header's switch, on the person and in this session."""
    if request.user.is_authenticated:
        UserSettings.choose_language(request.user, language)
        request.session[SESSION_KEY] = language


class DatabaseUnavailableMiddleware:
    """A view that meets a database it cannot reach answers 503, in the person's language.

    OperationalError also covers a deadlock or a lock timeout: the transaction was rolled
    back there too, so "nothing was changed, try again" holds. The error is logged once
    (logger journeymap.database, which reaches stderr without any LOGGING set up)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_DOWN):
            return None
        logger.error(
            "database unavailable, answered 503: %s %s: %s: %s",
            request.method,
            request.path,
            type(exception).__name__,
            str(exception).strip().splitlines()[0] if str(exception).strip() else "",
        )
        return unavailable(request)


def unavailable(request: HttpRequest) -> HttpResponse:
    """The 503: for htmx, the toast (templates/_unavailable.html) swapped over the page's
    own, so that the form and what the person typed stay as they are; else a page."""
    context = {
        "saving": request.method not in ("GET", "HEAD"),
        # Drawn without the database: no session messages, and the person only if known.
        "user": _known_user(request),
        "messages": [],
    }
    if getattr(request, "htmx", False):
        response = render(request, "_unavailable.html", context, status=503)
        response["HX-Retarget"] = "#toast"
        response["HX-Reswap"] = "outerHTML"
    else:
        response = render(request, "503.html", context, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def _known_user(request: HttpRequest):
    """The signed-in person if the request got as far as loading them; else anonymous,
    without asking the database again (it may take as long to fail a second time)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return AnonymousUser()
    return user
