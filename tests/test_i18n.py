"""The interface stays translatable: no unmarked English for people, a complete Japanese catalogue.

Each scanner is a pure function of one source text, so the self-tests (with the samples
in tests/data/i18n/) can show that it bites:

- templates: Django's own Lexer separates tags from text, so `{% translate %}`,
  `{% blocktranslate %}` bodies and comments are understood. Text between HTML tags and
  the attributes people see or hear (ATTRIBUTES) must hold no English word.
- Python: `ast` reads string constants and f-strings. Where a string is known to reach
  people (USER_CALLS, USER_KEYWORDS, USER_NAMES, choices labels) any English word counts;
  elsewhere only text that reads like prose (`looks_like_prose`). Exempt: docstrings,
  gettext arguments, developer errors and system checks (DEV_CALLS), logger calls,
  asserts, dict keys and subscripts, `__all__`, FONT constants, per-language content
  that carries its own Japanese, SQL, regexes, and markup with no text in it.
  A string that is still not for people takes the comment `# i18n: not for people`
  on one of its lines. A gettext call that makemessages cannot see (an alias such as
  `_lazy`, or a call inside an f-string) counts as unmarked.
- the catalogue: a small .po reader (standard library only), so failures name msgids.
"""

from __future__ import annotations

import ast
import gettext
import html
import io
import re
import subprocess
import tokenize
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.template.base import Lexer, TokenType
from django.utils.translation.template import templatize

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "i18n"
PO_FILE = ROOT / "locale" / "ja" / "LC_MESSAGES" / "django.po"
ESCAPE = "# i18n: not for people"
# Not English to a reader of any language: the product's name, and file formats by their
# own names (a Japanese page says "CSV" too).
ALLOWED_WORDS = {"journeymap", "CSV", "JSON", "PDF", "PNG", "SVG"}
WORD = re.compile(r"[A-Za-z]{2,}")
HOLE = "\x00"  # stands for a {{ variable }} or an f-string's {…} while judging

Msgid = tuple[str | None, str]  # (msgctxt, msgid), as gettext keys them
Finding = tuple[int, str]  # (line, text)


def template_files() -> list[Path]:
    return sorted(p for d in ("templates", "maps/templates") for p in (ROOT / d).rglob("*.*"))


def python_files() -> list[Path]:
    files = [*(ROOT / "maps").rglob("*.py"), *(ROOT / "journeymap").glob("*.py")]
    return sorted(p for p in files if not {"migrations", "tests"} & set(p.relative_to(ROOT).parts))


def first_english(text: str) -> int | None:
    """Where the first English word of `text` starts, entities (&nbsp;) decoded first."""
    return next((m.start() for m in WORD.finditer(html.unescape(text)) if m[0] not in ALLOWED_WORDS), None)


def _scan(files: list[Path], scanner) -> dict[str, list[Finding]]:
    found = {str(p.relative_to(ROOT)): scanner(p.read_text(encoding="utf-8")) for p in files}
    return {path: items for path, items in found.items() if items}


def report(findings: dict[str, list[Finding]], what: str = "unmarked") -> str:
    lines = [
        f"{path}:{n}: {' '.join(text.replace(HOLE, '{…}').split())}" for path, f in findings.items() for n, text in f
    ]
    return f"{len(lines)} {what}:\n" + "\n".join(lines)


# -- templates -------------------------------------------------------------------------

ATTRIBUTES = {"title", "aria-label", "aria-description", "placeholder", "alt", "hx-confirm", "data-confirm"}
BLOCK_ENDS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans", "comment": "endcomment"}


