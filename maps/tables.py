"""CSV tables in and out (docs/format.md, "CSV tables"): a map's content inventory,
touchpoints and funnel figures per period, imported and exported in one format.

One spec per table (TABLES): its columns with their English and Japanese headers. A
file goes `read` (text, delimiter, header) -> `plan` (each row added, changed, left
alone, or refused with every problem named by row and column) -> `apply`, which plans
again under the map's lock and writes the whole file in one revision (maps.changes), or
nothing. The preview in the browser and `import_csv --dry-run` show the same plan.

Decisions:
- Files are UTF-8 with or without a byte order mark, comma or semicolon separated
  (whichever the header row reads as), with any line ends, quoted as spreadsheets quote.
  Rows entirely empty are skipped; row numbers are those a spreadsheet shows (the
  header is row 1).
- Header names are part of the format, in English or Japanese (`Column`); they are
  matched in any case, with spaces, hyphens or underscores. A column left out of the
  file leaves that field of existing rows alone (a new row gets the field's default);
  only the columns that say which row is meant are required.
- A row names its item by the `key` column; without a key, by its title (content) or
  name (touchpoint), if exactly one item has it; otherwise the row adds an item, with a
  key made from its title or name. Funnel rows are named by stage and period.
  Items of the map the file does not name are left as they are.
- References (personas, stages, owner, content, next) take keys or names; a cell of
  several holds one per line (the separator, LINE). Questions are one per line too:
  a question can hold no line break, so this always reads back.
- Exports begin with a byte order mark (Excel reads UTF-8 then), end lines with CRLF,
  write references as keys, and protect cells from running as formulas: a text cell
  that begins with = + - @ (after spaces, or in full width), a tab or a line break, or
  with an apostrophe, gets one more apostrophe in front. The importer takes one leading
  apostrophe off every cell, so what was exported reads back exactly. (A spreadsheet
  itself treats a leading apostrophe as "this is text", and does not save it.)
- Values are checked by the model fields and Model.clean(), as every form is.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import changes, exports
from .actions import ranked
from .exports import _inert
from .interchange import too_large
from .models import (
    ContentAsset,
    FunnelFigure,
    JourneyMap,
    Stage,
    Touchpoint,
    figures_in_order,
)
from .said import Said
from .validators import looked_up, visible

LINE = "\n"  # the separator of several values in one cell
ADDED, CHANGED, UNCHANGED, REFUSED = "added", "changed", "unchanged", "refused"


class TableError(Exception):
    """A file refused as a whole: `problems` names every bad row and column."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class MapChanged(changes.Refused):
    """The map changed between the preview and the apply."""


@dataclass(frozen=True)
class Column:
    name: str  # the English header; also the column's name in the code
    ja: str  # the Japanese header
    required: bool = False

    def header(self, language: str) -> str:
        return self.ja if language == "ja" else self.name


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


TABLES = {
    "content": Table(
        "content",
        (
            Column("key", "キー"),
            Column("title", "タイトル", required=True),
            Column("type", "種類"),
            Column("url", "URL"),
            Column("personas", "ペルソナ"),
            Column("stages", "ステージ"),
            Column("questions", "問い"),
            Column("status", "ステータス"),
            Column("last reviewed", "最終レビュー日"),  # i18n: not for people
        ),
    ),
    "touchpoints": Table(
        "touchpoints",
        (
            Column("key", "キー"),
            Column("stage", "ステージ", required=True),
            Column("name", "名前", required=True),
            Column("description", "説明"),
            Column("channel", "チャネル"),
            Column("owner", "担当部門"),
            Column("personas", "ペルソナ"),
            Column("emotion", "感情"),
            Column("pain point", "ペインポイント"),  # i18n: not for people
            Column("opportunity", "改善機会"),
            Column("content", "コンテンツ"),
            Column("next", "次のタッチポイント"),
        ),
    ),
    "funnel": Table(
        "funnel",
        (
            Column("stage", "ステージ", required=True),
            Column("period", "期間", required=True),
            Column("entered", "流入数", required=True),
            Column("converted", "コンバージョン数", required=True),
        ),
    ),
}
IMPORTABLE = tuple(TABLES)
# Export only: the actions in ranked order with their score (maps.actions).
ACTIONS = Table(
    "actions",
    (
        Column("rank", "順位"),
        Column("key", "キー"),
        Column("title", "タイトル"),
        Column("score", "スコア"),
        Column("impact", "インパクト"),
        Column("effort", "工数"),
        Column("votes", "投票数"),
        Column("quadrant", "象限"),
        Column("stage", "ステージ"),
        Column("owner", "担当部門"),
        Column("due", "期限"),
        Column("status", "ステータス"),
        Column("source", "作成元"),
    ),
)


