"""Command-line commands for program files and absences (registered in ``app.cli.main``).

``import FILE``, ``export FILE`` (``-`` for standard output) and ``absences add|remove|list|
import-csv``. Each command opens one transaction; an error prints its message on standard
error and exits with the code ``app.core.errors.exit_code_for`` gives (2 for bad input), with
nothing changed.
"""

from __future__ import annotations

import getpass
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.cli.output import reported_errors, stderr
from app.core.db import session_scope
from app.core.errors import InputError
from app.core.migrate import upgrade_database
from app.domain.schedule import ABSENCE_TYPES, Half
from app.programs.absences import (
    AbsenceEntry,
    add_absence,
    import_absences_csv,
    list_absences,
    remove_absence,
)
from app.programs.document import dump_program, load_program_file
from app.programs.service import export_program, import_program

DATE_FORMATS = ["%Y-%m-%d"]

# soft_wrap: messages name files and places; rich must not break them at 80 columns.
_out = Console(soft_wrap=True, highlight=False, markup=False)

absences_app = typer.Typer(help="Enter, remove and list absences (leave).", no_args_is_help=True)


def _actor() -> str:
    """Who runs the command, for the audit trail (the operating-system login)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def import_cmd(
    file: Annotated[Path, typer.Argument(help="Program file (JSON) to import.")],
) -> None:
    """Replace the program's schedule data with FILE, or change nothing if FILE is bad."""
    with reported_errors():
        document = load_program_file(file)
        upgrade_database()
        with session_scope() as session:
            summary = import_program(session, document, source=file.name, actor=_actor())
        counts = ", ".join(f"{n} {key}" for key, n in summary.counts.items())
        verb = "imported" if summary.changed else "unchanged (same data already stored)"
        _out.print(f"{file.name}: {verb}: {counts}")
        for note in summary.notes:
            _out.print(f"{file.name}: note: {note}")


def export_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write the program file; - for stdout.")],
) -> None:
    """Write the program's schedule data as a program file."""
    with reported_errors():
        with session_scope() as session:
            document = export_program(session)
        if document is None:
            raise InputError("no program has been imported yet")
        text = dump_program(document)
        if str(file) == "-":
            sys.stdout.write(text)
            return
        try:
            file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{file}: cannot write: {exc}") from exc
        stderr.print(f"wrote {escape(str(file))}")


@absences_app.command("add")
def absences_add(
    person_id: Annotated[str, typer.Argument(help="Id of the person away.")],
    start: Annotated[datetime, typer.Argument(formats=DATE_FORMATS, help="First day.")],
    end: Annotated[datetime, typer.Argument(formats=DATE_FORMATS, help="Last day.")],
    absence_type: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(ABSENCE_TYPES)}.")
    ] = "vacation",
    half: Annotated[Half | None, typer.Option(help="Only this half of each day.")] = None,
    blocking: Annotated[
        bool | None, typer.Option("--blocking/--non-blocking", help="Override the type default.")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Private note.")] = None,
    absence_id: Annotated[str | None, typer.Option("--id", help="Id (default: new).")] = None,
) -> None:
    """Add an absence from START to END inclusive."""
    entry = AbsenceEntry(
        id=absence_id,
        person_id=person_id,
        start=start.date(),
        end=end.date(),
        type=absence_type,
        half=half,
        blocking=blocking,
        reason=reason,
    )
    with reported_errors(), session_scope() as session:
        row = add_absence(session, entry, actor=_actor())
        _out.print(f"added absence {row.id}")


@absences_app.command("remove")
def absences_remove(absence_id: Annotated[str, typer.Argument(help="Absence id.")]) -> None:
    """Remove an absence."""
    with reported_errors(), session_scope() as session:
        remove_absence(session, absence_id, actor=_actor())
    _out.print(f"removed absence {absence_id}")


@absences_app.command("list")
def absences_list(
    person: Annotated[str | None, typer.Option(help="Only this person.")] = None,
    start: Annotated[datetime | None, typer.Option(formats=DATE_FORMATS)] = None,
    end: Annotated[datetime | None, typer.Option(formats=DATE_FORMATS)] = None,
    reasons: Annotated[bool, typer.Option(help="Show the private reasons.")] = False,
) -> None:
    """List absences, optionally of one person or overlapping START..END."""
    with reported_errors(), session_scope() as session:
        rows = list_absences(session, person_id=person, start=_day(start), end=_day(end))
    table = Table("id", "person", "start", "end", "half", "type", "blocking")
    if reasons:
        table.add_column("reason")
    for a in rows:
        blocking = a.blocking if a.blocking is not None else ABSENCE_TYPES[a.type].blocking
        cells = [a.id, a.person_id, a.start.isoformat(), a.end.isoformat(), a.half or "day",
                 a.type, "yes" if blocking else "no"]  # fmt: skip
        table.add_row(*cells, *([a.reason or ""] if reasons else []))
    _out.print(table)
    _out.print(f"{len(rows)} absence(s)")


@absences_app.command("import-csv")
def absences_import_csv(
    file: Annotated[Path, typer.Argument(help="CSV: id,person_id,start,end,half,type,...")],
) -> None:
    """Add or replace the absences of a CSV file, all or nothing."""
    with reported_errors(), session_scope() as session:
        summary = import_absences_csv(session, file, actor=_actor())
    _out.print(
        f"{file.name}: {summary.added} added, {summary.replaced} replaced, "
        f"{summary.unchanged} unchanged"
    )
