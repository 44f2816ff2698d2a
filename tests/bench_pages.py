"""`make bench`, the page part: what each page, fragment, the version check and an edit
cost, cold and warm, for maps from 5 x 4 to 20 x 100 per stage, sparse and dense; the
DOT build, an in-process render next to bare `dot` on the same DOT, a warm diagram and
a 304, next to a trivial page (the sign-in page). Runs in the caller's throwaway test
database (tests/bench.py), in this process, through Django's test client.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import time

# (label, stages, touchpoints per stage)
MAPS = (
    ("5 x 4", 5, 4),
    ("10 x 50/stage", 10, 50),
    ("20 x 100 in all", 20, 5),
    ("20 x 100/stage", 20, 100),
)
HX = {"HTTP_HX_REQUEST": "true"}


def _timed(function, repeat: int) -> tuple[float, int]:
    """(median milliseconds, queries of the last run) of `function()`."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            function()
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), len(queries)


def _cold(function, repeat: int) -> tuple[float, int]:
    """Like _timed, with the cache emptied before each run."""
    from django.core.cache import cache

    def emptied_first():
        cache.clear()
        function()

    # cache.clear() costs nothing here next to a cold page, and no query.
    return _timed(emptied_first, repeat)


def _ok(response, *statuses: int):
    assert response.status_code in (statuses or (200,)), (response.status_code, response.content[:300])
    return response


def measure_map(label: str, stages: int, per_stage: int, dense: bool, index: int) -> dict:
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse

    from maps import changes, live
    from maps.diagram import _run_dot, build_dot, build_graph_data
    from maps.gaps import find_gaps
    from maps.models import JourneyMap, Membership, Workspace
    from tests.bench import build_map
    from tests.conftest import make_user

    workspace = Workspace.objects.create(slug=f"pages-{index}", name="Bench")
    journey_map = build_map(workspace, stages, per_stage, extra_flows=dense, seed=index)
    user = make_user(f"pages-{index}")
    Membership.objects.create(workspace=workspace, user=user, role=Membership.OWNER)
    changes.record_creation(journey_map, user)
    client = Client()
    client.force_login(user)
    ws, key = workspace.slug, journey_map.key
    big = stages * per_stage >= 2000
    repeat = 3 if big else 5
    row: dict = {"map": label, "flows": "dense" if dense else "sparse", "touchpoints": stages * per_stage}

    def get(name, extra=None, query=""):
        return lambda: _ok(client.get(reverse(name, args=[ws, key]) + query, **(extra or {})))

    # The first request of a session reads the person's settings: not part of a page's cost.
    _ok(client.get(reverse("map_detail", args=[ws, key])))
    parts = {
        "page": get("map_detail"),
        "board": get("map_board", HX),
        "gaps": get("map_gaps", HX),
        "coverage": get("coverage", HX),
        "accountability": get("accountability", HX),
        "funnel": get("funnel", HX),
        "diagram": get("map_diagram", HX),
    }
    for name, function in parts.items():
        row[f"{name} cold ms"], row[f"{name} cold q"] = _cold(function, 1 if big else 3)
        row[f"{name} warm ms"], row[f"{name} warm q"] = _timed(function, repeat)

    diagram_url = reverse("map_diagram", args=[ws, key])
    etag = client.get(diagram_url, **HX)["ETag"]
    row["304 ms"], row["304 q"] = _timed(
        lambda: _ok(client.get(diagram_url, HTTP_IF_NONE_MATCH=etag, **HX), 304), repeat
    )
    # The version check as a page polls it: with its pass, and nothing changed.
    page = client.get(reverse("map_detail", args=[ws, key])).content.decode()
    token = re.search(r"live/\?token=([^\"&]+)", page).group(1)
    stamp = live.stamp(journey_map.pk)
    people = live.visit(journey_map.pk, user.pk, user.username, user.username)
    check = f"{reverse('map_live', args=[ws, key])}?token={token}&stamp={stamp}&presence={live.presence_hash(people)}"
    row["check ms"], row["check q"] = _timed(lambda: _ok(client.get(check, **HX), 204), repeat * 4)

    # An edit: a card moved down and back up, as the board's buttons do.
    moving = journey_map.stages.order_by("order").first().touchpoints.order_by("order").first().key
    directions = iter(["down", "up"] * repeat)
    move = lambda: _ok(  # noqa: E731
        client.post(reverse("touchpoint_move", args=[ws, key, moving, next(directions)]), **HX)
    )
    row["edit ms"], row["edit q"] = _timed(move, repeat)

    # The diagram itself: DOT build, an in-process render, bare dot on the same DOT.
    loaded = JourneyMap.objects.loaded().get(pk=journey_map.pk)
    gaps = find_gaps(loaded)
    row["dot build ms"], _ = _timed(lambda: build_dot(build_graph_data(loaded, gaps, "stages")), repeat)
    source = build_dot(build_graph_data(loaded, gaps, "stages"))

    def in_process():
        fresh = JourneyMap.objects.loaded().get(pk=journey_map.pk)
        _run_dot(build_dot(build_graph_data(fresh, find_gaps(fresh), "stages")), "svg")

    row["render ms"], _ = _timed(in_process, 1 if big else 3)

    def bare_dot():
        subprocess.run([settings.GRAPHVIZ_DOT, "-Tsvg"], input=source.encode(), capture_output=True, check=True)

    row["bare dot ms"], _ = _timed(bare_dot, 1 if big else 3)
    return row


