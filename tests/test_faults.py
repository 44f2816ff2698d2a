"""`make faults` (tests/faults.py) starts servers, so it is not part of `make test`; its
bookkeeping is: the checker that compares acknowledged edits with the database, the
verdict it prints, and the form reading its editors post with."""

from __future__ import annotations

from django.urls import reverse

from . import faults
from .faults import Edit, Tally, missing, report
from .web import login


def tally_of(*edits: Edit) -> Tally:
    tally = Tally()
    for edit in edits:
        tally.acknowledge(edit)
    return tally


def test_added_touchpoint_counts_as_found_even_if_renamed_since():
    found = {"e1-1": "Editor 1 renamed e1-1"}
    assert missing([Edit("add", "e1-1", "Editor 1 touchpoint 1")], found) == []


def test_acknowledged_edit_missing_from_the_database_is_reported():
    added = Edit("add", "e1-2", "Editor 1 touchpoint 2")
    renamed = Edit("rename", "e1-1", "Editor 1 renamed e1-1")
    found = {"e1-1": "Editor 1 touchpoint 1"}  # the rename was lost, the add as well
    assert missing([added, renamed], found) == [added, renamed]


def test_run_with_every_edit_found_and_the_app_back_passes():
    edit = Edit("add", "e0-1", "Editor 0 touchpoint 1")
    tally = tally_of(edit)
    tally.refused("POST 503")
    lines, passed = report(tally, {"e0-1": edit.name}, None, served_again=True, idle_failures=(0, 16))
    assert passed
    assert "edits acknowledged: 1 (1 added, 0 renamed)" in lines
    assert "errors seen:        POST 503 x1" in lines


def test_run_fails_on_a_lost_edit_an_app_that_stays_down_or_a_failed_first_request():
    edit = Edit("add", "e0-1", "Editor 0 touchpoint 1")
    assert not report(tally_of(edit), {}, None, served_again=True)[1]
    assert not report(tally_of(edit), {"e0-1": edit.name}, None, served_again=False)[1]
    assert not report(tally_of(edit), {"e0-1": edit.name}, None, served_again=True, idle_failures=(2, 16))[1]


def test_requests_are_counted_by_when_they_were_sent():
    tally = Tally()
    tally.answered(1.0, False, "GET 503")
    tally.answered(2.0, True)
    tally.answered(3.0, False, "GET 503")
    assert tally.since(2.0) == (1, 1)
    assert tally.errors == {"GET 503": 2}


def test_editors_post_the_touchpoint_form_as_the_page_draws_it(client, editor, small_map):
    """CSRF token, version and token fields, and the name and key the editors fill in."""
    login(client, editor)
    path = reverse("touchpoint_create", args=["acme", "launch", "awareness"])
    values = faults._form_values(client.get(path).content.decode(), path)
    assert {"csrfmiddlewaretoken", "version", "token", "name", "key", "stage"} <= set(values)
    values.update(name="From the fault test", key="from-faults")
    assert client.post(path, values).status_code == 302
    assert small_map.touchpoints.get(key="from-faults").name == "From the fault test"
