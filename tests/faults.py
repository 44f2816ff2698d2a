"""`make faults`: concurrent editors against gunicorn while PostgreSQL restarts.

A throwaway PostgreSQL cluster (initdb in a temporary directory, on a free port of
127.0.0.1), migrated and seeded with one map; gunicorn (2 sync workers) against it; a
bounded number of editors, each a thread with its own session, adding touchpoints with
unique keys and renaming their own through the app's forms (CSRF token, version and
what-you-saw fields as the page sends them; half of them as htmx). PostgreSQL is
restarted once in the middle (`pg_ctl restart -m fast`), the editors keep going, then
the database is read and compared with what the app acknowledged:

    edits acknowledged, edits found, errors seen (by status), served again after the restart

Exit status 1 when an acknowledged edit is missing or the app does not serve again
after the restart (without a restart of its own); 2 when the run could not be set up.
The cluster, gunicorn and the directory are removed whatever happens.

    python -m tests.faults [--editors 6] [--seconds 40]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.bench import BASE_DIR, _free_port, _live_env, _started, _wait_until_up

WORKERS = 2
DATABASE = "journeymap"
WORKSPACE = "faults"
MAP = "restart"
STAGE = "try"
PASSWORD = "faults-only-password"
REDIS_FALLBACK = "redis://127.0.0.1:6379/10"


# --- bookkeeping (tests/test_faults.py runs it) ----------------------------------------


@dataclass(frozen=True)
class Edit:
    """One edit the app acknowledged: a touchpoint `key` added (named `name`), or the
    touchpoint `key` renamed to `name`. Each touchpoint is renamed at most once, so each
    fact stays true whatever else was saved."""

    kind: str  # "add" or "rename"
    key: str
    name: str


def missing(acknowledged: list[Edit], found: dict[str, str]) -> list[Edit]:
    """The acknowledged edits the database does not show. `found` is {key: name} of the
    map's touchpoints. An added touchpoint must exist (it may have been renamed since);
    a renamed one must carry its new name."""
    lost = []
    for edit in acknowledged:
        if edit.kind == "add":
            ok = edit.key in found
        elif edit.kind == "rename":
            ok = found.get(edit.key) == edit.name
        else:
            raise ValueError(f"unknown edit kind {edit.kind!r}")
        if not ok:
            lost.append(edit)
    return lost


@dataclass
class Tally:
    """What the editors saw: acknowledged edits, and the errors by what answered."""

    acknowledged: list[Edit] = field(default_factory=list)
    errors: collections.Counter = field(default_factory=collections.Counter)
    # (monotonic time it was sent, ok) of every request, to tell what happened after the restart.
    answers: list[tuple[float, bool]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, sent: float, ok: bool, error: str = "") -> None:
        with self.lock:
            self.answers.append((sent, ok))
            if error:
                self.errors[error] += 1

    def refused(self, error: str) -> None:
        """An answer that came back well but did not save (counted once, as an error)."""
        with self.lock:
            self.errors[error] += 1

    def acknowledge(self, edit: Edit) -> None:
        with self.lock:
            self.acknowledged.append(edit)

    def since(self, moment: float) -> tuple[int, int]:
        """(requests that worked, requests that failed) of those sent after `moment`."""
        with self.lock:
            later = [ok for at, ok in self.answers if at >= moment]
        return sum(later), len(later) - sum(later)


def report(
    tally: Tally,
    found: dict[str, str],
    back_at: float | None,
    served_again: bool,
    idle_failures: tuple[int, int] | None = None,
) -> tuple[list[str], bool]:
    """The lines to print and whether the run passed: every acknowledged edit found, the
    app serving again, and (when measured) no first request failing after an idle restart."""
    lost = missing(tally.acknowledged, found)
    kinds = collections.Counter(edit.kind for edit in tally.acknowledged)
    lines = [
        f"edits acknowledged: {len(tally.acknowledged)} ({kinds['add']} added, {kinds['rename']} renamed)",
        f"edits found:        {len(tally.acknowledged) - len(lost)} of them in the database",
        "errors seen:        "
        + (", ".join(f"{what} x{count}" for what, count in sorted(tally.errors.items())) or "none"),
    ]
    if back_at is not None:
        worked, failed = tally.since(back_at)
        lines.append(f"after the restart:  {worked} requests answered, {failed} failed (sent once pg_ctl said ready)")
    lines.append(f"served again:       {'yes' if served_again else 'NO'} (without a restart of gunicorn)")
    idle_ok = True
    if idle_failures is not None:
        failed, sent = idle_failures
        idle_ok = failed == 0
        lines.append(
            f"idle restart:       {failed} of {sent} first requests failed after a second restart while no one edited"
        )
    for edit in lost[:20]:
        lines.append(f"MISSING: {edit.kind} {edit.key} {edit.name!r}")
    return lines, not lost and served_again and idle_ok


# --- the editors -----------------------------------------------------------------------


class Editor(threading.Thread):
    """One person: signs in, then adds touchpoints and renames each of them once."""

    def __init__(self, number: int, host: str, tally: Tally, stop: threading.Event, limit: int) -> None:
        super().__init__(daemon=True, name=f"editor-{number}")
        import requests

        self.number, self.host, self.tally, self.stop, self.limit = number, host, tally, stop, limit
        self.session = requests.Session()
        self.added: list[str] = []  # keys added and acknowledged, not renamed yet
        self.count = 0

    def run(self) -> None:
        while not self.stop.is_set() and not self._signed_in():
            time.sleep(0.5)
        while not self.stop.is_set() and self.count < self.limit:
            self.count += 1
            htmx = self.count % 2 == 0
            if self.added and self.count % 3 == 0:
                self._rename(self.added.pop(0), htmx)
            else:
                self._add(htmx)
            time.sleep(0.05)

    def _request(self, method: str, path: str, **kwargs):
        import requests

        sent = time.monotonic()
        try:
            response = self.session.request(method, self.host + path, allow_redirects=False, timeout=30, **kwargs)
        except requests.RequestException as exc:
            self.tally.answered(sent, False, f"{method} {type(exc).__name__}")
            return None
        ok = response.status_code < 400
        self.tally.answered(sent, ok, "" if ok else f"{method} {response.status_code}")
        return response

    def _signed_in(self) -> bool:
        page = self._request("GET", "/accounts/login/")
        if page is None or page.status_code != 200:
            return False
        values = _form_values(page.text, "/accounts/login/")
        values.update(username=f"editor-{self.number}", password=PASSWORD)
        done = self._request("POST", "/accounts/login/", data=values)
        return done is not None and done.status_code == 302

    def _form(self, path: str) -> dict | None:
        page = self._request("GET", path)
        if page is None or page.status_code != 200:
            return None
        return _form_values(page.text, path)

    def _post(self, path: str, values: dict, htmx: bool, edit: Edit) -> None:
        headers = {"HX-Request": "true"} if htmx else {}
        answer = self._request("POST", path, data=values, headers=headers)
        if answer is None:
            return
        if htmx:
            saved = answer.status_code == 200 and "journeymap-saved" in answer.headers.get("HX-Trigger", "")
        else:
            saved = answer.status_code == 302 and answer.headers.get("Location") == f"/w/{WORKSPACE}/m/{MAP}/"
        if saved:
            self.tally.acknowledge(edit)
            if edit.kind == "add":
                self.added.append(edit.key)
        elif answer.status_code < 400:
            # A form shown again (its errors, a clash): not saved, and said so.
            self.tally.refused(f"POST {answer.status_code} not saved")

    def _add(self, htmx: bool) -> None:
        path = f"/w/{WORKSPACE}/m/{MAP}/s/{STAGE}/touchpoints/new/"
        values = self._form(path)
        if values is None:
            return
        key = f"e{self.number}-{self.count}"
        values.update(name=f"Editor {self.number} touchpoint {self.count}", key=key)
        self._post(path, values, htmx, Edit("add", key, values["name"]))

    def _rename(self, key: str, htmx: bool) -> None:
        path = f"/w/{WORKSPACE}/m/{MAP}/t/{key}/"
        values = self._form(path)
        if values is None:
            self.added.insert(0, key)  # try this one again later
            return
        name = f"Editor {self.number} renamed {key}"
        values["name"] = name
        self._post(path, values, htmx, Edit("rename", key, name))


def _form_values(page: str, action: str) -> dict:
    """What a browser sends for the form posting to `action` (or to its own page),
    unchanged: every input's value, empty ones too (hidden ones included: CSRF token,
    version, what-you-saw), ticked boxes, selected options, text areas."""
    import lxml.html

    doc = lxml.html.fromstring(page)
    forms = [f for f in doc.forms if (f.get("action") or "") in (action, "")]
    if not forms:
        raise RuntimeError(f"no form posts to {action}")
    values: dict = {}

    def add(name: str, value: str) -> None:
        if name in values:
            values[name] = [*values[name], value] if isinstance(values[name], list) else [values[name], value]
        else:
            values[name] = value

    for el in forms[0].xpath(".//input[@name] | .//select[@name] | .//textarea[@name]"):
        if el.get("disabled") is not None or el.xpath("ancestor::fieldset[@disabled]"):
            continue
        name = el.get("name")
        if el.tag == "textarea":
            add(name, el.text or "")
        elif el.tag == "select":
            chosen = el.xpath(".//option[@selected]") or (
                [] if el.get("multiple") is not None else el.xpath(".//option[1]")
            )
            for option in chosen:
                add(name, option.get("value", option.text or ""))
        else:
            kind = (el.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "file", "image"):
                continue
            if kind in ("checkbox", "radio") and el.get("checked") is None:
                continue
            add(name, el.get("value", "on" if kind in ("checkbox", "radio") else ""))
    return values


# --- PostgreSQL and gunicorn -----------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of its own in `directory`, as the postgres user when we are
    root (PostgreSQL refuses to run as root)."""

    def __init__(self, directory: str) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        found = shutil.which("pg_ctl")
        if binaries:
            self.bin = Path(binaries[-1]).parent
        elif found:
            self.bin = Path(found).parent
        else:
            raise RuntimeError("PostgreSQL's pg_ctl and initdb are not installed (apt-get install postgresql)")
        self.data = os.path.join(directory, "pgdata")
        self.log = os.path.join(directory, "postgres.log")
        self.port = _free_port()
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("PostgreSQL refuses to run as root, and there is no postgres user") from None
            os.chown(directory, self.user.pw_uid, self.user.pw_gid)
        self.directory = directory
        self.running = False

    def _run(self, *args: str) -> None:
        kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []} if self.user else {}
        done = subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.directory,
            timeout=120,
            **kwargs,
        )
        if done.returncode:
            raise RuntimeError(f"{args[0]} failed:\n{done.stdout}{done.stderr}")

    def start(self) -> None:
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self._run(
            "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-o", self._options(), "start"
        )  # fmt: skip
        self.running = True

    def _options(self) -> str:
        return f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"

    def restart(self) -> None:
        # -l as at the start: without it the new server writes to our pipe, which never closes.
        self._run("pg_ctl", "-D", self.data, "-l", self.log, "-w", "-m", "fast", "-o", self._options(), "restart")

    def stop(self) -> None:
        if self.running:
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", self.data, "-w", "-m", "immediate", "stop")
            self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres") as db:
            db.autocommit = True
            db.execute(f"CREATE DATABASE {DATABASE}")

    def touchpoints(self) -> dict[str, str]:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=DATABASE) as db:
            rows = db.execute(
                "SELECT t.key, t.name FROM maps_touchpoint t JOIN maps_journeymap m ON m.id = t.map_id"
                " JOIN maps_workspace w ON w.id = m.workspace_id WHERE w.slug = %s AND m.key = %s",
                (WORKSPACE, MAP),
            ).fetchall()
        return dict(rows)


