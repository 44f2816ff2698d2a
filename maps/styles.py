"""The colours of maps.marks as a stylesheet of its own, /marks.css.

The Content Security Policy allows no <style> element, so the custom properties that
`marks.css_properties` writes are fetched like any stylesheet. Pages link it with a
fingerprint of its text (`{% marks_css %}`): a browser keeps it until the colours change.
"""

from __future__ import annotations

import hashlib
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from . import marks

YEAR = 60 * 60 * 24 * 365


@cache
def marks_stylesheet() -> tuple[str, str]:
    """The stylesheet's text and its fingerprint; built once per process (constants only)."""
    text = marks.css_properties() + "\n"
    return text, hashlib.sha256(text.encode()).hexdigest()[:12]


@require_GET
def marks_css(request: HttpRequest) -> HttpResponse:
    # Public like the static files: the sign-in page and share links are coloured by it too.
    text, _fingerprint = marks_stylesheet()
    response = HttpResponse(text, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
