"""Who may open what: every URL of the app, for every kind of visitor, built from the
URL configuration itself, so that a new view cannot escape the matrix.

Each URL name has an entry in ACCESS: its level (who may use it) and the methods it
answers. For each visitor the test opens it with each method and checks the answer's
class: allowed, sent to sign in, not found (a stranger learns nothing), forbidden, or
method not allowed; a refusal writes nothing (the database snapshot is unchanged).
A URL name missing from ACCESS fails the test, and so does an entry for no URL.
"""

from __future__ import annotations

import copy
import datetime
import hashlib

import pytest
from django.db import transaction
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path, reverse
from django.utils import timezone

from maps import changes
from maps.models import (
    Action,
    Comment,
    Invitation,
    JourneyMap,
    Membership,
    Metric,
    QualificationCriterion,
    ShareLink,
    SwotItem,
    TrashItem,
    VoteSession,
)
from maps.rendering import CONTENT_TYPES

from .web import snapshot

pytestmark = pytest.mark.django_db

SHARE_TOKEN = "share-token-for-the-permission-matrix"
_DAY = datetime.timedelta(days=1)

# Levels: who may use a URL.
PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed-in"  # anyone signed in (their own things only)
READ = "read"  # members of the workspace (viewers too)
WRITE = "write"  # editors and owners
OWN = "own"  # owners
SHARE = "share"  # whoever holds the map's share link
# The page's signed pass, never the session (tests/test_live.py): without one, refused.
PASS = "pass"

GET, POST, BOTH = ("GET",), ("POST",), ("GET", "POST")

ACCESS: dict[str, tuple[str, tuple[str, ...]]] = {
    # signing in and the interface language
    "login": (PUBLIC, BOTH),
    "logout": (PUBLIC, POST),
    "set_language": (PUBLIC, POST),
    "home": (SIGNED_IN, GET),
    # one's own account: the password, signing out every session
    "account": (SIGNED_IN, BOTH),
    "sign_out_everywhere": (SIGNED_IN, POST),
    # for load balancers: no session needed
    "healthz": (PUBLIC, GET),
    # the colours of maps.marks, a stylesheet for every page (the sign-in page too)
    "marks_css": (PUBLIC, GET),
    # a workspace and its maps
    "workspace": (READ, GET),
    "map_create": (WRITE, POST),
    "map_import": (WRITE, BOTH),
    "map_import_apply": (WRITE, POST),
    "map_detail": (READ, GET),
    "map_board": (READ, GET),
    "map_present": (READ, GET),
    "map_live": (PASS, GET),
    "map_gaps": (READ, GET),
    "map_diagram": (READ, GET),
    "map_download": (READ, GET),
    "map_export_json": (READ, GET),
    "csv_download": (READ, GET),
    "csv_import": (WRITE, BOTH),
    "csv_apply": (WRITE, POST),
    "map_settings": (READ, BOTH),
    "map_replace": (WRITE, BOTH),
    "map_replace_apply": (WRITE, POST),
    "map_archive": (WRITE, POST),
    "map_delete": (OWN, BOTH),
    # stages, KPIs, touchpoints, flows
    "stage_create": (READ, BOTH),
    "stage_reorder": (WRITE, POST),
    "stage_edit": (READ, BOTH),
    "stage_move": (WRITE, POST),
    "stage_delete": (WRITE, BOTH),
    "metric_create": (WRITE, POST),
    "metric_edit": (READ, BOTH),
    "metric_delete": (WRITE, BOTH),
    "criterion_create": (WRITE, POST),
    "criterion_delete": (WRITE, POST),
    "touchpoint_create": (READ, BOTH),
    "touchpoint_reorder": (WRITE, POST),
    "touchpoint_edit": (READ, BOTH),
    "touchpoint_move": (WRITE, POST),
    "touchpoint_delete": (WRITE, BOTH),
    "flow_add": (WRITE, POST),
    "flow_delete": (WRITE, POST),
    # the personas of a map
    "map_personas": (READ, BOTH),
    "map_persona_edit": (READ, BOTH),
    "map_persona_remove": (WRITE, BOTH),
    "map_persona_new": (WRITE, POST),
    # matrices
    "coverage": (READ, GET),
    "coverage_link": (WRITE, POST),
    "accountability": (READ, GET),
    "funnel": (READ, GET),
    "funnel_whatif": (READ, GET),
    # monitoring: the review tab, and marking the map as reviewed
    "map_review": (READ, GET),
    "map_mark_reviewed": (WRITE, POST),
    # history
    "map_history": (READ, GET),
    "map_revision": (READ, GET),
    "map_restore": (WRITE, POST),
    "map_undo": (WRITE, POST),
    # the library
    "library_list": (READ, GET),
    "library_create": (READ, BOTH),
    "library_edit": (READ, BOTH),
    "library_delete": (WRITE, BOTH),
    # read-only share links: managed by editors, opened by whoever holds the link
    "map_shares": (WRITE, BOTH),
    "share_revoke": (WRITE, POST),
    "share_page": (SHARE, GET),
    "share_unlock": (SHARE, POST),
    "share_diagram": (SHARE, GET),
    # the trash
    "trash": (READ, GET),
    "trash_restore": (WRITE, POST),
    "trash_empty": (OWN, POST),
    # members: the workspace settings page and invitation links (an expired link here: 410)
    "workspace_settings": (READ, GET),
    "member_role": (OWN, POST),
    "member_remove": (OWN, POST),
    "workspace_leave": (READ, POST),
    "audit_log": (OWN, GET),
    "workspace_backup": (OWN, GET),
    "invitation_create": (OWN, POST),
    "invitation_revoke": (OWN, POST),
    "invite_accept": (SIGNED_IN, BOTH),
    # actions: editors make and change them; every member reads the ranking
    "map_actions": (READ, GET),
    "action_create": (WRITE, BOTH),
    "action_edit": (READ, BOTH),
    "action_delete": (WRITE, BOTH),
    "action_status": (WRITE, POST),
    # guiding questions (viewers read the answer form, editors answer) and the SWOT
    "map_questions": (READ, GET),
    "question_answer": (READ, BOTH),
    "map_swot": (READ, GET),
    "swot_create": (WRITE, POST),
    "swot_edit": (READ, BOTH),
    "swot_delete": (WRITE, POST),
    # dot voting: facilitators (editors, owners) open and close; every member votes
    "map_votes": (READ, GET),
    "vote_open": (WRITE, POST),
    "vote_latest": (READ, GET),
    "vote_close": (WRITE, POST),
    "vote_csv": (READ, GET),
    "vote_dot": (READ, POST),
    # comments: viewers comment and reply; resolving someone else's needs an editor
    "map_comments": (READ, GET),
    "comment_post": (READ, POST),
    "comment_reply": (READ, POST),
    "comment_resolve": (WRITE, POST),
    "comment_reopen": (WRITE, POST),
}

