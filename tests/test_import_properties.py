"""Properties of the journeymap/1 validator and of every importer, found by hypothesis:
for any document, a clean refusal (InterchangeError, one line naming a place) or a
successful import; never another exception, and never a partial write.

Documents are made two ways: arbitrary JSON text (and bytes), and tests/data/full_map.json
with one value somewhere replaced by an arbitrary JSON value (texts with control
characters and lone surrogates, integers of thousands of digits, NaN, deep lists), so
that most examples pass the first checks and reach the deep ones.
"""

from __future__ import annotations

import copy
import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maps import changes, history
from maps.interchange import InterchangeError, export_map, import_map, parse, validate
from maps.models import JourneyMap, Workspace

from .test_import_export_commands import refused
from .test_interchange import full_doc, row_counts

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any text: control characters, NUL and lone surrogates included.
texts = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=10**300, max_value=10**310),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(int("9" * 4000)),
)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=12,
)


def _places(value: object, path: tuple = ()) -> list[tuple]:
    """Every path into a document (keys of objects, indexes of lists)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _places(child, (*path, index))
    return found


PLACES = _places(full_doc())


@st.composite
def broken_documents(draw) -> dict:
    """full_map.json with one value replaced, one field added, or one list item removed."""
    doc = full_doc()
    path = draw(st.sampled_from(PLACES[1:]))
    parent = doc
    for step in path[:-1]:
        parent = parent[step]
    how = draw(st.sampled_from(["replace", "add", "remove"]))
    if how == "replace":
        parent[path[-1]] = draw(json_values)
    elif how == "add" and isinstance(parent, dict):
        parent[draw(texts)] = draw(json_values)
    elif isinstance(parent, list):
        del parent[path[-1]]
    else:
        del parent[path[-1]]
    return doc


def _as_text(doc: dict) -> str:
    """The document as a file would hold it: NaN and huge numbers written as they are."""
    return json.dumps(doc, ensure_ascii=True, allow_nan=True)


def _one_line_refusal(err: InterchangeError) -> None:
    message = str(err)
    assert "\n" not in message and ": " in message


@pytest.fixture
def target(db) -> Workspace:
    return Workspace.objects.create(slug="target", name="Target")


@EXAMPLES
@given(text=st.one_of(st.text(st.characters(codec=None, exclude_categories=())), st.binary()))
def test_any_text_parses_to_an_object_or_is_refused_in_one_line(text):
    try:
        doc = parse(text)
    except InterchangeError as err:
        _one_line_refusal(err)
    else:
        assert isinstance(doc, dict)


def _import_or_refuse(text: str, workspace: Workspace) -> JourneyMap | None:
    """What import_map does with a file: None for a refusal, which must write nothing."""
    before = row_counts()
    try:
        with transaction.atomic():
            journey_map = import_map(parse(text), workspace)
            changes.record_creation(journey_map)
    except InterchangeError as err:
        _one_line_refusal(err)
        assert row_counts() == before, "a refused import wrote rows"
        return None
    return journey_map


@EXAMPLES
@given(doc=broken_documents())
def test_any_broken_document_imports_whole_or_is_refused_writing_nothing(target, doc):
    with transaction.atomic():
        journey_map = _import_or_refuse(_as_text(doc), target)
        if journey_map is not None:
            # What was accepted can be exported and read again: nothing in it breaks export.
            again = export_map(JourneyMap.objects.get(pk=journey_map.pk))
            validate(json.loads(json.dumps(again, allow_nan=False)))
        transaction.set_rollback(True)


@EXAMPLES
@given(doc=broken_documents())
def test_any_broken_document_replaces_a_map_whole_or_is_refused_writing_nothing(small_map, doc):
    before = row_counts()
    wanted = export_map(small_map)
    with transaction.atomic():
        try:
            history.replace(small_map, parse(_as_text(doc)))
        except InterchangeError as err:
            _one_line_refusal(err)
            assert row_counts() == before, "a refused replace wrote rows"
            assert export_map(JourneyMap.objects.get(pk=small_map.pk)) == wanted
        transaction.set_rollback(True)


@EXAMPLES
@given(value=json_values)
def test_the_validator_refuses_any_value_as_a_whole_document_cleanly(value):
    try:
        validate(value)
    except InterchangeError as err:
        _one_line_refusal(err)


def test_the_unbroken_document_imports(target):
    """The starting point of the broken documents is itself accepted: the examples above
    that break nothing, or something optional, do reach the write."""
    assert _import_or_refuse(_as_text(full_doc()), target) is not None


def test_a_number_of_five_thousand_digits_is_refused_in_one_line():
    doc = full_doc()
    text = _as_text(doc).replace('"influence": 5', '"influence": ' + "9" * 5000, 1)
    with pytest.raises(InterchangeError, match=r"^document: holds a number with too many digits$"):
        parse(text)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_numbers_json_does_not_have_are_refused(constant):
    text = _as_text(full_doc()).replace('"target_conversion": 0.15', f'"target_conversion": {constant}', 1)
    assert text != _as_text(full_doc())
    # JSON has no such numbers; Python reads them, and the field refuses them at its place.
    with pytest.raises(InterchangeError, match=r"^stages\[0\]\.target_conversion: "):
        validate(parse(text))


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(settings):
    settings.IMPORT_MAX_BYTES = 1000
    text = _as_text(full_doc())
    assert len(text) > 1000
    with pytest.raises(InterchangeError, match=r"^document: too large: more than 1000 bytes \(IMPORT_MAX_BYTES\)$"):
        parse(text)


def test_a_lone_surrogate_in_a_name_is_refused_on_every_database(target):
    doc = full_doc()
    doc["personas"][0]["name"] = "Carla \ud800"
    before = row_counts()
    with pytest.raises(InterchangeError, match=r"^personas\[0\]\.name: must not contain control characters"):
        import_map(parse(_as_text(doc)), target)
    assert row_counts() == before


def test_a_description_over_the_text_limit_is_refused(target):
    doc = full_doc()
    doc["map"]["description"] = "x" * 10_001
    with pytest.raises(InterchangeError, match=r"^map\.description: "):
        import_map(doc, target)


def test_too_many_questions_are_refused(target):
    doc = full_doc()
    doc["stages"][0]["questions"] = ["Why?"] * 101
    with pytest.raises(InterchangeError, match=r"^stages\[0\]\.questions: must have at most 100 lines"):
        import_map(doc, target)


def test_infinity_given_as_a_python_value_is_refused_as_a_rate():
    doc = copy.deepcopy(full_doc())
    doc["stages"][0]["target_conversion"] = float("inf")
    with pytest.raises(InterchangeError, match=r"^stages\[0\]\.target_conversion: "):
        validate(doc)


# The command line: exit 2 and one line, never a traceback, and nothing written.

HOSTILE_FILES = {
    "a number of 5,000 digits": lambda text: text.replace('"influence": 5', '"influence": ' + "9" * 5000, 1),
    "a lone surrogate": lambda text: text.replace('"name": "', '"name": "\\ud800', 1),
    "deep nesting": lambda text: '{"format": "journeymap/1", "map": ' + "[" * 100_000 + "]" * 100_000 + "}",
    "NaN": lambda text: text.replace('"target_conversion": 0.15', '"target_conversion": NaN', 1),
    "an escape sequence in a field name": lambda text: text.replace('"map": {', '"map": {"\\u001b[31m": 1, ', 1),
    "not UTF-8": lambda text: text.replace('"name": "', '"name": "\udcff', 1),
}


@pytest.mark.parametrize("case", list(HOSTILE_FILES))
def test_import_map_refuses_a_hostile_file_in_one_line(workspace, tmp_path, case):
    path = tmp_path / "map.json"
    text = HOSTILE_FILES[case](_as_text(full_doc()))
    path.write_bytes(text.encode("utf-8", "surrogateescape" if case == "not UTF-8" else "strict"))
    before = row_counts()
    message = refused("import_map", str(path), "--workspace", "acme")
    assert message.isprintable()
    assert row_counts() == before


def test_import_map_refuses_a_file_over_the_size_limit(workspace, tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 2000
    path = tmp_path / "map.json"
    path.write_text(_as_text(full_doc()), encoding="utf-8")
    message = refused("import_map", str(path), "--workspace", "acme")
    assert message == "document: too large: more than 2000 bytes (IMPORT_MAX_BYTES)"


def test_a_failed_export_leaves_the_output_file_as_it_was(workspace, tmp_path):
    path = tmp_path / "out.json"
    path.write_text("precious", encoding="utf-8")
    refused("export_map", "acme/no-such-map", "-o", str(path))
    assert path.read_text(encoding="utf-8") == "precious"