# --- problems ------------------------------------------------------------------------------


@dataclass
class Problem:
    """One thing wrong with a file: its row (1 is the header), the column as the file
    names it (or none), and a message for a person."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return visible(self.message)
        if self.column is None:
            # Translators: the place of a problem in an imported CSV file, then the problem.
            return visible(_("row %(row)s: %(message)s") % {"row": self.row, "message": self.message})
        # Translators: the place of a problem in an imported CSV file (its row, and the
        # column as the file's header names it), then the problem.
        return visible(
            _('row %(row)s, column "%(column)s": %(message)s')
            % {"row": self.row, "column": self.column, "message": self.message}
        )


# --- reading a file ------------------------------------------------------------------------


@dataclass
class Sheet:
    """A file read: which column of the table each cell index is, and the data rows."""

    table: Table
    headers: dict[str, str]  # column name -> header as written in the file
    index: dict[str, int]  # column name -> position
    rows: list[tuple[int, list[str]]]  # (row number, cells)
    problems: list[Problem]

    def has(self, name: str) -> bool:
        return name in self.index

    def cell(self, cells: list[str], name: str) -> str:
        i = self.index.get(name)
        return unprotect(cells[i]) if i is not None and i < len(cells) else ""


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").casefold().split())


def read(data: bytes | str, table: Table) -> Sheet:
    """A file's rows by column, or a Sheet whose problems say why it cannot be read."""
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > settings.IMPORT_MAX_BYTES:
        return Sheet(table, {}, {}, [], [Problem(None, None, too_large())])
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            # Translators: refusal of an imported CSV file; %(number)s is the first byte
            # that is not UTF-8. Spreadsheets offer "CSV UTF-8" when saving.
            message = _("byte %(number)s: not UTF-8 text (save the file as CSV UTF-8)") % {"number": err.start + 1}
            return Sheet(table, {}, {}, [], [Problem(None, None, message)])
    text = data.removeprefix("\ufeff")
    if "\x00" in text:
        message = _("the file holds NUL characters: it is not a CSV text file")
        return Sheet(table, {}, {}, [], [Problem(None, None, message)])
    best = None
    for delimiter in (",", ";"):
        records = _records(text, delimiter)
        if records is None:
            continue
        known = sum(1 for cell in (records[0][1] if records else []) if _column_of(table, cell))
        if best is None or known > best[0]:
            best = (known, records)
    if best is None:
        message = _("the file is not CSV: a quoted cell is never closed")
        return Sheet(table, {}, {}, [], [Problem(None, None, message)])
    records = best[1]
    if not records:
        return Sheet(table, {}, {}, [], [Problem(None, None, _("the file is empty: it has no header row"))])
    return _sheet(table, records)


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]] | None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = []
    try:
        for number, cells in enumerate(reader, 1):
            records.append((number, cells))
    except csv.Error:
        return None
    return records


def _column_of(table: Table, header: str) -> Column | None:
    wanted = _fold(header)
    for column in table.columns:
        if wanted in (_fold(column.name), _fold(column.ja)):
            return column
    return None


def _sheet(table: Table, records: list[tuple[int, list[str]]]) -> Sheet:
    (_one, header), data = records[0], records[1:]
    headers, index, problems = {}, {}, []
    for i, written in enumerate(header):
        if not written.strip() and all(i >= len(cells) or not cells[i].strip() for _n, cells in data):
            continue  # an empty column a spreadsheet left at the end
        column = _column_of(table, written.removeprefix("\ufeff"))
        if column is None:
            # Translators: refusal of a header cell of an imported CSV file; %(columns)s
            # lists the columns the table has, in English.
            message = _("unknown column; the columns are: %(columns)s") % {
                "columns": ", ".join(c.name for c in table.columns)
            }
            problems.append(Problem(1, written, message))
        elif column.name in index:
            problems.append(Problem(1, written, _("this column appears twice")))
        else:
            headers[column.name], index[column.name] = written, i
    for column in table.columns:
        if column.required and column.name not in index:
            # Translators: refusal of an imported CSV file whose header row lacks a column;
            # %(column)s is the column's name in English (Japanese headers are taken too).
            problems.append(Problem(1, None, _('the column "%(column)s" is missing') % {"column": column.name}))
    rows = []
    for number, cells in data:
        if not any(cell.strip() for cell in cells):
            continue
        extra = [c for i, c in enumerate(cells) if i >= len(header) and c.strip()]
        if extra:
            problems.append(Problem(number, None, _("this row has more cells than the header row")))
        rows.append((number, cells))
    return Sheet(table, headers, index, rows, problems)