# What each path parameter is, for the small map of tests/conftest.py.
ARGS = {
    "ws": lambda objs: "acme",
    "key": lambda objs: "launch",
    "stage": lambda objs: "awareness",
    "tp": lambda objs: "webinar",
    "target": lambda objs: "demo",
    "direction": lambda objs: "down",
    "fmt": lambda objs: "svg",
    "table": lambda objs: "touchpoints",
    "number": lambda objs: 1,
    "kind": lambda objs: "personas",
    "item": lambda objs: "cfo",
    "token": lambda objs: SHARE_TOKEN,
    "action": lambda objs: "add",
    "act": lambda objs: objs["action"].key,
}
# Primary keys differ per URL: the object each `pk` names.
PKS = {
    "metric_edit": lambda objs: objs["metric"].pk,
    "metric_delete": lambda objs: objs["metric"].pk,
    "criterion_delete": lambda objs: objs["criterion"].pk,
    "map_persona_edit": lambda objs: objs["map_persona"].pk,
    "map_persona_remove": lambda objs: objs["map_persona"].pk,
    "trash_restore": lambda objs: objs["trash"].pk,
    "member_role": lambda objs: objs["viewer_membership"].pk,
    "member_remove": lambda objs: objs["viewer_membership"].pk,
    "invitation_revoke": lambda objs: objs["invitation"].pk,
    "share_revoke": lambda objs: objs["share"].pk,
    "vote_close": lambda objs: objs["vote"].pk,
    "vote_csv": lambda objs: objs["vote"].pk,
    "vote_dot": lambda objs: objs["vote"].pk,
    # The owner's comment: a viewer may reply to it but not resolve or reopen it.
    "comment_reply": lambda objs: objs["comment"].pk,
    "comment_resolve": lambda objs: objs["comment"].pk,
    "comment_reopen": lambda objs: objs["comment"].pk,
}
# Edit forms answer a viewer's GET (what the thing holds, read-only); saving needs an editor.
WRITE_ON_POST = {
    "map_settings",
    "stage_create",
    "stage_edit",
    "metric_edit",
    "touchpoint_create",
    "touchpoint_edit",
    "map_personas",
    "map_persona_edit",
    "library_create",
    "library_edit",
    "action_edit",
    "question_answer",
    "swot_edit",
}


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":  # Django's admin guards itself (staff only)
                continue
            found += _patterns(entry, prefix + str(entry.pattern))
        elif entry.name:
            found.append((entry.name, entry))
    return found


