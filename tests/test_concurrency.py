"""Eight people editing one map at once: every acknowledged edit is there or was refused
with a clear answer, nothing answers 500, orders stay a permutation.

On PostgreSQL the requests really run at the same time (threads, one connection each).
SQLite has one writer at a time, so there the same requests are sent one after another,
interleaved between the threads: the stale forms and crossed orders are the same.
"""

from __future__ import annotations

import random
import threading
from contextlib import nullcontext

import lxml.html
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from maps import changes
from maps.models import Membership, Stage, Touchpoint

from .conftest import make_user
from .web import HX

EDITORS, EDITS_EACH = 8, 25
OK = {200, 400, 409}  # saved; refused with a message (nothing changed); conflict shown


def form_values(client: Client, url: str) -> dict[str, list[str]]:
    page = client.get(url, **HX)
    assert page.status_code == 200, page.status_code
    form = lxml.html.fromstring(page.content.decode()).xpath(f'//form[@action="{url}"]')[0]
    values: dict[str, list[str]] = {}
    for name, value in form.form_values():
        values.setdefault(name, []).append(value)
    return values


class Editor(threading.Thread):
    def __init__(self, number: int, user, stage_keys: list[str], serial) -> None:
        super().__init__(name=f"editor-{number}")
        self.number, self.user, self.stage_keys, self.serial = number, user, stage_keys, serial
        self.rng = random.Random(number)
        self.statuses: list[tuple[str, int]] = []
        self.names: list[str] = []  # names of this editor's touchpoint, as acknowledged
        self.added: list[str] = []  # names of touchpoints this editor added, as acknowledged
        self.failure: BaseException | None = None

    def send(self, what: str, url: str, data: dict | None = None) -> int:
        with self.serial:
            status = self.client.post(url, data or {}, **HX).status_code
        self.statuses.append((what, status))
        return status

    def run(self) -> None:
        try:
            self.client = Client()
            with self.serial:
                self.client.force_login(self.user)
            own = reverse("touchpoint_edit", args=["acme", "crowd", f"own-{self.number}"])
            for step in range(EDITS_EACH):
                with self.serial:
                    self.one_edit(step, own)
        except BaseException as exc:  # reported by the test, not lost in the thread
            self.failure = exc
        finally:
            connection.close()

    def one_edit(self, step: int, own: str) -> None:
        kind = self.rng.choice(["rename", "move", "reorder", "add", "stage", "flow"])
        tp = f"own-{self.number}"
        if kind == "rename":
            with self.serial:
                values = form_values(self.client, own)
            name = f"Editor {self.number} edit {step}"
            if self.send(kind, own, {**values, "name": [name]}) == 200:
                self.names.append(name)
        elif kind == "move":
            direction = self.rng.choice(["up", "down", "left", "right"])
            self.send(kind, reverse("touchpoint_move", args=["acme", "crowd", tp, direction]))
        elif kind == "reorder":
            stage = self.rng.choice(self.stage_keys)
            keys = list(Touchpoint.objects.filter(map__key="crowd", stage__key=stage).values_list("key", flat=True))
            self.rng.shuffle(keys)
            self.send(kind, reverse("touchpoint_reorder", args=["acme", "crowd"]), {"stage": stage, "order": keys})
        elif kind == "add":
            stage = self.rng.choice(self.stage_keys)
            name = f"Added by {self.number} at {step}"
            if (
                self.send(
                    kind,
                    reverse("touchpoint_create", args=["acme", "crowd", stage]),
                    {"name": name, "stage": Stage.objects.get(map__key="crowd", key=stage).pk},
                )
                == 200
            ):
                self.added.append(name)
        elif kind == "stage":
            stage = self.rng.choice(self.stage_keys)
            self.send(kind, reverse("stage_move", args=["acme", "crowd", stage, self.rng.choice(["left", "right"])]))
        else:
            target = f"own-{(self.number + 1) % EDITORS}"
            self.send(kind, reverse("flow_add", args=["acme", "crowd", tp]), {"target": target})


