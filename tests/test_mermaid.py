"""The Mermaid journey of a map (maps/mermaid.py): its shape, its scores, hostile text kept
to harmless names, the command and the download. tests/browser/test_mermaid.py draws the
same journeys with Mermaid's own library."""

from __future__ import annotations

import html
import io
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from maps import marks, mermaid
from maps.diagram import DiagramError
from maps.models import JourneyMap, MapPersona, Persona, Stage, Touchpoint
from maps.rendering import render_map

from .web import login

SMALL_MAP_JOURNEY = """\
journey
  title Launch journey
  section Awareness
    LinkedIn ad: 4: Carla CFO
    Webinar: 3: Carla CFO, Ivan IT
  section Decision
    Live demo: 2: Carla CFO, Ivan IT
"""

# A hostile name -> what Mermaid must show for it. What changes is only what a one-line,
# 80-character name cannot hold.
HOSTILE = {
    "<script>alert(1)</script>": "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>": "<img src=x onerror=alert(1)>",
    '" onload="alert(1)': '" onload="alert(1)',
    "%%{init: {'securityLevel': 'loose', 'theme': 'forest'}}%%": "%%{init: {'securityLevel': 'loose', 'theme': 'forest'}}%%",
    "%% a comment": "%% a comment",
    "50%%{x}%% off": "50%%{x}%% off",
    "javascript:alert(1)": "javascript:alert(1)",
    "Q&A: #1; done": "Q&A: #1; done",
    "#35; is a code": "#35; is a code",
    "&lt;b&gt; &amp;": "&lt;b&gt; &amp;",
    "ﬂ°°60¶ß placeholder": "ﬂ°°60¶ß placeholder",
    "two\nlines\r\nand\ttabs  ": "two lines and tabs",
    "   padded   ": "padded",
    ":;#%": ":;#%",
    "...": "...",
    "journey planning": "journey planning",
    "Title page": "Title page",
    "section two": "section two",
    "accDescr { hidden }": "accDescr { hidden }",
    "accTitle: hidden": "accTitle: hidden",
    "`markdown` **bold**": "`markdown` **bold**",
    "🚀 Launch 👩‍💻 team": "🚀 Launch 👩‍💻 team",
    "資料請求：ホワイトペーパー；第1弾": "資料請求：ホワイトペーパー；第1弾",
    "a\x1bb\x7fc\x85d\u2028e": "a b c d e",
    "\n\t ": mermaid.NO_NAME,
    "W" * 200: "W" * 79 + "…",
}
CASES = list(HOSTILE.items())
IDS = [repr(name[:24]) for name in HOSTILE]


def loaded(jm: JourneyMap) -> JourneyMap:
    return JourneyMap.objects.loaded().get(pk=jm.pk)


def journey_of(jm: JourneyMap, view: str = "stages") -> str:
    return mermaid.journey(loaded(jm), view)


def decoded(name: str) -> str:
    """A Mermaid name as Mermaid shows it: each `#NN;` is the character of code NN."""
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), name)


def lexes_as_one_name(name: str, comma: bool = True) -> bool:
    """Nothing in `name` ends a name, starts a comment or a directive, or reads as HTML
    for Mermaid's journey lexer: such characters come only as codes."""
    plain = re.sub(r"#\d+;", "", name)
    special = set("#:;%\n\r<>&\"'`\ufb02\xb6") | (set() if comma else {","})
    return name == name.strip() and name != "" and not special & set(plain)


def task_parts(line: str) -> tuple[str, int, list[str]]:
    """(name, score, actors) of a task line, split where Mermaid splits it."""
    name, data = line.strip().split(":", 1)
    score, _, actors = data.partition(":")
    return name, int(score), [actor.strip() for actor in actors.split(",")] if actors else []


@pytest.fixture
def hostile_journey(workspace) -> JourneyMap:
    return make_hostile_journey(workspace)


def make_hostile_journey(workspace) -> JourneyMap:
    """A map whose map, stage, touchpoint and persona names are all hostile: stage i holds
    the touchpoint named HOSTILE's i-th name, reached by the persona of that name."""
    names = list(HOSTILE)
    jm = JourneyMap.objects.create(workspace=workspace, key="hostile", name=names[0])
    for i, name in enumerate(names):
        stage = Stage.objects.create(map=jm, key=f"stage-{i}", name=name, order=i)
        persona = Persona.objects.create(workspace=workspace, key=f"persona-{i}", name=name, order=i)
        MapPersona.objects.create(map=jm, persona=persona, order=i)
        tp = Touchpoint.objects.create(map=jm, stage=stage, key=f"tp-{i}", name=name, emotion=i % 5 - 2, order=0)
        tp.personas.set([persona])
    return jm


