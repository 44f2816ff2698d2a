"""A sentence kept as what was said rather than as the words it was said in.

A revision's summary is read long after it was written, by people who read another
language than its author. So it is stored as its English msgid and its values, and
rendered when read, in the reader's language:

    Said(gettext_noop("added the stage ‘%(stage)s’"), stage=stage.name)

Write the msgid inside `gettext_noop(...)`, by that name, so that makemessages finds it.
Values are plain text (a name, as the person typed it) or another Said (the change an
undo undid). Values are substituted into the translated sentence, never formatted
themselves: a name with `%`, quotes or braces comes out as it was typed.

As JSON: {"msgid": "...", "values": {"name": "text" | {"msgid": ..., "values": ...}}}.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext


class Said:
    __slots__ = ("msgid", "values")

    def __init__(self, msgid: str, /, **values: str | Said) -> None:
        if not isinstance(msgid, str):
            raise TypeError("a Said's msgid is a str (written inside gettext_noop)")
        self.msgid = msgid
        self.values = {name: value if isinstance(value, Said) else str(value) for name, value in values.items()}

    def __str__(self) -> str:
        """The sentence in the active language."""
        values = {name: str(value) for name, value in self.values.items()}
        text = gettext(self.msgid)
        if not values:
            return text
        try:
            return text % values
        except (KeyError, TypeError, ValueError):
            # A translation that names other placeholders than its msgid: say it in English
            # rather than not at all.
            return self.msgid % values

    def __repr__(self) -> str:
        return f"Said({self.msgid!r}, **{self.values!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Said):
            return NotImplemented
        return (self.msgid, self.values) == (other.msgid, other.values)

    __hash__ = None  # values is a dict: equal by value, not hashable

    def as_json(self) -> dict:
        return {
            "msgid": self.msgid,
            "values": {
                name: value.as_json() if isinstance(value, Said) else value for name, value in self.values.items()
            },
        }

    @classmethod
    def from_json(cls, data: object) -> Said:
        """The Said `as_json` made; ValueError for anything else."""
        if not isinstance(data, Mapping) or not isinstance(data.get("msgid"), str):
            raise ValueError("not a Said: no msgid")
        values = data.get("values", {})
        if not isinstance(values, Mapping):
            raise ValueError("not a Said: values is not an object")
        parsed: dict[str, str | Said] = {}
        for name, value in values.items():
            if isinstance(value, str):
                parsed[name] = value
            elif isinstance(value, Mapping):
                parsed[name] = cls.from_json(value)
            else:
                raise ValueError(f"not a Said: the value of {name!r} is neither text nor a Said")
        return cls(data["msgid"], **parsed)