def unprotect(cell: str) -> str:
    """A cell as it was before export protected it (one leading apostrophe off)."""
    return cell[1:] if cell.startswith("'") else cell


def protect(cell: str) -> str:
    """A text cell that no spreadsheet runs as a formula, and that `unprotect` reads back."""
    return "'" + cell if cell.startswith("'") or _inert(cell) != cell else cell


def lines(cell: str) -> list[str]:
    """The values of a cell of several, one per line (blank lines ignored)."""
    return [line.strip() for line in cell.replace("\r\n", "\n").replace("\r", "\n").split("\n") if line.strip()]


# --- the plan --------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    action: str
    label: str
    changed: list[str] = field(default_factory=list)  # the headers of the changed columns
    problems: list[Problem] = field(default_factory=list)
    target: models.Model | None = None
    values: dict = field(default_factory=dict)


@dataclass
class Plan:
    table: str
    version: int
    rows: list[Row]
    problems: list[Problem]  # of the file as a whole (its header), then of every row

    @property
    def ok(self) -> bool:
        return not self.problems

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {action: self.count(action) for action in (ADDED, CHANGED, UNCHANGED, REFUSED)}


class _Refs:
    """Items a cell may name by key or by name (`names`: the attributes tried in turn)."""

    def __init__(self, items: Iterable, names: tuple[str, ...], no_such: str) -> None:
        self.items = list(items)
        self.names = names
        self.no_such = no_such

    def find(self, written: str) -> tuple[object | None, str | None]:
        written = written.strip()
        for attr in ("key", *self.names):
            found = [item for item in self.items if getattr(item, attr) == written]
            if len(found) == 1:
                return found[0], None
            if len(found) > 1:
                # Translators: refusal of a reference in an imported CSV file that more than
                # one item answers to; %(name)s is the reference as written.
                return None, _('"%(name)s" names more than one; write its key') % {"name": written}
        return None, _(self.no_such) % {"key": written}

    def find_all(self, cell: str) -> tuple[list, list[str]]:
        found, errors = [], []
        for written in lines(cell):
            item, error = self.find(written)
            if error:
                errors.append(error)
            elif item in found:
                errors.append(_('"%(key)s" listed twice') % {"key": written})
            else:
                found.append(item)
        return found, errors


NO_SUCH = {
    # Translators: refusal of a reference in an imported CSV file; %(key)s is the key or
    # name as written in the file: keep it, in its quotes.
    "stage": gettext_noop('no stage "%(key)s" in this map'),
    # Translators: as for a stage; the personas of a map are those added to it.
    "persona": gettext_noop('no persona "%(key)s" in this map'),
    # Translators: as for a stage; the workspace library's personas.
    "library persona": gettext_noop('no persona "%(key)s" in the library'),
    # Translators: as for a stage.
    "department": gettext_noop('no department "%(key)s"'),
    # Translators: as for a stage; content assets of the library.
    "content": gettext_noop('no content "%(key)s" in the library'),
    # Translators: as for a stage; a touchpoint of the map or of the file.
    "touchpoint": gettext_noop('no touchpoint "%(key)s" in this map or this file'),
}


def _words(model: type[models.Model], name: str) -> dict[str, str]:
    """The values of a choice field by every way of writing them: the value, and its
    label in each language of the interface, in any case."""
    words = {}
    for value, label in model._meta.get_field(name).choices:
        words[_fold(value)] = value
        for code, _language in settings.LANGUAGES:
            with translation.override(code):
                words[_fold(str(label))] = value
    return words


def _field_problems(instance: models.Model, columns: dict[str, str], exclude: list[str]) -> dict[str, str]:
    """The model's own rules (its fields and clean()) on `instance`: column -> message,
    for the fields that `columns` maps to a column of the file."""
    found: dict[str, str] = {}
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as err:
        for name, messages in err.message_dict.items():
            found[columns.get(name, name)] = " ".join(messages)
    if not found:
        try:
            instance.clean()
        except ValidationError as err:
            for name, messages in err.message_dict.items():
                found[columns.get(name, name)] = " ".join(messages)
    return found


def plan(journey_map: JourneyMap, table: str, data: bytes | str) -> Plan:
    """What importing `data` as `table` into `journey_map` would do, row by row."""
    sheet = read(data, TABLES[table])
    if sheet.problems and not sheet.index:
        return Plan(table, journey_map.version, [], sheet.problems)
    rows = PLANNERS[table](journey_map, sheet)
    problems = sheet.problems + [problem for row in rows for problem in row.problems]
    problems.sort(key=lambda p: p.row or 0)
    return Plan(table, journey_map.version, rows, problems)


