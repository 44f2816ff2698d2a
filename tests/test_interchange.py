"""The journeymap/1 format (maps/interchange.py) without the command layer.

Malformed documents start from tests/data/full_map.json, which uses every field of the
format, and break one thing: each case shows the exact message and that nothing was
written.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import translation

from maps import interchange
from maps.interchange import InterchangeError, dumps, export_map, import_map, parse, validate
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
    Workspace,
)

FULL_MAP = Path(__file__).parent / "data" / "full_map.json"
SLUG_MESSAGE = "must be a slug (letters, digits, hyphens, underscores)"


def full_doc() -> dict:
    return json.loads(FULL_MAP.read_text(encoding="utf-8"))


def exported_full_doc(language: str = "en") -> dict:
    """full_doc() as export writes it: the map's language after its goal (the file leaves
    it out, which means English)."""
    doc = full_doc()
    doc["map"] = {**{name: value for name, value in doc["map"].items() if name != "language"}, "language": language}
    return doc


def row_counts() -> dict[str, int]:
    """Rows of every maps table, many-to-many tables included."""
    return {
        model._meta.db_table: model.objects.count()
        for model in apps.get_app_config("maps").get_models(include_auto_created=True)
    }


def new_workspace(slug: str) -> Workspace:
    return Workspace.objects.create(slug=slug, name=slug.title())


# --- malformed documents ---------------------------------------------------------------


def put(*path_and_value) -> Callable[[dict], None]:
    *path, value = path_and_value

    def mutate(doc: dict) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return mutate


def drop(*path) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        target = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return mutate


def append_copy_of_first(list_name: str) -> Callable[[dict], None]:
    def mutate(doc: dict) -> None:
        doc[list_name].append(copy.deepcopy(doc[list_name][0]))

    return mutate


MALFORMED = [
    ("wrong format", put("format", "journeymap/2"), 'format: must be "journeymap/1"'),
    ("missing format", drop("format"), 'format: is missing (must be "journeymap/1")'),
    ("unknown top-level field", put("colour", "red"), "colour: unknown field"),
    ("missing map", drop("map"), "map: is missing"),
    ("map not an object", put("map", "acme"), "map: must be an object"),
    ("missing map key", drop("map", "key"), "map.key: is missing"),
    ("missing map name", drop("map", "name"), "map.name: is missing"),
    ("empty map name", put("map", "name", "  "), "map.name: must not be empty"),
    ("bad map key", put("map", "key", "acme b2b"), f"map.key: {SLUG_MESSAGE}"),
    ("map key too long", put("map", "key", "k" * 65), "map.key: must be at most 64 characters (is 65)"),
    ("unknown map field", put("map", "archived", True), "map.archived: unknown field"),
    ("unknown map language", put("map", "language", "fr"), "map.language: must be one of en, ja"),
    ("map language not text", put("map", "language", None), "map.language: must be one of en, ja"),
    ("map language in capitals", put("map", "language", "JA"), "map.language: must be one of en, ja"),
    ("departments not a list", put("departments", {"marketing": "M"}), "departments: must be a list"),
    ("stages not a list", put("stages", "attract"), "stages: must be a list"),
    ("item not an object", put("personas", 1, "it-lead"), "personas[1]: must be an object"),
    ("unknown field", put("stages", 1, "colour", "red"), "stages[1].colour: unknown field"),
    (
        "unknown metric field",
        put("stages", 0, "metrics", 1, "colour", "red"),
        "stages[0].metrics[1].colour: unknown field",
    ),
    ("metrics not a list", put("stages", 0, "metrics", {}), "stages[0].metrics: must be a list"),
    ("metric not an object", put("stages", 0, "metrics", 0, 5), "stages[0].metrics[0]: must be an object"),
    ("metric without name", drop("stages", 0, "metrics", 1, "name"), "stages[0].metrics[1].name: is missing"),
    (
        "string for a number",
        put("stages", 0, "metrics", 1, "target", "40"),
        "stages[0].metrics[1].target: must be a number",
    ),
    (
        "bool for a number",
        put("stages", 0, "metrics", 0, "actual", True),
        "stages[0].metrics[0].actual: must be a number",
    ),
    (
        "not a finite number",
        put("stages", 0, "metrics", 0, "actual", float("nan")),
        "stages[0].metrics[0].actual: must be a number",
    ),
    (
        "string for a count",
        put("stages", 0, "entered", "1000"),
        "stages[0].entered: must be a whole number from 0 to 2147483647",
    ),
    (
        "bool for influence",
        put("personas", 0, "influence", True),
        "personas[0].influence: must be a whole number from 1 to 5",
    ),
    ("number for text", put("touchpoints", 0, "name", 5), "touchpoints[0].name: must be text"),
    ("null for text", put("stages", 0, "goal", None), "stages[0].goal: must be text"),
    (
        "NUL in text",
        put("stages", 0, "handoff_sla", "2 days\x00"),
        "stages[0].handoff_sla: must not contain control characters (found U+0000); only tabs and line breaks are allowed",
    ),
    (
        "text too long",
        put("touchpoints", 0, "channel", "c" * 101),
        "touchpoints[0].channel: must be at most 100 characters (is 101)",
    ),
    (
        "content title too long",
        put("content", 0, "title", "t" * 301),
        "content[0].title: must be at most 300 characters (is 301)",
    ),
    ("questions not a list", put("stages", 0, "questions", "Why?"), "stages[0].questions: must be a list of text"),
    ("question not text", put("content", 0, "questions", 1, 42), "content[0].questions: line 2 must be text"),
    ("emotion 3", put("touchpoints", 2, "emotion", 3), "touchpoints[2].emotion: must be a whole number from -2 to 2"),
    ("emotion -3", put("touchpoints", 2, "emotion", -3), "touchpoints[2].emotion: must be a whole number from -2 to 2"),
    (
        "rate 1.5",
        put("stages", 1, "target_conversion", 1.5),
        "stages[1].target_conversion: must be a number from 0 to 1",
    ),
    (
        "negative rate",
        put("stages", 1, "target_conversion", -0.1),
        "stages[1].target_conversion: must be a number from 0 to 1",
    ),
    (
        "negative count",
        put("stages", 0, "converted", -1),
        "stages[0].converted: must be a whole number from 0 to 2147483647",
    ),
    (
        "count too large",
        put("stages", 0, "entered", 2**31),
        "stages[0].entered: must be a whole number from 0 to 2147483647",
    ),
    (
        "converted > entered",
        put("stages", 0, "converted", 1001),
        "stages[0].converted: must not be more than entered (1000)",
    ),
    ("influence 0", put("personas", 0, "influence", 0), "personas[0].influence: must be a whole number from 1 to 5"),
    ("influence 6", put("personas", 2, "influence", 6), "personas[2].influence: must be a whole number from 1 to 5"),
    ("bad status", put("content", 1, "status", "published"), "content[1].status: must be one of draft, live, retired"),
    (
        "bad type",
        put("content", 1, "type", "podcast"),
        "content[1].type: must be one of the content types (any case, spaces or hyphens): blog post, ebook, white paper,"
        " case study, solution brief, video, demo, webinar, tool, email, survey, testimonial, referral program, how-to,"
        " landing page, ad, infographic, event, other",
    ),
    (
        "impossible date",
        put("content", 0, "last_reviewed", "2026-02-30"),
        "content[0].last_reviewed: must be a date as YYYY-MM-DD, or null",
    ),
    (
        "date in another format",
        put("content", 0, "last_reviewed", "20260501"),
        "content[0].last_reviewed: must be a date as YYYY-MM-DD, or null",
    ),
    (
        "ftp url",
        put("content", 0, "url", "ftp://example.com/guide"),
        "content[0].url: must be an http:// or https:// address",
    ),
    (
        "not a url",
        put("content", 0, "url", "example dot com"),
        "content[0].url: must be an http:// or https:// address",
    ),
    ("bad slug key", put("departments", 0, "key", "Marke ting"), f"departments[0].key: {SLUG_MESSAGE}"),
    ("non-ASCII key", put("roles", 1, "key", "経済"), f"roles[1].key: {SLUG_MESSAGE}"),
    ("number for a key", put("departments", 0, "key", 5), f"departments[0].key: {SLUG_MESSAGE}"),
    ("missing key", drop("roles", 0, "key"), "roles[0].key: is missing"),
    (
        "duplicate department",
        append_copy_of_first("departments"),
        'departments[4].key: "marketing" is already the key of departments[0]',
    ),
    ("duplicate role", append_copy_of_first("roles"), 'roles[4].key: "decision-maker" is already the key of roles[0]'),
    ("duplicate persona", append_copy_of_first("personas"), 'personas[3].key: "cfo" is already the key of personas[0]'),
    (
        "duplicate content",
        append_copy_of_first("content"),
        'content[4].key: "buyers-guide" is already the key of content[0]',
    ),
    ("duplicate stage", append_copy_of_first("stages"), 'stages[5].key: "attract" is already the key of stages[0]'),
    (
        "duplicate touchpoint",
        append_copy_of_first("touchpoints"),
        'touchpoints[7].key: "ad" is already the key of touchpoints[0]',
    ),
    ("dangling persona role", put("personas", 0, "role", "ceo"), 'personas[0].role: no role "ceo"'),
    ("dangling persona stage", put("personas", 0, "stages", 1, "retain"), 'personas[0].stages[1]: no stage "retain"'),
    ("dangling content persona", put("content", 1, "personas", 0, "cto"), 'content[1].personas[0]: no persona "cto"'),
    ("dangling content stage", put("content", 1, "stages", 0, "close"), 'content[1].stages[0]: no stage "close"'),
    ("dangling stage lead", put("stages", 0, "lead", "legal"), 'stages[0].lead: no department "legal"'),
    (
        "dangling contributor",
        put("stages", 3, "contributors", 1, "legal"),
        'stages[3].contributors[1]: no department "legal"',
    ),
    (
        "dangling required role",
        put("stages", 3, "required_roles", 2, "gatekeeper"),
        'stages[3].required_roles[2]: no role "gatekeeper"',
    ),
    (
        "dangling touchpoint stage",
        put("touchpoints", 0, "stage", "awareness"),
        'touchpoints[0].stage: no stage "awareness"',
    ),
    ("missing touchpoint stage", drop("touchpoints", 0, "stage"), "touchpoints[0].stage: is missing"),
    ("null touchpoint stage", put("touchpoints", 0, "stage", None), "touchpoints[0].stage: must be a stage key"),
    ("dangling owner", put("touchpoints", 0, "owner", "legal"), 'touchpoints[0].owner: no department "legal"'),
    (
        "dangling touchpoint persona",
        put("touchpoints", 4, "personas", 1, "cto"),
        'touchpoints[4].personas[1]: no persona "cto"',
    ),
    (
        "dangling touchpoint content",
        put("touchpoints", 4, "content", 0, "roi"),
        'touchpoints[4].content[0]: no content "roi"',
    ),
    ("dangling next", put("touchpoints", 3, "next", 0, "contrat"), 'touchpoints[3].next[0]: no touchpoint "contrat"'),
    ("reference not a key", put("touchpoints", 3, "next", 0, 4), "touchpoints[3].next[0]: must be a touchpoint key"),
    (
        "reference list not a list",
        put("stages", 0, "contributors", "sales"),
        "stages[0].contributors: must be a list of department keys",
    ),
    (
        "self flow",
        put("touchpoints", 3, "next", 0, "nurture-mail"),
        "touchpoints[3].next[0]: a touchpoint cannot flow to itself",
    ),
    (
        "duplicate touchpoint persona",
        put("touchpoints", 0, "personas", 1, "cfo"),
        'touchpoints[0].personas[1]: "cfo" listed twice',
    ),
    ("duplicate flow", put("touchpoints", 2, "next", 1, "demo"), 'touchpoints[2].next[1]: "demo" listed twice'),
    (
        "duplicate contributor",
        put("stages", 3, "contributors", 1, "marketing"),
        'stages[3].contributors[1]: "marketing" listed twice',
    ),
    (
        "duplicate scope stage",
        put("personas", 0, "stages", 1, "convert"),
        'personas[0].stages[1]: "convert" listed twice',
    ),
]


@pytest.mark.parametrize(
    "mutate, message", [pytest.param(mutate, message, id=name) for name, mutate, message in MALFORMED]
)
def test_malformed_document_is_refused_naming_the_place_and_nothing_is_written(small_map, mutate, message):
    doc = full_doc()
    mutate(doc)
    before = row_counts()
    with pytest.raises(InterchangeError) as caught:
        import_map(doc, small_map.workspace)
    assert str(caught.value) == message
    assert caught.value.place == message.split(": ", 1)[0]
    assert row_counts() == before


NOT_JSON = '{"format": "journeymap/1",\n  "map": {\n    "key" "acme"}}'


@pytest.mark.parametrize(
    "text, message",
    [
        (NOT_JSON, "line 3 column 11: not valid JSON: Expecting ':' delimiter"),
        ("", "line 1 column 1: not valid JSON: Expecting value"),
        ("[]", "document: must be a JSON object"),
        ('"journeymap/1"', "document: must be a JSON object"),
        (b'{"format": "journeymap/1", "map": {"name": "\xff"}}', "byte 45: not UTF-8 text"),
        (
            '{"format": "journeymap/1", "map": {"key": "a", "key": "b", "name": "A"}}',
            'document: field "key" appears twice in one object',
        ),
    ],
    ids=["not JSON", "empty", "list", "string", "not UTF-8", "repeated field"],
)
def test_text_that_is_not_a_json_object_is_refused_and_nothing_is_written(workspace, text, message):
    before = row_counts()
    with pytest.raises(InterchangeError) as caught:
        import_map(parse(text), workspace)
    assert str(caught.value) == message
    assert row_counts() == before


def test_validate_refuses_a_top_level_that_is_not_an_object():
    with pytest.raises(InterchangeError, match="^document: must be a JSON object$"):
        validate(["journeymap/1"])


def test_first_problem_in_document_order_is_reported():
    doc = full_doc()
    doc["touchpoints"][0]["emotion"] = 9
    doc["stages"][2]["colour"] = "red"
    doc["personas"][1]["stages"] = ["nowhere"]
    with pytest.raises(InterchangeError) as caught:
        validate(doc)
    assert str(caught.value) == 'personas[1].stages[0]: no stage "nowhere"'


def test_a_reference_may_point_to_a_later_list():
    # personas come before the stages they are scoped to; the document is read as a whole
    doc = full_doc()
    assert doc["personas"][0]["stages"] == ["convert", "expand"]
    validate(doc)


def test_parse_accepts_utf8_bytes_with_a_byte_order_mark():
    text = FULL_MAP.read_text(encoding="utf-8")
    assert parse(b"\xef\xbb\xbf" + text.encode()) == json.loads(text)


def test_non_finite_numbers_in_the_text_are_refused_at_their_place():
    text = FULL_MAP.read_text(encoding="utf-8").replace('"actual": 4200', '"actual": Infinity')
    with pytest.raises(InterchangeError, match=r"^stages\[0\]\.metrics\[0\]\.actual: must be a number$"):
        validate(parse(text))


# --- import ----------------------------------------------------------------------------


def test_import_writes_every_part_of_the_map(workspace):
    jm = import_map(full_doc(), workspace)

    assert (jm.key, jm.name, jm.goal) == ("acme-b2b", "Acme B2B 購買ジャーニー", "商談化率を20%に上げる")
    assert [s.name for s in jm.stages.all()] == ["認知", "検討", "Nurture", "Convert", "Expand"]
    attract = jm.stages.get(key="attract")
    assert attract.lead.key == "marketing"
    assert [m.name for m in attract.metrics.all()] == ["Visits", "CTR"]
    assert (attract.entered, attract.converted, attract.target_conversion) == (1000, 200, 0.15)
    assert [e.persona.key for e in jm.map_personas.all()] == ["cfo", "it-lead", "ops_manager"]
    assert [s.key for s in jm.map_personas.get(persona__key="cfo").stages.all()] == ["convert", "expand"]
    assert [(tp.stage.key, tp.key) for tp in Touchpoint.objects.filter(map=jm)] == [
        ("attract", "ad"),
        ("attract", "guide-download"),
        ("capture", "webinar"),
        ("nurture", "nurture-mail"),
        ("convert", "demo"),
        ("convert", "contract"),
        ("expand", "onboarding"),
    ]
    webinar = Touchpoint.objects.get(map=jm, key="webinar")
    assert [f.target.key for f in webinar.flows_out.all()] == ["demo", "nurture-mail"]
    guide = ContentAsset.objects.get(workspace=workspace, key="buyers-guide")
    assert sorted(s.key for s in guide.stages.all()) == ["attract", "capture"]
    assert guide.last_reviewed.isoformat() == "2026-05-01"
    assert list(Persona.objects.get(workspace=workspace, key="cfo").content.order_by("order")) == [
        guide,
        ContentAsset.objects.get(workspace=workspace, key="roi-calc"),
    ]


def test_import_leaves_optional_fields_empty_when_they_are_left_out(workspace):
    doc = {
        "format": "journeymap/1",
        "map": {"key": "bare", "name": "Bare"},
        "departments": [{"key": "sales", "name": "Sales"}],
        "stages": [{"key": "one", "name": "One"}],
        "touchpoints": [{"key": "call", "stage": "one", "name": "Call"}],
    }
    jm = import_map(doc, workspace)
    stage = jm.stages.get()
    assert (stage.lead, stage.entered, stage.target_conversion, stage.questions) == (None, None, None, [])
    touchpoint = stage.touchpoints.get()
    assert (touchpoint.owner, touchpoint.emotion, touchpoint.channel) == (None, None, "")


def test_a_document_without_stages_imports_an_empty_map(workspace):
    jm = import_map({"format": "journeymap/1", "map": {"key": "draft", "name": "Draft"}}, workspace)
    assert jm.stages.count() == 0
    exported = export_map(jm)
    assert exported["stages"] == [] and exported["touchpoints"] == []


def test_a_taken_map_key_is_imported_under_the_first_free_suffix(small_map):
    doc = full_doc()
    doc["map"]["key"] = "launch"
    second = import_map(doc, small_map.workspace)
    third = import_map(doc, small_map.workspace)

    assert (second.key, third.key) == ("launch-2", "launch-3")
    small_map.refresh_from_db()
    assert small_map.name == "Launch journey"
    assert [s.key for s in small_map.stages.all()] == ["awareness", "decision"]
    assert second.stages.count() == 5


def test_a_free_key_for_a_long_taken_key_still_fits(workspace):
    doc = full_doc()
    doc["map"]["key"] = "k" * 64
    import_map(doc, workspace)
    assert import_map(doc, workspace).key == "k" * 62 + "-2"


def test_a_library_object_with_a_known_key_is_reused_unchanged(small_map):
    workspace = small_map.workspace
    marketing = Department.objects.get(workspace=workspace, key="marketing")
    calc = ContentAsset.objects.get(workspace=workspace, key="roi-calc")
    departments_before = Department.objects.filter(workspace=workspace).count()

    jm = import_map(full_doc(), workspace)

    marketing.refresh_from_db()
    assert marketing.name == "Marketing"  # the document says マーケティング
    assert jm.stages.get(key="attract").lead == marketing
    assert Department.objects.filter(workspace=workspace).count() == departments_before + 1
    calc.refresh_from_db()
    assert calc.title == "ROI calculator"
    # the old map's link stays, the new map's is added
    assert sorted(s.map.key for s in calc.stages.all()) == ["acme-b2b", "launch"]
    assert [p.key for p in calc.personas.all()] == ["cfo"]
    assert Persona.objects.get(workspace=workspace, key="cfo").name == "Carla CFO"


def test_new_library_objects_go_after_the_existing_ones(small_map):
    import_map(full_doc(), small_map.workspace)
    keys = [d.key for d in Department.objects.filter(workspace=small_map.workspace)]
    assert keys == ["marketing", "sales", "service", "customer_success"]
    roles = [r.key for r in BuyingRole.objects.filter(workspace=small_map.workspace)]
    assert roles == ["decision-maker", "technical-evaluator", "economic-buyer", "champion"]


def test_a_write_that_fails_halfway_leaves_nothing_written(workspace, monkeypatch):
    before = row_counts()
    written_before_failure = {}

    def fail(self, *args, **kwargs):
        written_before_failure["stages"] = Stage.objects.filter(map__workspace=workspace).count()
        raise RuntimeError("disk full")

    monkeypatch.setattr(Flow, "save", fail)
    with pytest.raises(RuntimeError):
        import_map(full_doc(), workspace)

    assert written_before_failure["stages"] == 5
    assert row_counts() == before


# --- export ----------------------------------------------------------------------------


def test_export_holds_every_value_of_the_document(workspace):
    assert export_map(import_map(full_doc(), workspace)) == exported_full_doc()


def test_export_writes_the_language_after_the_goal(workspace):
    assert list(export_map(import_map(full_doc(), workspace))["map"]) == [
        "key",
        "name",
        "description",
        "goal",
        "language",
    ]


def test_a_document_without_a_language_imports_as_english(workspace):
    assert "language" not in full_doc()["map"]
    jm = import_map(full_doc(), workspace)
    jm.refresh_from_db()
    assert jm.language == "en"


def test_a_japanese_map_keeps_its_language_through_export_and_import(db):
    jm = import_map(exported_full_doc("ja"), new_workspace("first"))
    jm.refresh_from_db()
    assert jm.language == "ja"
    first = dumps(export_map(jm))
    assert '"goal": "商談化率を20%に上げる",\n    "language": "ja"\n  },' in first
    assert export_map(jm) == exported_full_doc("ja")

    copy = import_map(parse(first), new_workspace("second"))
    copy.refresh_from_db()
    assert copy.language == "ja"
    assert dumps(export_map(copy)) == first


def test_export_import_export_gives_the_same_text(db):
    first = dumps(export_map(import_map(full_doc(), new_workspace("first"))))
    second = dumps(export_map(import_map(parse(first), new_workspace("second"))))
    assert first == second


def test_export_writes_references_in_canonical_order_and_every_field(workspace):
    doc = full_doc()
    for obj in doc["personas"] + doc["content"] + doc["stages"] + doc["touchpoints"]:
        for name in ("stages", "personas", "contributors", "required_roles", "content"):
            if isinstance(obj.get(name), list):
                obj[name].reverse()
        for name in [name for name, value in obj.items() if value in ("", [], None)]:
            del obj[name]
    # the expand stage's touchpoint first: touchpoints are exported grouped by stage
    doc["touchpoints"].insert(0, doc["touchpoints"].pop())

    assert export_map(import_map(doc, workspace)) == exported_full_doc()


def test_export_of_a_map_built_in_the_app(small_map):
    workspace = small_map.workspace
    outsider = Persona.objects.create(workspace=workspace, key="outsider", name="Not in the map")
    ContentAsset.objects.get(key="guide").personas.add(outsider)
    Touchpoint.objects.get(key="ad").personas.add(outsider)
    ContentAsset.objects.create(workspace=workspace, key="unused", title="Linked to nothing")

    doc = export_map(small_map)

    assert [d["key"] for d in doc["departments"]] == ["marketing", "sales", "service"]
    assert [p["key"] for p in doc["personas"]] == ["cfo", "it-lead"]
    assert [(c["key"], c["personas"]) for c in doc["content"]] == [("guide", ["cfo", "it-lead"]), ("roi-calc", ["cfo"])]
    assert doc["touchpoints"][0]["personas"] == ["cfo"]
    assert doc["personas"][1]["stages"] == ["decision"]
    assert [t["next"] for t in doc["touchpoints"]] == [["webinar"], ["demo"], []]
    # an export always imports again
    import_map(doc, new_workspace("copy"))


def test_dumps_writes_whole_kpi_figures_as_integers_and_text_unescaped(small_map):
    text = dumps(export_map(small_map))
    assert '"target": 5000,' in text and '"actual": 4200,' in text
    small_map.stages.filter(key="awareness").update(name="認知")
    text = dumps(export_map(small_map))
    assert '"name": "認知"' in text
    assert text.endswith("}\n") and not text.endswith("\n\n")


def test_export_then_import_keeps_flow_order_across_stages(workspace):
    doc = full_doc()
    doc["touchpoints"][0]["next"] = ["demo", "webinar", "guide-download"]
    exported = export_map(import_map(doc, workspace))
    assert exported["touchpoints"][0]["next"] == ["demo", "webinar", "guide-download"]


def test_export_reads_the_map_as_it_is_now(small_map):
    loaded = JourneyMap.objects.loaded().get(pk=small_map.pk)
    Stage.objects.filter(key="decision").update(name="Purchase")
    assert export_map(loaded)["stages"][1]["name"] == "Purchase"


def test_map_persona_scope_and_order_survive_the_round_trip(workspace):
    jm = import_map(full_doc(), workspace)
    assert list(MapPersona.objects.filter(map=jm).values_list("order", "persona__key")) == [
        (0, "cfo"),
        (1, "it-lead"),
        (2, "ops_manager"),
    ]


@pytest.mark.parametrize(
    "word, key",
    [
        ("Case study", "case-study"),
        ("case-study", "case-study"),
        ("WHITE PAPER", "white-paper"),
        ("eBook", "ebook"),
        ("How-to", "how-to"),
        ("how to", "how-to"),
        ("referral  program", "referral-program"),
    ],
)
def test_content_types_are_taken_as_words_in_any_case_and_stored_as_their_key(workspace, word, key):
    doc = json.loads(FULL_MAP.read_text(encoding="utf-8"))
    doc["content"][0]["type"] = word
    journey_map = import_map(doc, workspace)
    assert journey_map.workspace.content.get(key=doc["content"][0]["key"]).type == key
    assert export_map(journey_map)["content"][0]["type"] == key


# --- translation -----------------------------------------------------------------------


@pytest.fixture
def marked_gettext(monkeypatch) -> list[tuple[str, str]]:
    """The module's gettext replaced by one that marks what it returns with the language
    active at the call; the (language, msgid) pairs looked up are recorded."""
    looked_up = []

    def gettext(message: str) -> str:
        looked_up.append((translation.get_language(), message))
        return f"[{translation.get_language()}] {message}"

    monkeypatch.setattr(interchange, "_", gettext)
    return looked_up


def test_a_refusal_message_is_translated_when_raised_and_its_place_is_not(marked_gettext):
    doc = full_doc()
    doc["touchpoints"][3]["next"] = ["contrat"]
    with translation.override("ja"):
        with pytest.raises(InterchangeError) as caught:
            validate(doc)
    # rendered when raised: leaving the language does not change it
    assert str(caught.value) == 'touchpoints[3].next[0]: [ja] no touchpoint "contrat"'
    assert caught.value.place == "touchpoints[3].next[0]"
    assert caught.value.message == '[ja] no touchpoint "contrat"'
    assert marked_gettext == [("ja", 'no touchpoint "%(key)s"')]


@pytest.mark.parametrize(
    "mutate, msgid",
    [
        (put("map", "language", "fr"), "must be one of %(values)s"),
        (put("stages", 0, "lead", "legal"), 'no department "%(key)s"'),
        (put("stages", 0, "contributors", "sales"), "must be a list of department keys"),
        (put("personas", 0, "role", 5), "must be a role key or null"),
        (append_copy_of_first("stages"), '"%(key)s" is already the key of %(place)s'),
        (put("map", "archived", True), "unknown field"),
        (drop("map", "key"), "is missing"),
        (put("map", "key", "acme b2b"), SLUG_MESSAGE),
        (put("content", 0, "last_reviewed", "20260501"), "must be a date as YYYY-MM-DD, or null"),
    ],
    ids=["choice", "reference", "reference list", "optional reference", "key", "field", "missing", "slug", "date"],
)
def test_refusals_look_up_their_english_msgid_in_the_active_language(marked_gettext, mutate, msgid):
    doc = full_doc()
    mutate(doc)
    with translation.override("ja"), pytest.raises(InterchangeError) as caught:
        validate(doc)
    assert marked_gettext == [("ja", msgid)]
    assert caught.value.message.startswith("[ja] ")
    assert str(caught.value) == f"{caught.value.place}: {caught.value.message}"
    assert "[ja]" not in caught.value.place


def test_the_values_of_the_format_stay_as_they_are_in_a_translated_message(marked_gettext):
    doc = full_doc()
    doc["map"]["language"] = "fr"
    with translation.override("ja"), pytest.raises(InterchangeError) as caught:
        validate(doc)
    assert str(caught.value) == "map.language: [ja] must be one of en, ja"


def test_a_text_that_is_not_json_is_refused_in_the_active_language(marked_gettext):
    with translation.override("ja"), pytest.raises(InterchangeError) as caught:
        parse("[]")
    assert str(caught.value) == "[ja] document: [ja] must be a JSON object"


def _workspace_with_a_different_cfo(workspace: Workspace) -> Persona:
    role = BuyingRole.objects.create(workspace=workspace, key="decision-maker", name="Decision maker")
    return Persona.objects.create(workspace=workspace, key="cfo", name="Our CFO", role=role, title="")


def test_the_report_of_a_reused_item_that_differs(workspace):
    _workspace_with_a_different_cfo(workspace)
    doc = full_doc()
    assert doc["personas"][0]["key"] == "cfo"
    doc["personas"][0].update(role="decision-maker", title="", goals="", motivations="", triggers="", fears="")
    jm = import_map(doc, workspace)
    assert [str(item) for item in jm.reused if item.key == "cfo"] == [
        'reused persona "cfo": name is "Our CFO" here, "Carla CFO" in the file; influence is empty here, 5 in the'
        ' file; background is empty here, "15 years in finance" in the file'
    ]


def test_the_report_of_a_reused_item_is_in_the_language_it_is_shown_in(workspace, monkeypatch):
    _workspace_with_a_different_cfo(workspace)
    doc = full_doc()
    doc["personas"][0] = {"key": "cfo", "name": "Our CFO", "role": None}
    jm = import_map(doc, workspace)
    (item,) = [item for item in jm.reused if item.key == "cfo"]
    assert str(item) == 'reused persona "cfo": role is "decision-maker" here, empty in the file'

    looked_up = []

    def gettext(message: str) -> str:
        looked_up.append((translation.get_language(), message))
        return f"[{translation.get_language()}] {message}"

    def pgettext(context: str, message: str) -> str:
        looked_up.append((translation.get_language(), f"{context}|{message}"))
        return f"[{translation.get_language()}] {message}"

    monkeypatch.setattr(interchange, "_", gettext)
    monkeypatch.setattr(interchange, "pgettext", pgettext)
    with translation.override("ja"):
        said = str(item)
    assert said == '[ja] reused persona "cfo": [ja] role is "decision-maker" here, [ja] empty in the file'
    assert sorted(looked_up) == [
        ("ja", "%(field)s is %(here)s here, %(there)s in the file"),
        ("ja", 'reused persona "%(key)s": %(differences)s'),
        ("ja", "value of a field|empty"),
    ]