SEED = """
from django.contrib.auth import get_user_model
from maps.models import Department, JourneyMap, Membership, Stage, Workspace
workspace = Workspace.objects.create(slug={workspace!r}, name="Faults")
Department.objects.create(workspace=workspace, key="marketing", name="Marketing", order=0)
journey_map = JourneyMap.objects.create(workspace=workspace, key={map!r}, name="Restart")
Stage.objects.create(map=journey_map, key={stage!r}, name="Try", order=0)
for number in range({editors}):
    user = get_user_model().objects.create_user(f"editor-{{number}}", password={password!r})
    Membership.objects.create(workspace=workspace, user=user, role=Membership.EDITOR)
"""


def _redis_url() -> str:
    """REDIS_URL, else a local Redis's database 10 if one answers, else "" (local memory)."""
    import redis

    url = os.environ.get("REDIS_URL") or REDIS_FALLBACK
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except (redis.RedisError, ValueError):
        return ""
    return url


def _env(database_url: str, redis_url: str) -> dict[str, str]:
    """The server's environment, as the bench's (production settings on plain http to
    127.0.0.1), with Redis only where there is one."""
    env = _live_env(database_url, redis_url)
    if not redis_url:
        env.pop("REDIS_URL")
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"manage.py {args[0]} failed:\n{done.stdout}{done.stderr}")