def _finish(row: Row, sheet: Sheet, wanted: dict[str, object], now: dict[str, object] | None) -> Row:
    """The row's action from what it wants against what is there (None: a new item)."""
    if row.problems:
        row.action = REFUSED
    elif now is None:
        row.action = ADDED
    else:
        row.changed = [sheet.headers[name] for name, value in wanted.items() if now.get(name) != value]
        row.action = CHANGED if row.changed else UNCHANGED
    row.values = wanted
    return row


def _problem(row: Row, sheet: Sheet, column: str, message: str) -> None:
    header = sheet.headers.get(column, column)
    # One problem per cell: the model's rules are not asked about a cell already refused.
    if not any(problem.column == header for problem in row.problems):
        row.problems.append(Problem(row.number, header, message))


def _identify(
    sheet: Sheet, by_key: dict[str, models.Model], name_column: str, name_attr: str, taken: set[str]
) -> list[tuple[int, list[str], str, models.Model | None, str | None]]:
    """Each row's key and existing item: by its key cell, else by its name if exactly one
    item has it, else a new key made from the name. Returns (number, cells, key, item, problem)."""
    result = []
    claimed: dict[str, int] = {}
    for number, cells in sheet.rows:
        key, problem = sheet.cell(cells, "key").strip(), None
        item = None
        if key:
            item = by_key.get(key)
            if item is None and looked_up(key) != key:
                problem = _("must be a key: letters, digits, hyphens, underscores, at most 64")
        else:
            name = sheet.cell(cells, name_column)
            named = [obj for obj in by_key.values() if getattr(obj, name_attr) == name]
            if len(named) == 1 and named[0].key not in claimed:
                item, key = named[0], named[0].key
            else:
                key = changes.free_key(name, taken | set(claimed), fallback=name_column)
        if not problem and key in claimed:
            # Translators: refusal of a row of an imported CSV file that names the same item
            # as an earlier row; %(row)s is that row's number.
            problem = _("the same item as row %(row)s") % {"row": claimed[key]}
        claimed.setdefault(key, number)
        result.append((number, cells, key, item, problem))
    return result


# --- content inventory ---------------------------------------------------------------------


def _plan_content(journey_map: JourneyMap, sheet: Sheet) -> list[Row]:
    workspace = journey_map.workspace
    assets = {a.key: a for a in workspace.content.prefetch_related("personas", "stages")}
    personas = _Refs(workspace.personas.all(), ("name",), NO_SUCH["library persona"])
    stages = _Refs(journey_map.stages.all(), ("name",), NO_SUCH["stage"])
    statuses = _words(ContentAsset, "status")
    types = _words(ContentAsset, "type")
    columns = {"title": "title", "type": "type", "url": "url", "questions": "questions"}
    columns |= {"status": "status", "last_reviewed": LAST_REVIEWED, "key": "key"}
    rows = []
    for number, cells, key, asset, problem in _identify(sheet, assets, "title", "title", set(assets)):
        row = Row(number, REFUSED, sheet.cell(cells, "title") or key, target=asset)
        if problem:
            _problem(row, sheet, "key", problem)
        wanted: dict[str, object] = {"title": sheet.cell(cells, "title")}
        if sheet.has("type"):
            written = sheet.cell(cells, "type").strip()
            wanted["type"] = ContentAsset.type_from_word(written) or types.get(_fold(written)) if written else "other"
            if wanted["type"] is None:
                message = _("must be one of the content types: %(types)s") % {"types": ContentAsset.type_words()}
                _problem(row, sheet, "type", message)
        if sheet.has("url"):
            wanted["url"] = sheet.cell(cells, "url").strip()
        if sheet.has("questions"):
            wanted["questions"] = lines(sheet.cell(cells, "questions"))
        if sheet.has("status"):
            written = sheet.cell(cells, "status").strip()
            wanted["status"] = statuses.get(_fold(written)) if written else ContentAsset.DRAFT
            if wanted["status"] is None:
                message = _("must be one of %(values)s") % {"values": ", ".join(ContentAsset.STATUSES)}
                _problem(row, sheet, "status", message)
        if sheet.has(LAST_REVIEWED):
            wanted["last_reviewed"] = _date(row, sheet, sheet.cell(cells, LAST_REVIEWED))
        for name, refs in (("personas", personas), ("stages", stages)):
            if sheet.has(name):
                found, errors = refs.find_all(sheet.cell(cells, name))
                for error in errors:
                    _problem(row, sheet, name, error)
                wanted[name] = sorted(item.key for item in found)
        # The model's rules too, for every cell not refused already.
        instance = ContentAsset(workspace=workspace, key=key) if asset is None else _copy(asset)
        for name, value in wanted.items():
            if name not in ("personas", "stages"):
                setattr(instance, name, value)
        for column, message in _field_problems(instance, columns, ["workspace", "order"]).items():
            _problem(row, sheet, column, message)
        now = None if asset is None else _content_now(asset, journey_map)
        rows.append(_finish(row, sheet, {"key": key, **wanted} if asset is None else wanted, now))
    return rows


