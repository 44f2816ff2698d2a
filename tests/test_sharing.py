"""Read-only share links: who may make and revoke them, what a stranger holding one sees
(this map's diagram, gaps and matrices, and no way into the workspace), passwords and
their throttle, links that no longer work, and the view count."""

from __future__ import annotations

import datetime
import hashlib
import logging

import pytest
from django.core.cache import cache
from django.core.cache.backends import locmem
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from maps import sharing
from maps.models import JourneyMap, ShareLink, Stage, Touchpoint

from .web import HX, html, login, snapshot

SHARES = reverse("map_shares", args=["acme", "launch"])


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The throttle lives in the cache, which outlives a test: each test starts clean."""
    cache.clear()
    yield
    cache.clear()


def make_link(journey_map: JourneyMap, **kwargs) -> tuple[ShareLink, str]:
    return sharing.create_link(journey_map, None, **kwargs)


def page(token: str) -> str:
    return reverse("share_page", args=[token])


def revoke_url(link: ShareLink) -> str:
    return reverse("share_revoke", args=["acme", "launch", link.pk])


def all_urls(response) -> list[str]:
    """Every address the answer could lead a browser or htmx to."""
    doc = html(response)
    return doc.xpath("//@href | //@src | //@action | //@hx-get | //@hx-post")


# --- making and revoking links ---------------------------------------------------------------


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_owners_and_editors_create_a_link_shown_once_with_a_copy_button(client, request, role, small_map):
    login(client, request.getfixturevalue(role))
    response = client.post(SHARES, {"label": "For the agency", "password": "", "ends": ""}, **HX)
    assert response.status_code == 200
    link = ShareLink.objects.get(map=small_map)
    assert link.label == "For the agency" and link.password == "" and link.expires is None
    url = html(response).xpath("//input[@id='share-new-url']/@value")[0]
    assert url.startswith("http://testserver/s/")
    token = url.removeprefix("http://testserver/s/").strip("/")
    assert len(token) >= 43
    # Only the hash is stored; the secret is nowhere in the database.
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(snapshot())
    assert html(response).xpath("//button[@data-copied]")
    # The panel shown afterwards never shows it again.
    again = client.get(SHARES, **HX)
    assert token not in again.content.decode()
    assert "For the agency" in again.content.decode()


def test_a_password_is_stored_as_a_hash_and_an_end_date_ends_with_that_day(client, owner, small_map):
    login(client, owner)
    ends = timezone.localdate() + datetime.timedelta(days=3)
    client.post(SHARES, {"label": "", "password": "open sesame", "ends": ends.isoformat()}, **HX)
    link = ShareLink.objects.get(map=small_map)
    assert link.password and "open sesame" not in link.password
    assert timezone.localtime(link.expires).date() == ends
    assert timezone.localtime(link.expires + datetime.timedelta(microseconds=1)).date() > ends
    assert link.created_by == owner


def test_an_end_date_in_the_past_is_refused_and_writes_nothing(client, owner, small_map):
    login(client, owner)
    before = snapshot()
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    response = client.post(SHARES, {"label": "x", "password": "", "ends": yesterday.isoformat()}, **HX)
    assert response.status_code == 422
    assert "Pick today or a later day." in response.content.decode()
    assert snapshot() == before


def test_without_javascript_the_new_link_is_shown_on_a_page_of_its_own(client, editor, small_map):
    login(client, editor)
    response = client.post(SHARES, {"label": "Board", "password": "", "ends": ""})
    assert response.status_code == 200
    assert html(response).xpath("//input[@id='share-new-url']")
    assert html(response).xpath(f"//form[@action='{SHARES}']")


@pytest.mark.parametrize("role", ["owner", "editor"])
def test_owners_and_editors_revoke_a_link(client, request, role, small_map):
    link, token = make_link(small_map, label="Old")
    login(client, request.getfixturevalue(role))
    response = client.post(revoke_url(link), **HX)
    assert response.status_code == 200
    assert "no longer works" in response.content.decode()
    link.refresh_from_db()
    assert link.revoked is not None
    assert Client().get(page(token)).status_code == 404


def test_revoking_without_javascript_goes_back_to_the_share_page(client, owner, small_map):
    link, _token = make_link(small_map)
    login(client, owner)
    response = client.post(revoke_url(link))
    assert response.status_code == 302 and response["Location"] == SHARES


def test_viewer_can_neither_see_make_nor_revoke_links(client, viewer, small_map):
    link, _token = make_link(small_map)
    login(client, viewer)
    before = snapshot()
    assert client.get(SHARES, **HX).status_code == 403
    assert client.post(SHARES, {"label": "mine", "password": "", "ends": ""}, **HX).status_code == 403
    assert client.post(revoke_url(link), **HX).status_code == 403
    assert snapshot() == before


def test_stranger_cannot_find_make_or_revoke_links(client, stranger, small_map):
    link, _token = make_link(small_map)
    login(client, stranger)
    before = snapshot()
    assert client.get(SHARES, **HX).status_code == 404
    assert client.post(SHARES, {"label": "mine", "password": "", "ends": ""}, **HX).status_code == 404
    assert client.post(revoke_url(link), **HX).status_code == 404
    assert snapshot() == before


def test_signed_out_people_are_sent_to_sign_in_and_nothing_is_written(client, small_map):
    before = snapshot()
    response = client.post(SHARES, {"label": "x", "password": "", "ends": ""})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert snapshot() == before


def test_a_link_of_another_map_cannot_be_revoked_through_this_one(client, owner, small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="other", name="Other")
    link, _token = make_link(other)
    login(client, owner)
    before = snapshot()
    assert client.post(revoke_url(link), **HX).status_code == 404
    assert snapshot() == before


def test_the_panel_lists_each_links_label_dates_password_views_and_state(client, owner, small_map):
    make_link(small_map, label="Agency", password="pw", expires=timezone.now() + datetime.timedelta(days=2))
    revoked, _token = make_link(small_map, label="Gone")
    sharing.revoke(revoked)
    ShareLink.objects.filter(label="Agency").update(views=7)
    login(client, owner)
    doc = html(client.get(SHARES, **HX))
    rows = [" ".join(tr.text_content().split()) for tr in doc.xpath("//table[contains(@class,'share-links')]/tbody/tr")]
    assert len(rows) == 2
    agency = next(r for r in rows if r.startswith("Agency"))
    assert "yes" in agency and "7" in agency and "Revoke" in agency
    gone = next(r for r in rows if r.startswith("Gone"))
    assert "Revoked" in gone and "no" in gone


def test_the_map_header_menu_opens_the_share_panel_for_editors_only(client, editor, viewer, small_map):
    login(client, editor)
    assert SHARES in client.get(small_map.get_absolute_url()).content.decode()
    client.logout()
    login(client, viewer)
    assert SHARES not in client.get(small_map.get_absolute_url()).content.decode()


# --- the page a stranger opens -------------------------------------------------------------------


def test_the_share_page_shows_the_diagram_gaps_and_matrices_without_signing_in(small_map):
    _link, token = make_link(small_map)
    response = Client().get(page(token))
    assert response.status_code == 200
    doc = html(response)
    text = " ".join(doc.text_content().split())
    assert "Launch journey" in text
    assert "Read-only view shared by Acme" in text
    assert doc.xpath(f"//img[@src='{reverse('share_diagram', args=[token])}']")
    assert doc.xpath("//*[@id='gaps-panel']//*[contains(@class,'gap-row')]")
    for part in ("coverage", "accountability", "funnel"):
        assert doc.xpath(f"//section[@id='{part}']//table"), part
    assert "Carla CFO" in text and "Marketing" in text and "MQL within 2 days" in text
    # The view selector offers every view of the map.
    assert doc.xpath("//select[@name='view']/option/@value") == [
        "stages",
        "departments",
        "persona:cfo",
        "persona:it-lead",
    ]


def test_the_share_page_leads_nowhere_in_the_workspace(client, owner, small_map):
    _link, token = make_link(small_map)
    # Even the owner, signed in, gets no account navigation or edit controls there.
    login(client, owner)
    response = client.get(page(token))
    urls = all_urls(response)
    assert urls and not [u for u in urls if "/w/" in u or u in ("/", reverse("home"))]
    assert not [u for u in urls if u.startswith("http")]
    body = response.content.decode()
    assert "alice" not in body and reverse("logout") not in body
    assert not html(response).xpath("//form[@method='post']")
    assert not html(response).xpath("//a[contains(@class,'gap-row')]")


def test_share_answers_keep_out_of_search_engines_and_send_no_referrer(small_map):
    _link, token = make_link(small_map)
    protected, secret = make_link(small_map, password="pw")
    for url in (
        page(token),
        reverse("share_diagram", args=[token]),
        page(secret),
        page("no-such-token"),
    ):
        response = Client().get(url)
        assert response["X-Robots-Tag"].startswith("noindex"), url
        assert response["Referrer-Policy"] == "same-origin", url


def test_the_diagram_comes_under_the_token_and_links_nowhere(small_map):
    _link, token = make_link(small_map)
    response = Client().get(reverse("share_diagram", args=[token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = response.content.decode()
    assert "LinkedIn ad" in svg
    assert "<a " not in svg and "href=" not in svg.replace("xmlns:xlink", "")


def test_the_diagram_views_can_be_chosen_and_an_unknown_one_shows_the_stages(small_map):
    _link, token = make_link(small_map)
    client = Client()
    diagram_url = reverse("share_diagram", args=[token])
    stages = client.get(diagram_url).content
    departments = client.get(diagram_url, {"view": "departments"})
    assert departments.status_code == 200 and departments.content != stages
    assert client.get(diagram_url, {"view": "persona:cfo"}).status_code == 200
    assert client.get(diagram_url, {"view": "persona:nobody"}).content == stages
    doc = html(client.get(page(token), {"view": "departments"}))
    assert doc.xpath("//img/@src")[0] == f"{diagram_url}?view=departments"
    assert doc.xpath("//option[@selected]/@value") == ["departments"]


def test_the_share_page_of_one_map_never_shows_another(small_map, workspace):
    other = JourneyMap.objects.create(workspace=workspace, key="secret-plan", name="Secret plan")
    stage = Stage.objects.create(map=other, key="hidden", name="Hidden stage", order=0)
    Touchpoint.objects.create(map=other, stage=stage, key="covert", name="Covert touchpoint", order=0)
    _link, token = make_link(small_map)
    make_link(other)
    client = Client()
    body = client.get(page(token)).content.decode()
    svg = client.get(reverse("share_diagram", args=[token])).content.decode()
    for name in ("Secret plan", "Hidden stage", "Covert touchpoint", "secret-plan"):
        assert name not in body and name not in svg


def test_user_text_on_the_share_page_is_escaped(small_map):
    small_map.name = "<script>alert(1)</script>"
    small_map.save()
    _link, token = make_link(small_map)
    body = Client().get(page(token)).content.decode()
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body


# --- links that do not work --------------------------------------------------------------------------


def test_unknown_revoked_expired_and_trashed_links_all_get_the_same_404(small_map):
    revoked, revoked_token = make_link(small_map)
    sharing.revoke(revoked)
    _expired, expired_token = make_link(small_map, expires=timezone.now() + datetime.timedelta(days=1))
    ShareLink.objects.filter(pk=_expired.pk).update(expires=timezone.now() - datetime.timedelta(seconds=1))
    answers = []
    for token in ("x" * 43, revoked_token, expired_token):
        for url in (page(token), reverse("share_diagram", args=[token])):
            response = Client().get(url)
            assert response.status_code == 404, url
            answers.append(response.content)
    assert len(set(answers)) == 1
    assert b"This link is not valid" in answers[0]
    assert Client().post(reverse("share_unlock", args=[revoked_token]), {"password": "x"}).content == answers[0]


def test_a_link_to_a_map_in_the_trash_does_not_work(small_map):
    _link, token = make_link(small_map)
    JourneyMap.objects.filter(pk=small_map.pk).update(deleted=timezone.now())
    assert Client().get(page(token)).status_code == 404


def test_the_token_of_a_refused_link_is_not_written_to_the_request_log(small_map, caplog):
    link, token = make_link(small_map)
    sharing.revoke(link)
    with caplog.at_level(logging.DEBUG):
        assert Client().get(page(token)).status_code == 404
    assert token not in caplog.text


# --- passwords ----------------------------------------------------------------------------------------


def unlock(client: Client, token: str, password: str):
    return client.post(reverse("share_unlock", args=[token]), {"password": password})


def test_a_protected_link_asks_for_its_password_first_and_shows_nothing_of_the_map(small_map):
    _link, token = make_link(small_map, password="open sesame")
    client = Client()
    response = client.get(page(token))
    assert response.status_code == 200
    doc = html(response)
    assert doc.xpath("//input[@type='password'][@name='password']")
    assert doc.xpath("//form/@action") == [reverse("share_unlock", args=[token])]
    text = doc.text_content()
    assert "Read-only view shared by Acme" in " ".join(text.split())
    assert "Launch journey" not in text and "Awareness" not in text
    assert client.get(reverse("share_diagram", args=[token])).status_code == 404


def test_a_wrong_password_says_so_and_changes_nothing(small_map):
    _link, token = make_link(small_map, password="open sesame")
    client = Client()
    before = snapshot()
    response = unlock(client, token, "guess")
    assert response.status_code == 400
    assert "That password is not right." in response.content.decode()
    assert snapshot() == before
    assert "Launch journey" not in client.get(page(token)).content.decode()


def test_the_right_password_is_remembered_for_that_link_in_the_session(small_map):
    _link, token = make_link(small_map, password="open sesame")
    _other, other_token = make_link(small_map, password="another")
    client = Client()
    response = unlock(client, token, "open sesame")
    assert response.status_code == 302 and response["Location"] == page(token)
    assert "Launch journey" in client.get(page(token)).content.decode()
    assert client.get(reverse("share_diagram", args=[token])).status_code == 200
    # Another link with its own password still asks.
    assert html(client.get(page(other_token))).xpath("//input[@type='password']")
    # Another browser still asks too.
    assert html(Client().get(page(token))).xpath("//input[@type='password']")


def test_the_password_form_keeps_its_csrf_check_and_sends_no_referrer_elsewhere(small_map):
    _link, token = make_link(small_map, password="open sesame")
    client = Client(enforce_csrf_checks=True)
    form = client.get(page(token))
    assert form["Referrer-Policy"] == "same-origin"
    forged = client.post(reverse("share_unlock", args=[token]), {"password": "open sesame"})
    assert forged.status_code == 403  # no CSRF token: refused, nothing unlocked
    csrf = html(form).xpath("//input[@name='csrfmiddlewaretoken']/@value")[0]
    response = client.post(
        reverse("share_unlock", args=[token]), {"password": "open sesame", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 302
    assert "Launch journey" in client.get(page(token)).content.decode()


@pytest.fixture
def clock_cache(settings):
    """A cache in this process's memory, whose clock the test moves on (Redis keeps its own)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "clock"}}


