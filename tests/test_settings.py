"""Settings that fail loudly: a value the app cannot use stops it at start with the name
of the variable, and what it cannot work without is a system check error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

BASE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(**environment: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with exactly this environment (and PATH)."""
    env = {"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "journeymap.settings", **environment}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=BASE,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_secret_key_and_debug_off_the_app_refuses_to_start_naming_the_variable():
    result = start()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_runs_on_the_development_key():
    assert start(DEBUG="true").stdout.strip() == "started"


def test_a_secret_key_is_enough_to_start():
    assert start(SECRET_KEY="a-long-random-value-for-this-test").stdout.strip() == "started"


@pytest.mark.parametrize(
    "value, message",
    [
        ("0", "GRAPHVIZ_TIMEOUT must be a number of seconds above 0"),
        ("-5", "GRAPHVIZ_TIMEOUT must be a number of seconds above 0"),
        ("soon", "GRAPHVIZ_TIMEOUT must be a whole number"),
    ],
)
def test_a_graphviz_timeout_that_cannot_work_is_refused(value, message):
    result = start(DEBUG="true", GRAPHVIZ_TIMEOUT=value)
    assert result.returncode != 0 and message in result.stderr


def test_a_missing_dot_binary_is_a_system_check_error_at_start():
    with override_settings(GRAPHVIZ_DOT="/nonexistent/dot"):
        with pytest.raises(SystemCheckError, match="maps.E001.*Graphviz's dot was not found"):
            call_command("check")


def test_the_installed_dot_passes_the_check():
    call_command("check")


def _deploy_warnings() -> list[str]:
    from django.core import checks

    return [message.id for message in checks.run_checks(include_deployment_checks=True)]


def test_a_cache_in_process_memory_is_a_deploy_warning_and_redis_is_not():
    locmem = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    redis = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1"}}
    with override_settings(CACHES=locmem):
        assert "maps.W001" in _deploy_warnings()
    with override_settings(CACHES=redis):
        assert "maps.W001" not in _deploy_warnings()


# Two writers at once on an SQLite file, with the settings' own options: the second one
# has read before it writes, as every change does (the map row first).
_TWO_WRITERS = """
import threading, time
import django
django.setup()
from django.db import connection, transaction

with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE t (n integer)")
    cursor.execute("INSERT INTO t VALUES (0)")
holding, done, errors = threading.Event(), threading.Event(), []

def first():
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE t SET n = n + 1")
        holding.set()
        time.sleep(0.5)
    connection.close()

def second():
    holding.wait()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT n FROM t")
                cursor.fetchone()
                cursor.execute("UPDATE t SET n = n + 1")
    except Exception as exc:
        errors.append(str(exc))
    connection.close()

threads = [threading.Thread(target=first), threading.Thread(target=second)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with connection.cursor() as cursor:
    cursor.execute("SELECT n FROM t")
    print(errors or cursor.fetchone()[0])
"""


def test_on_sqlite_a_second_writer_waits_its_turn_instead_of_failing(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", _TWO_WRITERS],
        cwd=BASE,
        env={
            "PATH": os.environ.get("PATH", ""),
            "DJANGO_SETTINGS_MODULE": "journeymap.settings",
            "SECRET_KEY": "test-only",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'two-writers.sqlite3'}",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"  # both changes, none refused as "database is locked"