def _copy(instance: models.Model) -> models.Model:
    copy = type(instance)()
    copy.__dict__.update({k: v for k, v in instance.__dict__.items() if k != "_state"})
    return copy


def _content_now(asset: ContentAsset, journey_map: JourneyMap) -> dict[str, object]:
    return {
        "title": asset.title,
        "type": asset.type,
        "url": asset.url,
        "questions": list(asset.questions),
        "status": asset.status,
        "last_reviewed": asset.last_reviewed,
        "personas": sorted(p.key for p in asset.personas.all()),
        "stages": sorted(s.key for s in asset.stages.all() if s.map_id == journey_map.pk),
    }


LAST_REVIEWED = "last reviewed"  # i18n: not for people (a column's name in the format)
PAIN_POINT = "pain point"  # i18n: not for people (a column's name in the format)
DATE_RE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")


def _date(row: Row, sheet: Sheet, cell: str) -> datetime.date | None:
    cell = cell.strip()
    if not cell:
        return None
    match = DATE_RE.fullmatch(cell)
    try:
        if match is None:
            raise ValueError
        return datetime.date(*(int(part) for part in match.groups()))
    except ValueError:
        # Translators: refusal of a date cell of an imported CSV file; YYYY-MM-DD is how
        # the file writes dates: keep it as it is.
        _problem(row, sheet, LAST_REVIEWED, _("must be a date as YYYY-MM-DD, or empty"))
        return None


def _apply_content(journey_map: JourneyMap, result: Plan) -> None:
    workspace = journey_map.workspace
    personas = {p.key: p for p in workspace.personas.all()}
    stages = {s.key: s for s in journey_map.stages.all()}
    order = changes.next_order(workspace.content)
    for row in result.rows:
        if row.action not in (ADDED, CHANGED):
            continue
        values = dict(row.values)
        targets, linked = values.pop("personas", None), values.pop("stages", None)
        asset = row.target
        if asset is None:
            asset = ContentAsset.objects.create(workspace=workspace, order=order, **values)
            order += 1
        else:
            for name, value in values.items():
                setattr(asset, name, value)
            asset.save()
        if targets is not None:
            # The order of the library, not of the cell: as every export writes them.
            asset.personas.set([personas[key] for key in targets])
        if linked is not None:
            others = [s for s in asset.stages.all() if s.map_id != journey_map.pk]
            asset.stages.set(others + [stages[key] for key in linked])


# --- touchpoints ---------------------------------------------------------------------------


