"""The Content Security Policy: on every answer of every URL (the URL configuration is
walked as in test_permissions, so a new view cannot escape it), strict, and nothing in the
templates or the inline diagram that it would refuse. tests/browser/test_csp.py checks
that the browser refuses nothing."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, reverse

from maps import rendering
from maps.models import JourneyMap

from .test_permissions import _client, _patterns, _url, objects  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

HEADER = "Content-Security-Policy"
REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# What the policy refuses, written in a template: a style attribute or element, an inline
# script (one without src), an on*= handler, hx-on, and htmx's js: values (eval).
INLINE = re.compile(
    r"""\sstyle\s*=|<style\b|<script(?![^>]*\ssrc=)[^>]*>|\son[a-z]+\s*=|\shx-on|=\s*['"]\s*js:""", re.IGNORECASE
)


def policy(response) -> dict[str, str]:
    header = response.get(HEADER, "")
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";") if part.strip())


def test_the_policy_is_strict(client):
    directives = policy(client.get(reverse("login")))
    for name, value in REQUIRED.items():
        assert directives.get(name) == value, name
    header = client.get(reverse("login"))[HEADER]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header


@pytest.mark.parametrize("visitor", ["anonymous", "share visitor", "owner"])
def test_every_url_answers_with_the_policy(objects, visitor):  # noqa: F811
    missing = []
    # One visit for the whole walk (signing in or opening the share link once): every
    # request is rolled back, and each starts from the visit's own cookies, so a request
    # that signs out or drops the session cannot change who asks next.
    client = _client(visitor, objects)
    cookies = copy.deepcopy(client.cookies)
    for name, _pattern in _patterns(get_resolver()):
        if name in ("logout", "workspace_leave"):
            continue
        url = _url(name, objects)
        for method in ("GET", "POST"):
            client.cookies = copy.deepcopy(cookies)
            with transaction.atomic():
                response = client.get(url) if method == "GET" else client.post(url, {})
                # A view may send a policy of its own, stricter (the share link's diagram:
                # default-src 'none'); the middleware then leaves it.
                if policy(response).get("default-src") not in ("'self'", "'none'"):
                    missing.append(f"{method} {name} ({url}): {response.status_code}")
                transaction.set_rollback(True)
    assert not missing, f"{visitor}: answers without the policy:\n" + "\n".join(missing)


def test_error_pages_and_the_admin_answer_with_the_policy(owner):
    owner.is_staff = owner.is_superuser = True
    owner.save()
    client = Client()
    client.force_login(owner)
    for url in ["/no-such-page/", "/admin/", "/admin/maps/journeymap/", "/admin/maps/journeymap/add/"]:
        response = client.get(url)
        assert policy(response).get("default-src") == "'self'", (url, response.status_code)
    assert client.get("/no-such-page/").status_code == 404


def test_no_template_writes_what_the_policy_refuses():
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INLINE.search(line):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    assert not found, "inline script or style in templates:\n" + "\n".join(found)


def test_the_pattern_finds_what_the_policy_refuses():
    refused = [
        '<div style="width:3%">',
        "<style>p{}</style>",
        "<script>alert(1)</script>",
        '<input onchange="x()">',
        '<form hx-on::after-request="x()">',
        """<div hx-vals='js:{a: 1}'>""",
    ]
    allowed = ['<script src="/static/js/app.js" defer></script>', '<div data-css-vars="--bar: 3%">']
    assert all(INLINE.search(text) for text in refused)
    assert not any(INLINE.search(text) for text in allowed)


def test_the_diagram_shown_in_pages_has_no_inline_style(small_map):
    journey_map = JourneyMap.objects.loaded().get(pk=small_map.pk)
    svg = rendering.render_map(journey_map, "stages", "svg", url_for_touchpoint=lambda key: f"/t/{key}/").body
    text = svg.decode()
    assert "<svg" in text
    assert not re.search(r"\sstyle=|<style|<script|\son[a-z]+=", text)
