"""`make bench`: how long gaps, DOT and each rendering take for big maps.

Runs in a throwaway test database (never the real one), builds a 10 x 50 and a
20 x 100 map with flows, and prints a table. `build_map` is shared with the tests.

    python -m tests.bench
"""

from __future__ import annotations

import os
import random
import statistics
import time

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
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        header = ["map", "load s", "gaps s", "dot src s", *(f"{fmt} s" for fmt in FORMATS)]
        print(" | ".join(f"{cell:>10}" for cell in header))
        for stages, per_stage in [(10, 50), (20, 100)]:
            print(" | ".join(f"{cell:>10}" for cell in _bench(stages, per_stage)), flush=True)
        print()
        header = ["history", "record 1 s", "rebuild s", "query s", "page s", "stored", "one map"]
        print(" | ".join(f"{cell:>10}" for cell in header))
        print(" | ".join(f"{cell:>10}" for cell in _bench_history()), flush=True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()


if __name__ == "__main__":
    main()
