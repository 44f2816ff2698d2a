"""The rules for text every domain field applies: on the model fields, so that forms,
the admin and the importer (which reads them from the fields) all refuse the same."""

from __future__ import annotations

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, URLValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# PostgreSQL refuses NUL, lxml (inside the PPTX export) refuses the other control
# characters and U+FFFE/U+FFFF, and none of them can be seen: refused everywhere.
ALLOWED_CONTROLS = {"\t", "\n", "\r"}
# The longest a text of the domain may be (a description, a goal, a pain point): a page of
# text. Without a limit one 50 MB description went to every member with the map list.
TEXT_MAX_LENGTH = 10_000
# A list of short texts (questions): so many lines, each at most so long.
LINES_MAX = 100
LINE_MAX_LENGTH = 500
# An answer to a stage's guiding question, and a SWOT item: short texts, not documents.
ANSWER_MAX_LENGTH = 2000
SWOT_TEXT_MAX_LENGTH = 300
COUNT_MAX = 2147483647  # what a PositiveIntegerField holds on PostgreSQL, on every database


def _unprintable(text: str) -> str | None:
    for ch in text:
        if ch in ALLOWED_CONTROLS:
            continue
        if unicodedata.category(ch) in ("Cc", "Cs") or ch in ("\ufffe", "\uffff"):
            return f"U+{ord(ch):04X}"
    return None


@deconstructible
class PrintableText:
    """No control characters but tab and line breaks."""

    message = _("must not contain control characters (found %(char)s); only tabs and line breaks are allowed")

    def __call__(self, value: object) -> None:
        found = _unprintable(value) if isinstance(value, str) else None
        if found:
            raise ValidationError(self.message, code="control_character", params={"char": found})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PrintableText)


@deconstructible
class TextLines:
    """A JSON list of short texts (questions): a list of strings, each printable."""

    def __call__(self, value: object) -> None:
        if not isinstance(value, list):
            raise ValidationError(_("must be a list of text"), code="not_lines")
        if len(value) > LINES_MAX:
            raise ValidationError(
                _("must have at most %(limit)s lines (it has %(count)s)"),
                code="too_many_lines",
                params={"limit": LINES_MAX, "count": len(value)},
            )
        for number, line in enumerate(value, 1):
            if isinstance(line, str) and len(line) > LINE_MAX_LENGTH:
                raise ValidationError(
                    _("line %(number)s must have at most %(limit)s characters (it has %(count)s)"),
                    code="line_too_long",
                    params={"number": number, "limit": LINE_MAX_LENGTH, "count": len(line)},
                )
            if not isinstance(line, str):
                raise ValidationError(_("line %(number)s must be text"), code="not_lines", params={"number": number})
            found = _unprintable(line)
            if found or "\n" in line or "\r" in line:
                raise ValidationError(
                    _("line %(number)s must not contain control characters or line breaks"),
                    code="control_character",
                    params={"number": number},
                )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextLines)


printable = PrintableText()
long_text = MaxLengthValidator(TEXT_MAX_LENGTH)
text_lines = TextLines()
# A code of its own: the field would put its generic "Enter a valid URL." over an "invalid".
web_address = URLValidator(
    schemes=["http", "https"], message=_("must be an http:// or https:// address"), code="scheme"
)


def looked_up(value: str) -> str:
    """A key sent to look something up (a posted stage, content asset, form token): as
    sent if it can be a key, else "", which names nothing. Keys are slugs; a value with a
    NUL would otherwise reach the query, and PostgreSQL refuses it there (DataError)."""
    return value if isinstance(value, str) and _KEY.fullmatch(value) else ""


def search_problem(value: str) -> str | None:
    """Why a text typed into a search box or a filter cannot be searched for (None if it
    can): no stored text holds a control character, and PostgreSQL refuses a NUL."""
    if len(value) > SEARCH_MAX_LENGTH:
        return _("The search was ignored: it must be at most %(limit)s characters long.") % {"limit": SEARCH_MAX_LENGTH}
    found = _unprintable(value)
    if found:
        return _("The search was ignored: it must not contain control characters (found %(char)s).") % {"char": found}
    return None


# Longer than any name (SQLite refuses a LIKE pattern of 50,000 bytes as too complex).
SEARCH_MAX_LENGTH = 300
_KEY = re.compile(r"[-a-zA-Z0-9_]{1,64}")


def visible(text: str) -> str:
    """`text` with each character that cannot be shown (control characters, lone
    surrogates) written as its escape, \\u001b: for a message that quotes bad input, so
    that it neither drives the terminal nor fails to print."""
    return "".join(f"\\u{ord(ch):04x}" if _unprintable(ch) or ch in ALLOWED_CONTROLS else ch for ch in text)