def url_names() -> list[str]:
    return sorted({name for name, _pattern in _patterns(get_resolver())})


def test_every_url_has_an_entry_in_the_matrix_and_every_entry_a_url():
    names = set(url_names())
    assert names - set(ACCESS) == set(), "URLs without an entry in ACCESS"
    assert set(ACCESS) - names == set(), "entries in ACCESS for no URL"


@pytest.fixture
def objects(small_map, owner, editor, viewer, stranger):
    awareness = small_map.stages.get(key="awareness")
    awareness.questions = ["Who reads our guide?"]  # question 1, for question_answer
    awareness.save()
    # Named like the library item the `item` parameter names, for swot_edit and swot_delete.
    SwotItem.objects.create(map=small_map, key="cfo", kind="S", text="The CFO trusts us")
    changes.record_creation(small_map, owner)  # revision 1, for the history URLs
    share = ShareLink.objects.create(
        map=small_map, token_hash=hashlib.sha256(SHARE_TOKEN.encode()).hexdigest(), created_by=owner
    )
    return {
        "map": small_map,
        "metric": Metric.objects.filter(stage=awareness).first(),
        "criterion": QualificationCriterion.objects.create(stage=awareness, description="Visited pricing", points=10),
        "map_persona": small_map.map_personas.first(),
        "trash": _trashed_map(small_map.workspace, owner),
        "share": share,
        "viewer_membership": Membership.objects.get(workspace=small_map.workspace, user=viewer),
        "invitation": Invitation.objects.create(
            workspace=small_map.workspace, token_hash="0" * 64, created_by=owner, expires=timezone.now() + _DAY
        ),
        # The token of the share link names an expired invitation too: opening it answers 410.
        "old_invitation": Invitation.objects.create(
            workspace=small_map.workspace,
            token_hash=hashlib.sha256(SHARE_TOKEN.encode()).hexdigest(),
            created_by=owner,
            expires=timezone.now() - _DAY,
        ),
        "comment": Comment.objects.create(map=small_map, author=owner, body="A thought"),
        "users": {"owner": owner, "editor": editor, "viewer": viewer, "stranger": stranger},
        "expires": timezone.now() + datetime.timedelta(days=1),
        "vote": VoteSession.objects.create(map=small_map, title="Fix first?", created_by=owner),
        "action": Action.objects.create(map=small_map, key="shorter-demo", title="Shorter demo"),
    }


def _trashed_map(workspace, user) -> TrashItem:
    """A real thing in the trash (a deleted map), so that bringing it back can work."""
    old = JourneyMap.objects.create(workspace=workspace, key="old-plan", name="Old plan")
    changes.delete_map(old, user)
    return TrashItem.objects.get(map=old)


# Stages move left and right, touchpoints up and down.
DIRECTIONS = {"stage_move": "right"}
# An empty POST names no stage or content asset: for those who may use these, the answer
# is the 404 of an unknown key (they are refused with 403 and 404 like every URL first).
EMPTY_POST_NAMES_NOTHING = {"coverage_link", "touchpoint_reorder"}


def _url(name: str, objs: dict) -> str:
    pattern = dict(_patterns(get_resolver()))[name].pattern
    params = list(pattern.converters)
    kwargs = {param: (PKS[name] if param == "pk" else ARGS[param])(objs) for param in params}
    if "direction" in kwargs:
        kwargs["direction"] = DIRECTIONS.get(name, kwargs["direction"])
    return reverse(name, kwargs=kwargs)


