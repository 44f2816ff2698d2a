"""Browser tests: Debian's headless Chromium driven by Playwright against live_server.

Playwright cannot download its own browsers here, so it launches /usr/bin/chromium
(or $CHROMIUM) with the flags this machine needs (shared/NOTES.md).

Every browser context made here is watched (`Watch`): a JavaScript error or anything the
Content Security Policy refused on any of its pages fails the test.
"""

from __future__ import annotations

import io
import os
import shutil

import pytest

# live_server runs the app in a thread while Playwright's sync API holds an event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


# Installed in every document before its own scripts (Playwright's init scripts are not
# subject to the page's policy). The event is fired at the element whose script or style
# was refused, or at the document.
CSP_WATCH = """
() => window.addEventListener("securitypolicyviolation", (e) => {
  const el = e.target && e.target.nodeType === 1 ? e.target : null;
  window.__journeymapCspViolation({
    page: location.pathname + location.search,
    directive: e.effectiveDirective,
    blocked: e.blockedURI,
    source: e.sourceFile ? e.sourceFile + ":" + e.lineNumber : "",
    element: el ? el.outerHTML.slice(0, 200) : "",
  });
}, true)
"""


def csp_refusal(console_text: str) -> bool:
    """Chromium's own console line for a refusal, which Watch reports with its element."""
    return "Content Security Policy directive" in console_text


class Watch:
    """What went wrong on the pages of one browser context: JavaScript errors and what the
    Content Security Policy refused."""

    def __init__(self, context) -> None:
        self.errors: list[str] = []
        self.violations: list[dict] = []
        context.expose_function("__journeymapCspViolation", self._refused)
        context.add_init_script(f"({CSP_WATCH})()")
        context.on("page", lambda pg: pg.on("pageerror", lambda exc: self.errors.append(str(exc))))

    def _refused(self, violation: dict) -> None:
        self.violations.append(violation)

    def refused(self) -> list[dict]:
        return list(self.violations)

    def check(self) -> None:
        assert not self.errors, f"JavaScript errors on the page: {self.errors}"
        refused = "\n".join(
            f"{v['page']}: {v['directive']} refused {v['blocked']} {v['source']} {v['element']}" for v in self.refused()
        )
        assert not refused, f"The Content Security Policy refused:\n{refused}"


def _chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Chromium is not installed: run `make test` (it installs it) or set CHROMIUM=/path/to/chromium")
    return path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    # What a person waits for, on a 2-core machine that also runs the server and the
    # browser: the 5 s default of `expect` is too short when the machine is busy. Within
    # the 2 s a live change is promised, the tests give their own timeout.
    expect.set_options(timeout=15_000)

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=_chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, base_url=live_server.url)
    context.set_default_timeout(15_000)
    watched = Watch(context)
    pg = context.new_page()
    yield pg
    context.close()
    watched.check()


@pytest.fixture
def demo(transactional_db):
    """The demo workspace of `seed_demo`: the filled example map and the Japanese one."""
    from django.core.management import call_command

    call_command("seed_demo", stdout=io.StringIO())


DEMO_MAP_URL = "/w/demo/m/acme-b2b/"


@pytest.fixture
def sam(demo):
    """A second editor of the demo workspace."""
    from django.contrib.auth import get_user_model

    from maps.models import Membership, Workspace
    from tests.conftest import PASSWORD

    user = get_user_model().objects.create_user(
        "sam", "sam@example.com", PASSWORD, first_name="Sam", last_name="Rivera"
    )
    Membership.objects.create(workspace=Workspace.objects.get(slug="demo"), user=user, role=Membership.EDITOR)
    return user


@pytest.fixture
def two_people(browser, live_server, sam):
    """Two browsers, signed in as demo and as sam, each with the demo map open."""
    from maps.management.commands.seed_demo import PASSWORD as DEMO_PASSWORD
    from maps.management.commands.seed_demo import USERNAME as DEMO_USERNAME
    from tests.conftest import PASSWORD

    contexts, pages, watches = [], [], []
    for username, password in ((DEMO_USERNAME, DEMO_PASSWORD), ("sam", PASSWORD)):
        context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=live_server.url)
        context.set_default_timeout(15_000)
        watches.append(Watch(context))
        page = context.new_page()
        sign_in(page, username, password)
        page.goto(DEMO_MAP_URL)
        settle(page)
        contexts.append(context)
        pages.append(page)
    yield pages
    for context in contexts:
        context.close()
    for watched in watches:
        watched.check()


def sign_in_to_demo(page) -> None:
    from maps.management.commands.seed_demo import PASSWORD, USERNAME

    sign_in(page, USERNAME, PASSWORD)


def settle(page) -> None:
    """Wait until the regions that refresh after an edit have finished refreshing."""
    page.wait_for_timeout(50)
    page.wait_for_function("() => !document.querySelector('.htmx-request')")


def sign_in(page, username: str, password: str, lang: str = "en") -> None:
    """Sign in as a person would, reading the labels in the page's language (`lang`)."""
    from django.utils import translation
    from django.utils.text import capfirst

    # Django labels the username with its field's verbose name, the password with its own word.
    with translation.override(lang):
        words = [capfirst(translation.gettext("username"))] + [translation.gettext(w) for w in ("Password", "Sign in")]
    page.goto("/accounts/login/")
    page.get_by_label(words[0]).fill(username)
    page.get_by_label(words[1]).fill(password)
    page.get_by_role("button", name=words[2]).click()
    page.wait_for_load_state("networkidle")