# --- shape -------------------------------------------------------------------------------


def test_stages_are_sections_and_touchpoints_their_tasks_in_map_order(small_map):
    assert journey_of(small_map) == SMALL_MAP_JOURNEY


def test_departments_view_is_the_same_journey(small_map):
    assert journey_of(small_map, "departments") == SMALL_MAP_JOURNEY


def test_persona_view_keeps_the_persona_stages_and_touchpoints(small_map):
    # Ivan IT's scope is Decision alone.
    assert journey_of(small_map, "persona:it-lead") == (
        "journey\n  title Launch journey – Ivan IT\n  section Decision\n    Live demo: 2: Carla CFO, Ivan IT\n"
    )


def test_unknown_view_is_refused_with_its_message(small_map):
    with pytest.raises(DiagramError, match='unknown view "sideways"'):
        journey_of(small_map, "sideways")


def test_empty_stage_is_a_section_without_tasks(small_map):
    Stage.objects.create(map=small_map, key="loyalty", name="Loyalty", order=2)
    assert journey_of(small_map).endswith(
        "  section Decision\n    Live demo: 2: Carla CFO, Ivan IT\n  section Loyalty\n"
    )


def test_touchpoint_reaching_no_persona_has_no_actors(small_map):
    Touchpoint.objects.filter(key="demo").get().personas.clear()
    assert "    Live demo: 2\n" in journey_of(small_map)


def test_journey_of_a_loaded_map_asks_the_database_nothing(small_map, django_assert_num_queries):
    jm = loaded(small_map)
    mermaid.journey(jm, "persona:cfo")  # the prefetches are filled once
    with django_assert_num_queries(0):
        mermaid.journey(jm, "stages")


# --- scores ------------------------------------------------------------------------------


@pytest.mark.parametrize("emotion, score", [(-2, 1), (-1, 2), (0, 3), (1, 4), (2, 5), (None, 3)])
def test_emotion_becomes_a_mermaid_score_from_1_to_5(small_map, emotion, score):
    assert marks.journey_score(emotion) == score
    Touchpoint.objects.filter(key="demo").update(emotion=emotion)
    line = journey_of(small_map).splitlines()[-1]
    assert task_parts(line)[1] == score


def test_unrated_touchpoint_gets_the_neutral_score():
    assert marks.journey_score(None) == marks.JOURNEY_SCORE_UNRATED == marks.journey_score(0)


# --- hostile text ------------------------------------------------------------------------


@pytest.mark.parametrize("name, shown", CASES, ids=IDS)
def test_hostile_task_name_is_one_harmless_name_showing_the_text(small_map, name, shown):
    Touchpoint.objects.filter(key="demo").update(name=name)
    line = journey_of(small_map).splitlines()[-1]
    task, score, actors = task_parts(line)
    assert lexes_as_one_name(task)
    assert decoded(task) == shown
    assert (score, actors) == (2, ["Carla CFO", "Ivan IT"])


@pytest.mark.parametrize("name, shown", CASES, ids=IDS)
def test_hostile_section_and_title_are_one_harmless_line_each(small_map, name, shown):
    JourneyMap.objects.filter(pk=small_map.pk).update(name=name)
    Stage.objects.filter(key="decision").update(name=name)
    lines = journey_of(small_map).splitlines()
    title, section = lines[1].removeprefix("  title "), lines[5].removeprefix("  section ")
    assert lexes_as_one_name(title) and lexes_as_one_name(section)
    assert decoded(section) == shown
    assert decoded(title) == (shown if len(name) <= mermaid.TITLE_LIMIT else "W" * 119 + "…")


@pytest.mark.parametrize("name, shown", CASES, ids=IDS)
def test_hostile_persona_is_one_actor_showing_the_text(small_map, name, shown):
    Persona.objects.filter(key="it-lead").update(name=name)
    task, _score, actors = task_parts(journey_of(small_map).splitlines()[-1])
    if shown == mermaid.NO_NAME:
        assert actors == ["Carla CFO"]  # a persona without a readable name is left out
    else:
        assert len(actors) == 2 and lexes_as_one_name(actors[1], comma=False)
        assert decoded(actors[1]) == shown


