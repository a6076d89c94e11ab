"""The options every command spells the same way: a person and a range of days.

The grammar is ``--person ID --from YYYY-MM-DD --to YYYY-MM-DD [--half AM|PM]`` (both days
inclusive) wherever a command names a person and days. Dates are parsed here, so a bad date is
an ``InputError`` (exit 2) naming the option. ``analyze contingency`` keeps ``--start`` and
``--days-ahead``: a window, where it starts and how long, not a range of someone's days.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from app.cli.output import stderr
from app.core.errors import InputError
from app.domain.schedule import Half

DATE_METAVAR = "YYYY-MM-DD"

PersonOption = Annotated[
    str | None, typer.Option("--person", metavar="ID", help="Id of the person, e.g. F004.")
]
FromOption = Annotated[
    str | None, typer.Option("--from", metavar=DATE_METAVAR, help="First day (inclusive).")
]
ToOption = Annotated[
    str | None, typer.Option("--to", metavar=DATE_METAVAR, help="Last day (inclusive).")
]
HalfOption = Annotated[
    Half | None,
    typer.Option("--half", metavar="AM|PM", help="Only this half of each day (default: both)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def parse_day(value: str, option: str) -> date:
    """``value`` (YYYY-MM-DD) as a date; an ``InputError`` naming ``option`` otherwise."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option}: expected a date {DATE_METAVAR}, got {value!r}") from None


def required(value: str | None, option: str) -> str:
    """``value``, or an ``InputError`` saying that ``option`` is missing."""
    if value is None:
        raise InputError(f"missing option {option}")
    return value


def deprecated(old: str, new: str) -> None:
    """Say on standard error that spelling ``old`` still works but ``new`` is the one to use."""
    stderr.print(f"note: {old} is deprecated and will be removed; use {new}")