def _skeleton(source: str) -> str:
    """The template's HTML: a variable becomes a HOLE, a tag or comment a space (so one
    inside an HTML tag, <div{% if x %} hidden{% endif %}>, leaves the tag readable), and
    translated or commented blocks are blanked, their newlines kept for line numbers."""
    out, closing = [], None
    for token in Lexer(source).tokenize():
        bits = token.contents.split() if token.token_type == TokenType.BLOCK else []
        text = token.token_type == TokenType.TEXT
        if closing:
            closing = None if bits[:1] == [closing] else closing
            out.append("\n" * token.contents.count("\n") if text else " ")
            continue
        closing = BLOCK_ENDS.get(bits[0]) if bits else None
        if bits[:1] == ["block"] and bits[1:] and bits[1].endswith("_class"):
            closing = "endblock"  # CSS classes: base.html puts {% block main_class %} in class="…"
        out.append(token.contents if text else HOLE if token.token_type == TokenType.VAR else " ")
    return "".join(out)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Finding] = []
        self.code = 0  # inside <script> or <style>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.code += tag in ("script", "style")
        shown = ATTRIBUTES | (
            {"value"} if tag == "input" and dict(attrs).get("type") in ("submit", "button") else set()
        )
        # Only these are read: svg path data, classes and URLs never are.
        self.found += [(self.getpos()[0], value) for name, value in attrs if name in shown and value]

    def handle_endtag(self, tag: str) -> None:
        self.code -= tag in ("script", "style") and self.code > 0

    def handle_data(self, data: str) -> None:
        if not self.code:
            self.found.append((self.getpos()[0], data))


def unmarked_template_texts(source: str) -> list[Finding]:
    """Text shown to people in a template that is outside every translation tag."""
    collector = _TextCollector()
    collector.feed(_skeleton(source))
    collector.close()
    found = [(line, text, first_english(text)) for line, text in collector.found]
    return [(line + text[:at].count("\n"), text.strip()) for line, text, at in found if at is not None]


def template_msgids(source: str) -> dict[Msgid, int]:
    """The msgids makemessages takes from a template (blocktranslate `trimmed`, plural
    and `%%` included): Django's own `templatize` writes each as a gettext call on a line."""
    # templatize writes one line too many per {% comment %}: blank them to keep line numbers.
    source = re.sub(
        r"{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}", lambda m: "\n" * m[0].count("\n"), source, flags=re.S
    )
    found = {}
    for lineno, line in enumerate(templatize(source).splitlines(), 1):
        for call in re.finditer(r"\b(npgettext|pgettext|ngettext|gettext|_)\(", line):
            strings = []
            for tok in tokenize.generate_tokens(io.StringIO(line[call.end() :]).readline):
                if tok.string == ")" or tok.type == tokenize.NEWLINE:
                    break
                strings += [ast.literal_eval(tok.string)] if tok.type == tokenize.STRING else []
            context = strings.pop(0) if call[1].startswith(("p", "np")) and strings else None
            found.update({(context, strings[0]): lineno} if strings else {})
    return found


# -- Python ----------------------------------------------------------------------------

# What makemessages extracts: xgettext's own Python keywords and the ones Django adds.
GETTEXT = {"gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "_"}
CONTEXT_FIRST = {"pgettext", "pgettext_lazy", "npgettext", "npgettext_lazy"}
GETTEXT |= CONTEXT_FIRST
# For developers: a traceback or a log. System checks speak to the operator, untranslated as Django's own.
DEV_CALLS = {"ValueError", "TypeError", "KeyError", "AssertionError", "ImproperlyConfigured", "NotImplementedError"}
DEV_CALLS |= {"RuntimeError", "LookupError", "AttributeError", "IndexError", "Error", "Warning", "Critical"}
USER_CALLS = {"ValidationError", "CommandError", "bad_input", "DiagramError"}  # and see _user_args
USER_NAMES = {"verbose_name", "verbose_name_plural", "help_text", "label", "empty_label", "help", "description"}
USER_KEYWORDS = USER_NAMES | {"xlabel", "tooltip", "message", "content"}  # xlabel, tooltip: Graphviz
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP)\s", re.I)
REGEX = re.compile(r"\\[dswbDSWB]|\(\?[P:=!<]|\[\^|^\^.*\$$")
TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")  # HTML and DOT labels; not a URL's <str:fmt>
DOT_ATTRIBUTE = re.compile(r"\b[\w-]+\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;\]]+)")
PLACEHOLDER = re.compile(r"%(\([^)]*\))?[-#0 +]*\d*(\.\d+)?[a-zA-Z%]|\{[^{}]*\}")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _name(func: ast.expr) -> str:
    """`self.stdout.write` -> "self.stdout.write"; anything unnamed -> ""."""
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}".lstrip(".")
    return func.id if isinstance(func, ast.Name) else ""


