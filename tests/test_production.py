"""Production settings: the README's "Production" block is exactly what to set, and with
it `manage.py check --deploy` finds nothing to warn about; HTTPS behind a proxy, HSTS and
the client's address behind proxies work as documented."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import RequestFactory, override_settings
from django.urls import reverse

from maps.request_context import client_address


@pytest.fixture
def _no_async_unsafe(monkeypatch):
    """The browser tests' conftest allows Django's sync calls under Playwright's event loop
    (DJANGO_ALLOW_ASYNC_UNSAFE) for the whole run; production never sets it, and
    `check --deploy` rightly refuses it (async.E001). Only for the checks run in this
    process: a test that reads the database needs it while the shared browser's loop runs
    (the subprocesses get an environment of their own without it)."""
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)


ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def documented_production_environment() -> dict[str, str]:
    """The `export NAME=value` lines of the README's first block under "### Production"."""
    section = README[README.index("### Production") :]
    block = section[section.index("```sh") : section.index("```", section.index("```sh") + 5)]
    found = dict(re.findall(r"^export (\w+)=(\S+)", block, re.M))
    found["SECRET_KEY"] = secrets.token_urlsafe(50)  # the README says how to make one
    return found


def check_deploy(environment: dict[str, str]) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), **environment}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_readme_lists_what_production_needs():
    assert set(documented_production_environment()) == {
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "DATABASE_URL",
        "REDIS_URL",
        "SECURE_COOKIES",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "TRUSTED_PROXY_COUNT",
    }


def test_check_deploy_is_clean_with_the_documented_production_settings():
    result = check_deploy(documented_production_environment())
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_warns_with_a_secret_key_alone():
    result = check_deploy({"SECRET_KEY": secrets.token_urlsafe(50)})
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016", "maps.W001"):
        assert check in result.stderr


SECURE = {
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
    "SECRET_KEY": "k" * 10 + secrets.token_urlsafe(50),
    "CACHES": {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://x:1/0"}},
}


@pytest.mark.parametrize(
    "setting, off, check",
    [
        ("SESSION_COOKIE_SECURE", False, "security.W012"),
        ("CSRF_COOKIE_SECURE", False, "security.W016"),
        ("SECURE_SSL_REDIRECT", False, "security.W008"),
        ("SECURE_HSTS_SECONDS", 0, "security.W004"),
        ("SECURE_HSTS_INCLUDE_SUBDOMAINS", False, "security.W005"),
        ("SECURE_HSTS_PRELOAD", False, "security.W021"),
    ],
)
@pytest.mark.usefixtures("_no_async_unsafe")
def test_each_documented_security_setting_is_needed(setting, off, check):
    with override_settings(**SECURE):
        call_command("check", deploy=True, fail_level="WARNING")
        with override_settings(**{setting: off}), pytest.raises(SystemCheckError, match=check):
            call_command("check", deploy=True, fail_level="WARNING")


def test_the_proxy_header_variable_names_the_header_django_reads():
    script = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "journeymap.settings",
        "SECRET_KEY": "x",
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.parametrize(
    "variable, value, message",
    [
        ("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto: https", "SECURE_PROXY_SSL_HEADER must be a header name"),
        ("SECURE_HSTS_SECONDS", "-1", "SECURE_HSTS_SECONDS must be 0 (off) or more"),
        ("SECURE_SSL_REDIRECT", "maybe", "SECURE_SSL_REDIRECT must be true or false"),
        ("TRUSTED_PROXY_COUNT", "-1", "TRUSTED_PROXY_COUNT must be 0 or more"),
        ("SESSION_DAYS", "0", "SESSION_DAYS must be a number of days above 0"),
        ("SIGN_IN_FAILURE_LIMIT", "0", "SIGN_IN_FAILURE_LIMIT must be a number above 0"),
        ("SIGN_IN_LOCKOUT_MINUTES", "soon", "SIGN_IN_LOCKOUT_MINUTES must be a whole number"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR"),
    ],
)
def test_a_value_that_cannot_work_stops_the_app_naming_the_variable(variable, value, message):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "journeymap.settings",
        "DEBUG": "true",
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and message in result.stderr


def test_every_variable_the_settings_read_is_in_the_readme_table():
    source = (ROOT / "journeymap" / "settings.py").read_text()
    read = set(re.findall(r'(?:os\.environ\.get|_env_bool|_env_int|_env_list)\("(\w+)"', source))
    table = set(re.findall(r"^\| `(\w+)` \|", README, re.M))
    assert read - table == set()


# --- HTTPS behind a proxy -------------------------------------------------------------------

BEHIND_PROXY = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_HSTS_PRELOAD": True,
}


@pytest.mark.django_db
def test_behind_the_proxy_http_is_sent_to_https_and_https_gets_hsts(client):
    with override_settings(**BEHIND_PROXY):
        plain = client.get(reverse("login"))
        assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
        secure = client.get(reverse("login"), HTTP_X_FORWARDED_PROTO="https")
        assert secure.status_code == 200
        assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
def test_secure_cookies_are_marked_secure(client, owner, settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    response = client.get(reverse("login"))
    assert response.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True
    response = client.post(
        reverse("login"), {"username": "alice", "password": "correct-horse-battery"}, REMOTE_ADDR="203.0.113.1"
    )
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True


@pytest.mark.parametrize(
    "count, forwarded, remote, expected",
    [
        (0, "198.51.100.1", "10.0.0.2", "10.0.0.2"),  # no proxy trusted: the header is the client's word
        (1, "198.51.100.1", "10.0.0.2", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "10.0.0.2", "198.51.100.1"),  # what the client wrote is skipped
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "10.0.0.2", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.2", "10.0.0.2"),  # did not come through both proxies
        (1, "not-an-address", "10.0.0.2", None),
    ],
)
def test_the_client_address_is_the_one_the_outermost_trusted_proxy_saw(count, forwarded, remote, expected):
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    with override_settings(TRUSTED_PROXY_COUNT=count):
        assert client_address(request) == expected
