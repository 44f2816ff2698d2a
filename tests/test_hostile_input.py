"""Hostile values never become a 500: every form of the app, found on its rendered pages,
is posted with control characters, NUL, lone surrogates, 1 MB strings and numbers of
5,000 digits, and every page is opened with such values in its query string.

The forms are not listed by hand: each URL of the URL configuration (the table of
tests/test_permissions.py) is opened as the workspace's owner, and every form and every
`hx-post` on the answer is collected with the names of its fields. Each is then posted
with each hostile value in every field, in a savepoint that is rolled back, so that the
next form still finds the map whole. A refusal is fine (a form with errors, 400, 404,
409); an exception or a 5xx answer is not.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import lxml.html
import pytest
from django.db import transaction
from django.test import Client

from . import test_permissions
from .test_permissions import ACCESS, _url, url_names

# The objects of the permission matrix (a map with a metric, a comment, a share link...).
objects = test_permissions.objects

pytestmark = pytest.mark.django_db

HOSTILE = {
    "NUL": "a\x00b",
    "control characters": "a\x01\x08\x1b\x7fb\ufffe",
    "lone surrogate": "a\ud800b",
    "1 MB string": "x" * 1_000_000,
    "5,000 digits": "9" * 5000,
    "negative 5,000 digits": "-" + "9" * 5000,
}
# Posting these would end the owner's session or membership mid-test (test_members covers them).
NOT_POSTED = {"logout", "workspace_leave", "set_language"}


def _encode(value: str) -> bytes:
    # A lone surrogate cannot be encoded as UTF-8: send the bytes a careless client sends.
    return value.encode("utf-8", "surrogatepass")


def _value(field) -> str | None:
    """What a browser would send for a field as the page shows it (None: nothing)."""
    if field.tag == "select":
        options = field.findall(".//option")
        chosen = [o for o in options if o.get("selected") is not None] or options[:1]
        return chosen[0].get("value", chosen[0].text_content()) if chosen else None
    if field.tag == "textarea":
        return field.text_content()
    if (field.get("type") or "").lower() in ("checkbox", "radio") and field.get("checked") is None:
        return None
    return field.get("value", "")


def _forms_on(html: bytes, page_url: str) -> dict[str, dict[str, str]]:
    """{posted path: {field name: value as shown}} for every form and hx-post on a page."""
    found: dict[str, dict[str, str]] = {}
    if not html.strip():
        return found
    try:
        document = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return found
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue
        action = None
        if element.tag == "form" and (element.get("method") or "get").lower() == "post":
            action = element.get("action") or page_url
        elif element.get("hx-post") is not None:
            action = element.get("hx-post") or page_url
        if action is None:
            continue
        path = urlsplit(action).path or page_url
        fields = found.setdefault(path, {})
        scope = (
            element if element.tag == "form" else (element.getparent() if element.getparent() is not None else element)
        )
        for field in scope.iter("input", "textarea", "select"):
            name = field.get("name")
            if name and name != "csrfmiddlewaretoken" and name not in fields:
                value = _value(field)
                if value is not None:
                    fields[name] = value
        if element.get("name") and element.get("name") not in fields:
            fields[element.get("name")] = element.get("value", "")
    return found


def _pages(objs: dict) -> dict[str, str]:
    """{URL name: URL} of every page the owner can open with GET."""
    return {name: _url(name, objs) for name in url_names() if "GET" in ACCESS[name][1]}


def _owner(objs: dict) -> Client:
    client = Client()
    client.force_login(objs["users"]["owner"])
    return client


def _try(client: Client, method: str, url: str, **kwargs) -> str | None:
    """None if the app answered without a server error, else what went wrong."""
    try:
        with transaction.atomic():
            response = getattr(client, method)(url, **kwargs)
            transaction.set_rollback(True)
    except Exception as err:  # the point of the test: name the exception, do not stop
        return f"{type(err).__name__}: {str(err)[:200]}"
    if response.status_code >= 500:
        return f"answered {response.status_code}"
    return None


def _every_form(objs: dict) -> dict[str, dict[str, str]]:
    client = _owner(objs)
    forms: dict[str, dict[str, str]] = {}
    for url in _pages(objs).values():
        for htmx in (False, True):
            response = client.get(url, **({"HTTP_HX_REQUEST": "true"} if htmx else {}))
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            for path, fields in _forms_on(response.content, url).items():
                known = forms.setdefault(path, {})
                known.update({name: value for name, value in fields.items() if name not in known})
    # A URL that takes POST but whose form is on no page (or behind htmx) is posted anyway.
    for name in url_names():
        if "POST" in ACCESS[name][1]:
            forms.setdefault(_url(name, objs), {})
    skipped = {_url(name, objs) for name in NOT_POSTED}
    return {path: fields for path, fields in forms.items() if path not in skipped}


def _post(client: Client, path: str, fields: dict[str, str], htmx: bool = False) -> str | None:
    body = urlencode([(name, _encode(value)) for name, value in fields.items()]).encode("ascii")
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return _try(client, "post", path, data=body, content_type="application/x-www-form-urlencoded", **extra)


def test_the_forms_are_found_on_the_pages(objects):
    forms = _every_form(objects)
    # A few forms that must be among those found, with their fields: the finder works.
    assert {"name", "goal", "questions"} <= set(forms[_url("stage_edit", objects)])
    assert forms[_url("stage_edit", objects)]["name"] == "Awareness"
    assert "new-body" in forms[_url("comment_post", objects)]
    assert len(forms) >= 40


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_every_form_posted_with_hostile_values_answers_without_a_server_error(objects, kind):
    """Every field hostile at once, then each field alone in an otherwise valid form (so
    that the value reaches the save, not only the first field that refuses it)."""
    value = HOSTILE[kind]
    client = _owner(objects)
    wrong = []
    for path, fields in sorted(_every_form(objects).items()):
        tries = [("every field", {name: value for name in fields} or {"x": value}, htmx) for htmx in (False, True)]
        tries += [(name, {**fields, name: value}, False) for name in sorted(fields)]
        for label, data, htmx in tries:
            problem = _post(client, path, data, htmx)
            if problem:
                wrong.append(f"POST {path} [{label}]{' (htmx)' if htmx else ''}: {problem}")
    assert not wrong, f"{kind}:\n" + "\n".join(wrong)


def _search_fields(objs: dict) -> dict[str, set[str]]:
    """{page: names of the fields of its GET forms}: the search boxes and filters."""
    client = _owner(objs)
    found: dict[str, set[str]] = {}
    for url in _pages(objs).values():
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        document = lxml.html.fromstring(response.content)
        for form in document.iter("form"):
            if (form.get("method") or "get").lower() != "get":
                continue
            target = urlsplit(form.get("action") or url).path or url
            names = {field.get("name") for field in form.iter("input", "select", "textarea") if field.get("name")}
            found.setdefault(target, set()).update(names)
    return found


QUERY_VALUE_MAX = 65_536

# Query parameters the views read (grep request.GET in maps/views.py), tried on every page too.
KNOWN_PARAMETERS = {"q", "view", "page", "archived", "show", "by", "user", "stage", "stamp", "token", "presence"}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_every_page_opened_with_hostile_query_values_answers_without_a_server_error(objects, kind):
    # gunicorn refuses a request line over 4 kB (limit_request_line), so no view ever
    # reads a 1 MB query value: 64 kB in every parameter is far past what can reach one,
    # and keeps a page's URL under a megabyte.
    value = HOSTILE[kind][:QUERY_VALUE_MAX]
    client = _owner(objects)
    forms = _search_fields(objects)
    wrong = []
    for name, url in sorted(_pages(objects).items()):
        parameters = sorted(KNOWN_PARAMETERS | forms.get(url, set()))
        query = urlencode([(parameter, _encode(value)) for parameter in parameters])
        problem = _try(client, "get", f"{url}?{query}")
        if problem:
            wrong.append(f"GET {name} {url}: {problem}")
    assert not wrong, f"{kind}:\n" + "\n".join(wrong)


def test_the_library_search_box_is_found(objects):
    forms = _search_fields(objects)
    assert "q" in forms[_url("library_list", objects)]


def test_a_search_with_a_nul_is_refused_with_a_message(client, owner, small_map):
    client.force_login(owner)
    response = client.get("/w/acme/library/personas/?q=a%00b")
    assert response.status_code == 200
    assert "The search was ignored: it must not contain control characters (found U+0000)." in response.text
    assert "Carla CFO" in response.text  # the list is shown unfiltered


# Every character a text field could hold that XML cannot (a map from before the rules, or
# from elsewhere): the deck still saves.
UNPRINTABLE = "".join(chr(code) for code in range(32) if chr(code) not in "\t\n\r") + "\ud800\ufffe\uffff"


def test_the_pptx_deck_survives_any_text_a_map_may_hold(small_map):
    import io

    from pptx import Presentation

    from maps.deck import export_pptx
    from maps.models import JourneyMap

    journey_map = JourneyMap.objects.loaded().get(pk=small_map.pk)
    journey_map.name = f"Launch {UNPRINTABLE} journey"
    journey_map.description = journey_map.goal = UNPRINTABLE
    for stage in journey_map.stages.all():
        stage.goal = stage.handoff_sla = f"Goal {UNPRINTABLE}"
        stage.questions = [UNPRINTABLE]
    deck = Presentation(io.BytesIO(export_pptx(journey_map)))
    texts = [shape.text_frame.text for slide in deck.slides for shape in slide.shapes if shape.has_text_frame]
    title = next(text for text in texts if text.startswith("Launch "))
    # What cannot be shown is shown as U+FFFD (or, for the separators, as spaces).
    assert title.split("\n")[0].startswith("Launch \ufffd\ufffd") and title.split("\n")[0].endswith(" journey")


@pytest.mark.parametrize(
    "name", ['  =HYPERLINK("http://evil")', "＝HYPERLINK(1)", "＋1", "－1", "＠SUM(1)", "\u3000=1"]
)
def test_gaps_csv_cannot_run_a_formula_after_spaces_or_in_full_width(small_map, name):
    import csv
    import io

    from maps import exports
    from maps.models import JourneyMap, Stage

    Stage.objects.filter(key="decision").update(name=name)
    rows = list(csv.reader(io.StringIO(exports.gaps_csv(JourneyMap.objects.loaded().get(pk=small_map.pk)))))
    assert f"'{name} has no KPI." in [row[7] for row in rows[1:]]


def test_a_search_too_long_to_run_is_refused_with_a_message(client, owner, small_map):
    client.force_login(owner)
    response = client.get("/w/acme/library/personas/", {"q": "x" * 301})
    assert "The search was ignored: it must be at most 300 characters long." in response.text
    assert "Carla CFO" in response.text


def test_a_description_over_ten_thousand_characters_is_refused_by_the_form(small_map):
    from maps.forms import TouchpointForm
    from maps.models import Touchpoint

    touchpoint = Touchpoint.objects.get(map=small_map, key="webinar")
    form = TouchpointForm(
        {"name": touchpoint.name, "description": "x" * 10_001}, instance=touchpoint, journey_map=small_map
    )
    assert not form.is_valid()
    assert form.errors["description"] == ["Ensure this value has at most 10000 characters (it has 10001)."]