def _plan_touchpoints(journey_map: JourneyMap, sheet: Sheet) -> list[Row]:
    workspace = journey_map.workspace
    existing = {
        tp.key: tp
        for tp in journey_map.touchpoints.select_related("stage", "owner").prefetch_related(
            "personas", "content", "flows_out__target"
        )
    }
    identified = _identify(sheet, existing, "name", "name", set(existing))
    stages = _Refs(journey_map.stages.all(), ("name",), NO_SUCH["stage"])
    owners = _Refs(workspace.departments.all(), ("name",), NO_SUCH["department"])
    personas = _Refs(
        [e.persona for e in journey_map.map_personas.select_related("persona")], ("name",), NO_SUCH["persona"]
    )
    content = _Refs(workspace.content.all(), ("title",), NO_SUCH["content"])
    # `next` may name a touchpoint of the map or one this file adds, by key or name.
    file_names = {key: sheet.cell(cells, "name") for _n, cells, key, _tp, _p in identified}
    targets = [_Named(key, name) for key, name in file_names.items()]
    targets += [_Named(tp.key, tp.name) for tp in existing.values() if tp.key not in file_names]
    flows = _Refs(targets, ("name",), NO_SUCH["touchpoint"])
    columns = {"name": "name", "description": "description", "channel": "channel", "emotion": "emotion"}
    columns |= {"pain_point": PAIN_POINT, "opportunity": "opportunity", "key": "key"}
    rows = []
    for number, cells, key, touchpoint, problem in identified:
        row = Row(number, REFUSED, sheet.cell(cells, "name") or key, target=touchpoint)
        if problem:
            _problem(row, sheet, "key", problem)
        stage, error = stages.find(sheet.cell(cells, "stage"))
        if error:
            _problem(row, sheet, "stage", error)
        wanted: dict[str, object] = {"stage": stage.key if stage else None, "name": sheet.cell(cells, "name")}
        for name in ("description", "channel", PAIN_POINT, "opportunity"):
            if sheet.has(name):
                wanted[name.replace(" ", "_")] = sheet.cell(cells, name)
        if sheet.has("owner"):
            written = sheet.cell(cells, "owner").strip()
            owner, error = owners.find(written) if written else (None, None)
            if error:
                _problem(row, sheet, "owner", error)
            wanted["owner"] = owner.key if owner else None
        if sheet.has("emotion"):
            wanted["emotion"] = _whole(row, sheet, "emotion", sheet.cell(cells, "emotion"))
        for name, refs in (("personas", personas), ("content", content), ("next", flows)):
            if sheet.has(name):
                found, errors = refs.find_all(sheet.cell(cells, name))
                for error in errors:
                    _problem(row, sheet, name, error)
                if name == "next" and any(item.key == key for item in found):
                    _problem(row, sheet, name, _("a touchpoint cannot flow to itself"))
                # Flows keep the order the person gave the paths; the others are sets.
                keys = [item.key for item in found]
                wanted[name] = keys if name == "next" else sorted(keys)
        # The model's rules too, for every cell not refused already.
        instance = Touchpoint(map=journey_map, key=key) if touchpoint is None else _copy(touchpoint)
        for name in columns:
            if name in wanted:
                setattr(instance, name, wanted[name])
        exclude = ["map", "stage", "owner", "order"]
        for column, message in _field_problems(instance, columns, exclude).items():
            _problem(row, sheet, column, message)
        now = None if touchpoint is None else _touchpoint_now(touchpoint)
        rows.append(_finish(row, sheet, {"key": key, **wanted} if touchpoint is None else wanted, now))
    return rows


@dataclass(frozen=True)
class _Named:
    key: str
    name: str


def _whole(row: Row, sheet: Sheet, column: str, cell: str) -> int | None:
    cell = cell.strip()
    if not cell:
        return None
    if not re.fullmatch(r"[+-]?[0-9]{1,10}", cell):
        # Translators: refusal of a cell of an imported CSV file that must hold a number.
        _problem(row, sheet, column, _("must be a whole number"))
        return None
    return int(cell)


def _touchpoint_now(tp: Touchpoint) -> dict[str, object]:
    return {
        "stage": tp.stage.key,
        "name": tp.name,
        "description": tp.description,
        "channel": tp.channel,
        "owner": tp.owner.key if tp.owner else None,
        "personas": sorted(p.key for p in tp.personas.all()),
        "emotion": tp.emotion,
        "pain_point": tp.pain_point,
        "opportunity": tp.opportunity,
        "content": sorted(c.key for c in tp.content.all()),
        "next": [flow.target.key for flow in tp.flows_out.all()],
    }


def _apply_touchpoints(journey_map: JourneyMap, result: Plan) -> None:
    workspace = journey_map.workspace
    stages = {s.key: s for s in journey_map.stages.all()}
    departments = {d.key: d for d in workspace.departments.all()}
    personas = {e.persona.key: e.persona for e in journey_map.map_personas.select_related("persona")}
    content = {c.key: c for c in workspace.content.all()}
    simple = ("name", "description", "channel", "emotion", "pain_point", "opportunity")
    written: list[tuple[Touchpoint, dict]] = []
    left: set[int] = set()
    for row in result.rows:
        if row.action not in (ADDED, CHANGED):
            continue
        values = row.values
        stage = stages[values["stage"]]
        fields = {name: values[name] for name in simple if name in values}
        if "owner" in values:
            fields["owner"] = departments.get(values["owner"])
        touchpoint = row.target
        if touchpoint is None:
            order = changes.next_order(stage.touchpoints)
            touchpoint = Touchpoint.objects.create(
                map=journey_map, stage=stage, key=values["key"], order=order, **fields
            )
        else:
            if touchpoint.stage_id != stage.pk:
                left.add(touchpoint.stage_id)
                touchpoint.stage, touchpoint.order = stage, changes.next_order(stage.touchpoints)
            for name, value in fields.items():
                setattr(touchpoint, name, value)
            touchpoint.save()
        if "personas" in values:
            touchpoint.personas.set([personas[key] for key in values["personas"]])
        if "content" in values:
            touchpoint.content.set([content[key] for key in values["content"]])
        written.append((touchpoint, values))
    for old in Stage.objects.filter(pk__in=left):
        changes.renumber(old.touchpoints.all())
    everyone = {tp.key: tp for tp in journey_map.touchpoints.all()}
    for touchpoint, values in written:
        if "next" in values:
            _set_flows(touchpoint, [everyone[key] for key in values["next"]])


