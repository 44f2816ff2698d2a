"""People with the demo map open, for locust: viewers who only watch it, and editors (one,
or BENCH_EDITORS).

A Viewer signs in through the login form, opens `/w/demo/m/acme-b2b/` and then does what
the page's htmx and static/js/live.js do: polls `<map>/live/` every 2 s with the pass,
stamp and presence the page carries, and after a poll whose HX-Trigger names a change,
fetches the regions of the map page that listen for it. The Editor (the demo owner)
has the same page open and moves one touchpoint up or down about once a second, with
the board's own button (`touchpoint_move`); its page refreshes after its own change too.

`make bench` drives this file through `main()` (tests/bench.py starts it against a
throwaway server); it also runs by itself against any server holding the demo and the
bench's viewers (bench-viewer-001 …):

    locust -f tests/locustfile.py --host http://127.0.0.1:8000 --headless -u 11 -r 5 -t 20s --only-summary
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import os
import re
import sys
import time

import gevent
import psutil
from locust import FastHttpUser, constant_pacing, events, task
from locust.exception import StopUser

MAP_URL = "/w/demo/m/acme-b2b/"
EDITOR = (os.environ.get("BENCH_EDITOR", "demo"), os.environ.get("BENCH_EDITOR_PASSWORD", "demo-journeymap"))
VIEWER_NAME = os.environ.get("BENCH_VIEWER_NAME", "bench-viewer-{:03d}")
VIEWER_PASSWORD = os.environ.get("BENCH_VIEWER_PASSWORD", "bench-viewer-password")
POLL_EVERY = 2.0  # seconds: hx-trigger="every 2s" in templates/maps/_live_box.html
EDIT_EVERY = 1.0
EDIT_NAME = "edit: move touchpoint"
POLL_NAME = "poll live/"

# What the map page fetches by itself, and when (the hx-trigger of #board in _board.html,
# #gaps in map_base.html, #diagram and #vote-latest in map_detail.html):
# region id -> (url below the map, the events it listens for; "load": once the page is there).
REGIONS = {
    "board": ("board/", ("map-changed", "comments-changed")),
    "gaps": ("gaps/", ("map-changed", "comments-changed")),
    "diagram": ("diagram/?view=stages", ("load", "map-changed")),
    "vote-latest": ("votes/latest/", ("load", "votes-changed")),
}

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_CSRF_HEADER = re.compile(r'"X-CSRFToken": "([^"]+)"')
_LIVE_URL = re.compile(r'id="live" hx-get="([^"]+)"')
_LIVE_STATE = re.compile(r'<span id="live-state" data-stamp="([^"]*)" data-presence="([^"]*)"')
# A fragment that answers "not ready yet, asking again" (_diagram_drawing.html: 202 while
# another request draws the same diagram) carries its own hx-get with a load trigger.
_ASK_AGAIN = re.compile(r'hx-get="([^"]+)" hx-trigger="load(?: delay:(\d+(?:\.\d+)?)(ms|s))?"')
_MOVE_DOWN = re.compile(r'hx-post="([^"]+/t/[^/"]+/)move/down/"[^>]*aria-label="[^"]*"\s*>')
# The stamp the board shows (static/js/live.js sends it: `since` on the board's refresh,
# X-Board-Stamp on a change; answers bring the next one in X-Board-Stamp).
_COLUMN = re.compile(r'<div class="col stage-col" id="col-([^"]+)"')
_BOARD_STAMP = re.compile(r'<div id="board"[^>]*data-stamp="([^"]*)"')
# The gap list's digest (its first element; live.js sends it: `since` on the list's
# refresh, X-Gaps-Digest on a change, and the list is not sent again while it is the same).
_GAPS_DIGEST = re.compile(r'data-gaps-digest="([^"]*)"')
# Editors (the demo owner, each moving a touchpoint of its own): 1, or as `make bench`'s
# workshop mix says.
EDITORS = int(os.environ.get("BENCH_EDITORS", "1"))

_viewer_numbers = itertools.count(1)
_editor_numbers = itertools.count(0)
_arrived = {"pages": 0}  # pages that have finished opening, well or not (the driver waits for them)
# Polls that brought events this load never causes (only map-changed): someone else writes
# to the map, or the cache lost the live state (a flush of a shared Redis database).
_foreign = {"polls": 0}


class MapPage:
    """One browser tab with the map page open: its pass, stamp, presence, CSRF token and
    the diagram's ETag (the browser's cache revalidates the diagram with If-None-Match)."""

    def __init__(self, user: FastHttpUser, username: str, password: str) -> None:
        self.client = user.client
        self.username, self.password = username, password
        self.live_url = self.stamp = self.presence = self.csrf = self.diagram_etag = self.board_stamp = ""
        self.gaps_digest = ""
        self.html = ""  # the page as first drawn
        # htmx sends one request per element at a time and keeps the last one asked for
        # meanwhile: the regions with a request on the way, and those asked for again.
        self.in_flight: set[str] = set()
        self.queued: set[str] = set()
        self.fetches: dict[str, int] = {}  # per region: a newer answer replaces an "asking again"

    def open(self) -> None:
        """Sign in through the form, open the map page, fetch what it loads by itself."""
        try:
            self._open()
        finally:
            _arrived["pages"] += 1

    def _open(self) -> None:
        with self.client.get("/accounts/login/", name="sign in: form", catch_response=True) as response:
            found = _CSRF_INPUT.search(response.text or "")
            if not found:
                response.failure("no CSRF token on the login form")
                raise StopUser()
        form = {"username": self.username, "password": self.password, "csrfmiddlewaretoken": found[1], "next": MAP_URL}
        with self.client.post(
            "/accounts/login/", data=form, name="sign in: post", allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 302 or response.headers.get("Location") != MAP_URL:
                response.failure(f"sign-in answered {response.status_code}, not a redirect to the map")
                raise StopUser()
        with self.client.get(MAP_URL, name="open map page", catch_response=True) as response:
            self._read_page(response)
        self.fire(["load"])

    def _read_page(self, response) -> None:
        text = response.text or ""
        live_url, state, csrf = _LIVE_URL.search(text), _LIVE_STATE.search(text), _CSRF_HEADER.search(text)
        if not (live_url and state and csrf):
            response.failure("the map page has no #live poll, #live-state or CSRF header")
            raise StopUser()
        self.live_url = html.unescape(live_url[1])
        self.stamp, self.presence = html.unescape(state[1]), html.unescape(state[2])
        self.csrf = csrf[1]
        self.html = text
        self.read_board_stamp(response)

    def read_board_stamp(self, response) -> None:
        digest = _GAPS_DIGEST.search(response.text or "")
        if digest:
            self.gaps_digest = digest[1]
        found = response.headers.get("X-Board-Stamp")
        if not found:
            shown = _BOARD_STAMP.search(response.text or "")
            found = shown and html.unescape(shown[1])
        if found:
            self.board_stamp = found

    def poll(self) -> None:
        """One tick of hx-trigger="every 2s": 204 while nothing changed; else the next
        stamp and presence come back out of band, with the events that refresh regions."""
        params = {"stamp": self.stamp, "presence": self.presence}
        headers = {"HX-Request": "true", "HX-Target": "live", "HX-Trigger": "live", "HX-Current-URL": MAP_URL}
        with self.client.get(
            self.live_url, params=params, headers=headers, name=POLL_NAME, catch_response=True
        ) as response:
            if response.status_code == 204:
                return
            state = _LIVE_STATE.search(response.text or "")
            if response.status_code != 200 or not state:
                response.failure(f"poll answered {response.status_code}")
                return
            self.stamp, self.presence = html.unescape(state[1]), html.unescape(state[2])
            fired = list(json.loads(response.headers.get("HX-Trigger") or "{}"))
        if set(fired) - {"map-changed"}:
            _foreign["polls"] += 1
        self.fire(fired)

    def fire(self, fired: list[str]) -> None:
        """The events reach the page: each region listening for one fetches itself, beside
        the poll (which goes on every 2 s). A region asked again while its request is on
        the way fetches once more after it, as htmx queues the last request of an element:
        one listening for two events that come together fetches twice."""
        for event in fired:
            for region, (_, listens) in REGIONS.items():
                if event not in listens:
                    continue
                if region in self.in_flight:
                    self.queued.add(region)
                else:
                    self.in_flight.add(region)
                    gevent.spawn(self._refresh, region)

    def _refresh(self, region: str) -> None:
        try:
            self._fetch(region)
            while region in self.queued:
                self.queued.discard(region)
                self._fetch(region)
        finally:
            self.in_flight.discard(region)

    def _fetch(self, region: str) -> None:
        path, _ = REGIONS[region]
        self.fetches[region] = self.fetches.get(region, 0) + 1
        headers = {"HX-Target": region, "HX-Trigger": region}
        url = MAP_URL + path
        if region == "board" and self.board_stamp:
            url += "?since=" + self.board_stamp
        if region == "gaps" and self.gaps_digest:
            url += "?since=" + self.gaps_digest
        self._get(region, url, headers, f"refresh {region}")

    def _get(self, region: str, url: str, headers: dict[str, str], name: str) -> None:
        headers = {"HX-Request": "true", "HX-Current-URL": MAP_URL, **headers}
        if region == "diagram" and self.diagram_etag:
            # The browser's cache revalidates what it holds (ETag, Cache-Control: no-cache).
            headers["If-None-Match"] = self.diagram_etag
        with self.client.get(url, headers=headers, name=name, catch_response=True) as response:
            if response.status_code == 304:
                response.success()
                return
            if not 200 <= response.status_code < 300:
                response.failure(f"{region} answered {response.status_code}")
                return
            if region == "diagram" and response.headers.get("ETag"):
                self.diagram_etag = response.headers["ETag"]
            if region in ("board", "gaps"):
                self.read_board_stamp(response)
            again = _ASK_AGAIN.search(response.text or "")
        if again:
            delay = float(again[2] or 0) / (1000 if again[3] == "ms" else 1)
            gevent.spawn(self._ask_again, region, html.unescape(again[1]), delay, self.fetches.get(region, 0))

    def _ask_again(self, region: str, url: str, delay: float, fetch: int) -> None:
        gevent.sleep(delay)
        if self.fetches.get(region, 0) == fetch:  # not replaced by a newer refresh meanwhile
            self._get(region, url, {}, f"refresh {region}: asked again")


class Viewer(FastHttpUser):
    """Has the map open and only watches it."""

    wait_time = constant_pacing(POLL_EVERY)
    weight = 1

    def on_start(self) -> None:
        self.page = MapPage(self, VIEWER_NAME.format(next(_viewer_numbers)), VIEWER_PASSWORD)
        self.page.open()

    @task
    def poll(self) -> None:
        self.page.poll()


class Editor(FastHttpUser):
    """The demo owner, moving one touchpoint down and up again about once a second, with
    the page's own poll running beside it (as the browser's timer does)."""

    wait_time = constant_pacing(EDIT_EVERY)
    fixed_count = EDITORS

    def on_start(self) -> None:
        self.page = MapPage(self, *EDITOR)
        self.page.open()
        # Each editor its own touchpoint, each in a stage of its own (two moving cards of
        # one stage would move each other's): the first movable card of the n-th stage.
        columns = [(m.start(), m[1]) for m in _COLUMN.finditer(self.page.html)]
        first_of_stage: dict[str, str] = {}
        for move in _MOVE_DOWN.finditer(self.page.html):
            stage = [key for start, key in columns if start < move.start()][-1]
            first_of_stage.setdefault(stage, move[1])
        number = next(_editor_numbers)
        if len(first_of_stage) <= number:
            raise StopUser()
        self.touchpoint_url = html.unescape(list(first_of_stage.values())[number])
        self.directions = itertools.cycle(["down", "up"])
        self.poller = gevent.spawn(self._poll_forever)

    def on_stop(self) -> None:
        poller = getattr(self, "poller", None)
        if poller is not None:
            poller.kill(block=False)

    def _poll_forever(self) -> None:
        while True:
            started = time.monotonic()
            self.page.poll()
            gevent.sleep(max(0.0, POLL_EVERY - (time.monotonic() - started)))

    @task
    def move(self) -> None:
        direction = next(self.directions)
        headers = {
            "HX-Request": "true",
            "HX-Current-URL": MAP_URL,
            "X-CSRFToken": self.page.csrf,
            "Referer": self.host + MAP_URL,
            "X-Board-Stamp": self.page.board_stamp,
            "X-Gaps-Digest": self.page.gaps_digest,
        }
        with self.client.post(
            f"{self.touchpoint_url}move/{direction}/", headers=headers, name=EDIT_NAME, catch_response=True
        ) as response:
            if response.status_code != 200 or "journeymap-saved" not in (response.headers.get("HX-Trigger") or ""):
                response.failure(f"move {direction} answered {response.status_code}: {(response.text or '')[:80]}")
                return
            fired = list(json.loads(response.headers.get("HX-Trigger-After-Settle") or "{}"))
            self.page.read_board_stamp(response)
        # The answer's own map-changed refreshes the editor's page, like the others' polls do.
        self.page.fire(fired)


# --- the bench's driver --------------------------------------------------------------------
# tests/bench.py runs `python -m tests.locustfile --host … --steps 0,10,25,…` and reads one
# JSON line per step. Users stay between steps: each signs in once (a login costs the
# server a quarter of a second of PBKDF2), and a step only adds viewers.


def _cpu_seconds(processes) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # a worker restarted
            continue
        total += times.user + times.system
    return total


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent on anything, summed over its cores."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _step(env, runner, viewers: int, args, server) -> dict:
    """Viewers up to `viewers` (and the editors), a pause for their arrival to settle,
    then `args.window` seconds measured from fresh statistics."""
    runner.start(viewers + EDITORS, spawn_rate=args.spawn_rate)
    if runner.spawning_greenlet is not None:
        runner.spawning_greenlet.join()
    deadline = time.monotonic() + 120
    while _arrived["pages"] < viewers + EDITORS and time.monotonic() < deadline:
        gevent.sleep(0.2)  # the sign-ins: a quarter of a second of the server's CPU each
    gevent.sleep(args.settle)  # everyone's presence has changed with each arrival
    arrival_errors = {f"{e.name}: {e.error}": e.occurrences for e in env.stats.errors.values()}
    env.stats.reset_all()
    _foreign["polls"] = 0
    workers = server.children() if server else []
    me = psutil.Process()
    cpu_before, own_before, all_before = _cpu_seconds(workers), _cpu_seconds([me]), _busy_seconds()
    started = time.monotonic()
    gevent.sleep(args.window)
    elapsed = time.monotonic() - started
    cpu_after, own_after, all_after = _cpu_seconds(workers), _cpu_seconds([me]), _busy_seconds()
    stats = env.stats
    poll, edit = stats.get(POLL_NAME, "GET"), stats.get(EDIT_NAME, "POST")
    refreshes = sum(entry.num_requests for (name, _), entry in stats.entries.items() if name.startswith("refresh "))
    requests = {
        name: [entry.num_requests / elapsed, entry.get_response_time_percentile(0.95)]
        for (name, _), entry in sorted(stats.entries.items())
        if entry.num_requests
    }
    errors = {f"{e.name}: {e.error}": e.occurrences for e in stats.errors.values()}
    for error, count in arrival_errors.items():
        errors[error] = errors.get(error, 0) + count
    return {
        "viewers": viewers,
        "polls_per_s": poll.num_requests / elapsed,
        "poll_p95_ms": poll.get_response_time_percentile(0.95) if poll.num_requests else None,
        "refreshes_per_s": refreshes / elapsed,
        "edits": edit.num_requests,
        "edit_p50_ms": edit.get_response_time_percentile(0.5) if edit.num_requests else None,
        "edit_p95_ms": edit.get_response_time_percentile(0.95) if edit.num_requests else None,
        # The window's failures and those of the viewers' arrival (a sign-in refused, …).
        "failures": sum(errors.values()),
        "errors": errors,
        "requests": requests,  # name: [per second, p95 ms]
        "foreign_polls": _foreign["polls"],
        "server_cpu": 100 * (cpu_after - cpu_before) / elapsed,
        "locust_cpu": 100 * (own_after - own_before) / elapsed,
        # The database server, Redis, and whatever else runs on the machine.
        "other_cpu": 100 * ((all_after - all_before) - (cpu_after - cpu_before) - (own_after - own_before)) / elapsed,
    }


def main() -> None:
    from locust.env import Environment

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", required=True)
    parser.add_argument("--steps", required=True, help="viewer counts, comma separated")
    parser.add_argument("--window", type=float, default=15.0, help="seconds measured per step")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds after the last viewer joined")
    parser.add_argument("--spawn-rate", type=float, default=20.0)
    parser.add_argument("--limit-ms", type=float, default=300.0, help="stop once the edit p95 is over this")
    parser.add_argument("--budget", type=float, default=180.0, help="no new step after this many seconds")
    parser.add_argument("--server-pid", type=int, help="the app server's master: its workers' CPU is measured")
    args = parser.parse_args()

    server = psutil.Process(args.server_pid) if args.server_pid else None
    env = Environment(user_classes=[Editor, Viewer], host=args.host, events=events)
    runner = env.create_local_runner()
    started = time.monotonic()
    try:
        for viewers in (int(step) for step in args.steps.split(",")):
            step_started = time.monotonic()
            row = _step(env, runner, viewers, args, server)
            row["seconds"] = time.monotonic() - step_started
            print(json.dumps(row), flush=True)
            if row["failures"] or (row["edit_p95_ms"] or 0) > args.limit_ms or not row["edits"]:
                break
            # The next step takes about as long as this one did, plus its new sign-ins.
            if time.monotonic() - started + row["seconds"] > args.budget:
                print(json.dumps({"budget": True}), flush=True)
                break
    finally:
        runner.quit()
    sys.exit(0)


if __name__ == "__main__":
    main()
