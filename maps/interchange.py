"""journeymap/1: one JSON document holds one map with everything it uses (docs/format.md).

`parse` turns text into a document, `validate` refuses the first problem in document
order with a one-line message that names its place (`touchpoints[3].next[0]: no
touchpoint "contrat"`), `import_map` writes a valid document in one transaction, and
`export_map` with `dumps` writes a map back out.

Decisions the format leaves open:
- Departments, roles, personas and content belong to the workspace library. On import,
  one whose key the workspace already has is REUSED as it is: its fields (and, for
  content, its target personas) are not overwritten, so importing a map never changes
  the maps that already use it. The links this map makes to it (a stage's content, a
  touchpoint's personas...) are added. New ones are appended to the library in list order.
- A map key the workspace already uses is imported as the first free `<key>-2`,
  `<key>-3`, ... (cut to fit 64 characters).
- A document with no stages is valid: an empty map (it then has no touchpoints).
- Export writes every field of every object, empty ones as "", [] or null, so documents
  are uniform; on import a missing optional field means the same as an empty one
  (content `type` and `status` default to "other" and "draft", as in the model).
- Export writes reference lists in the order of the list they refer to, touchpoints
  grouped by stage and `next` in flow order, so export -> import into an empty
  workspace -> export gives the same text byte for byte.
- Export leaves out links the document could not resolve: a persona that a touchpoint
  reaches or content targets but that was never added to the map, a flow into another
  map. So every export imports again.
- Text fields may not contain NUL characters (PostgreSQL refuses them).

Messages are for people and translated (Django's gettext, in the language active when
the error is raised); the place is not: it is the document's own structure, written in
its field names. Keys, field names and the values of the format ("journeymap/1", "draft",
"en") stay as they are inside translated messages.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, validate_slug
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext

from .changes import free_key
from .models import (
    DEFAULT_LANGUAGE,
    LANGUAGE_CODES,
    REVIEW_EVERY_DAYS,
    Action,
    BuyingRole,
    ContentAsset,
    Department,
    Flow,
    FunnelFigure,
    JourneyMap,
    MapPersona,
    Metric,
    MetricActual,
    Persona,
    QualificationCriterion,
    Stage,
    StageAnswer,
    SwotItem,
    Touchpoint,
    Workspace,
    figures_in_order,
    history_in_order,
    period_order,
)
from .validators import visible

FORMAT = "journeymap/1"
KEY_MAX_LENGTH = JourneyMap._meta.get_field("key").max_length
DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Translators: a refusal of an imported journeymap/1 file, shown after the place in the
# file ("map.key: "); "slug" names the kind of key: letters, digits, hyphens, underscores.
SLUG_RULE = gettext_noop("must be a slug (letters, digits, hyphens, underscores)")


class InterchangeError(Exception):
    """A document refused: `str(err)` is one line, "<place>: <message>".

    The place is a path into the document in its own field names
    (`touchpoints[3].next[0]`) and is never translated; the message is, by the caller,
    in the language active when the error is raised.
    """

    def __init__(self, place: str, message: str) -> None:
        # A place or message quoting the document (a field name, a key) shows what it
        # quotes with control characters escaped: one line that prints anywhere.
        place, message = visible(place), visible(message)
        super().__init__(f"{place}: {message}")
        self.place = place
        self.message = message


# --- parsing ---------------------------------------------------------------------------


def parse(text: str | bytes, limited: bool = True) -> dict:
    """JSON text (UTF-8 if bytes) -> a document, not yet validated. A text above
    settings.IMPORT_MAX_BYTES is refused before it is read, unless not `limited` (a
    workspace backup restored from the command line holds many maps)."""
    size = len(text) if isinstance(text, bytes) else len(text.encode("utf-8", "surrogatepass"))
    if limited and size > settings.IMPORT_MAX_BYTES:
        raise InterchangeError(_document(), too_large())
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            # Translators: the place of a refusal in a file that is not UTF-8 text: the
            # number of the first byte that is not. Followed by ": not UTF-8 text".
            place = _("byte %(number)s") % {"number": err.start + 1}
            # Translators: refusal of an imported file, after its place ("byte 45: ").
            raise InterchangeError(place, _("not UTF-8 text")) from None
    try:
        # Editors on Windows save a byte order mark; it is not part of the JSON.
        doc = json.loads(
            text.removeprefix("\ufeff"),
            object_pairs_hook=_refuse_repeated_fields,
        )
    except json.JSONDecodeError as err:
        # Translators: the place of a refusal in a file that is not valid JSON: where in
        # the text the JSON reader stopped. Followed by ": not valid JSON: ...".
        place = _("line %(line)s column %(column)s") % {"line": err.lineno, "column": err.colno}
        # Translators: refusal of an imported file, after its place ("line 3 column 11: ").
        # %(reason)s is the JSON reader's own reason, in English.
        raise InterchangeError(place, _("not valid JSON: %(reason)s") % {"reason": err.msg}) from None
    except ValueError:
        # Python refuses to read integers of more than 4,300 digits.
        # Translators: refusal of an imported file (after "document: ") holding an
        # integer of thousands of digits.
        raise InterchangeError(_document(), _("holds a number with too many digits")) from None
    except RecursionError:
        # Translators: refusal of an imported file whose objects and lists are nested
        # more deeply than can be read, after "document: ".
        raise InterchangeError(_document(), _("nested too deeply")) from None
    if not isinstance(doc, dict):
        raise InterchangeError(_document(), _json_object())
    return doc


def too_large() -> str:
    """The refusal of a file above settings.IMPORT_MAX_BYTES (documents and CSV alike)."""
    # Translators: refusal of an imported file that is too large, after "document: ";
    # IMPORT_MAX_BYTES is the name of the setting and stays as it is.
    return _("too large: more than %(limit)s bytes (IMPORT_MAX_BYTES)") % {"limit": settings.IMPORT_MAX_BYTES}


def _document() -> str:
    # Translators: the place of a refusal that concerns an imported file as a whole
    # ("document: must be a JSON object").
    return _("document")


def _json_object() -> str:
    # Translators: refusal of an imported file (after "document: ") whose top level is
    # not a JSON object ({...}); "JSON" is the name of the format.
    return _("must be a JSON object")


def _refuse_repeated_fields(pairs: list[tuple[str, object]]) -> dict:
    # json keeps the last of two equal fields silently; the first would be lost unseen.
    obj = {}
    for name, value in pairs:
        if name in obj:
            # Translators: refusal of an imported file, after "document: ". %(name)s is a
            # field name of the file: keep it as it is, in its quotes.
            message = _('field "%(name)s" appears twice in one object') % {"name": name}
            raise InterchangeError(_document(), message)
        obj[name] = value
    return obj


# --- validation ------------------------------------------------------------------------

# A check gets the value, its place, the object holding it and the keys of every list.
Keys = dict[str, dict[str, tuple[int, dict]]]
Check = Callable[[object, str, dict, Keys], None]

# The refusals of a reference to an item of a list, one message per list: the noun and its
# place in the sentence differ between languages. Translated when raised (`_(...)`).
# In every message, %(key)s is the key written in the file, in its quotes: not translated.
MUST_BE_KEY = {
    # Translators: refusal of an imported journeymap/1 file, after the place in the file
    # where a reference is ("stages[0].lead: "); a key is the identifier of an item.
    "departments": gettext_noop("must be a department key"),
    # Translators: refusal of an imported file, after the place of a reference.
    "roles": gettext_noop("must be a role key"),
    # Translators: refusal of an imported file, after the place of a reference.
    "personas": gettext_noop("must be a persona key"),
    # Translators: refusal of an imported file, after the place of a reference.
    "content": gettext_noop("must be a content key"),
    # Translators: refusal of an imported file, after the place of a reference.
    "stages": gettext_noop("must be a stage key"),
    # Translators: refusal of an imported file, after the place of a reference.
    "touchpoints": gettext_noop("must be a touchpoint key"),
}
MUST_BE_KEY_OR_NULL = {
    # Translators: refusal of an imported file, after the place of a reference that may be
    # left empty; "null" is the JSON word for no value: keep it as it is.
    "departments": gettext_noop("must be a department key or null"),
    # Translators: refusal of an imported file, after the place of a reference; keep "null".
    "roles": gettext_noop("must be a role key or null"),
    # Translators: refusal of an imported file, after the place of a reference; keep "null".
    "personas": gettext_noop("must be a persona key or null"),
    # Translators: refusal of an imported file, after the place of a reference; keep "null".
    "content": gettext_noop("must be a content key or null"),
    # Translators: refusal of an imported file, after the place of a reference; keep "null".
    "stages": gettext_noop("must be a stage key or null"),
    # Translators: refusal of an imported file, after the place of a reference; keep "null".
    "touchpoints": gettext_noop("must be a touchpoint key or null"),
}
MUST_BE_KEYS = {
    # Translators: refusal of an imported file, after the place of a list of references
    # ("stages[0].contributors: ").
    "departments": gettext_noop("must be a list of department keys"),
    # Translators: refusal of an imported file, after the place of a list of references.
    "roles": gettext_noop("must be a list of role keys"),
    # Translators: refusal of an imported file, after the place of a list of references.
    "personas": gettext_noop("must be a list of persona keys"),
    # Translators: refusal of an imported file, after the place of a list of references.
    "content": gettext_noop("must be a list of content keys"),
    # Translators: refusal of an imported file, after the place of a list of references.
    "stages": gettext_noop("must be a list of stage keys"),
    # Translators: refusal of an imported file, after the place of a list of references.
    "touchpoints": gettext_noop("must be a list of touchpoint keys"),
}
NO_SUCH = {
    # Translators: refusal of an imported file, after the place of a reference
    # ("stages[0].lead: "): the file has no item with this key. %(key)s is the key as
    # written in the file: keep it as it is, in its quotes.
    "departments": gettext_noop('no department "%(key)s"'),
    # Translators: refusal of an imported file: no item has this key. Keep "%(key)s" as it is.
    "roles": gettext_noop('no role "%(key)s"'),
    # Translators: refusal of an imported file: no item has this key. Keep "%(key)s" as it is.
    "personas": gettext_noop('no persona "%(key)s"'),
    # Translators: refusal of an imported file: no item has this key. Keep "%(key)s" as it is.
    "content": gettext_noop('no content "%(key)s"'),
    # Translators: refusal of an imported file: no item has this key. Keep "%(key)s" as it is.
    "stages": gettext_noop('no stage "%(key)s"'),
    # Translators: refusal of an imported file: no item has this key. Keep "%(key)s" as it is.
    "touchpoints": gettext_noop('no touchpoint "%(key)s"'),
}


def _rules(field: models.Field, value: object, place: str, skip: tuple[type, ...] = ()) -> None:
    """Run the model field's own validators (maps/validators.py and Django's): the import
    refuses what a form or the admin would."""
    refusals = []
    for validator in field.validators:
        if isinstance(validator, skip):
            continue
        try:
            validator(value)
        except ValidationError as err:
            refusals.append(" ".join(err.messages))
    if refusals:
        # Our own rules come after Django's defaults and say more ("http or https").
        raise InterchangeError(place, refusals[-1])


def _text(model: type[models.Model], name: str, required: bool = False) -> Check:
    """Text for `model.name`: its length and rules are the model field's."""
    field = model._meta.get_field(name)

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if not isinstance(value, str):
            # Translators: refusal of an imported file, after the place of a field ("map.name: ").
            raise InterchangeError(place, _("must be text"))
        if required and not value.strip():
            # Translators: refusal of an imported file, after the place of a field ("map.name: ").
            raise InterchangeError(place, _("must not be empty"))
        if field.max_length is not None and len(value) > field.max_length:
            raise InterchangeError(place, _too_long(field.max_length, value))
        _rules(field, value, place, skip=(MaxLengthValidator,))

    return check