def _last(func: ast.expr) -> str:
    return _name(func).rsplit(".", 1)[-1]


def looks_like_prose(text: str) -> bool:
    """Two words with only a space, a quote or a {…} between them, or "Capitalised" and punctuation."""
    text = re.sub(r"[“”\"‘’']|" + HOLE, " ", text)
    return bool(re.search(r"[A-Za-z]{2,}\s+[A-Za-z]+|[A-Za-z]+\s+[A-Za-z]{2,}|\b[A-Z][a-z]+[.!?:…]", text))


def _is_english(text: str, for_people: bool) -> bool:
    if SQL.match(text) or REGEX.search(text):
        return False
    text = PLACEHOLDER.sub(HOLE, text)
    if TAG.search(text):  # markup: what is left between the tags is shown, word by word
        for_people, text = True, DOT_ATTRIBUTE.sub(" ", TAG.sub(" ", text))
    return first_english(text.replace(HOLE, " ")) is not None if for_people else looks_like_prose(text)


def _user_args(name: str, call: ast.Call) -> list[ast.expr]:
    """The positional arguments of `call` that are shown to people."""
    last = name.rsplit(".", 1)[-1]
    if last == "add_error":
        return call.args[1:]  # (field, error)
    if re.fullmatch(r"models\.\w+Field", name) and last not in ("ManyToManyField", "OneToOneField"):
        return call.args[:1]  # a model field's verbose name
    std = re.fullmatch(r"(self\.)?std(out|err)\.write", name)
    return call.args if std or last in USER_CALLS or last.startswith("HttpResponse") or name[:9] == "messages." else []


