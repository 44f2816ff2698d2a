"""Signing in: wrong passwords lock the account and the address for a while (the right
password too, until the lock ends), the page says so in the person's language, and every
sign-in, failure and lock-out is in the security log. The account page changes the
password (with the validators) and signs out everywhere."""

from __future__ import annotations

import datetime

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse

from maps.models import AuditEvent

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
LIMIT = settings.AXES_FAILURE_LIMIT


def sign_in(client: Client, username: str, password: str, address: str = "203.0.113.7", **extra):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **extra)


def signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def opens_account_page(client: Client) -> bool:
    """What the person notices: a signed-in page opens, or they are sent to sign in."""
    return client.get(reverse("account")).status_code == 200


def fail(client: Client, username: str, times: int, address: str = "203.0.113.7"):
    response = None
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", address)
    return response


def end_the_lock() -> None:
    """As if the cool-off had passed: every counted failure is older than it."""
    earlier = settings.AXES_COOLOFF_TIME + datetime.timedelta(minutes=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= earlier
        attempt.save(update_fields=["attempt_time"])


def test_the_right_password_signs_in(client, owner):
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 302
    assert signed_in(client)


def test_wrong_passwords_below_the_limit_still_let_the_right_one_in(client, owner):
    fail(client, "alice", LIMIT - 1)
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert signed_in(client)


def test_after_the_limit_the_account_is_locked_and_the_right_password_is_refused(client, owner):
    response = fail(client, "alice", LIMIT)
    assert response.status_code == 429
    response = sign_in(Client(), "alice", PASSWORD)
    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins" in page
    assert "paused for up to 15 minutes, even with the right password" in page
    # Still the sign-in page, with the name typed kept.
    assert 'name="password"' in page and 'value="alice"' in page


def test_the_account_lock_holds_from_every_address(client, owner):
    for n in range(LIMIT):
        sign_in(client, "alice", "wrong-password", address=f"198.51.100.{n + 1}")
    other = Client()
    assert sign_in(other, "alice", PASSWORD, address="192.0.2.99").status_code == 429
    assert not signed_in(other)


def test_an_address_trying_many_accounts_is_locked_for_every_account(client, owner, editor):
    for n in range(LIMIT):
        sign_in(client, f"nobody{n}", "wrong-password", address="203.0.113.50")
    response = sign_in(client, "bob", PASSWORD, address="203.0.113.50")
    assert response.status_code == 429
    assert not signed_in(client)
    # bob himself, from his own address, is not locked.
    elsewhere = Client()
    assert sign_in(elsewhere, "bob", PASSWORD, address="192.0.2.10").status_code == 302


def test_the_name_in_other_case_or_with_spaces_counts_against_the_same_account(client, owner):
    for typed in ["alice", "Alice", " ALICE", "alice ", "aLiCe"][:LIMIT]:
        sign_in(client, typed, "wrong-password", address="198.51.100.77")
    assert sign_in(Client(), "alice", PASSWORD, address="192.0.2.1").status_code == 429


def test_once_the_lock_ends_the_right_password_works_again(client, owner):
    fail(client, "alice", LIMIT)
    assert sign_in(client, "alice", PASSWORD).status_code == 429
    end_the_lock()
    assert sign_in(client, "alice", PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_lock_out_message_speaks_japanese(client, owner):
    fail(client, "alice", LIMIT)
    response = sign_in(Client(), "alice", PASSWORD, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 429
    assert 'lang="ja"' in response.content.decode()
    assert "Too many failed sign-ins" not in response.content.decode()
    assert "ログインの失敗が多すぎます" in response.content.decode()


# --- the security log ---------------------------------------------------------------------


def kinds(**filters) -> list[str]:
    return list(AuditEvent.objects.filter(**filters).order_by("pk").values_list("kind", flat=True))


def test_a_sign_in_is_logged_with_its_address(client, owner):
    sign_in(client, "alice", PASSWORD, address="203.0.113.9")
    event = AuditEvent.objects.get(kind=AuditEvent.SIGN_IN)
    assert (event.user, event.address, event.workspace) == (owner, "203.0.113.9", None)


def test_a_failed_sign_in_is_logged_for_the_account_or_the_name_typed(client, owner):
    sign_in(client, "alice", "wrong-password", address="203.0.113.9")
    sign_in(client, "nosuchperson", "wrong-password", address="203.0.113.9")
    known, unknown = AuditEvent.objects.filter(kind=AuditEvent.SIGN_IN_FAILED).order_by("pk")
    assert (known.user, known.username, known.address) == (owner, "alice", "203.0.113.9")
    assert (unknown.user, unknown.username) == (None, "nosuchperson")


def test_a_lock_out_is_logged_once_however_often_it_is_tried_while_locked(client, owner):
    fail(client, "alice", LIMIT + 3)
    sign_in(client, "alice", PASSWORD)
    assert kinds(kind=AuditEvent.LOCKED_OUT) == [AuditEvent.LOCKED_OUT]
    event = AuditEvent.objects.get(kind=AuditEvent.LOCKED_OUT)
    assert (event.user, event.address) == (owner, "203.0.113.7")
    # Every refused try is a failed sign-in; the refused right password signed nobody in.
    assert len(kinds(kind=AuditEvent.SIGN_IN_FAILED)) == LIMIT + 4
    assert kinds(kind=AuditEvent.SIGN_IN) == []


# --- the account page -----------------------------------------------------------------------

ACCOUNT = reverse("account")


def test_the_header_links_to_the_account_page(client, owner):
    client.force_login(owner)
    page = client.get(reverse("home"), follow=True).content.decode()
    assert f'href="{ACCOUNT}"' in page


def test_a_password_change_keeps_this_session_and_ends_the_others(owner):
    here, there = Client(), Client()
    sign_in(here, "alice", PASSWORD)
    sign_in(there, "alice", PASSWORD, address="198.51.100.3")
    new = "a-much-longer-new-secret-42"
    response = here.post(ACCOUNT, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 302
    assert opens_account_page(here)
    assert not opens_account_page(there)
    owner.refresh_from_db()
    assert owner.check_password(new)
    assert kinds(kind=AuditEvent.PASSWORD_CHANGED) == [AuditEvent.PASSWORD_CHANGED]


@pytest.mark.parametrize(
    "new, message",
    [
        ("short1", "This password is too short. It must contain at least 10 characters."),
        ("password123", "This password is too common."),
        ("8439570193", "This password is entirely numeric."),
    ],
)
def test_a_weak_new_password_is_refused_and_changes_nothing(client, owner, new, message):
    client.force_login(owner)
    response = client.post(ACCOUNT, {"old_password": PASSWORD, "new_password1": new, "new_password2": new})
    assert response.status_code == 200
    assert "Your password was not changed" in response.content.decode()
    assert message in response.content.decode()
    owner.refresh_from_db()
    assert owner.check_password(PASSWORD)


def test_sign_out_everywhere_ends_every_session_of_the_account_only(owner, editor):
    laptop, phone, colleague = Client(), Client(), Client()
    sign_in(laptop, "alice", PASSWORD)
    sign_in(phone, "alice", PASSWORD, address="198.51.100.3")
    sign_in(colleague, "bob", PASSWORD, address="198.51.100.4")
    response = laptop.post(reverse("sign_out_everywhere"))
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert not opens_account_page(laptop)
    assert not opens_account_page(phone)
    assert opens_account_page(colleague)
    assert kinds(kind=AuditEvent.SIGNED_OUT_EVERYWHERE) == [AuditEvent.SIGNED_OUT_EVERYWHERE]


def test_sign_out_everywhere_needs_a_post(client, owner):
    client.force_login(owner)
    assert client.get(reverse("sign_out_everywhere")).status_code == 405
    assert signed_in(client)


def test_a_sign_in_lasts_the_configured_days(client, owner):
    response = sign_in(client, "alice", PASSWORD)
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == settings.SESSION_DAYS * 24 * 60 * 60 == 14 * 24 * 60 * 60