def trivial_page() -> dict:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    ms, queries = _timed(lambda: _ok(client.get(reverse("login"))), 20)
    return {"trivial ms": ms, "trivial q": queries}


COLUMNS = (
    ("map", "map", "{}"),
    ("flows", "flows", "{}"),
    ("page", "page warm ms", "{:.0f}"),
    ("cold", "page cold ms", "{:.0f}"),
    ("q", "page warm q", "{}"),
    ("board", "board warm ms", "{:.1f}"),
    ("cold", "board cold ms", "{:.0f}"),
    ("gaps", "gaps warm ms", "{:.1f}"),
    ("cold", "gaps cold ms", "{:.0f}"),
    ("funnel", "funnel warm ms", "{:.1f}"),
    ("diagram", "diagram warm ms", "{:.1f}"),
    ("cold", "diagram cold ms", "{:.0f}"),
    ("304", "304 ms", "{:.1f}"),
    ("check", "check ms", "{:.2f}"),
    ("check q", "check q", "{}"),
    ("edit", "edit ms", "{:.0f}"),
    ("dot src", "dot build ms", "{:.0f}"),
    ("render", "render ms", "{:.0f}"),
    ("bare dot", "bare dot ms", "{:.0f}"),
)


def bench_pages() -> dict:
    """Measure every map, print the table (milliseconds; warm unless said cold) and
    return the figures for the JSON file."""
    rows = []
    index = 0
    for label, stages, per_stage in MAPS:
        for dense in (False, True):
            index += 1
            rows.append(measure_map(label, stages, per_stage, dense, index))
    trivial = trivial_page()
    print(f"pages, ms (warm unless 'cold'); a trivial page (sign-in): {trivial['trivial ms']:.1f} ms")
    print(" | ".join(f"{title:>8}" for title, _, _ in COLUMNS))
    for row in rows:
        print(" | ".join(f"{form.format(row[key]):>8}" for _, key, form in COLUMNS), flush=True)
    in_all = next(row for row in rows if row["map"] == "20 x 100 in all")
    per_stage = next(row for row in rows if row["map"] == "20 x 100/stage")
    dense_big = next(row for row in rows if row["map"] == "20 x 100/stage" and row["flows"] == "dense")
    ratios = {
        "warm diagram / trivial, 20 x 100 in all": in_all["diagram warm ms"] / trivial["trivial ms"],
        "304 / trivial, 20 x 100 in all": in_all["304 ms"] / trivial["trivial ms"],
        "warm diagram / trivial, 20 x 100/stage": per_stage["diagram warm ms"] / trivial["trivial ms"],
        "304 / trivial, 20 x 100/stage": per_stage["304 ms"] / trivial["trivial ms"],
        "cold / warm diagram, 2,000 dense": dense_big["diagram cold ms"] / dense_big["diagram warm ms"],
        "render / bare dot, 2,000 dense": dense_big["render ms"] / dense_big["bare dot ms"],
    }
    for name, value in ratios.items():
        print(f"  {name}: {value:.2f}x")
    return {"trivial": trivial, "maps": rows, "ratios": ratios}