def _set_flows(source: Touchpoint, targets: list[Touchpoint]) -> None:
    """The touchpoint's flows are to `targets`, in that order."""
    from .models import Flow

    source.flows_out.exclude(target__in=targets).delete()
    have = {flow.target_id: flow for flow in source.flows_out.all()}
    for order, target in enumerate(targets):
        flow = have.get(target.pk)
        if flow is None:
            Flow.objects.create(source=source, target=target, order=order)
        elif flow.order != order:
            flow.order = order
            flow.save(update_fields=["order"])


# --- funnel figures --------------------------------------------------------------------------


def _plan_funnel(journey_map: JourneyMap, sheet: Sheet) -> list[Row]:
    stage_list = list(journey_map.stages.prefetch_related("figures"))
    stages = _Refs(stage_list, ("name",), NO_SUCH["stage"])
    existing = {(s.key, f.period): f for s in stage_list for f in s.figures.all()}
    columns = {"period": "period", "entered": "entered", "converted": "converted"}
    claimed: dict[tuple[str, str], int] = {}
    rows = []
    for number, cells in sheet.rows:
        period = sheet.cell(cells, "period").strip()
        row = Row(number, REFUSED, "")
        stage, error = stages.find(sheet.cell(cells, "stage"))
        if error:
            _problem(row, sheet, "stage", error)
        row.label = f"{stage.name if stage else sheet.cell(cells, 'stage')} {period}"
        wanted: dict[str, object] = {"stage": stage.key if stage else None, "period": period}
        for name in ("entered", "converted"):
            wanted[name] = _whole(row, sheet, name, sheet.cell(cells, name))
        figure = existing.get((wanted["stage"], period))
        row.target = figure
        if stage is not None and (stage.key, period) in claimed:
            _problem(row, sheet, "period", _("the same item as row %(row)s") % {"row": claimed[(stage.key, period)]})
        if stage is not None:
            claimed.setdefault((stage.key, period), number)
        # The model's rules too, for every cell not refused already.
        instance = FunnelFigure(period=period, entered=wanted["entered"], converted=wanted["converted"])
        for column, message in _field_problems(instance, columns, ["stage"]).items():
            _problem(row, sheet, column, message)
        now = None
        if figure is not None:
            now = {"stage": wanted["stage"], "period": period, "entered": figure.entered, "converted": figure.converted}
        rows.append(_finish(row, sheet, wanted, now))
    return rows


def _apply_funnel(journey_map: JourneyMap, result: Plan) -> None:
    stages = {s.key: s for s in journey_map.stages.all()}
    touched = set()
    for row in result.rows:
        if row.action not in (ADDED, CHANGED):
            continue
        values = row.values
        FunnelFigure.objects.update_or_create(
            stage=stages[values["stage"]],
            period=values["period"],
            defaults={"entered": values["entered"], "converted": values["converted"]},
        )
        touched.add(values["stage"])
    for key in touched:
        changes.stage_follows_figures(stages[key])


PLANNERS: dict[str, Callable[[JourneyMap, Sheet], list[Row]]] = {
    "content": _plan_content,
    "touchpoints": _plan_touchpoints,
    "funnel": _plan_funnel,
}
APPLIERS: dict[str, Callable[[JourneyMap, Plan], None]] = {
    "content": _apply_content,
    "touchpoints": _apply_touchpoints,
    "funnel": _apply_funnel,
}
SUMMARIES = {
    "content": gettext_noop("imported the content inventory from %(file)s: %(added)s added, %(changed)s changed"),
    "touchpoints": gettext_noop("imported touchpoints from %(file)s: %(added)s added, %(changed)s changed"),
    "funnel": gettext_noop("imported funnel figures from %(file)s: %(added)s added, %(changed)s changed"),
}