def test_nul_and_lone_surrogates_become_spaces_in_a_file_that_is_utf_8(small_map):
    # Neither can be stored by every database: the loaded map is changed in memory.
    jm = loaded(small_map)
    jm.stages.all()[1].touchpoints.all()[0].name = "a\x00b\ud800c"
    assert mermaid.journey(jm).encode().endswith(b"    a b c: 2: Carla CFO, Ivan IT\n")


def test_comma_splits_no_actor_but_stays_as_it_is_in_a_task(small_map):
    Persona.objects.filter(key="cfo").update(name="Jensen, Carla")
    Touchpoint.objects.filter(key="demo").update(name="Demo, then Q&A")
    line = journey_of(small_map).splitlines()[-1]
    assert line == "    Demo, then Q#38;A: 2: Jensen#44; Carla, Ivan IT"


def test_task_starting_with_a_keyword_has_its_first_letter_as_a_code(small_map):
    Touchpoint.objects.filter(key="demo").update(name="Journey review")
    assert journey_of(small_map).splitlines()[-1].startswith("    #74;ourney review: 2")


def test_every_line_of_a_hostile_map_is_a_journey_statement(hostile_journey):
    lines = journey_of(hostile_journey).splitlines()
    assert lines[0] == "journey"
    assert len(lines) == 2 + 2 * len(HOSTILE)
    for line in lines[1:]:
        kind, _, rest = line.strip().partition(" ")
        if kind in ("title", "section"):
            assert lexes_as_one_name(rest)
        else:
            name, score, actors = task_parts(line)
            assert lexes_as_one_name(name) and 1 <= score <= 5
            assert all(lexes_as_one_name(actor, comma=False) for actor in actors)


# --- the command and the download -------------------------------------------------------


def test_render_map_writes_the_journey_to_a_file(small_map, tmp_path):
    path = tmp_path / "launch.mmd"
    call_command("render_map", "acme/launch", "--format", "mermaid", "-o", str(path))
    assert path.read_text(encoding="utf-8") == SMALL_MAP_JOURNEY


def test_render_map_writes_the_journey_of_a_view_to_stdout(small_map):
    stdout = io.TextIOWrapper(io.BytesIO())
    call_command(
        "render_map", "acme/launch", "--format", "mermaid", "--view", "persona:it-lead", "-o", "-", stdout=stdout
    )
    assert stdout.buffer.getvalue().decode().startswith("journey\n  title Launch journey – Ivan IT\n")


def test_render_map_offers_mermaid_among_its_formats(small_map, tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError) as error:
        call_command("render_map", "acme/launch", "--format", "mmd", "-o", str(tmp_path / "out"))
    assert "mermaid" in str(error.value)


def test_rendering_names_the_file_after_the_map_and_view(small_map):
    jm = loaded(small_map)
    assert render_map(jm, "stages", "mermaid").filename == "launch.mmd"
    assert render_map(jm, "persona:cfo", "mermaid").filename == "launch-persona-cfo.mmd"


@pytest.mark.parametrize("role_name", ["owner", "editor", "viewer"])
def test_members_download_the_journey(client, request, small_map, role_name):
    login(client, request.getfixturevalue(role_name))
    response = client.get(reverse("map_download", args=["acme", "launch", "mermaid"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vnd.mermaid; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="launch.mmd"'
    assert response.content.decode() == SMALL_MAP_JOURNEY


def test_stranger_cannot_download_the_journey(client, stranger, small_map):
    login(client, stranger)
    assert client.get(reverse("map_download", args=["acme", "launch", "mermaid"])).status_code == 404


def test_download_of_an_unknown_persona_view_goes_back_to_the_map_with_a_message(client, viewer, small_map):
    login(client, viewer)
    url = reverse("map_download", args=["acme", "launch", "mermaid"])
    response = client.get(url, {"view": "persona:nobody"}, follow=True)
    assert response.redirect_chain[-1][0] == small_map.get_absolute_url()
    assert 'no persona "nobody"' in html.unescape(response.content.decode())


def test_export_menu_offers_the_mermaid_journey_to_a_viewer(client, viewer, small_map):
    login(client, viewer)
    body = client.get(small_map.get_absolute_url()).content.decode()
    assert reverse("map_download", args=["acme", "launch", "mermaid"]) in body
    assert "Mermaid journey (.mmd)" in body
