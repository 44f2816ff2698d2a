"""Shared fixtures: a workspace with an owner, an editor, a viewer, a stranger from
another workspace, and one small map that uses every kind of object."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation

from maps.models import (
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    JourneyMap,
    MapPersona,
    Membership,
    Metric,
    Persona,
    Stage,
    Touchpoint,
    Workspace,
)

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Passwords hashed with a fast hasher: production's PBKDF2 takes 0.4 s a password on
    this machine, and the fixtures make several people per test. Signing in, locking out
    and the password rules behave the same; `check --deploy` (tests/test_production.py)
    runs the production settings in a process of its own."""
    from django.conf import settings
    from django.contrib.auth import hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    hashers.get_hashers.cache_clear()
    hashers.get_hashers_by_algorithm.cache_clear()
    yield


@pytest.fixture(autouse=True)
def _english_between_tests():
    """A request in Japanese leaves its thread speaking Japanese (LocaleMiddleware
    activates and never deactivates): each test starts and ends in English."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache. Ids are used again from one run (or test)
    to the next, and a Redis cache outlives the test database: a share link's lock or a
    map's live stamp must not pass to the next owner of its id. (Failed sign-ins and
    sign-in locks are not in the cache: django-axes keeps them in the database, which each
    test gets back empty, so no test is locked out by another's wrong passwords.)"""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """Production serves hashed files from `collectstatic`; tests read static/ as it is."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def make_user(username: str):
    return get_user_model().objects.create_user(username, f"{username}@example.com", PASSWORD)


@pytest.fixture
def workspace(db) -> Workspace:
    return Workspace.objects.create(slug="acme", name="Acme")


@pytest.fixture
def owner(workspace):
    user = make_user("alice")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.OWNER)
    return user


@pytest.fixture
def editor(workspace):
    user = make_user("bob")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.EDITOR)
    return user


@pytest.fixture
def viewer(workspace):
    user = make_user("charlie")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.VIEWER)
    return user


@pytest.fixture
def stranger(db):
    other = Workspace.objects.create(slug="elsewhere", name="Elsewhere")
    user = make_user("mallory")
    Membership.objects.create(workspace=other, user=user, role=Membership.OWNER)
    return user


@pytest.fixture
def small_map(workspace) -> JourneyMap:
    """Two stages, three touchpoints, two personas, two content assets.

    Awareness is complete for the CFO; Decision lacks content for the IT lead,
    so the map has a content gap to find.
    """
    marketing = Department.objects.create(workspace=workspace, key="marketing", name="Marketing", order=0)
    sales = Department.objects.create(workspace=workspace, key="sales", name="Sales", order=1)
    Department.objects.create(workspace=workspace, key="service", name="Service", order=2)
    dm = BuyingRole.objects.create(workspace=workspace, key="decision-maker", name="Decision maker", order=0)
    te = BuyingRole.objects.create(workspace=workspace, key="technical-evaluator", name="Technical evaluator", order=1)
    cfo = Persona.objects.create(workspace=workspace, key="cfo", name="Carla CFO", role=dm, influence=5, order=0)
    it = Persona.objects.create(workspace=workspace, key="it-lead", name="Ivan IT", role=te, influence=3, order=1)
    guide = ContentAsset.objects.create(
        workspace=workspace,
        key="guide",
        title="Buyer's guide",
        type="ebook",
        status=ContentAsset.LIVE,
        last_reviewed=datetime.date.today(),
        order=0,
    )
    calc = ContentAsset.objects.create(
        workspace=workspace,
        key="roi-calc",
        title="ROI calculator",
        type="tool",
        status=ContentAsset.LIVE,
        last_reviewed=datetime.date.today(),
        order=1,
    )
    guide.personas.set([cfo, it])
    calc.personas.set([cfo])

    jm = JourneyMap.objects.create(workspace=workspace, key="launch", name="Launch journey")
    awareness = Stage.objects.create(
        map=jm,
        key="awareness",
        name="Awareness",
        lead=marketing,
        order=0,
        entered=1000,
        converted=200,
        target_conversion=0.1,
        handoff_sla="MQL within 2 days",
    )
    decision = Stage.objects.create(map=jm, key="decision", name="Decision", lead=sales, order=1)
    awareness.contributors.set([sales])
    awareness.required_roles.set([dm])
    decision.required_roles.set([dm, te])
    awareness.content.set([guide])
    decision.content.set([calc])
    Metric.objects.create(stage=awareness, name="Visits", target=5000, actual=4200)

    MapPersona.objects.create(map=jm, persona=cfo, order=0)
    it_entry = MapPersona.objects.create(map=jm, persona=it, order=1)
    it_entry.stages.set([decision])

    ad = Touchpoint.objects.create(
        map=jm, stage=awareness, key="ad", name="LinkedIn ad", channel="social", owner=marketing, emotion=1, order=0
    )
    webinar = Touchpoint.objects.create(
        map=jm, stage=awareness, key="webinar", name="Webinar", channel="online", owner=marketing, emotion=0, order=1
    )
    demo = Touchpoint.objects.create(
        map=jm, stage=decision, key="demo", name="Live demo", channel="video call", owner=sales, emotion=-1, order=0
    )
    ad.personas.set([cfo])
    webinar.personas.set([cfo, it])
    demo.personas.set([cfo, it])
    webinar.content.set([guide])
    Flow.objects.create(source=ad, target=webinar, order=0)
    Flow.objects.create(source=webinar, target=demo, order=0)
    return jm