def _too_long(max_length: int, value: str) -> str:
    return ngettext(
        # Translators: refusal of an imported file, after the place of a text field
        # ("map.key: "); %(length)s is the length of the text in the file.
        "must be at most %(limit)s character (is %(length)s)",
        "must be at most %(limit)s characters (is %(length)s)",
        max_length,
    ) % {"limit": max_length, "length": len(value)}


def _texts(model: type[models.Model], name: str) -> Check:
    field = model._meta.get_field(name)

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        _rules(field, value, place)

    return check


def _slug(value: object, place: str, obj: dict, keys: Keys) -> None:
    try:
        if not isinstance(value, str):
            raise InterchangeError(place, _(SLUG_RULE))
        validate_slug(value)
    except ValidationError:
        raise InterchangeError(place, _(SLUG_RULE)) from None
    if len(value) > KEY_MAX_LENGTH:
        raise InterchangeError(place, _too_long(KEY_MAX_LENGTH, value))


def _key(list_name: str) -> Check:
    """The key of an item of `list_name`: a slug no earlier item of the list has."""

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        _slug(value, place, obj, keys)
        index, first = keys[list_name][value]
        if first is not obj:
            # Translators: refusal of an imported file, after the place of a key
            # ("roles[4].key: "). %(key)s is the key as written in the file (keep it, in its
            # quotes); %(place)s is the place of the earlier item ("roles[0]"), not translated.
            message = _('"%(key)s" is already the key of %(place)s') % {"key": value, "place": f"{list_name}[{index}]"}
            raise InterchangeError(place, message)

    return check


def _bounds(field: models.Field) -> tuple[float | None, float | None]:
    """The tightest range the field's validators allow (database ranges included)."""
    lows = [v.limit_value for v in field.validators if isinstance(v, MinValueValidator)]
    highs = [v.limit_value for v in field.validators if isinstance(v, MaxValueValidator)]
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _whole(model: type[models.Model], name: str) -> Check:
    low, high = _bounds(model._meta.get_field(name))

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None:
            return
        # bool is an int to Python, never to the person who wrote `true`.
        if type(value) is not int or not low <= value <= high:
            # Translators: refusal of an imported file, after the place of a field
            # ("personas[0].influence: ").
            message = _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high}
            raise InterchangeError(place, message)

    return check


def _converted(value: object, place: str, obj: dict, keys: Keys) -> None:
    _whole(Stage, "converted")(value, place, obj, keys)
    entered = obj.get("entered")  # already checked: it comes first
    if value is not None and entered is not None:
        try:
            Stage(entered=entered, converted=value).clean()  # the model's rule, not a copy
        except ValidationError:
            # Translators: refusal of an imported file, after the place of a stage's
            # "converted" count ("stages[0].converted: "); "entered" is the name of the field
            # in the file that holds %(entered)s: keep it as it is.
            message = _("must not be more than entered (%(entered)s)") % {"entered": entered}
            raise InterchangeError(place, message) from None


