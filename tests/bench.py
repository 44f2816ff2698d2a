"""`make bench`: how long gaps, DOT and each rendering take for big maps, and how many
people watching a map one app server holds.

The tables run in a throwaway test database (never the real one): a 10 x 50 and a
20 x 100 map with flows, then a long history. `build_map` is shared with the tests.
The live part starts a real server (gunicorn) on a throwaway database of its own and
loads it with locust (tests/locustfile.py): one editor, and more and more viewers. Then
(tests/bench_server.py) the map page's throughput next to a trivial page, and what four
people opening a map too complex to lay out do to everyone else's pages. The last part
(tests/bench_browser.py) times a save until the board and the diagram are on screen in
headless Chromium.

    python -m tests.bench
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

FORMATS = ("svg", "pdf", "png")


def build_map(workspace, stages: int, per_stage: int, extra_flows: bool = True, seed: int = 1):
    """A map with `stages` x `per_stage` touchpoints, flows along each stage and on to
    the next, and (with `extra_flows`) one random forward flow per touchpoint."""
    from maps.models import (
        BuyingRole,
        ContentAsset,
        Department,
        Flow,
        JourneyMap,
        MapPersona,
        Persona,
        Stage,
        Touchpoint,
    )

    rng = random.Random(seed)
    departments = [
        Department.objects.create(workspace=workspace, key=f"dep-{i}", name=name, order=i)
        for i, name in enumerate(["Marketing", "Sales", "Service"])
    ]
    role = BuyingRole.objects.create(workspace=workspace, key="decision-maker", name="Decision maker")
    personas = [
        Persona.objects.create(workspace=workspace, key=f"p-{i}", name=f"Persona {i}", role=role, order=i)
        for i in range(3)
    ]
    asset = ContentAsset.objects.create(workspace=workspace, key="guide", title="Guide", status=ContentAsset.LIVE)
    asset.personas.set(personas[:1])
    journey_map = JourneyMap.objects.create(
        workspace=workspace, key=f"map-{stages}x{per_stage}", name=f"Benchmark {stages} x {per_stage}"
    )
    stage_rows = Stage.objects.bulk_create(
        Stage(map=journey_map, key=f"s-{i}", name=f"Stage {i}", order=i, lead=departments[i % 3]) for i in range(stages)
    )
    for stage in stage_rows[::2]:
        stage.content.add(asset)
    for persona in personas:
        MapPersona.objects.create(map=journey_map, persona=persona, order=persona.order)
    touchpoints = Touchpoint.objects.bulk_create(
        Touchpoint(
            map=journey_map,
            stage=stage,
            key=f"t-{s}-{i}",
            name=f"Touchpoint {s}.{i}",
            channel="email",
            owner=departments[(s + i) % 3] if (s + i) % 7 else None,
            emotion=rng.randint(-2, 2),
            order=i,
        )
        for s, stage in enumerate(stage_rows)
        for i in range(per_stage)
    )
    Through = Touchpoint.personas.through
    Through.objects.bulk_create(Through(touchpoint=tp, persona=personas[n % 3]) for n, tp in enumerate(touchpoints))
    pairs = {(a.pk, b.pk) for a, b in zip(touchpoints, touchpoints[1:])}
    if extra_flows:
        for n, tp in enumerate(touchpoints[:-1]):
            pairs.add((tp.pk, touchpoints[rng.randint(n + 1, len(touchpoints) - 1)].pk))
    Flow.objects.bulk_create(Flow(source_id=a, target_id=b) for a, b in sorted(pairs))
    return journey_map


def _median_seconds(function, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _bench(stages: int, per_stage: int) -> list[str]:
    from maps.diagram import _run_dot, build_dot, build_graph_data
    from maps.gaps import find_gaps
    from maps.models import JourneyMap, Workspace

    workspace = Workspace.objects.create(slug=f"bench-{stages}-{per_stage}", name="Bench")
    pk = build_map(workspace, stages, per_stage).pk
    journey_map = JourneyMap.objects.loaded().get(pk=pk)
    gaps = find_gaps(journey_map)
    dot_source = build_dot(build_graph_data(journey_map, gaps, "stages"))
    row = [
        f"{stages} x {per_stage}",
        f"{_median_seconds(lambda: JourneyMap.objects.loaded().get(pk=pk)):.3f}",
        f"{_median_seconds(lambda: find_gaps(journey_map)):.3f}",
        f"{_median_seconds(lambda: build_dot(build_graph_data(journey_map, gaps, 'stages'))):.3f}",
    ]
    # _run_dot, not render: the cache would turn the second run into a lookup.
    for fmt in FORMATS:
        row.append(f"{_median_seconds(lambda fmt=fmt: _run_dot(dot_source, fmt), repeat=1):.2f}")
    return row


def _bench_history(revision_count: int = 1000) -> list[str]:
    """A 20 x 100 map with `revision_count` revisions of one small edit each: the cost of
    one edit's record, rebuilding an old revision, the history page's query, and storage."""
    import copy
    import random

    from django.db.models import Sum
    from django.db.models.functions import Length
    from django.test import Client

    from maps import changes, revisions
    from maps.history import history
    from maps.interchange import export_map
    from maps.models import Membership, Revision, Workspace
    from tests.conftest import make_user

    workspace = Workspace.objects.create(slug="bench-history", name="Bench")
    journey_map = build_map(workspace, 20, 100)
    user = make_user("bench")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.OWNER)
    changes.record_creation(journey_map, user)
    record_seconds = _median_seconds(
        lambda: changes.move_stage(journey_map, journey_map.stages.order_by("order").last().key, -1, user=user)
    )
    # The rest of the history is written as the write path would, without laying it out
    # in the database each time: a random field of a random touchpoint per revision.
    rng = random.Random(3)
    doc = changes.document_at(journey_map, journey_map.version)
    rows, number = [], journey_map.version
    for step in range(revision_count - number):
        after = copy.deepcopy(doc)
        touchpoint = rng.choice(after["touchpoints"])
        touchpoint[rng.choice(["name", "channel", "description"])] = f"edit {step}"
        number += 1
        rows.append(
            Revision(
                map=journey_map,
                number=number,
                user=user,
                summary=f"edit {step}",
                delta=revisions.pack(revisions.diff(doc, after)),
                checkpoint=revisions.pack(after) if number % revisions.CHECKPOINT_EVERY == 0 else None,
            )
        )
        doc = after
    Revision.objects.bulk_create(rows)
    type(journey_map).objects.filter(pk=journey_map.pk).update(version=number)
    journey_map.refresh_from_db()
    client = Client()
    client.force_login(user)
    url = f"/w/{workspace.slug}/m/{journey_map.key}/history/"
    assert client.get(url).status_code == 200
    stored = Revision.objects.filter(map=journey_map).aggregate(bytes=Sum(Length("delta")) + Sum(Length("checkpoint")))[
        "bytes"
    ]
    return [
        f"{revision_count} revisions",
        f"{record_seconds:.3f}",
        f"{_median_seconds(lambda: changes.document_at(journey_map, number - 12)):.3f}",
        f"{_median_seconds(lambda: history(journey_map)[:50]):.3f}",
        f"{_median_seconds(lambda: client.get(url)):.3f}",
        f"{stored / 1e6:.1f} MB",
        f"{len(revisions.pack(export_map(journey_map))) / 1e3:.0f} kB",
    ]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "journeymap.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        # Not pytest's test_<name>: autoclobber would drop it under a test run going on.
        connection.settings_dict["TEST"]["NAME"] = f"test_{old_name}_bench"
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from tests.bench_pages import bench_pages

    results: dict = {"date": time.strftime("%Y-%m-%d %H:%M"), "database": connection.vendor}
    try:
        header = ["map", "load s", "gaps s", "dot src s", *(f"{fmt} s" for fmt in FORMATS)]
        print(" | ".join(f"{cell:>10}" for cell in header))
        results["rendering"] = []
        for stages, per_stage in [(10, 50), (20, 100)]:
            row = _bench(stages, per_stage)
            results["rendering"].append(dict(zip(header, row)))
            print(" | ".join(f"{cell:>10}" for cell in row), flush=True)
        print()
        header = ["history", "record 1 s", "rebuild s", "query s", "page s", "stored", "one map"]
        print(" | ".join(f"{cell:>10}" for cell in header))
        row = _bench_history()
        results["history"] = dict(zip(header, row))
        print(" | ".join(f"{cell:>10}" for cell in row), flush=True)
        print()
        results["pages"] = bench_pages()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print()
    results["live"] = bench_live()
    print()
    from tests.bench_server import bench_server

    results["server"] = bench_server()
    print()
    from tests.bench_browser import bench_save_to_screen

    results["save to screen"] = bench_save_to_screen()
    RESULTS.write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"\nThe same figures as JSON: {RESULTS.relative_to(BASE_DIR)}")


# --- live: idle viewers against one app server ----------------------------------------------
# A real server process, so a database of its own: the test database above lives in this
# process (SQLite in memory) or is gone by now. The live stamp and the presence sit in
# the cache, which the two workers must share: Redis.

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS = BASE_DIR / "bench-results.json"
LIVE_WORKERS = 2
# Viewers per step: wider as they grow, to reach the limit within the time the part may take.
LIVE_STEPS = (0, 10, 25, 50, 75, 100, 150, 200, 300)
LIVE_LIMIT_MS = 300
LIVE_WINDOW_S = 15  # measured per step, after the step's viewers have arrived
LIVE_BUDGET_S = 210  # a step starts only if the live part would end before this; one step is ~20 s
LIVE_DATABASE = "journeymap_bench_live"
LIVE_REDIS_FALLBACK = "redis://127.0.0.1:6379/15"
VIEWER_NAME, VIEWER_PASSWORD = "bench-viewer-{:03d}", "bench-viewer-password"

# Run in the throwaway database: the viewers, members of the demo workspace as viewers.
# One password hash for all (each would cost a quarter of a second of PBKDF2).
_ADD_VIEWERS = """
import sys
import django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from maps.models import Membership, Workspace
count, name, password = int(sys.argv[1]), sys.argv[2], make_password(sys.argv[3])
users = get_user_model().objects.bulk_create(
    get_user_model()(username=name.format(n), first_name="Viewer", last_name=f"{n:03d}", password=password)
    for n in range(1, count + 1)
)
workspace = Workspace.objects.get(slug="demo")
Membership.objects.bulk_create(Membership(workspace=workspace, user=u, role=Membership.VIEWER) for u in users)
"""


def _live_redis_url() -> str | None:
    """REDIS_URL, else a local Redis's database 15 if one answers; None without Redis."""
    import redis

    url = os.environ.get("REDIS_URL") or LIVE_REDIS_FALLBACK
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except (redis.RedisError, ValueError):
        return None
    return url