VISITORS = ["anonymous", "share visitor", "stranger", "viewer", "editor", "owner"]


def _client(visitor: str, objs: dict) -> Client:
    client = Client()
    if visitor in objs["users"]:
        client.force_login(objs["users"][visitor])
    elif visitor == "share visitor":
        # Someone outside the workspace who opened the map's share link.
        client.get(reverse("share_page", args=[SHARE_TOKEN]))
    return client


def expected(name: str, visitor: str, method: str) -> str:
    level, methods = ACCESS[name]
    if level == PUBLIC:
        return "allowed" if method in methods else "method"
    if level == SHARE:
        return "allowed" if method in methods else "method"
    if level == PASS:
        return "forbidden" if method in methods else "method"
    if visitor in ("anonymous", "share visitor"):
        return "sign in"
    if level == SIGNED_IN:
        return "allowed" if method in methods else "method"
    # A method a view does not take is refused before anything is looked up: it tells a
    # stranger nothing about the workspace.
    if method not in methods:
        return "method"
    if visitor == "stranger":
        return "not found"
    needed = WRITE if (name in WRITE_ON_POST and method == "POST") else level
    rank = {"viewer": 0, "editor": 1, "owner": 2}[visitor]
    return "allowed" if rank >= {READ: 0, WRITE: 1, OWN: 2}[needed] else "forbidden"


def _answer(response) -> str:
    if response.status_code == 405:
        return "method"
    if response.status_code == 404:
        return "not found"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code in (301, 302) and reverse("login") in response.get("Location", ""):
        return "sign in"
    if response.status_code >= 500:
        return f"error {response.status_code}"
    return "allowed"


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_url_answers_each_visitor_as_the_matrix_says(objects, visitor):
    wrong = []
    # One visit for the whole walk; each request starts from its cookies (as
    # tests/test_csp.py), so a session one request drops is the next one's again.
    client = _client(visitor, objects)
    cookies = copy.deepcopy(client.cookies)
    for name in url_names():
        # Signing out would end the visitor's session mid-test, leaving their membership
        # (tests/test_members.py covers who may leave, tests/test_accounts.py signing out
        # everywhere).
        if name in ("logout", "sign_out_everywhere", "workspace_leave"):
            continue
        url = _url(name, objects)
        for method in ("GET", "POST"):
            client.cookies = copy.deepcopy(cookies)
            want = expected(name, visitor, method)
            # Each request in a savepoint that is rolled back: an owner's allowed delete
            # must not leave the next URL without its map.
            with transaction.atomic():
                before = snapshot() if want != "allowed" else None
                response = client.get(url) if method == "GET" else client.post(url, {})
                got = _answer(response)
                if want == "allowed" and got == "not found" and method == "POST" and name in EMPTY_POST_NAMES_NOTHING:
                    got = "allowed"
                if got != want:
                    wrong.append(f"{method} {name} ({url}): {got}, expected {want}")
                elif before is not None and snapshot() != before:
                    wrong.append(f"{method} {name} ({url}): refused ({got}) but wrote to the database")
                transaction.set_rollback(True)
    assert not wrong, f"{visitor}:\n" + "\n".join(wrong)


# map_download is walked above with "svg"; the deck and its PDF handout come from the
# same URL through another branch of the view (made afresh, never cached): same rules.
DOCUMENT_FORMATS = ("pptx", "handout")


@pytest.mark.parametrize("visitor", VISITORS)
def test_the_deck_and_its_handout_answer_each_visitor_as_every_export(objects, visitor):
    client = _client(visitor, objects)
    for fmt in DOCUMENT_FORMATS:
        before = snapshot()
        response = client.get(reverse("map_download", args=["acme", "launch", fmt]))
        assert _answer(response) == expected("map_download", visitor, "GET"), fmt
        assert snapshot() == before
        if _answer(response) == "allowed":
            assert response["Content-Type"] == CONTENT_TYPES[fmt]


def _leaky_view(request):
    return HttpResponse("anyone may read this")


# A URL configuration with one view nobody put in the matrix, for the test below.
urlpatterns = [path("", include("journeymap.urls")), path("leak/", _leaky_view, name="leak")]


def test_a_new_view_without_an_entry_is_caught(settings):
    settings.ROOT_URLCONF = __name__
    assert set(url_names()) - set(ACCESS) == {"leak"}
