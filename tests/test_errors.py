"""Errors are seen: a view that fails answers a friendly 500 page with a reference, and
its traceback reaches standard error with the same request id."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import include, path

from journeymap import urls

from .web import html

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Boom(Exception):
    pass


def _failing_view(request):
    raise Boom("the view broke on purpose")


# A URL configuration with one view that fails (for these tests only), and the app's 500 page.
urlpatterns = [path("", include("journeymap.urls")), path("boom/", _failing_view)]
handler500 = urls.handler500


@pytest.fixture
def failing(settings):
    settings.ROOT_URLCONF = __name__
    return Client(raise_request_exception=False)


def test_a_server_error_shows_the_friendly_page_with_a_reference(failing, db):
    response = failing.get("/boom/")
    assert response.status_code == 500
    page = html(response)
    assert page.findtext(".//h1").strip() == "Something went wrong on our side"
    reference = page.find(".//code").text
    assert reference == response["X-Request-ID"] and len(reference) == 32
    # The page of the app, with its way back, and nothing of the error itself.
    assert page.find(".//a[@class='button wide']").get("href") == "/"
    assert "Boom" not in response.content.decode() and "Traceback" not in response.content.decode()


def test_a_signed_in_person_sees_the_page_in_their_language_frame(failing, owner):
    failing.force_login(owner)
    response = failing.get("/boom/")
    assert response.status_code == 500
    assert "alice" in response.content.decode()


def test_the_500_page_is_still_drawn_when_the_database_is_what_broke(failing, db, monkeypatch):
    from django.contrib.auth import context_processors

    def broken(request):
        raise RuntimeError("no database")

    monkeypatch.setattr(context_processors, "auth", broken)
    response = failing.get("/boom/")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.content.decode()


SCRIPT = """
import django
django.setup()
from django.test import Client, override_settings
with override_settings(ROOT_URLCONF="tests.test_errors"):
    response = Client(raise_request_exception=False).get("/boom/", SERVER_NAME="localhost")
print(response.status_code, response["X-Request-ID"])
"""


def test_the_traceback_and_the_request_id_reach_standard_error():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "journeymap.settings",
        "SECRET_KEY": "a-long-random-value-for-this-test",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE, env=env, capture_output=True, text=True, timeout=120
    )
    status, request_id = result.stdout.split()
    assert status == "500"
    error_lines = [line for line in result.stderr.splitlines() if "ERROR django.request" in line]
    assert len(error_lines) == 1
    assert f"[request {request_id}] Internal Server Error: /boom/" in error_lines[0]
    assert "Traceback (most recent call last)" in result.stderr
    assert "tests.test_errors.Boom: the view broke on purpose" in result.stderr
