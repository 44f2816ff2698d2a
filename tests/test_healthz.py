"""/healthz for load balancers: 200 with JSON when the database and the cache answer, 503
when one does not; no session is read or made."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.urls import reverse

pytestmark = pytest.mark.django_db

HEALTHZ = reverse("healthz")


def test_healthz_answers_ok_in_json(client):
    response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {"status": "ok", "database": "ok", "cache": "ok"}
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_neither_reads_nor_sets_a_session(client, owner, django_assert_num_queries):
    client.force_login(owner)
    with django_assert_num_queries(1):  # SELECT 1, and not the session or the user
        response = client.get(HEALTHZ)
    assert response.status_code == 200
    assert not response.cookies


def test_healthz_answers_503_when_the_cache_cannot_be_reached(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1.
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1},
        }
    }
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "database": "ok", "cache": "unreachable"}


def test_healthz_answers_503_when_the_database_cannot_be_reached(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get(HEALTHZ)
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "unavailable", "database": "unreachable", "cache": "ok"}


def test_healthz_is_not_sent_to_https(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(HEALTHZ).status_code == 200
    assert client.get(reverse("login")).status_code == 301