@pytest.fixture
def crowd_map(transactional_db, workspace, owner):
    journey_map = workspace.maps.create(key="crowd", name="Workshop")
    stages = [Stage.objects.create(map=journey_map, key=f"s{i}", name=f"Stage {i}", order=i) for i in range(4)]
    for n in range(EDITORS):
        Touchpoint.objects.create(map=journey_map, stage=stages[n % 4], key=f"own-{n}", name=f"Start {n}", order=n // 4)
    changes.record_creation(journey_map, owner)
    return journey_map


def test_eight_editors_at_once_lose_nothing_and_never_get_a_server_error(crowd_map, workspace):
    users = []
    for n in range(EDITORS):
        user = make_user(f"editor{n}")
        Membership.objects.create(workspace=workspace, user=user, role=Membership.EDITOR)
        users.append(user)
    serial = threading.RLock() if connection.vendor == "sqlite" else nullcontext()
    editors = [Editor(n, user, [f"s{i}" for i in range(4)], serial) for n, user in enumerate(users)]
    for editor in editors:
        editor.start()
    for editor in editors:
        editor.join(timeout=600)
    for editor in editors:
        assert editor.failure is None, f"{editor.name}: {editor.failure!r}"
        bad = [(what, status) for what, status in editor.statuses if status not in OK]
        assert not bad, f"{editor.name} got {bad}"
    assert sum(len(editor.statuses) for editor in editors) == EDITORS * EDITS_EACH
    touchpoints = {tp.key: tp for tp in Touchpoint.objects.filter(map=crowd_map)}
    for editor in editors:
        if editor.names:  # each editor is the only one renaming their own touchpoint
            assert touchpoints[f"own-{editor.number}"].name == editor.names[-1]
    names = {tp.name for tp in touchpoints.values()}
    assert all(name in names for editor in editors for name in editor.added)
    stage_orders = sorted(Stage.objects.filter(map=crowd_map).values_list("order", flat=True))
    assert stage_orders == list(range(4))
    for stage in Stage.objects.filter(map=crowd_map):
        orders = sorted(stage.touchpoints.values_list("order", flat=True))
        assert orders == list(range(len(orders))), f"{stage.key}: {orders}"
    crowd_map.refresh_from_db()
    assert crowd_map.revisions.count() == crowd_map.version


def at_once(serial, *calls) -> list:
    """Run the calls in threads started together; their results in order."""
    results: list = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int, call) -> None:
        try:
            barrier.wait()
            with serial:
                results[index] = call()
        except BaseException as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_the_same_add_form_sent_twice_at_once_adds_one_touchpoint(crowd_map, owner):
    serial = threading.RLock() if connection.vendor == "sqlite" else nullcontext()
    client = Client()
    client.force_login(owner)
    url = reverse("touchpoint_create", args=["acme", "crowd", "s0"])
    values = form_values(client, url)
    values["name"] = ["Webinar"]
    statuses = at_once(serial, *[lambda: client.post(url, values, **HX).status_code] * 2)
    assert statuses == [200, 200]
    assert Touchpoint.objects.filter(map=crowd_map, name="Webinar").count() == 1


def test_two_people_adding_the_same_name_at_once_both_get_their_touchpoint(crowd_map, owner, workspace):
    serial = threading.RLock() if connection.vendor == "sqlite" else nullcontext()
    other = make_user("zoe")
    Membership.objects.create(workspace=workspace, user=other, role=Membership.EDITOR)
    clients = []
    url = reverse("touchpoint_create", args=["acme", "crowd", "s0"])
    for user in (owner, other):
        client = Client()
        client.force_login(user)
        values = form_values(client, url)
        values["name"] = ["Webinar"]
        clients.append((client, values))
    statuses = at_once(serial, *[lambda c=c, v=v: c.post(url, v, **HX).status_code for c, v in clients])
    assert statuses == [200, 200]
    keys = sorted(Touchpoint.objects.filter(map=crowd_map, name="Webinar").values_list("key", flat=True))
    assert keys == ["webinar", "webinar-2"]