def _number(model: type[models.Model], name: str) -> Check:
    low, high = _bounds(model._meta.get_field(name))
    limits = None if low is None else {"low": f"{low:g}", "high": f"{high:g}"}

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None:
            return
        if not _is_finite_number(value) or (low is not None and not low <= value <= high):
            if limits is None:
                # Translators: refusal of an imported file, after the place of a field
                # ("stages[0].metrics[1].target: ").
                raise InterchangeError(place, _("must be a number"))
            # Translators: refusal of an imported file, after the place of a field
            # ("stages[1].target_conversion: ").
            raise InterchangeError(place, _("must be a number from %(low)s to %(high)s") % limits)

    return check


def _is_finite_number(value: object) -> bool:
    if type(value) not in (int, float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int too large for a FloatField
        return False


def _choice(values: list[str]) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if not isinstance(value, str) or value not in values:
            # Translators: refusal of an imported file, after the place of a field
            # ("content[1].status: "); %(values)s lists the values the format allows
            # ("draft, live, retired"), written in the file as they are: not translated.
            raise InterchangeError(place, _("must be one of %(values)s") % {"values": ", ".join(values)})

    return check


def _content_type(value: object, place: str, obj: dict, keys: Keys) -> None:
    if ContentAsset.type_from_word(value) is None:
        # Translators: refusal of an imported file, after the place of a content item's type
        # ("content[1].type: "); %(types)s lists the words the file may use ("blog post,
        # ebook, ..."), written in any case, with spaces or hyphens.
        message = _("must be one of the content types (any case, spaces or hyphens): %(types)s")
        raise InterchangeError(place, message % {"types": ContentAsset.type_words()})


def _date(value: object, place: str, obj: dict, keys: Keys) -> None:
    if value is None:
        return
    try:
        if not isinstance(value, str) or not DATE_RE.fullmatch(value):
            raise ValueError
        datetime.date.fromisoformat(value)
    except ValueError:
        # Translators: refusal of an imported file, after the place of a date field
        # ("content[0].last_reviewed: "); YYYY-MM-DD is how the file writes dates and "null"
        # is the JSON word for no value: keep both as they are.
        raise InterchangeError(place, _("must be a date as YYYY-MM-DD, or null")) from None


_url_text = _text(ContentAsset, "url")


def _url(value: object, place: str, obj: dict, keys: Keys) -> None:
    # Its length and scheme rules are the field's (an empty URL is allowed: blank=True).
    if value == "":
        return
    _url_text(value, place, obj, keys)


def _ref(list_name: str, required: bool = False) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str):
            expected = MUST_BE_KEY[list_name] if required else MUST_BE_KEY_OR_NULL[list_name]
            raise InterchangeError(place, _(expected))
        if value not in keys[list_name]:
            raise InterchangeError(place, _(NO_SUCH[list_name]) % {"key": value})

    return check


def _refs(list_name: str, not_to_itself: bool = False) -> Check:
    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if not isinstance(value, list):
            raise InterchangeError(place, _(MUST_BE_KEYS[list_name]))
        seen = set()
        for i, ref in enumerate(value):
            here = f"{place}[{i}]"
            if not isinstance(ref, str):
                raise InterchangeError(here, _(MUST_BE_KEY[list_name]))
            if ref not in keys[list_name]:
                raise InterchangeError(here, _(NO_SUCH[list_name]) % {"key": ref})
            if not_to_itself and ref == obj.get("key"):
                # Translators: refusal of an imported file, after the place of a flow
                # ("touchpoints[3].next[0]: ").
                raise InterchangeError(here, _("a touchpoint cannot flow to itself"))
            if ref in seen:
                # Translators: refusal of an imported file, after the place of a reference
                # ("touchpoints[2].next[1]: "). %(key)s is the key as written in the file:
                # keep it as it is, in its quotes.
                raise InterchangeError(here, _('"%(key)s" listed twice') % {"key": ref})
            seen.add(ref)

    return check


