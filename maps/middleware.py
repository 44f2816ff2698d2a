"""The interface language of a request: the signed-in person's choice, if they made one.

Django's LocaleMiddleware has already picked the browser's language (the language
cookie, then Accept-Language); a choice stored on the person (UserSettings) wins over
both, so it follows them to every browser they sign in from. The choice is read from
the database once per session and kept in the session after that.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils import translation

from .models import UserSettings

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
        language = "" if _skips_session(request) else user_language(request)
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