@contextlib.contextmanager
def _live_database(directory: str):
    """(DATABASE_URL, label) of a database made for the live part, removed afterwards."""
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{directory}/live.sqlite3", "SQLite"
        return  # the directory goes, and the file with it
    import psycopg

    config = dj_database_url.parse(url)
    admin = {
        "dbname": "postgres",
        "user": config["USER"] or None,
        "password": config["PASSWORD"] or None,
        "host": config["HOST"] or None,
        "port": config["PORT"] or None,
    }

    def run(sql: str) -> None:
        with psycopg.connect(**admin, autocommit=True) as db:
            db.execute(sql)

    run(f"DROP DATABASE IF EXISTS {LIVE_DATABASE} WITH (FORCE)")
    run(f"CREATE DATABASE {LIVE_DATABASE}")
    try:
        yield urllib.parse.urlsplit(url)._replace(path="/" + LIVE_DATABASE).geturl(), "PostgreSQL"
    finally:
        run(f"DROP DATABASE IF EXISTS {LIVE_DATABASE} WITH (FORCE)")


def _live_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The server's environment: production's settings (DEBUG off) on plain http to
    127.0.0.1, which the defaults allow; set here so that the caller's own don't apply."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="bench-only-not-a-secret",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS="",
        SECURE_COOKIES="false",
        DJANGO_SETTINGS_MODULE="journeymap.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, cwd=BASE_DIR, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args[:3])} failed:\n{done.stdout}{done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _started(args: list[str], env: dict[str, str], log_path: str, read: bool = False):
    """A child in a process group of its own (Ctrl-C reaches us, and we stop it), always
    stopped; its output goes to `log_path` (its stdout to us where `read`)."""
    with open(log_path, "w") as log:
        stdout = subprocess.PIPE if read else log
        process = subprocess.Popen(
            args, cwd=BASE_DIR, env=env, stdout=stdout, stderr=log, text=True, start_new_session=True
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        if process.stdout:
            process.stdout.close()


def _wait_until_up(url: str, process: subprocess.Popen, log_path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url}:\n{Path(log_path).read_text()[-2000:]}")


def _ms(value) -> str:
    return "-" if value is None else f"{value:.0f}"


LIVE_COLUMNS = ("viewers", "polls/s", "poll p95", "refresh/s", "edit p50", "edit p95", "failures")
LIVE_COLUMNS += ("server", "locust", "others")


def _live_row(step: dict) -> list[str]:
    return [
        str(step["viewers"]),
        f"{step['polls_per_s']:.1f}",
        _ms(step["poll_p95_ms"]),
        f"{step['refreshes_per_s']:.1f}",
        _ms(step["edit_p50_ms"]),
        _ms(step["edit_p95_ms"]),
        str(step["failures"]),
        f"{step['server_cpu']:.0f}%",
        f"{step['locust_cpu']:.0f}%",
        f"{max(step['other_cpu'], 0):.0f}%",
    ]


def _live_steps(driver: subprocess.Popen, table: bool = True) -> list[dict]:
    """The driver's rows as they come (one JSON line a step), printed as table rows."""
    if table:
        print(" | ".join(f"{cell:>9}" for cell in LIVE_COLUMNS), flush=True)
    steps = []
    for line in driver.stdout:
        step = json.loads(line)
        if "viewers" in step:
            steps.append(step)
            if not table:
                continue
            print(" | ".join(f"{cell:>9}" for cell in _live_row(step)), flush=True)
            for error, count in step["errors"].items():
                print(f"    {count} x {error}")
            if step["foreign_polls"]:
                print(
                    f"    {step['foreign_polls']} polls brought comments- or votes-changed, which this load never "
                    "causes: someone else shares this Redis database (writes to it, or flushes it)"
                )
        elif step.get("budget"):
            print(f"(the next step would end the live part past its ~{LIVE_BUDGET_S} s: stopped here)")
    return steps


def _live_summary(steps: list[dict], label: str) -> str:
    server = f"one app server (gunicorn, {LIVE_WORKERS} workers, {label}, Redis)"

    def held(step: dict) -> bool:
        return not step["failures"] and step["edits"] and step["edit_p95_ms"] <= LIVE_LIMIT_MS

    good = [step["viewers"] for step in steps if held(step)]
    bad = [step["viewers"] for step in steps if not held(step)]
    if not good:
        return f"{server} does not keep the p95 of an edit under {LIVE_LIMIT_MS} ms even with {bad[0]} viewers"
    if bad:
        return (
            f"{server} holds {good[-1]} idle viewers with the p95 of an edit under {LIVE_LIMIT_MS} ms "
            f"(not {bad[0]}: the limit lies in between)"
        )
    return (
        f"{server} holds at least {good[-1]} idle viewers with the p95 of an edit under {LIVE_LIMIT_MS} ms "
        "(the largest step measured)"
    )


def bench_live() -> dict | None:
    """How many idle viewers one app server holds while the p95 of an edit stays under
    LIVE_LIMIT_MS: steps of more and more viewers, until it does not or time is up."""
    redis_url = _live_redis_url()
    if redis_url is None:
        print(
            "live: skipped. The live bench needs Redis (the workers share the live stamp through "
            f"the cache): set REDIS_URL or run one at {LIVE_REDIS_FALLBACK.rsplit('/', 1)[0]}."
        )
        return None
    started = time.monotonic()
    # SIGTERM too (a killed make): the finally blocks below stop the server and drop the database.
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with tempfile.TemporaryDirectory(prefix="journeymap-bench-") as directory:
            with _live_database(directory) as (database_url, label):
                env = _live_env(database_url, redis_url)
                _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
                _run([sys.executable, "manage.py", "seed_demo"], env)
                _run([sys.executable, "-c", _ADD_VIEWERS, str(max(LIVE_STEPS)), VIEWER_NAME, VIEWER_PASSWORD], env)
                _print_live_header(label, redis_url)
                steps = _live_run(directory, env, LIVE_BUDGET_S - (time.monotonic() - started))
                workshop = _workshop(directory, env)
    finally:
        signal.signal(signal.SIGTERM, previous)
    last = steps[-1]
    print(f"Where the requests of the last step ({last['viewers']} viewers) went, per second and p95 ms:")
    print("    " + "; ".join(f"{name} {rate:.1f}/s {_ms(p95)}" for name, (rate, p95) in last["requests"].items()))
    summary = _live_summary(steps, label)
    print(summary)
    print(f"(live part: {time.monotonic() - started:.0f} s)")
    return {"database": label, "workers": LIVE_WORKERS, "steps": steps, "summary": summary, "workshop": workshop}


# The workshop mix: a room of viewers with the map open, and a few people editing it.
WORKSHOP_VIEWERS, WORKSHOP_EDITORS = 30, 5
WORKSHOP_BUDGETS = {"edit_p95_ms": 300, "poll_p95_ms": 20}


def _workshop(directory: str, env: dict[str, str]) -> dict:
    print(
        f"workshop mix: {WORKSHOP_VIEWERS} viewers polling, {WORKSHOP_EDITORS} editors each moving a touchpoint "
        f"of their own about once a second ({LIVE_WINDOW_S} s measured):"
    )
    print(" | ".join(f"{cell:>9}" for cell in LIVE_COLUMNS), flush=True)
    mixed = dict(env, BENCH_EDITORS=str(WORKSHOP_EDITORS))
    step = _live_run(directory, mixed, LIVE_BUDGET_S, steps=(WORKSHOP_VIEWERS,), limit_ms=60_000, table=False)[0]
    print(" | ".join(f"{cell:>9}" for cell in _live_row(step)))
    for error, count in step["errors"].items():
        print(f"    {count} x {error}")
    held = [
        f"{name.replace('_p95_ms', '')} p95 {_ms(step[name])} ms {'<=' if (step[name] or 0) <= limit else '>'} {limit}"
        for name, limit in WORKSHOP_BUDGETS.items()
    ]
    met = not step["failures"] and all((step[name] or 0) <= limit for name, limit in WORKSHOP_BUDGETS.items())
    print(f"  {'met' if met else 'NOT met'}: " + ", ".join(held) + f", {step['failures']} errors")
    return dict(step, met=met)


def _print_live_header(label: str, redis_url: str) -> None:
    cores = os.cpu_count()
    print(
        f"live: gunicorn journeymap.wsgi, {LIVE_WORKERS} sync workers (this machine has {cores} cores), "
        f"{label}, Redis cache ({redis_url}), DEBUG off."
    )
    print(
        "One editor moves a touchpoint about once a second; each viewer signs in, opens the demo map, "
        "polls live/ every 2 s and refetches board, gaps and diagram after each change, as the page does."
    )
    print(
        f"locust runs on the same {cores}-core machine as the server and takes CPU from it. "
        "The last columns are CPU: the server's workers, locust, and the rest of the machine (the database, "
        "Redis, anything else running); 100% = one core."
    )
    print(
        f"Each step: the new viewers sign in, then {LIVE_WINDOW_S} s are measured. Times in ms; "
        f"the steps stop once the p95 of an edit is over {LIVE_LIMIT_MS} ms or a request fails."
    )


def _live_run(
    directory: str,
    env: dict[str, str],
    budget: float,
    steps: tuple[int, ...] = LIVE_STEPS,
    limit_ms: float = LIVE_LIMIT_MS,
    table: bool = True,
) -> list[dict]:
    """gunicorn on a free port, and the locust driver against it; both always stopped."""
    port = _free_port()
    host = f"http://127.0.0.1:{port}"
    server_args = [sys.executable, "-m", "gunicorn", "journeymap.wsgi", "--workers", str(LIVE_WORKERS)]
    server_args += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    server_log = os.path.join(directory, "gunicorn.log")
    with _started(server_args, env, server_log) as server:
        _wait_until_up(f"{host}/accounts/login/", server, server_log)
        driver_args = [sys.executable, "-m", "tests.locustfile", "--host", host, "--server-pid", str(server.pid)]
        driver_args += ["--steps", ",".join(map(str, steps)), "--window", str(LIVE_WINDOW_S)]
        driver_args += ["--limit-ms", str(limit_ms), "--budget", f"{budget:.0f}"]
        driver_env = dict(env, BENCH_VIEWER_NAME=VIEWER_NAME, BENCH_VIEWER_PASSWORD=VIEWER_PASSWORD)
        driver_log = os.path.join(directory, "locust.log")
        with _started(driver_args, driver_env, driver_log, read=True) as driver:
            rows = _live_steps(driver, table)
            driver.wait()
        if driver.returncode or not rows:
            raise RuntimeError(f"the locust driver failed:\n{Path(driver_log).read_text()[-2000:]}")
    return rows


if __name__ == "__main__":
    main()