def test_five_wrong_passwords_in_ten_minutes_lock_the_link_for_a_while(small_map, monkeypatch, clock_cache):
    link, token = make_link(small_map, password="open sesame")
    _other, other_token = make_link(small_map, password="open sesame")
    client = Client()
    for _ in range(sharing.MAX_FAILURES):
        assert unlock(client, token, "guess").status_code == 400
    before = snapshot()
    refused = unlock(client, token, "open sesame")
    assert refused.status_code == 429
    assert "Too many wrong passwords" in refused.content.decode()
    assert snapshot() == before
    assert html(client.get(page(token))).xpath("//input[@type='password']")
    # The lock is the link's: another link opens.
    assert unlock(Client(), other_token, "open sesame").status_code == 302
    # Once the lock has run out, the right password works.
    later = locmem.time.time() + sharing.LOCK_SECONDS + 1
    monkeypatch.setattr(locmem, "time", type("Later", (), {"time": staticmethod(lambda: later)}))
    assert unlock(client, token, "open sesame").status_code == 302


def test_wrong_passwords_spread_over_more_than_ten_minutes_do_not_lock(small_map, monkeypatch, clock_cache):
    _link, token = make_link(small_map, password="open sesame")
    client = Client()
    for _ in range(sharing.MAX_FAILURES - 1):
        unlock(client, token, "guess")
    later = locmem.time.time() + sharing.FAILURE_WINDOW + 1
    monkeypatch.setattr(locmem, "time", type("Later", (), {"time": staticmethod(lambda: later)}))
    unlock(client, token, "guess")
    assert unlock(client, token, "open sesame").status_code == 302


def test_a_link_without_a_password_needs_no_unlocking(small_map):
    _link, token = make_link(small_map)
    response = unlock(Client(), token, "anything")
    assert response.status_code == 302 and response["Location"] == page(token)


# --- counting views ------------------------------------------------------------------------------------


def test_every_view_of_the_share_page_is_counted_but_not_its_diagram_or_password_form(small_map):
    link, token = make_link(small_map)
    protected, secret = make_link(small_map, password="pw")
    client = Client()
    client.get(page(token))
    client.get(page(token), {"view": "departments"})
    client.get(reverse("share_diagram", args=[token]))
    client.get(page(secret))
    unlock(client, secret, "wrong")
    link.refresh_from_db()
    protected.refresh_from_db()
    assert link.views == 2
    assert protected.views == 0
    unlock(client, secret, "pw")
    client.get(page(secret))
    protected.refresh_from_db()
    assert protected.views == 1


def test_counting_a_view_adds_in_the_database_not_from_a_stale_copy(small_map):
    link, _token = make_link(small_map)
    stale = ShareLink.objects.get(pk=link.pk)
    sharing.count_view(link)
    sharing.count_view(stale)
    link.refresh_from_db()
    assert link.views == 2
