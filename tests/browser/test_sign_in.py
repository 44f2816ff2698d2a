"""Signing in through a real browser: wrong passwords lock the account, the page says so,
and the right password is refused until the lock ends. The lock lives in the database, so
the next test (its database flushed) signs in as usual."""

from __future__ import annotations

import pytest
from django.conf import settings
from playwright.sync_api import expect

from tests.conftest import PASSWORD, make_user

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wrong_passwords_lock_the_account_and_the_page_says_so(page):
    make_user("alice")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(page, "alice", "not-the-password")
        expect(page.locator(".error-summary")).to_contain_text("Please enter a correct username and password")
    sign_in(page, "alice", "not-the-password")
    expect(page.locator(".error-summary")).to_contain_text("Too many failed sign-ins")
    sign_in(page, "alice", PASSWORD)
    expect(page.locator(".error-summary")).to_contain_text("even with the right password")
    assert page.url.endswith("/accounts/login/")  # still the sign-in page, signed out


def test_the_next_test_starts_without_the_lock(page):
    make_user("alice")
    sign_in(page, "alice", PASSWORD)
    expect(page.get_by_role("link", name="alice")).to_be_visible()
