"""Reading typed fields out of parsed JSON while collecting located problems.

``FieldReader`` never raises on bad input: each method records a ``Problem`` naming the place
(``people[3].pgy``) and returns ``None``, so one pass reports every problem of a document.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from app.core.errors import Problem

ID_PATTERN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
ABSENCE_ID_MIN_DIGITS = 4
"""Absence ids are ``A`` and a number of at least this many digits (``A0042``), wider only
when the number needs it: the demo's and those given to new absences alike."""
ABSENCE_NUMBER = re.compile(r"A(\d+)")
"""An id of that scheme, whatever its padding (``A7``, ``A0007`` and ``A00007`` are number 7)."""
ABSENCE_NUMBER_LIMIT = 10**18
"""Numbers from here on are not counted: the sequence is a 64-bit integer, and an id above it
cannot equal one numbered below it (a 64-character id could hold a 63-digit number)."""
DATE_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MISSING = object()
"""Marks a field absent from its object (as opposed to present and null)."""


def absence_id(number: int, digits: int = ABSENCE_ID_MIN_DIGITS) -> str:
    """The id of absence ``number``, ``digits`` wide at least (``absence_id(42) == "A0042"``)."""
    return f"A{number:0{max(digits, ABSENCE_ID_MIN_DIGITS)}d}"


def absence_number(ident: str) -> int | None:
    """The number of an id of the absence scheme (``"A0042"``: 42), None for any other id."""
    found = ABSENCE_NUMBER.fullmatch(ident)
    if found is None or (number := int(found[1])) >= ABSENCE_NUMBER_LIMIT:
        return None
    return number


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored in both databases, or None when it can.

    A NUL character is accepted by SQLite and refused by PostgreSQL, and a lone surrogate
    (``"\\ud800"`` in JSON, or undecodable bytes of a command-line argument) is not text
    at all: both are refused everywhere so that a program file imports the same on either.
    The reason names the character's position, never the text (it may be private).
    """
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char, position = found.group(), found.start() + 1
    if char == "\x00":
        return f"contains a NUL character (at character {position}), which cannot be stored"
    return (
        f"contains a lone surrogate U+{ord(char):04X} (at character {position}), which is not text"
    )


def describe(value: object) -> str:
    """A short JSON-ish description of ``value`` for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_date(value: object) -> date | None:
    """``value`` as a date if it is a ``YYYY-MM-DD`` string of a real day, else None."""
    if not isinstance(value, str) or not DATE_PATTERN.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


class FieldReader:
    """Collects problems while reading fields of JSON objects."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: str, reason: str) -> None:
        self.problems.append(Problem(where, reason))

    def obj(
        self, value: object, where: str, required: Iterable[str], optional: Iterable[str]
    ) -> dict[str, Any] | None:
        """``value`` if it is an object with every required field and no unknown one."""
        if not isinstance(value, dict):
            self.fail(where or "document", f"expected an object, found {describe(value)}")
            return None
        required = list(required)
        allowed = set(required) | set(optional)
        for key in required:
            if key not in value:
                self.fail(f"{where}.{key}" if where else key, "missing")
        for key in value:
            if key not in allowed:
                self.fail(f"{where}.{key}" if where else key, "unknown field")
        return value

    def items(self, obj: dict[str, Any], key: str, where: str) -> list[Any]:
        """The list at ``obj[key]`` (absent means empty)."""
        value = obj.get(key, [])
        if not isinstance(value, list):
            self.fail(where, f"expected a list, found {describe(value)}")
            return []
        return value

    def string(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        *,
        default: object = MISSING,
        max_len: int = 200,
    ) -> Any:
        """A non-empty string of at most ``max_len`` characters (or ``default`` if absent)."""
        value = obj.get(key, default)
        if value is MISSING:
            return None  # reported by obj()
        if value is None and default is None:
            return None
        if not isinstance(value, str) or not value or len(value) > max_len:
            self.fail(where, f"expected text of 1-{max_len} characters, found {describe(value)}")
            return None
        problem = unstorable(value)
        if problem is not None:
            self.fail(where, problem)
            return None
        return value

    def ident(self, obj: dict[str, Any], key: str, where: str, *, nullable: bool = False) -> Any:
        """An id: 1-64 characters from ``A-Z a-z 0-9 _ . -``."""
        value = obj.get(key, None if nullable else MISSING)
        if value is MISSING or (value is None and nullable):
            return None
        if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
            self.fail(where, f"expected an id (1-64 of A-Z a-z 0-9 _ . -), found {describe(value)}")
            return None
        return value

    def integer(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        *,
        low: int,
        high: int | None = None,
        default: object = MISSING,
    ) -> Any:
        """An integer in ``low..high`` (or ``default`` if absent, or null when default is)."""
        value = obj.get(key, default)
        if value is MISSING:
            return None
        if value is None and default is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(where, f"expected a whole number, found {describe(value)}")
            return None
        if value < low or (high is not None and value > high):
            bound = f"{low}-{high}" if high is not None else f"at least {low}"
            self.fail(where, f"expected a number {bound}, found {value}")
            return None
        return value

    def boolean(
        self, obj: dict[str, Any], key: str, where: str, *, default: object = MISSING
    ) -> Any:
        """true or false (or ``default`` if absent, or null when default is)."""
        value = obj.get(key, default)
        if value is None and isinstance(default, bool):
            value = default  # null means "the default", as the format says
        if value is MISSING or (value is None and default is None):
            return None
        if not isinstance(value, bool):
            self.fail(where, f"expected true or false, found {describe(value)}")
            return None
        return value

    def date_text(
        self, obj: dict[str, Any], key: str, where: str, *, nullable: bool = False
    ) -> str | None:
        """A ``YYYY-MM-DD`` date, returned as its text."""
        value = obj.get(key, None if nullable else MISSING)
        if value is MISSING or (value is None and nullable):
            return None
        if parse_date(value) is None:
            self.fail(where, f"expected a date YYYY-MM-DD, found {describe(value)}")
            return None
        return str(value)

    def choice(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        choices: Iterable[str],
        *,
        default: object = MISSING,
    ) -> Any:
        """One of ``choices`` (or ``default`` if absent, or null when default is)."""
        value = obj.get(key, default)
        if value is MISSING or (value is None and default is None):
            return None
        options = list(choices)
        if value not in options:
            shown = ", ".join(options)
            self.fail(where, f"expected one of {shown}; found {describe(value)}")
            return None
        return value
