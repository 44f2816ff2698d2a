"""axe-core (vendored, see vendor/README.md) on the main pages of the demo, for WCAG 2.1
A and AA: no serious or critical violation anywhere, and no error in the console."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from maps.models import ContentAsset, Touchpoint, Workspace

from .conftest import csp_refusal, sign_in_to_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
MAP = "/w/demo/m/acme-b2b/"


def axe_violations(page) -> list[dict]:
    """Serious and critical violations on the page as it is now."""
    # Evaluated, not added as a <script>: the page's Content Security Policy refuses
    # inline scripts, and a test must not be the exception it allows.
    page.evaluate(AXE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_21_AA)
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def readable(found: dict[str, list[dict]]) -> str:
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['impact']} {v['id']}: {v['help']}")
            lines += [
                f"    {' '.join(n['target'])}: {n['failureSummary'].splitlines()[-1].strip()}" for n in v["nodes"][:5]
            ]
    return "\n".join(lines)


def open_editor(name: str, opener: str):
    def action(page) -> None:
        page.locator(opener).first.click()
        expect(page.locator("#editor form").first).to_be_visible()

    action.__name__ = name
    return action


def persona_removal_asked(page) -> None:
    """The scope editor's "Remove from map" asks first (it once asked a POST-only address
    with GET: a 405 in the console)."""
    page.locator("#map-header").get_by_role("button", name="Personas").click()
    page.locator("#editor").get_by_role("link", name="Scope").first.click()
    page.locator("#editor").get_by_role("link", name="Remove from map").click()
    expect(page.locator("#editor").get_by_role("button", name="Remove")).to_be_visible()


def create_form_with_errors(page) -> None:
    """The map-creation page a plain form post gets back: every field with its error."""
    page.get_by_role("textbox", name="Name").fill("")
    # Past htmx, as a browser without JavaScript would send it.
    page.evaluate("HTMLFormElement.prototype.submit.call(document.getElementById('map-create-form'))")
    page.wait_for_load_state()
    expect(page.locator("#id_name")).to_have_attribute("aria-invalid", "true")


PAGES = [
    ("/w/demo/", None),
    ("/w/demo/", create_form_with_errors),
    (MAP, None),
    (MAP, open_editor("stage editor", "#stage-nurture h3 a")),
    (MAP, open_editor("touchpoint editor", "#tp-webinar a.name")),
    (MAP, open_editor("personas panel", "#map-header button:has-text('Personas')")),
    ("/w/demo/m/b2b-five-stage-ja/", None),
    (MAP + "coverage/", None),
    (MAP + "coverage/", persona_removal_asked),
    (MAP + "coverage/?by=roles", None),
    (MAP + "accountability/", None),
    (MAP + "funnel/", None),
    (MAP + "questions/", None),
    (MAP + "questions/", open_editor("answer editor", "#questions-of-capture a.button")),
    (MAP + "swot/", None),
    (MAP + "swot/?stage=convert", None),
    ("/w/demo/library/personas/", None),
    ("/w/demo/library/content/", None),
    ("/w/demo/library/roles/", None),
    ("/w/demo/library/departments/", None),
    ("/w/demo/library/content/roi-calculator/", None),
    (MAP + "t/webinar/", None),
]


def test_main_pages_have_no_serious_accessibility_violations_and_no_console_errors(page, demo):
    console: list[str] = []
    # What the Content Security Policy refused is the page fixture's to report (conftest's
    # Watch, which names the element); every other error in the console is this test's.
    page.on(
        "console",
        lambda msg: (
            console.append(f"{page.url}: {msg.text}") if msg.type == "error" and not csp_refusal(msg.text) else None
        ),
    )
    page.on(
        "response",
        lambda r: console.append(f"{page.url}: {r.status} {r.request.method} {r.url}") if r.status >= 400 else None,
    )
    found: dict[str, list[dict]] = {}

    page.goto("/accounts/login/")
    found["login"] = axe_violations(page)
    sign_in_to_demo(page)
    for url, action in PAGES:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        if action:
            action(page)
            page.wait_for_load_state("networkidle")
        found[f"{url} {action.__name__ if action else ''}".strip()] = axe_violations(page)

    found = {where: v for where, v in found.items() if v}
    assert not found, "axe-core found serious or critical violations:\n" + readable(found)
    assert not console, "errors in the console:\n" + "\n".join(console)


LINE_BREAKS = """el => {
    // Where the rendered text of `el` moves to a new line, and which of those breaks fall
    // inside a word (neither side a space or hyphen).
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT), tops = [];
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (let i = 0; i < node.length; i++) {
            const range = document.createRange();
            range.setStart(node, i); range.setEnd(node, i + 1);
            const rect = range.getClientRects()[0];
            tops.push(rect ? Math.round(rect.top) : null);
        }
        text += node.data + " ";  // a <br> or an element boundary breaks like a space
        tops.push(null);
    }
    const inWord = [];
    for (let i = 1; i < text.length; i++) {
        if (tops[i] > tops[i - 1] && !/[\\s-]/.test(text[i - 1]) && !/\\s/.test(text[i]))
            inWord.push(text.slice(0, i) + "|" + text.slice(i));
    }
    return {lines: new Set(tops.filter(t => t !== null)).size, inWord,
            overflows: el.scrollWidth > el.clientWidth + 1};
}"""


def test_long_titles_wrap_between_words_and_japanese_titles_still_wrap(page, demo):
    workspace = Workspace.objects.get(slug="demo")
    acme = workspace.maps.get(key="acme-b2b")
    # Long words in a table cell: the column must widen (the table scrolls), not cut them.
    guide = ContentAsset.objects.create(
        workspace=workspace,
        key="kzb",
        type="ebook",
        status=ContentAsset.LIVE,
        title="Kundenzufriedenheitsbefragung: Auswertungsleitfaden",
        last_reviewed=datetime.date.today(),
    )
    guide.personas.add(workspace.personas.get(key="cfo"))
    acme.stages.get(key="nurture").content.add(guide)
    ja_map = workspace.maps.get(key="b2b-five-stage-ja")
    Touchpoint.objects.create(
        map=ja_map,
        stage=ja_map.stages.first(),
        key="booth",
        order=1,
        emotion=1,
        name="展示会ブースでの製品デモと課題のヒアリングを行い資料を送付する",
    )
    sign_in_to_demo(page)
    page.set_viewport_size({"width": 1280, "height": 900})

    def breaks_inside_words(url: str, selector: str) -> int:
        """How many of the titles wrap onto several lines; fails on any break inside a word."""
        page.goto(url)
        titles, wrapped = page.locator(selector), 0
        for i in range(titles.count()):
            breaks = titles.nth(i).evaluate(LINE_BREAKS)
            assert not breaks["inWord"], f"{url}: a title breaks inside a word: {breaks['inWord']}"
            assert not breaks["overflows"]
            wrapped += breaks["lines"] > 1
        return wrapped

    assert breaks_inside_words(MAP, ".tp-card a.name, .stage-head h3 a")
    assert breaks_inside_words(MAP + "coverage/", ".matrix .chip, .matrix tbody th")
    assert breaks_inside_words(MAP + "coverage/?by=roles", ".matrix .chip, .matrix tbody th")

    page.goto("/w/demo/m/b2b-five-stage-ja/")
    breaks = page.locator("#tp-booth a.name").evaluate(LINE_BREAKS)
    assert breaks["lines"] >= 2 and not breaks["overflows"]