def _scale(model: type[models.Model], name: str) -> Check:
    """A whole number in the field's range that may be left out (the model's default) but
    not be null."""
    whole = _whole(model, name)
    low, high = _bounds(model._meta.get_field(name))

    def check(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None:
            message = _("must be a whole number from %(low)s to %(high)s") % {"low": low, "high": high}
            raise InterchangeError(place, message)
        whole(value, place, obj, keys)

    return check


_source_text = _text(Action, "source")


def _source(value: object, place: str, obj: dict, keys: Keys) -> None:
    # What an action came from, KIND:KEY; what it names may be gone from the map (a gap
    # that was fixed, a touchpoint deleted): the action stays, so the key is not looked up.
    if value is not None:
        _source_text(value, place, obj, keys)


# Each kind of object: its fields in document order, and those it cannot do without.
MAP_FIELDS = {
    "key": _slug,
    "name": _text(JourneyMap, "name", required=True),
    "description": _text(JourneyMap, "description"),
    "goal": _text(JourneyMap, "goal"),
    "language": _choice(LANGUAGE_CODES),
    "review_every_days": _whole(JourneyMap, "review_every_days"),
    "last_reviewed": _date,
}


def _required(check: Check) -> Check:
    """`check`, refusing null: a value the object cannot do without."""

    def required(value: object, place: str, obj: dict, keys: Keys) -> None:
        if value is None:
            check("", place, obj, keys)  # the check's own message for a value of the wrong type
        check(value, place, obj, keys)

    return required


HISTORY_FIELDS = {
    "period": _text(MetricActual, "period", required=True),
    "actual": _required(_number(MetricActual, "actual")),
}


def _history(value: object, place: str, obj: dict, keys: Keys) -> None:
    """A KPI's actuals per period: each period once, and the KPI's own actual, if given,
    the latest period's (as a stage's entered and converted are its latest figures)."""
    seen: dict[str, int] = {}
    for i, entry in _objects(value, place):
        here = f"{place}[{i}]"
        _check_object(entry, here, HISTORY_FIELDS, ("period", "actual"), keys)
        if entry["period"] in seen:
            message = _('"%(period)s" is already the period of %(place)s') % {
                "period": entry["period"],
                "place": f"{place}[{seen[entry['period']]}]",
            }
            raise InterchangeError(f"{here}.period", message)
        seen[entry["period"]] = i
    if not value:
        return
    latest = max(value, key=lambda entry: period_order(entry["period"]))
    if obj.get("actual") is not None and obj["actual"] != latest["actual"]:
        message = _("must be the latest period's (%(period)s: %(value)s) or be left out") % {
            "period": latest["period"],
            "value": latest["actual"],
        }
        raise InterchangeError(f"{place[: -len('.history')]}.actual", message)


METRIC_FIELDS = {
    "name": _text(Metric, "name", required=True),
    "target": _number(Metric, "target"),
    "actual": _number(Metric, "actual"),
    "unit": _text(Metric, "unit"),
    "direction": _choice([value for value, _label in Metric.DIRECTION_CHOICES]),
    "history": _history,
}
CRITERION_FIELDS = {
    "kind": _choice([value for value, _label in QualificationCriterion.KIND_CHOICES]),
    "description": _text(QualificationCriterion, "description", required=True),
    "points": _required(_whole(QualificationCriterion, "points")),
}
AGREED_FIELDS = {"lead": _date, "next": _date}


def _criteria(value: object, place: str, obj: dict, keys: Keys) -> None:
    for i, criterion in _objects(value, place):
        _check_object(criterion, f"{place}[{i}]", CRITERION_FIELDS, ("kind", "description", "points"), keys)


def _agreed(value: object, place: str, obj: dict, keys: Keys) -> None:
    if not isinstance(value, dict):
        raise InterchangeError(place, _must_be_an_object())
    _check_object(value, place, AGREED_FIELDS, (), keys)


QUALIFICATION_FIELDS = {
    "threshold": _whole(Stage, "qualification_threshold"),
    "criteria": _criteria,
    "agreed": _agreed,
}


def _qualification(value: object, place: str, obj: dict, keys: Keys) -> None:
    """A stage's lead qualification: its threshold, criteria and who agreed to them."""
    if not isinstance(value, dict):
        raise InterchangeError(place, _must_be_an_object())
    _check_object(value, place, QUALIFICATION_FIELDS, (), keys)


FIGURE_FIELDS = {
    "period": _text(FunnelFigure, "period", required=True),
    "entered": _whole(FunnelFigure, "entered"),
    "converted": _whole(FunnelFigure, "converted"),
}


def _funnel(value: object, place: str, obj: dict, keys: Keys) -> None:
    """A stage's figures per period: each period once, converted <= entered (the model's
    rule), and the stage's own entered and converted, if given, the latest period's."""
    seen: dict[str, int] = {}
    for i, figure in _objects(value, place):
        here = f"{place}[{i}]"
        _check_object(figure, here, FIGURE_FIELDS, ("period", "entered", "converted"), keys)
        try:
            FunnelFigure(entered=figure["entered"], converted=figure["converted"]).clean()
        except ValidationError:
            message = _("must not be more than entered (%(entered)s)") % {"entered": figure["entered"]}
            raise InterchangeError(f"{here}.converted", message) from None
        if figure["period"] in seen:
            # Translators: refusal of an imported file, after the place of a funnel figure's
            # period ("stages[0].funnel[2].period: "); %(period)s is the period as written
            # (keep it, in its quotes), %(place)s the place of the earlier one, not translated.
            message = _('"%(period)s" is already the period of %(place)s') % {
                "period": figure["period"],
                "place": f"{place}[{seen[figure['period']]}]",
            }
            raise InterchangeError(f"{here}.period", message)
        seen[figure["period"]] = i
    if not value:
        return
    latest = max(value, key=lambda figure: period_order(figure["period"]))
    for name in ("entered", "converted"):
        if obj.get(name) is not None and obj[name] != latest[name]:
            # Translators: refusal of an imported file, after the place of a stage's
            # "entered" or "converted" ("stages[0].entered: "); a stage with funnel figures
            # per period shows the latest period's. %(period)s is that period ("2026-Q3").
            message = _("must be the latest period's (%(period)s: %(value)s) or be left out") % {
                "period": latest["period"],
                "value": latest[name],
            }
            raise InterchangeError(f"{place[: -len('.funnel')]}.{name}", message)


def _question(value: object, place: str, obj: dict, keys: Keys) -> None:
    _text(StageAnswer, "question", required=True)(value, place, obj, keys)


ANSWER_FIELDS = {
    "question": _question,
    "answer": _text(StageAnswer, "answer", required=True),
    "evidence": _url,
    "by": _text(StageAnswer, "by"),
    "at": _date,
}


def _answers(value: object, place: str, obj: dict, keys: Keys) -> None:
    """A stage's answers: each to one of the stage's own questions (checked before, it
    comes first), at most one per question."""
    questions = obj.get("questions") or []
    seen: dict[str, int] = {}
    for i, answer in _objects(value, place):
        here = f"{place}[{i}]"
        _check_object(answer, here, ANSWER_FIELDS, ("question", "answer"), keys)
        question = answer["question"]
        if question not in questions:
            # Translators: refusal of an imported file, after the place of an answer's
            # question ("stages[0].answers[1].question: "); "questions" is the name of the
            # stage's field in the file: keep it as it is.
            raise InterchangeError(f"{here}.question", _("must be one of the stage's questions"))
        if question in seen:
            # Translators: refusal of an imported file, after the place of an answer's
            # question; %(place)s is the place of the earlier answer, not translated.
            message = _("is already answered by %(place)s") % {"place": f"{place}[{seen[question]}]"}
            raise InterchangeError(f"{here}.question", message)
        seen[question] = i


def _metrics(value: object, place: str, obj: dict, keys: Keys) -> None:
    for i, metric in _objects(value, place):
        _check_object(metric, f"{place}[{i}]", METRIC_FIELDS, ("name",), keys)


LISTS: dict[str, tuple[dict[str, Check], tuple[str, ...]]] = {
    "departments": (
        {"key": _key("departments"), "name": _text(Department, "name", required=True)},
        ("key", "name"),
    ),
    "roles": (
        {"key": _key("roles"), "name": _text(BuyingRole, "name", required=True)},
        ("key", "name"),
    ),
    "personas": (
        {
            "key": _key("personas"),
            "name": _text(Persona, "name", required=True),
            "role": _ref("roles"),
            "title": _text(Persona, "title"),
            "goals": _text(Persona, "goals"),
            "motivations": _text(Persona, "motivations"),
            "triggers": _text(Persona, "triggers"),
            "fears": _text(Persona, "fears"),
            "background": _text(Persona, "background"),
            "influence": _whole(Persona, "influence"),
            "stages": _refs("stages"),
        },
        ("key", "name"),
    ),
    "content": (
        {
            "key": _key("content"),
            "title": _text(ContentAsset, "title", required=True),
            "type": _content_type,
            "url": _url,
            "personas": _refs("personas"),
            "stages": _refs("stages"),
            "questions": _texts(ContentAsset, "questions"),
            "status": _choice([value for value, _label in ContentAsset._meta.get_field("status").choices]),
            "last_reviewed": _date,
        },
        ("key", "title"),
    ),
    "stages": (
        {
            "key": _key("stages"),
            "name": _text(Stage, "name", required=True),
            "goal": _text(Stage, "goal"),
            "questions": _texts(Stage, "questions"),
            "lead": _ref("departments"),
            "contributors": _refs("departments"),
            "required_roles": _refs("roles"),
            "metrics": _metrics,
            "entered": _whole(Stage, "entered"),
            "converted": _converted,
            "funnel": _funnel,
            "target_conversion": _number(Stage, "target_conversion"),
            "handoff_sla": _text(Stage, "handoff_sla"),
            "qualification": _qualification,
            "answers": _answers,
        },
        ("key", "name"),
    ),
    "touchpoints": (
        {
            "key": _key("touchpoints"),
            "stage": _ref("stages", required=True),
            "name": _text(Touchpoint, "name", required=True),
            "description": _text(Touchpoint, "description"),
            "channel": _text(Touchpoint, "channel"),
            "owner": _ref("departments"),
            "personas": _refs("personas"),
            "emotion": _whole(Touchpoint, "emotion"),
            "pain_point": _text(Touchpoint, "pain_point"),
            "opportunity": _text(Touchpoint, "opportunity"),
            "content": _refs("content"),
            "next": _refs("touchpoints", not_to_itself=True),
        },
        ("key", "stage", "name"),
    ),
    "actions": (
        {
            "key": _key("actions"),
            "title": _text(Action, "title", required=True),
            "impact": _scale(Action, "impact"),
            "effort": _scale(Action, "effort"),
            "owner": _ref("departments"),
            "due": _date,
            "status": _choice([value for value, _label in Action.STATUS_CHOICES]),
            "stage": _ref("stages"),
            "source": _source,
        },
        ("key", "title"),
    ),
    "swot": (
        {
            "key": _key("swot"),
            "kind": _choice(SwotItem.KINDS),
            "text": _text(SwotItem, "text", required=True),
            "stage": _ref("stages"),
        },
        ("key", "kind", "text"),
    ),
}
TOP_LEVEL = ("format", "map", *LISTS)


def validate(doc: object, workspace: Workspace | None = None) -> None:
    """Raise InterchangeError for the first problem of `doc`, in document order.

    The frame comes first (format, top-level fields, map, each list a list of
    objects), then every object field by field. A document that passes imports without a database error. journeymap/1 documents
    are self-contained (every reference is to a list of the document), so no rule
    depends on `workspace` today; it is taken so that callers state their target.
    """
    if not isinstance(doc, dict):
        raise InterchangeError(_document(), _json_object())
    if "format" not in doc:
        # Translators: refusal of an imported file, after "format: " (the field that names
        # the file's format); %(format)s is the format's name, "journeymap/1": keep it.
        raise InterchangeError("format", _('is missing (must be "%(format)s")') % {"format": FORMAT})
    if doc["format"] != FORMAT:
        # Translators: refusal of an imported file, after "format: "; %(format)s is the
        # format's name, "journeymap/1": keep it, in its quotes.
        raise InterchangeError("format", _('must be "%(format)s"') % {"format": FORMAT})
    for name in doc:
        if name not in TOP_LEVEL:
            raise InterchangeError(name, _unknown_field())
    if "map" not in doc:
        raise InterchangeError("map", _missing())
    if not isinstance(doc["map"], dict):
        raise InterchangeError("map", _must_be_an_object())
    # References may point into any list, so the lists' shape is checked before any field.
    for list_name in LISTS:
        list(_objects(doc.get(list_name, []), list_name))
    keys = _collect_keys(doc)
    _check_object(doc["map"], "map", MAP_FIELDS, ("key", "name"), keys)
    for list_name, (fields, required) in LISTS.items():
        for i, obj in _objects(doc.get(list_name, []), list_name):
            _check_object(obj, f"{list_name}[{i}]", fields, required, keys)


def _collect_keys(doc: dict) -> Keys:
    """Every list's keys, each with its first item, so references may point forward."""
    keys: Keys = {}
    for list_name in LISTS:
        items = doc.get(list_name)
        found = keys[list_name] = {}
        for i, obj in enumerate(items if isinstance(items, list) else []):
            key = obj.get("key") if isinstance(obj, dict) else None
            if isinstance(key, str) and key not in found:
                found[key] = (i, obj)
    return keys


def _objects(items: object, place: str) -> Iterator[tuple[int, dict]]:
    if not isinstance(items, list):
        # Translators: refusal of an imported file, after the place of a field that must
        # hold a JSON list [...] ("stages: ").
        raise InterchangeError(place, _("must be a list"))
    for i, obj in enumerate(items):
        if not isinstance(obj, dict):
            raise InterchangeError(f"{place}[{i}]", _must_be_an_object())
        yield i, obj


def _check_object(obj: dict, place: str, fields: dict[str, Check], required: tuple[str, ...], keys: Keys) -> None:
    for name in obj:
        if name not in fields:
            raise InterchangeError(f"{place}.{name}", _unknown_field())
    for name, check in fields.items():
        if name in obj:
            check(obj[name], f"{place}.{name}", obj, keys)
        elif name in required:
            raise InterchangeError(f"{place}.{name}", _missing())


def _unknown_field() -> str:
    # Translators: refusal of an imported file, after the place of a field the format does
    # not have ("map.archived: "); the place is the field's name as written in the file.
    return _("unknown field")


def _missing() -> str:
    # Translators: refusal of an imported file, after the place of a field it must have
    # and does not ("map.key: ").
    return _("is missing")


def _must_be_an_object() -> str:
    # Translators: refusal of an imported file, after the place of a field or list item
    # that must be a JSON object {...} ("personas[1]: ").
    return _("must be an object")


# --- import ----------------------------------------------------------------------------


# The line that reports a reused library item, one message per list of the document (the
# noun and its place in the sentence differ between languages).
REUSED = {
    # Translators: a line of the import report: the workspace already had a department
    # with this key, so the import used it as it is, although it differs from the file.
    # %(key)s is the key (keep it, in its quotes); %(differences)s lists the differing
    # fields, each as "name is "Sales" here, "営業" in the file".
    "departments": gettext_noop('reused department "%(key)s": %(differences)s'),
    # Translators: a line of the import report, as for a department; keep "%(key)s".
    "roles": gettext_noop('reused buying role "%(key)s": %(differences)s'),
    # Translators: a line of the import report, as for a department; keep "%(key)s".
    "personas": gettext_noop('reused persona "%(key)s": %(differences)s'),
    # Translators: a line of the import report, as for a department; keep "%(key)s".
    "content": gettext_noop('reused content asset "%(key)s": %(differences)s'),
}
LIST_OF_MODEL = {Department: "departments", BuyingRole: "roles", Persona: "personas", ContentAsset: "content"}


@dataclass
class Reused:
    """A library item the workspace already had under the document's key, whose fields
    differ from the document's: (field, value here, value in the document). `list_name`
    is the document's list the item is in ("personas"). `str()` is in the active language."""

    list_name: str
    key: str
    differences: list[tuple[str, object, object]]

    def __str__(self) -> str:
        said = "; ".join(
            # Translators: one difference in a line of the import report. %(field)s is the
            # name of a field of the file ("role"): keep it as it is. %(here)s is its value in
            # the workspace, %(there)s its value in the imported file (each quoted, or "empty").
            _("%(field)s is %(here)s here, %(there)s in the file")
            % {"field": field, "here": _said(here), "there": _said(there)}
            for field, here, there in self.differences
        )
        return _(REUSED[self.list_name]) % {"key": self.key, "differences": said}


def _said(value: object) -> str:
    if isinstance(value, models.Model):
        value = getattr(value, "key", value)
    if value in (None, "", []):
        # Translators: in the import report, in place of a value: the field has none
        # ("goals is empty here, "..." in the file").
        return pgettext("value of a field", "empty")
    return json.dumps(value if not isinstance(value, datetime.date) else value.isoformat(), ensure_ascii=False)


def import_map(doc: dict, workspace: Workspace, update_library: bool = False) -> JourneyMap:
    """Validate `doc`, then write its map into `workspace`: all of it or nothing.

    Library items the workspace already has are reused as they are, and each one whose
    fields differ from the document's is listed in the map's `reused` attribute; with
    `update_library` they take the document's fields (and, for content, its targets).
    """
    validate(doc, workspace)
    lists = {name: doc.get(name, []) for name in LISTS}
    reused: list[Reused] = []
    with transaction.atomic():
        journey_map = JourneyMap.objects.create(
            workspace=workspace,
            key=free_key(doc["map"]["key"], workspace.maps.values_list("key", flat=True), is_key=True),
            name=doc["map"]["name"],
            description=doc["map"].get("description", ""),
            goal=doc["map"].get("goal", ""),
            language=doc["map"].get("language", DEFAULT_LANGUAGE),
            **_review_fields(doc["map"]),
        )
        departments = _library_checked(workspace, Department, lists["departments"], _named, reused, update_library)
        roles = _library_checked(workspace, BuyingRole, lists["roles"], _named, reused, update_library)
        personas = _library_checked(
            workspace, Persona, lists["personas"], lambda item: _persona_fields(item, roles), reused, update_library
        )
        content = _library_checked(
            workspace, ContentAsset, lists["content"], _content_fields, reused, update_library, personas
        )
        stages = _import_stages(journey_map, lists["stages"], departments, roles)
        _link_content(lists["content"], content, stages)
        _import_map_personas(journey_map, lists["personas"], personas, stages)
        _import_touchpoints(
            journey_map,
            lists["touchpoints"],
            {"stages": stages, "departments": departments, "personas": personas, "content": content},
        )
        _import_actions(journey_map, lists["actions"], departments, stages)
        _import_swot(journey_map, lists["swot"], stages)
    journey_map.reused = reused
    return journey_map


def _review_fields(item: dict) -> dict:
    days, reviewed = item.get("review_every_days"), item.get("last_reviewed")
    return {
        "review_every_days": REVIEW_EVERY_DAYS if days is None else days,
        "last_reviewed": datetime.date.fromisoformat(reviewed) if reviewed else None,
    }


def _library_checked(
    workspace: Workspace,
    model: type[models.Model],
    items: list[dict],
    fields: Callable[[dict], dict],
    reused: list[Reused],
    update: bool,
    personas: dict | None = None,
) -> dict[str, models.Model]:
    """The library objects of `items` by key: new ones created, the workspace's reused,
    and those that differ from the document reported (or, with `update`, updated)."""
    objects, created = _library(workspace, model, items, fields)
    for item in items:
        obj = objects[item["key"]]
        targets = [personas[key] for key in item.get("personas", [])] if personas is not None else None
        if item["key"] in created:
            if targets is not None:
                obj.personas.set(targets)
            continue
        differences = [
            (name, getattr(obj, name), value) for name, value in fields(item).items() if getattr(obj, name) != value
        ]
        if targets is not None:
            here = {p.key for p in obj.personas.all() if p.key in personas}
            if here != {p.key for p in targets}:
                differences.append(("personas", sorted(here), sorted(p.key for p in targets)))
        if not differences:
            continue
        if not update:
            reused.append(Reused(LIST_OF_MODEL[model], item["key"], differences))
            continue
        for name, value in fields(item).items():
            setattr(obj, name, value)
        obj.save()
        if targets is not None:
            # Targets outside this document are other maps' business: keep them.
            others = [p for p in obj.personas.all() if p.key not in personas]
            obj.personas.set(others + targets)
    return objects


def replace_content(journey_map: JourneyMap, doc: dict) -> None:
    """Make the content of an existing map the document's, keeping the map's key, its
    history and its row; for restore, undo and `import_map --into`.

    The document's library items are written as the document has them (it is the map
    as it was, library included); items of the workspace it does not name stay.
    """
    validate(doc, journey_map.workspace)
    workspace = journey_map.workspace
    lists = {name: doc.get(name, []) for name in LISTS}
    with transaction.atomic():
        for name in ("name", "description", "goal"):
            setattr(journey_map, name, doc["map"].get(name, ""))
        journey_map.language = doc["map"].get("language", DEFAULT_LANGUAGE)
        for name, value in _review_fields(doc["map"]).items():
            setattr(journey_map, name, value)
        journey_map.save(
            update_fields=["name", "description", "goal", "language", "review_every_days", "last_reviewed", "updated"]
        )
        # Touchpoints, flows and KPIs go with their stages.
        journey_map.actions.all().delete()
        journey_map.stages.all().delete()
        journey_map.map_personas.all().delete()
        departments = _library_as_in(workspace, Department, lists["departments"], _named)
        roles = _library_as_in(workspace, BuyingRole, lists["roles"], _named)
        personas = _library_as_in(workspace, Persona, lists["personas"], lambda item: _persona_fields(item, roles))
        content = _library_as_in(workspace, ContentAsset, lists["content"], _content_fields)
        map_personas = set(personas.values())
        for item in lists["content"]:
            asset = content[item["key"]]
            # Targets outside this map are other maps' business: keep them.
            others = [p for p in asset.personas.all() if p not in map_personas]
            asset.personas.set(others + [personas[key] for key in item.get("personas", [])])
        stages = _import_stages(journey_map, lists["stages"], departments, roles)
        _link_content(lists["content"], content, stages)
        _import_map_personas(journey_map, lists["personas"], personas, stages)
        _import_touchpoints(
            journey_map,
            lists["touchpoints"],
            {"stages": stages, "departments": departments, "personas": personas, "content": content},
        )
        _import_actions(journey_map, lists["actions"], departments, stages)
        journey_map.swot_items.all().delete()
        _import_swot(journey_map, lists["swot"], stages)


def _library_as_in(
    workspace: Workspace, model: type[models.Model], items: list[dict], fields: Callable[[dict], dict]
) -> dict[str, models.Model]:
    """The library objects of `items` by key, each with the document's fields."""
    objects, created = _library(workspace, model, items, fields)
    for item in items:
        obj = objects[item["key"]]
        if item["key"] in created:
            continue
        wanted = fields(item)
        if any(getattr(obj, name) != value for name, value in wanted.items()):
            for name, value in wanted.items():
                setattr(obj, name, value)
            obj.save()
    return objects


def _library(
    workspace: Workspace,
    model: type[models.Model],
    items: list[dict],
    fields: Callable[[dict], dict],
) -> tuple[dict[str, models.Model], set[str]]:
    """The library objects of `items` by key, reusing the workspace's; and the new keys."""
    existing = {obj.key: obj for obj in model.objects.filter(workspace=workspace)}
    # New objects go after the library's, in list order.
    start = max((obj.order for obj in existing.values()), default=-1) + 1
    objects, created = {}, set()
    for i, item in enumerate(items):
        key = item["key"]
        if key in existing:
            objects[key] = existing[key]
        else:
            objects[key] = model.objects.create(workspace=workspace, key=key, order=start + i, **fields(item))
            created.add(key)
    return objects, created


def _named(item: dict) -> dict:
    return {"name": item["name"]}


def _persona_fields(item: dict, roles: dict[str, BuyingRole]) -> dict:
    texts = ("title", "goals", "motivations", "triggers", "fears", "background")
    return {
        "name": item["name"],
        "role": roles.get(item.get("role")),
        "influence": item.get("influence"),
        **{name: item.get(name, "") for name in texts},
    }


def _content_fields(item: dict) -> dict:
    last_reviewed = item.get("last_reviewed")
    return {
        "title": item["title"],
        "type": ContentAsset.type_from_word(item.get("type", "other")),
        "url": item.get("url", ""),
        "questions": item.get("questions", []),
        "status": item.get("status", ContentAsset.DRAFT),
        "last_reviewed": datetime.date.fromisoformat(last_reviewed) if last_reviewed else None,
    }


def _import_stages(journey_map: JourneyMap, items: list[dict], departments: dict, roles: dict) -> dict[str, Stage]:
    stages = {}
    for i, item in enumerate(items):
        figures = sorted(item.get("funnel", []), key=lambda figure: period_order(figure["period"]))
        if figures:
            # A stage with figures per period shows the latest's (validate checked that
            # the document's own, if it has them, are those).
            item = {**item, "entered": figures[-1]["entered"], "converted": figures[-1]["converted"]}
        stage = Stage.objects.create(
            map=journey_map,
            key=item["key"],
            name=item["name"],
            goal=item.get("goal", ""),
            questions=item.get("questions", []),
            lead=departments.get(item.get("lead")),
            entered=item.get("entered"),
            converted=item.get("converted"),
            target_conversion=item.get("target_conversion"),
            handoff_sla=item.get("handoff_sla", ""),
            **_qualification_fields(item.get("qualification", {})),
            order=i,
        )
        FunnelFigure.objects.bulk_create(
            FunnelFigure(stage=stage, period=f["period"], entered=f["entered"], converted=f["converted"])
            for f in figures
        )
        stage.contributors.set(departments[key] for key in item.get("contributors", []))
        stage.required_roles.set(roles[key] for key in item.get("required_roles", []))
        StageAnswer.objects.bulk_create(
            StageAnswer(
                stage=stage,
                question=answer["question"],
                answer=answer["answer"],
                evidence=answer.get("evidence", ""),
                by=answer.get("by", ""),
                at=datetime.date.fromisoformat(answer["at"]) if answer.get("at") else None,
            )
            for answer in item.get("answers", [])
        )
        for j, metric in enumerate(item.get("metrics", [])):
            history = sorted(metric.get("history", []), key=lambda entry: period_order(entry["period"]))
            kpi = Metric.objects.create(
                stage=stage,
                name=metric["name"],
                direction=metric.get("direction", Metric.HIGHER),
                target=metric.get("target"),
                # A KPI with actuals per period shows the latest's (validate checked that
                # the document's own, if it has one, is that).
                actual=history[-1]["actual"] if history else metric.get("actual"),
                unit=metric.get("unit", ""),
                order=j,
            )
            MetricActual.objects.bulk_create(
                MetricActual(metric=kpi, period=entry["period"], actual=entry["actual"]) for entry in history
            )
        QualificationCriterion.objects.bulk_create(
            QualificationCriterion(
                stage=stage, kind=c["kind"], description=c["description"], points=c["points"], order=j
            )
            for j, c in enumerate(item.get("qualification", {}).get("criteria", []))
        )
        stages[stage.key] = stage
    return stages


def _qualification_fields(item: dict) -> dict:
    agreed = item.get("agreed", {})
    return {
        "qualification_threshold": item.get("threshold"),
        **{
            name: datetime.date.fromisoformat(agreed[side]) if agreed.get(side) else None
            for side, name in (("lead", "agreed_by_lead"), ("next", "agreed_by_next"))
        },
    }


def _import_swot(journey_map: JourneyMap, items: list[dict], stages: dict[str, Stage]) -> None:
    SwotItem.objects.bulk_create(
        SwotItem(
            map=journey_map,
            key=item["key"],
            kind=item["kind"],
            text=item["text"],
            stage=stages.get(item.get("stage")),
            order=i,
        )
        for i, item in enumerate(items)
    )


def _link_content(items: list[dict], content: dict, stages: dict) -> None:
    for item in items:
        # add, never set: reused content keeps its links to the stages of other maps.
        content[item["key"]].stages.add(*(stages[key] for key in item.get("stages", [])))


def _import_map_personas(journey_map: JourneyMap, items: list[dict], personas: dict, stages: dict) -> None:
    for i, item in enumerate(items):
        entry = MapPersona.objects.create(map=journey_map, persona=personas[item["key"]], order=i)
        entry.stages.set(stages[key] for key in item.get("stages", []))


def _import_touchpoints(journey_map: JourneyMap, items: list[dict], refs: dict[str, dict]) -> None:
    """Touchpoints, then the flows between them (a flow may point forward)."""
    touchpoints = {}
    per_stage: dict[str, int] = defaultdict(int)
    for item in items:
        touchpoint = Touchpoint.objects.create(
            map=journey_map,
            stage=refs["stages"][item["stage"]],
            key=item["key"],
            name=item["name"],
            description=item.get("description", ""),
            channel=item.get("channel", ""),
            owner=refs["departments"].get(item.get("owner")),
            emotion=item.get("emotion"),
            pain_point=item.get("pain_point", ""),
            opportunity=item.get("opportunity", ""),
            order=per_stage[item["stage"]],
        )
        per_stage[item["stage"]] += 1
        touchpoint.personas.set(refs["personas"][key] for key in item.get("personas", []))
        touchpoint.content.set(refs["content"][key] for key in item.get("content", []))
        touchpoints[touchpoint.key] = touchpoint
    for item in items:
        for j, key in enumerate(item.get("next", [])):
            Flow.objects.create(source=touchpoints[item["key"]], target=touchpoints[key], order=j)


def _import_actions(journey_map: JourneyMap, items: list[dict], departments: dict, stages: dict) -> None:
    default = {name: Action._meta.get_field(name).default for name in ("impact", "effort", "status")}
    Action.objects.bulk_create(
        Action(
            map=journey_map,
            key=item["key"],
            title=item["title"],
            impact=item.get("impact", default["impact"]),
            effort=item.get("effort", default["effort"]),
            owner=departments.get(item.get("owner")),
            due=datetime.date.fromisoformat(item["due"]) if item.get("due") else None,
            status=item.get("status", default["status"]),
            stage=stages.get(item.get("stage")),
            source=item.get("source") or "",
            order=i,
        )
        for i, item in enumerate(items)
    )


# --- export ----------------------------------------------------------------------------


def export_map(journey_map: JourneyMap, loaded: JourneyMap | None = None) -> dict:
    """The journeymap/1 document of `journey_map`, read afresh from the database, or from
    `loaded` (the same map from JourneyMap.objects.loaded(), read just now)."""
    jm = loaded if loaded is not None else JourneyMap.objects.loaded().get(pk=journey_map.pk)
    departments = list(jm.workspace.departments.all())
    roles = list(jm.workspace.roles.all())
    entries = list(jm.map_personas.all())
    stages = list(jm.stages.all())
    touchpoints = [touchpoint for stage in stages for touchpoint in stage.touchpoints.all()]
    content = sorted(
        {asset for owner in stages + touchpoints for asset in owner.content.all()},
        key=lambda asset: (asset.order, asset.id),
    )
    at = {
        "departments": _positions(departments),
        "roles": _positions(roles),
        "personas": _positions(entry.persona for entry in entries),
        "stages": _positions(stages),
        "content": _positions(content),
        "touchpoints": _positions(touchpoints),
    }
    # Both sides of these links are already loaded; reading them from there costs no query.
    stages_of = defaultdict(list)
    for stage in stages:
        for asset in stage.content.all():
            stages_of[asset.id].append(stage)
    personas_of = defaultdict(list)
    for entry in entries:
        for asset in entry.persona.content.all():
            personas_of[asset.id].append(entry.persona)
    actions = list(jm.actions.select_related("owner", "stage"))
    # Actions and SWOT items are left out when there are none, so that the documents of
    # maps without them stay as they were.
    listed = {"actions": [_export_action(action, at) for action in actions]} if actions else {}
    swot = [
        {"key": item.key, "kind": item.kind, "text": item.text, "stage": _key_of(item.stage, at["stages"])}
        for item in jm.swot_items.select_related("stage")
    ]
    if swot:
        listed["swot"] = swot
    return {
        "format": FORMAT,
        "map": {
            "key": jm.key,
            "name": jm.name,
            "description": jm.description,
            "goal": jm.goal,
            "language": jm.language,
            **_export_review(jm),
        },
        "departments": [{"key": d.key, "name": d.name} for d in departments],
        "roles": [{"key": r.key, "name": r.name} for r in roles],
        "personas": [_export_persona(entry, at) for entry in entries],
        "content": [_export_content(asset, personas_of[asset.id], stages_of[asset.id], at) for asset in content],
        "stages": [_export_stage(stage, at) for stage in stages],
        "touchpoints": [_export_touchpoint(touchpoint, at) for touchpoint in touchpoints],
        **listed,
    }


def _positions(objects) -> dict[int, int]:
    return {obj.id: i for i, obj in enumerate(objects)}


def _keys(objects, positions: dict[int, int]) -> list[str]:
    """Keys in canonical order (that of the list they refer to), leaving out strangers."""
    known = [obj for obj in objects if obj.id in positions]
    return [obj.key for obj in sorted(known, key=lambda obj: positions[obj.id])]


def _key_of(obj: models.Model | None, positions: dict[int, int]) -> str | None:
    return obj.key if obj is not None and obj.id in positions else None


def _number_out(value: float | None) -> float | int | None:
    # FloatFields hand back 40.0 for 40; people wrote 40.
    if value is not None and float(value).is_integer():
        return int(value)
    return value


def _export_persona(entry: MapPersona, at: dict) -> dict:
    persona = entry.persona
    return {
        "key": persona.key,
        "name": persona.name,
        "role": _key_of(persona.role, at["roles"]),
        "title": persona.title,
        "goals": persona.goals,
        "motivations": persona.motivations,
        "triggers": persona.triggers,
        "fears": persona.fears,
        "background": persona.background,
        "influence": persona.influence,
        "stages": _keys(entry.stages.all(), at["stages"]),
    }


def _export_content(asset: ContentAsset, personas: list, stages: list, at: dict) -> dict:
    return {
        "key": asset.key,
        "title": asset.title,
        "type": asset.type,
        "url": asset.url,
        "personas": _keys(personas, at["personas"]),
        "stages": _keys(stages, at["stages"]),
        "questions": list(asset.questions),
        "status": asset.status,
        "last_reviewed": asset.last_reviewed.isoformat() if asset.last_reviewed else None,
    }


def _export_stage(stage: Stage, at: dict) -> dict:
    figures = [
        {"period": figure.period, "entered": figure.entered, "converted": figure.converted}
        for figure in figures_in_order(stage)
    ]
    # Left out when empty, so that the documents of maps without figures stay as they were.
    funnel = {"funnel": figures} if figures else {}
    place = {question: i for i, question in enumerate(stage.questions)}
    answers = [
        {
            "question": answer.question,
            "answer": answer.answer,
            "evidence": answer.evidence,
            "by": answer.by,
            "at": answer.at.isoformat() if answer.at else None,
        }
        for answer in sorted(stage.answers.all(), key=lambda answer: place.get(answer.question, len(place)))
        if answer.question in place
    ]
    return {
        "key": stage.key,
        "name": stage.name,
        "goal": stage.goal,
        "questions": list(stage.questions),
        "lead": _key_of(stage.lead, at["departments"]),
        "contributors": _keys(stage.contributors.all(), at["departments"]),
        "required_roles": _keys(stage.required_roles.all(), at["roles"]),
        "metrics": [_export_metric(metric) for metric in stage.metrics.all()],
        "entered": stage.entered,
        "converted": stage.converted,
        **funnel,
        "target_conversion": _number_out(stage.target_conversion),
        "handoff_sla": stage.handoff_sla,
        **_export_qualification(stage),
        # Left out when there are none, as the funnel: old documents stay as they were.
        **({"answers": answers} if answers else {}),
    }


# What monitoring and qualification add is left out while it has its default values, so
# that the documents of maps that use neither stay as they were (and their revisions too).


def _export_review(jm: JourneyMap) -> dict:
    review = {}
    if jm.review_every_days != REVIEW_EVERY_DAYS:
        review["review_every_days"] = jm.review_every_days
    if jm.last_reviewed is not None:
        review["last_reviewed"] = jm.last_reviewed.isoformat()
    return review


def _export_metric(metric: Metric) -> dict:
    item = {
        "name": metric.name,
        "target": _number_out(metric.target),
        "actual": _number_out(metric.actual),
        "unit": metric.unit,
    }
    if metric.direction != Metric.HIGHER:
        item["direction"] = metric.direction
    history = [{"period": e.period, "actual": _number_out(e.actual)} for e in history_in_order(metric)]
    if history:
        # The KPI's actual is its latest period's (maps.changes keeps them in step): written
        # so, a document always imports again, whatever wrote the row.
        item["actual"] = history[-1]["actual"]
        item["history"] = history
    return item


def _export_qualification(stage: Stage) -> dict:
    criteria = [{"kind": c.kind, "description": c.description, "points": c.points} for c in stage.criteria.all()]
    agreed = (stage.agreed_by_lead, stage.agreed_by_next)
    if not criteria and stage.qualification_threshold is None and agreed == (None, None):
        return {}
    return {
        "qualification": {
            "threshold": stage.qualification_threshold,
            "criteria": criteria,
            "agreed": {side: day.isoformat() if day else None for side, day in zip(("lead", "next"), agreed)},
        }
    }


def _export_touchpoint(touchpoint: Touchpoint, at: dict) -> dict:
    return {
        "key": touchpoint.key,
        "stage": touchpoint.stage.key,
        "name": touchpoint.name,
        "description": touchpoint.description,
        "channel": touchpoint.channel,
        "owner": _key_of(touchpoint.owner, at["departments"]),
        "personas": _keys(touchpoint.personas.all(), at["personas"]),
        "emotion": touchpoint.emotion,
        "pain_point": touchpoint.pain_point,
        "opportunity": touchpoint.opportunity,
        "content": _keys(touchpoint.content.all(), at["content"]),
        # Flow order, not touchpoint order: it is the order the person gave the paths.
        "next": [flow.target.key for flow in touchpoint.flows_out.all() if flow.target_id in at["touchpoints"]],
    }


def _export_action(action: Action, at: dict) -> dict:
    return {
        "key": action.key,
        "title": action.title,
        "impact": action.impact,
        "effort": action.effort,
        "owner": _key_of(action.owner, at["departments"]),
        "due": action.due.isoformat() if action.due else None,
        "status": action.status,
        "stage": _key_of(action.stage, at["stages"]),
        "source": action.source or None,
    }


def dumps(doc: dict) -> str:
    """The text of a document: UTF-8 friendly, indented, one trailing newline."""
    return json.dumps(doc, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