def _page_statuses(session, host: str, count: int) -> list[int | str]:
    """The map page `count` times, one request after the other (each on a new TCP
    connection, so both workers get some); it reads the session, the map and the board."""
    import requests

    statuses: list[int | str] = []
    for _ in range(count):
        try:
            statuses.append(
                session.get(f"{host}/w/{WORKSPACE}/m/{MAP}/", timeout=30, allow_redirects=False).status_code
            )
        except requests.RequestException as exc:
            statuses.append(type(exc).__name__)
    return statuses


def _idle_restart(cluster: Cluster, session, host: str) -> tuple[int, int]:
    """Item 6 of issue 12: with every worker idle and holding its kept connection, restart
    PostgreSQL and count the first requests that fail (4 of 16 did without health checks)."""
    _page_statuses(session, host, 4 * WORKERS)  # every worker holds a connection again
    time.sleep(1)
    cluster.restart()
    statuses = _page_statuses(session, host, 8 * WORKERS)
    return sum(status != 200 for status in statuses), len(statuses)


def run(editors: int, seconds: float, limit: int) -> int:
    directory = tempfile.mkdtemp(prefix="journeymap-faults-")
    cluster = None
    try:
        cluster = Cluster(directory)
        cluster.start()
        cluster.create_database()
        redis_url = _redis_url()
        env = _env(cluster.url, redis_url)
        if redis_url:
            import redis

            redis.Redis.from_url(redis_url).flushdb()
        _manage(env, "migrate", "--noinput", "-v0")
        seed = SEED.format(workspace=WORKSPACE, map=MAP, stage=STAGE, editors=editors, password=PASSWORD)
        _manage(env, "shell", "-c", seed)
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        args = [sys.executable, "-m", "gunicorn", "journeymap.wsgi", "--workers", str(WORKERS)]
        args += ["--bind", f"127.0.0.1:{port}", "--timeout", "60"]
        log = os.path.join(directory, "gunicorn.log")
        print(
            f"faults: PostgreSQL on 127.0.0.1:{cluster.port}, gunicorn ({WORKERS} workers) on {host}, "
            f"{'Redis ' + redis_url if redis_url else 'local-memory cache'}; "
            f"{editors} editors for {seconds:.0f} s (at most {limit} edits each), "
            f"PostgreSQL restarted (pg_ctl restart -m fast) after {seconds / 2:.0f} s",
            flush=True,
        )
        with _started(args, env, log) as server:
            _wait_until_up(host + "/accounts/login/", server, log)
            tally, stop = Tally(), threading.Event()
            threads = [Editor(n, host, tally, stop, limit) for n in range(editors)]
            for thread in threads:
                thread.start()
            time.sleep(seconds / 2)
            started = time.monotonic()
            cluster.restart()
            back_at = time.monotonic()
            print(f"PostgreSQL restarted in {back_at - started:.1f} s", flush=True)
            time.sleep(seconds / 2)
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            session = threads[0].session
            served_again = (
                tally.since(back_at)[0] > 0
                and _page_statuses(session, host, 2 * WORKERS) == [200] * 2 * WORKERS
                and server.poll() is None
            )
            found = cluster.touchpoints()
            idle = _idle_restart(cluster, session, host)
            lines, passed = report(tally, found, back_at, served_again, idle)
            errors_in_log = Path(log).read_text().count("database unavailable, answered 503")
        for line in lines:
            print(line)
        print(f"gunicorn logged {errors_in_log} 'database unavailable' answers")
        print("PASS" if passed else "FAIL")
        return 0 if passed else 1
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"faults: could not run: {exc}", file=sys.stderr)
        return 2
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    # A plain kill (or timeout) stops the run through its finally blocks: nothing is left.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--limit", type=int, default=150, help="most edits per editor")
    options = parser.parse_args()
    sys.exit(run(options.editors, options.seconds, options.limit))


if __name__ == "__main__":
    main()