def apply(
    journey_map: JourneyMap, table: str, data: bytes | str, user=None, file: str = "", seen: int | None = None
) -> Plan:
    """Import `data` as `table` into the map: planned again under the map's lock, then
    written whole in one transaction and one revision; nothing if any row is refused
    (TableError) or the map changed since version `seen` was previewed (MapChanged).
    A file that changes nothing records no revision."""
    file = file or f"{table}.csv"
    summary = Said(SUMMARIES[table], file=file, added="0", changed="0")
    # Content belongs to the library: every map that shows a changed asset gets a revision.
    editing = (
        changes.editing_library(journey_map.workspace, user, summary)
        if table == "content"
        else changes.editing(journey_map, user, summary)
    )
    with editing as change:
        current = JourneyMap.objects.select_related("workspace").get(pk=journey_map.pk)
        # A map's first change first records "history starts here", which changes nothing.
        if seen is not None and current.version != seen and (seen, current.version) != (0, 1):
            raise MapChanged(
                _("The map changed since the preview (by %(who)s); look at the new preview before applying.")
                % {"who": ", ".join(changes.changed_by_since(current, seen))}
            )
        result = plan(current, table, data)
        if not result.ok:
            raise TableError(result.problems)
        change.summary = Said(
            SUMMARIES[table], file=file, added=str(result.count(ADDED)), changed=str(result.count(CHANGED))
        )
        APPLIERS[table](current, result)
    journey_map.version = JourneyMap.objects.filter(pk=journey_map.pk).values_list("version", flat=True).get()
    return result


# --- export ------------------------------------------------------------------------------------


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    """CSV text as every export of the app writes it: a byte order mark, CRLF."""
    output = io.StringIO()
    output.write("\ufeff")
    writer = csv.writer(output, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return output.getvalue()


def _headers(table: Table) -> list[str]:
    language = (translation.get_language() or "en").split("-")[0]
    return [column.header(language) for column in table.columns]


def _keys(objects: Iterable) -> str:
    return protect(LINE.join(obj.key for obj in objects))


def export(journey_map: JourneyMap, table: str) -> str:
    """The table as CSV, headers in the active language: content, touchpoints and funnel
    in the import format, gaps and coverage as the reports of maps.exports."""
    journey_map = JourneyMap.objects.loaded().get(pk=journey_map.pk)
    if table == "gaps":
        return exports.gaps_csv(journey_map)
    if table == "coverage":
        return exports.coverage_csv(journey_map)
    if table == "actions":
        return _csv(_headers(ACTIONS), _export_actions(journey_map))
    return _csv(_headers(TABLES[table]), EXPORTERS[table](journey_map))


def _export_content(journey_map: JourneyMap) -> Iterable[list[str]]:
    stages = list(journey_map.stages.all())
    at = {s.pk: i for i, s in enumerate(stages)}
    for asset in journey_map.workspace.content.prefetch_related("personas", "stages"):
        linked = sorted((s for s in asset.stages.all() if s.pk in at), key=lambda s: at[s.pk])
        yield [
            protect(asset.key),
            protect(asset.title),
            asset.type,
            protect(asset.url),
            _keys(asset.personas.all()),
            _keys(linked),
            protect(LINE.join(asset.questions)),
            asset.status,
            asset.last_reviewed.isoformat() if asset.last_reviewed else "",
        ]


def _export_touchpoints(journey_map: JourneyMap) -> Iterable[list[str]]:
    # Personas that were never added to the map are left out, as the journeymap/1 export does.
    in_map = {entry.persona_id for entry in journey_map.map_personas.all()}
    for stage in journey_map.stages.all():
        for tp in stage.touchpoints.all():
            yield [
                protect(tp.key),
                protect(stage.key),
                protect(tp.name),
                protect(tp.description),
                protect(tp.channel),
                protect(tp.owner.key) if tp.owner else "",
                _keys(p for p in tp.personas.all() if p.pk in in_map),
                "" if tp.emotion is None else str(tp.emotion),
                protect(tp.pain_point),
                protect(tp.opportunity),
                _keys(tp.content.all()),
                _keys(flow.target for flow in tp.flows_out.all()),
            ]


def _export_funnel(journey_map: JourneyMap) -> Iterable[list[str]]:
    for stage in journey_map.stages.all():
        for figure in figures_in_order(stage):
            yield [protect(stage.key), figure.period, str(figure.entered), str(figure.converted)]


def _export_actions(journey_map: JourneyMap) -> Iterable[list[str]]:
    """The ranking of the Actions tab: keys for stage, owner and status (as the journeymap/1
    document writes them), the source as KIND:KEY."""
    for row in ranked(journey_map):
        action = row.action
        yield [
            str(row.rank),
            protect(action.key),
            protect(action.title),
            row.score_text,
            str(action.impact),
            str(action.effort),
            str(row.votes),
            row.quadrant.key,
            protect(action.stage.key) if action.stage else "",
            protect(action.owner.key) if action.owner else "",
            action.due.isoformat() if action.due else "",
            action.status,
            protect(action.source),
        ]


EXPORTERS = {"content": _export_content, "touchpoints": _export_touchpoints, "funnel": _export_funnel}
EXPORTABLE = (*IMPORTABLE, "gaps", "coverage", "actions")