def _japanese(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(JAPANESE.search(node.value))


def _verdict(node: ast.AST, parents: dict[ast.AST, ast.AST], gettexts: set[str]) -> str | None:
    """The closest deciding ancestor's word: "marked", "exempt" or "people"; None: judge the text."""
    child, anc, people = node, parents.get(node), "people"
    while anc is not None and not isinstance(anc, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        if isinstance(anc, ast.Call) and child is not anc.func:
            name = _name(anc.func)
            if _last(anc.func) in gettexts:
                return "marked"
            if name.split(".")[0] in ("logger", "log", "logging") or _last(anc.func) in DEV_CALLS:
                return "exempt"
            if child in _user_args(name, anc):
                return people
            # An argument of some other function is that function's business: its text
            # is judged, though an outer rule may still exempt it.
            people = None if child in anc.args else people
        elif isinstance(anc, ast.keyword) and anc.arg == "choices":
            break
        elif isinstance(anc, ast.keyword) and anc.arg in USER_KEYWORDS:
            return people
        elif isinstance(anc, ast.Dict) and (
            child in anc.keys or {"en", "ja"} <= {getattr(k, "value", 0) for k in anc.keys}
        ):
            return "exempt"  # a key, or per-language content that carries its own Japanese
        elif isinstance(anc, ast.Tuple) and any(_japanese(e) for e in anc.elts if e is not child):
            return "exempt"  # ("key", "English name", "日本語名"): the same
        elif isinstance(anc, ast.Subscript) and child is anc.slice or isinstance(anc, ast.Assert) and child is anc.msg:
            return "exempt"
        elif isinstance(anc, (ast.Assign, ast.AnnAssign)):
            targets = anc.targets if isinstance(anc, ast.Assign) else [anc.target]
            names = {t.id if isinstance(t, ast.Name) else getattr(t, "attr", "") for t in targets}
            if child is not anc.value or "__all__" in names or any(re.search(r"(^|_)FONTS?$", n) for n in names):
                return "exempt"
            if not any(n.upper().endswith("CHOICES") for n in names):
                return people if names & USER_NAMES else None
            break
        child, anc = anc, parents.get(anc)
    else:
        return None
    # choices: the second element of each (value, label) pair is the label people see.
    parent = parents.get(node)
    return "people" if isinstance(parent, ast.Tuple) and parent.elts[1:2] == [node] else "exempt"


def _unextractable(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> str | None:
    """Why makemessages would not see this gettext call's msgid, if it would not."""
    if _last(call.func) not in GETTEXT:
        return f"{_last(call.func)}() is not a makemessages keyword"
    if any(isinstance(a, ast.JoinedStr) for a in call.args):
        return "an f-string cannot be a msgid"
    node = call
    while not isinstance(node, (ast.stmt, ast.JoinedStr)) and node in parents:
        node = parents[node]
    if isinstance(node, ast.JoinedStr):  # xgettext 0.21 (Debian 12's) reads an f-string as one string
        return "a gettext call inside an f-string is not extracted"
    return None


def _parse(source: str) -> tuple[ast.Module, dict[ast.AST, ast.AST]]:
    tree = ast.parse(source)
    return tree, {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def unmarked_python_strings(source: str) -> list[Finding]:
    """English for people in a module that no gettext call makemessages can see wraps."""
    tree, parents = _parse(source)
    lines = source.splitlines()
    gettexts = GETTEXT | {  # and the names they are imported as, `gettext_lazy as _lazy`
        a.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation"
        for a in node.names
        if a.name in GETTEXT and a.asname
    }
    bodies = [
        n.body
        for n in ast.walk(tree)
        if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
    ]
    docstrings = {b[0].value for b in bodies if b and isinstance(b[0], ast.Expr)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _last(node.func) in gettexts and (why := _unextractable(node, parents)):
            found.append((node.lineno, f"[{why}] {ast.get_source_segment(source, node)}"))
        if isinstance(node, ast.JoinedStr):
            text = "".join(v.value if isinstance(v, ast.Constant) else HOLE for v in node.values)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        else:
            continue
        if node in docstrings or isinstance(parents.get(node), (ast.JoinedStr, ast.FormattedValue)):
            continue  # the literal parts of an f-string are judged with the whole
        if any(ESCAPE in line for line in lines[node.lineno - 1 : node.end_lineno]):
            continue
        verdict = _verdict(node, parents, gettexts)
        if verdict not in ("marked", "exempt") and _is_english(text, verdict == "people"):
            found.append((node.lineno, text))
    return sorted(found)


def python_msgids(source: str) -> dict[Msgid, int]:
    """The msgids makemessages takes from a module: the literal arguments of gettext calls."""
    tree, parents = _parse(source)
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _last(node.func) in GETTEXT and not _unextractable(node, parents):
            args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None for a in node.args]
            context = args.pop(0) if _last(node.func) in CONTEXT_FIRST and args else None
            if args and args[0] is not None:
                found[(context, args[0])] = node.lineno
    return found


# -- the catalogue ---------------------------------------------------------------------


@dataclass
class PoEntry:
    line: int
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)


PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def parse_po(text: str) -> list[PoEntry]:
    """A .po file's entries: flags, msgctxt, msgid(_plural), msgstr[n]; obsolete `#~` ones left out."""
    entries: list[PoEntry] = []
    entry, current = PoEntry(0), ("", 0)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        keyword = re.match(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+"(.*)"$', line)
        starts = line[:1] == "#" and line[:2] != "#~" or keyword and keyword[1] in ("msgctxt", "msgid")
        if starts and (entry.msgstr or not entries):  # after a msgstr, a comment or a msgid begins the next
            entry = PoEntry(lineno)
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
        quoted = keyword[3] if keyword else line[1:-1] if line[:1] == '"' else None
        if quoted is None or not (keyword or current[0]):
            continue
        value = re.sub(r"\\(.)", lambda m: PO_ESCAPES.get(m[1], m[0]), quoted)
        name, n = current = (keyword[1], int(keyword[2] or 0)) if keyword else current
        if name == "msgstr":
            entry.msgstr[n] = ("" if keyword else entry.msgstr[n]) + value
        else:
            setattr(entry, name, ("" if keyword else getattr(entry, name)) + value)
        entry.line = lineno if keyword and name == "msgid" else entry.line
    return entries


def placeholders(text: str, flags: set[str]) -> set[str]:
    """%-placeholders of a python-format entry (named ones always), {…} of a brace-format one."""
    percent = re.findall(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]", text.replace("%%", ""))
    brace = re.findall(r"\{[^{}]*\}", text) if "python-brace-format" in flags else []
    return {p for p in percent if "python-format" in flags or p.startswith("%(")} | set(brace)


def compiled_form(entries: list[PoEntry]) -> dict[str | tuple[str, int], str]:
    """What msgfmt puts in a .mo, keyed as `GNUTranslations` keys it. Not the header:
    msgfmt rewrites that (it drops POT-Creation-Date)."""
    table: dict[str | tuple[str, int], str] = {}
    for e in entries:
        if e.msgid and "fuzzy" not in e.flags and all(e.msgstr.values()):  # msgfmt leaves the others out
            key = f"{e.msgctxt}\x04{e.msgid}" if e.msgctxt is not None else e.msgid
            table |= {(key, n): s for n, s in e.msgstr.items()} if e.msgid_plural is not None else {key: e.msgstr[0]}
    return table


def read_mo(path: Path) -> dict[str | tuple[str, int], str]:
    with path.open("rb") as fp:
        return {k: v for k, v in gettext.GNUTranslations(fp)._catalog.items() if k != ""}


def _catalogue() -> list[PoEntry]:
    if not PO_FILE.exists():
        pytest.fail(f"no Japanese catalogue at {PO_FILE.relative_to(ROOT)}")
    return parse_po(PO_FILE.read_text(encoding="utf-8"))


# -- the scanners can fail -------------------------------------------------------------


def test_template_scanner_flags_unmarked_text_and_passes_marked_text() -> None:
    unmarked = (DATA / "unmarked.html").read_text(encoding="utf-8")
    expected = [(2, "Nothing saved"), (3, "Site logo"), (3, "Go on"), (4, "Back to \x00")]
    assert unmarked_template_texts(unmarked) == expected
    marked = (DATA / "marked.html").read_text(encoding="utf-8")
    assert unmarked_template_texts(marked) == []
    assert template_msgids(marked) == {
        (None, "Nothing saved"): 1,
        (None, "Logo"): 1,
        (None, "%(n)s map"): 2,
        (None, "Old spelling"): 6,
        ("editing", "Keep"): 9,
    }


def test_python_scanner_flags_unmarked_message_and_passes_marked_one() -> None:
    assert unmarked_python_strings((DATA / "unmarked.py.txt").read_text(encoding="utf-8")) == [
        (5, "Print a map"),
        (9, "Nothing saved."),
        (10, "map"),
        (11, '[_lazy() is not a makemessages keyword] _lazy("Saved")'),
        (11, "[a gettext call inside an f-string is not extracted] _('Legend')"),
        (11, "job title"),
    ]
    marked = (DATA / "marked.py.txt").read_text(encoding="utf-8")
    assert unmarked_python_strings(marked) == []
    assert python_msgids(marked) == {(None, "Print a map"): 11, (None, "Nothing saved."): 15, ("kind", "map"): 16}


def test_po_reader_finds_fuzzy_and_empty_entries(tmp_path: Path) -> None:
    po_text = (DATA / "sample.po").read_text(encoding="utf-8")
    header, fuzzy, empty, plural = entries = parse_po(po_text)
    assert "fuzzy" in header.flags and header.msgstr[0].startswith("Content-Type")
    assert "fuzzy" in fuzzy.flags and placeholders(fuzzy.msgstr[0], fuzzy.flags) != {"%(name)s"}
    assert (empty.msgctxt, empty.msgid, empty.msgstr, empty.line) == ("verb", 'Save "it"', {0: ""}, 13)
    assert plural.msgid_plural == "%(n)s maps" and plural.msgstr == {0: "%(n)s 件のマップ"}
    assert compiled_form(entries) == {("%(n)s map", 0): "%(n)s 件のマップ"}
    if Path("/usr/bin/msgfmt").exists():  # the reader agrees with GNU gettext's own compiler
        subprocess.run(["/usr/bin/msgfmt", "-o", tmp_path / "sample.mo", DATA / "sample.po"], check=True)
        assert read_mo(tmp_path / "sample.mo") == compiled_form(entries)


# -- the project -----------------------------------------------------------------------


def test_every_template_text_is_marked_for_translation() -> None:
    found = _scan(template_files(), unmarked_template_texts)
    assert not found, report(found)


def test_every_python_text_for_people_is_marked_for_translation() -> None:
    found = _scan(python_files(), unmarked_python_strings)
    assert not found, report(found)


def test_japanese_catalogue_exists() -> None:
    assert PO_FILE.exists(), f"no Japanese catalogue at {PO_FILE.relative_to(ROOT)}"


def test_japanese_catalogue_has_no_fuzzy_entries() -> None:
    # The header too: makemessages marks it fuzzy until someone has checked Plural-Forms.
    fuzzy = [f"line {e.line}: {e.msgid or '(the header)'!r}" for e in _catalogue() if "fuzzy" in e.flags]
    assert not fuzzy, f"{len(fuzzy)} fuzzy:\n" + "\n".join(fuzzy)


def test_japanese_catalogue_has_no_untranslated_entries() -> None:
    empty = [f"line {e.line}: {e.msgid!r}" for e in _catalogue() if e.msgid and not all(e.msgstr.values())]
    assert not empty, f"{len(empty)} untranslated:\n" + "\n".join(empty)


def test_japanese_translations_keep_the_placeholders_of_their_msgid() -> None:
    wrong = [
        f"line {e.line}: {e.msgid!r} -> {text!r}"
        for e in _catalogue()
        for text in e.msgstr.values()
        if text and placeholders(text, e.flags) != placeholders(e.msgid_plural or e.msgid, e.flags)
    ]
    assert not wrong, f"{len(wrong)} with other placeholders than their msgid:\n" + "\n".join(wrong)


def test_japanese_catalogue_holds_every_marked_text() -> None:
    """The catalogue is current: makemessages would add no msgid."""
    known = {(e.msgctxt, e.msgid) for e in _catalogue()}
    used = _scan(template_files(), lambda s: list(template_msgids(s).items()))
    used |= _scan(python_files(), lambda s: list(python_msgids(s).items()))
    missing = {path: [(line, repr(m[1])) for m, line in ids if m not in known] for path, ids in used.items()}
    missing = {path: items for path, items in missing.items() if items}
    assert not missing, report(missing, "msgids not in the catalogue (run makemessages -l ja)")


def test_compiled_japanese_catalogue_matches_the_po_file() -> None:
    expected, mo_file = compiled_form(_catalogue()), PO_FILE.with_suffix(".mo")
    assert mo_file.exists(), f"no {mo_file.relative_to(ROOT)}: run compilemessages"
    compiled = read_mo(mo_file)
    stale = sorted(repr(k) for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k))
    assert not stale, f"{len(stale)} differ between django.po and django.mo (run compilemessages):\n" + "\n".join(stale)
