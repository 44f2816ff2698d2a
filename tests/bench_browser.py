"""`make bench`, the browser part: from a click on a card's "move down" to the board and
the diagram redrawn on screen, in headless Chromium against gunicorn, for maps of 50 and
500 touchpoints. The time includes the diagram's wait for a burst of edits to end.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile

SIZES = ((10, 5), (10, 50))  # stages x touchpoints per stage
CLICKS = 8
OWNER, PASSWORD = "bench-owner", "bench-owner-password"

# Run in the throwaway database: the owner and the maps, each with its first revision.
_MAKE_MAPS = """
import sys
import django
django.setup()
from maps import changes
from maps.models import Membership, Workspace
from tests.bench import build_map
from django.contrib.auth import get_user_model
owner = get_user_model().objects.create_user(sys.argv[1], password=sys.argv[2])
for size in sys.argv[3:]:
    # A workspace per map: build_map makes the workspace's departments too.
    workspace = Workspace.objects.create(slug=f"bench-{size}", name="Bench")
    Membership.objects.create(workspace=workspace, user=owner, role=Membership.OWNER)
    stages, per_stage = map(int, size.split("x"))
    changes.record_creation(build_map(workspace, stages, per_stage), owner)
"""

# Until the first card of the first stage is `expected` on the board, and the diagram is a
# new picture: the milliseconds since the click, measured in the page on each frame.
_BOARD_SHOWS = """([expected]) => {
  const first = document.querySelector('#board .tp-list[data-stage="s-0"] article');
  return first && first.id === expected ? performance.now() - window.__clicked : false;
}"""
_DIAGRAM_NEW = """() => {
  const svg = document.querySelector("#diagram svg");
  return svg && svg !== window.__before ? performance.now() - window.__clicked : false;
}"""


def bench_save_to_screen() -> dict | None:
    from tests.bench import (
        _free_port,
        _live_database,
        _live_env,
        _live_redis_url,
        _run,
        _started,
        _wait_until_up,
    )
    from tests.browser.conftest import CHROMIUM_ARGS, _chromium_path

    redis_url = _live_redis_url()
    if redis_url is None:
        print("save to screen: skipped (needs Redis, as the live part does).")
        return None
    results = {}
    with tempfile.TemporaryDirectory(prefix="journeymap-bench-browser-") as directory:
        with _live_database(directory) as (database_url, label):
            env = _live_env(database_url, redis_url)
            _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
            sizes = [f"{stages}x{per_stage}" for stages, per_stage in SIZES]
            _run([sys.executable, "-c", _MAKE_MAPS, OWNER, PASSWORD, *sizes], env)
            port = _free_port()
            host = f"http://127.0.0.1:{port}"
            log = os.path.join(directory, "gunicorn.log")
            args = [
                sys.executable,
                "-m",
                "gunicorn",
                "journeymap.wsgi",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
            ]
            with _started(args, env, log) as server:
                _wait_until_up(f"{host}/accounts/login/", server, log)
                results = _click_and_wait(host, _chromium_path(), CHROMIUM_ARGS)
    print(f"save to screen, headless Chromium against gunicorn (2 workers, {label}, Redis), median of {CLICKS} moves:")
    for name, figures in results.items():
        print(
            f"  {name:>16}: board on screen {figures['board p50 ms']:.0f} ms, "
            f"diagram on screen {figures['diagram p50 ms']:.0f} ms (after the 400 ms wait for more edits)"
        )
    return results


def _click_and_wait(host: str, chromium: str, chromium_args: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=chromium_args)
        page = browser.new_page(viewport={"width": 1440, "height": 900}, base_url=host)
        page.set_default_timeout(60_000)
        page.goto("/accounts/login/")
        page.fill("input[name=username]", OWNER)
        page.fill("input[name=password]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        for stages, per_stage in SIZES:
            page.goto(f"/w/bench-{stages}x{per_stage}/m/map-{stages}x{per_stage}/")
            page.wait_for_selector("#diagram svg")
            page.wait_for_load_state("networkidle")
            board, drawn = [], []
            for click in range(CLICKS):
                direction, expected = ("down", "tp-t-0-1") if click % 2 == 0 else ("up", "tp-t-0-0")
                button = page.locator(f'#tp-t-0-0 button[hx-post$="/move/{direction}/"]')
                page.evaluate(
                    "() => { window.__before = document.querySelector('#diagram svg');"
                    " window.__clicked = performance.now(); }"
                )
                button.click()
                board.append(page.wait_for_function(_BOARD_SHOWS, arg=[expected], polling="raf").json_value())
                drawn.append(page.wait_for_function(_DIAGRAM_NEW, polling="raf").json_value())
                page.wait_for_load_state("networkidle")
            results[f"{stages * per_stage} touchpoints"] = {
                "board p50 ms": statistics.median(board),
                "diagram p50 ms": statistics.median(drawn),
            }
        browser.close()
    return results
