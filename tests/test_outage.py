"""A database that cannot be reached: a 503 that says nothing was changed, as a page or,
for htmx, as the page's toast; logged once; and nothing is written."""

from __future__ import annotations

import contextlib
import logging

import pytest
from django.db import IntegrityError, OperationalError, connection
from django.urls import reverse

from maps.middleware import RETRY_AFTER
from maps.models import Touchpoint

from .test_touchpoint_edit import tp_data
from .web import HX, client_events, html, login, snapshot

SAVING = "saving is not possible right now. Nothing was changed."
TOAST_SAVING = "Saving is not possible right now: the database cannot be reached. Nothing was changed"
LOADING = "this page cannot be shown. Nothing was changed."

# Savepoints and rollbacks go through the same hook; they must pass, or the failed
# request's transaction could not even be undone.
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK")
WRITES = ("INSERT", "UPDATE", "DELETE")


@contextlib.contextmanager
def database_down(writes_allowed: int | None = None, error: type[Exception] = OperationalError):
    """Every query fails as on a stopped server; or, with `writes_allowed`, reads pass and
    the write after that many fails (the server went away in the middle of a save)."""
    writes = 0

    def refuse(execute, sql, params, many, context):
        nonlocal writes
        statement = sql.lstrip().upper()
        if statement.startswith(TRANSACTION_CONTROL):
            return execute(sql, params, many, context)
        if writes_allowed is not None:
            if not statement.startswith(WRITES):
                return execute(sql, params, many, context)
            writes += 1
            if writes <= writes_allowed:
                return execute(sql, params, many, context)
        raise error("connection to server at 127.0.0.1 failed: Connection refused")

    with connection.execute_wrapper(refuse):
        yield


def text(response) -> str:
    return " ".join(html(response).text_content().split())


def logged(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "journeymap.database"]


@pytest.fixture
def signed_in(client, editor):
    return login(client, editor)


def test_map_page_answers_503_with_a_clear_page_while_the_database_is_down(signed_in, small_map, caplog):
    with database_down():
        response = signed_in.get(small_map.get_absolute_url())
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert LOADING in text(response)
    assert "Server Error" not in text(response)
    assert html(response).xpath("//h1")[0].text_content() == "Not possible right now"
    assert len(logged(caplog)) == 1
    assert "GET " + small_map.get_absolute_url() in logged(caplog)[0].getMessage()


def test_form_post_answers_503_and_writes_nothing_while_the_database_is_down(signed_in, small_map, caplog):
    before = snapshot()
    url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    data = tp_data(small_map, "ad", name="Renamed during the outage")
    with database_down():
        response = signed_in.post(url, data)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert SAVING in text(response)
    assert snapshot() == before
    assert len(logged(caplog)) == 1


@pytest.mark.parametrize("writes_allowed", [None, 1], ids=["down before", "gone in the middle of the save"])
def test_htmx_save_answers_the_toast_and_writes_nothing_while_the_database_is_down(
    signed_in, small_map, caplog, writes_allowed
):
    before = snapshot()
    url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    data = tp_data(small_map, "ad", name="Renamed during the outage")
    with database_down(writes_allowed=writes_allowed):
        response = signed_in.post(url, data, **HX)
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    # The answer replaces the page's toast, not the editor: the form keeps what was typed.
    assert response["HX-Retarget"] == "#toast"
    assert response["HX-Reswap"] == "outerHTML"
    (toast,) = html(response).xpath('//*[@id="toast"]')
    assert toast.get("hidden") is None
    assert TOAST_SAVING in " ".join(toast.text_content().split())
    # The other texts the page's script shows in the toast are still there.
    assert toast.get("data-failed") == "Something went wrong ({status}). Nothing was changed."
    assert "map-changed" not in client_events(response)
    assert snapshot() == before
    assert len(logged(caplog)) == 1


def test_htmx_region_refresh_says_loading_not_saving(signed_in, small_map):
    with database_down():
        response = signed_in.get(reverse("map_gaps", args=["acme", "launch"]), **HX)
    assert response.status_code == 503
    assert "This cannot be loaded right now" in text(response)


def test_the_app_serves_again_once_the_database_is_back(signed_in, small_map):
    url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    lost = tp_data(small_map, "ad", name="Lost")
    with database_down():
        assert signed_in.post(url, lost, **HX).status_code == 503
    response = signed_in.post(url, tp_data(small_map, "ad", name="Saved after the outage"), **HX)
    assert response.status_code == 200
    assert Touchpoint.objects.get(map=small_map, key="ad").name == "Saved after the outage"


def test_other_database_errors_are_not_passed_off_as_an_outage(signed_in, small_map):
    """A broken rule is a bug to see (a 500 and its traceback), not "try again later"."""
    url = reverse("touchpoint_edit", args=["acme", "launch", "ad"])
    with database_down(writes_allowed=0, error=IntegrityError), pytest.raises(IntegrityError):
        signed_in.post(url, tp_data(small_map, "ad", name="Broken"), **HX)


def test_signing_in_while_the_database_is_down_says_so(client, editor):
    with database_down():
        response = client.post(reverse("login"), {"username": "bob", "password": "correct-horse-battery"})
    assert response.status_code == 503
    assert SAVING in text(response)
    assert "_auth_user_id" not in client.session
