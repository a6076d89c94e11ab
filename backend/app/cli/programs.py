"""Command-line commands for program files and absences (registered in ``app.cli.main``).

``import FILE`` (``-`` for standard input), ``export FILE`` (``-`` for standard output) and
``absences add|remove|list|import-csv``. Each command opens one transaction; an error prints
its message on standard error and exits with the code ``app.core.errors.exit_code_for`` gives
(2 for bad input, 3 for an unknown person or absence), with nothing changed. None of them
migrates the database: a schema that is not up to date is reported (exit 78).
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from app.cli.options import (
    DATE_METAVAR,
    FromOption,
    HalfOption,
    PersonOption,
    ToOption,
    deprecated,
    parse_day,
    required,
)
from app.cli.output import OutputConsole, reported_errors, stderr
from app.core.config import get_settings
from app.core.db import get_engine, session_scope
from app.core.errors import InputError
from app.domain.schedule import ABSENCE_TYPES, absence_blocks
from app.programs.absences import (
    CSV_COLUMNS,
    AbsenceEntry,
    add_absence,
    import_absences_csv,
    list_absences,
    remove_absence,
)
from app.programs.document import dump_program, load_program_file, parse_program_text
from app.programs.service import export_program, import_program, refresh_after_import
from app.resilience.fallbacks.repair import apply_repair as apply_repair_to

# soft_wrap: messages name files and places; rich must not break them at 80 columns.
_out = OutputConsole(soft_wrap=True, highlight=False, markup=False)

absences_app = typer.Typer(
    help="Enter, remove and list absences (leave).", no_args_is_help=True, rich_markup_mode=None
)


def _actor() -> str:
    """Who runs the command, for the audit trail (the operating-system login)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def import_cmd(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Program file (JSON) to import; - for stdin.")
    ],
) -> None:
    """Replace the program's schedule data with FILE, or change nothing if FILE is bad."""
    with reported_errors():
        if str(file) == "-":
            name = "stdin"
            document = parse_program_text(sys.stdin.read(), name)
        else:
            name = file.name
            document = load_program_file(file)
        with session_scope() as session:
            summary = import_program(session, document, source=name, actor=_actor())
        refresh_after_import(get_engine(), summary)  # committed: now VACUUM may run
        counts = ", ".join(f"{n} {key}" for key, n in summary.counts.items())
        verb = "imported" if summary.changed else "unchanged (same data already stored)"
        _out.print(f"{name}: {verb}: {counts}")
        for note in summary.notes:
            _out.print(f"{name}: note: {note}")


def export_cmd(
    file: Annotated[
        Path, typer.Argument(metavar="FILE", help="Where to write the program file; - for stdout.")
    ],
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
            # Owner-only, like the database: the file holds private absence reasons.
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(text)
        except OSError as exc:
            raise InputError(f"{file}: cannot write: {exc}") from exc
        stderr.print(f"wrote {escape(str(file))}")


@absences_app.command("add", context_settings={"allow_extra_args": True})
def absences_add(
    ctx: typer.Context,
    person: PersonOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    half: HalfOption = None,
    absence_type: Annotated[
        str, typer.Option("--type", help=f"One of: {', '.join(ABSENCE_TYPES)}.")
    ] = "vacation",
    blocking: Annotated[
        bool | None,
        typer.Option(
            "--blocking/--non-blocking",
            help="Whether the person is unavailable (default: what the type says).",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option(help="Private note (shown only by list --reasons).")
    ] = None,
    absence_id: Annotated[
        str | None,
        typer.Option(
            "--id", help="Id of the new absence (default: the next number never issued, A0042)."
        ),
    ] = None,
    apply_repair: Annotated[
        str | None,
        typer.Option(
            "--apply-repair",
            metavar="PROPOSAL",
            help="Also enter this repair (from what-if absence --repair), in one transaction.",
        ),
    ] = None,
) -> None:
    """Add an absence of --person from --from to --to inclusive (--person, --from, --to required).

    The same person, days, half and type already recorded: nothing is written (exit 0).
    """
    legacy = ctx.args  # the deprecated positional spelling PERSON START END
    with reported_errors():
        if legacy:
            if len(legacy) != 3 or (person, from_, to) != (None, None, None):
                raise InputError(
                    "use --person ID --from YYYY-MM-DD --to YYYY-MM-DD (no positional arguments)"
                )
            deprecated(
                "absences add PERSON START END", "absences add --person ID --from DATE --to DATE"
            )
            person, from_, to = legacy
        entry = AbsenceEntry(
            id=absence_id,
            person_id=required(person, "--person"),
            start=parse_day(required(from_, "--from"), "--from"),
            end=parse_day(required(to, "--to"), "--to"),
            type=absence_type,
            half=half,
            blocking=blocking,
            reason=reason,
        )
        with session_scope() as session:
            if apply_repair is None:
                added = add_absence(session, entry, actor=_actor())
            else:
                added, repair = apply_repair_to(
                    session, get_settings(), entry, apply_repair, _actor()
                )
                _out.print(f"applied repair {apply_repair}: {len(repair.moves)} change(s)")
        if added.created:
            _out.print(f"added absence {added.row.id}")
        else:
            _out.print(f"already recorded as absence {added.row.id}: nothing written")


@absences_app.command("remove")
def absences_remove(
    absence_id: Annotated[str, typer.Argument(metavar="ID", help="Absence id, e.g. A0042.")],
) -> None:
    """Remove an absence."""
    with reported_errors(), session_scope() as session:
        remove_absence(session, absence_id, actor=_actor())
    _out.print(f"removed absence {absence_id}")


@absences_app.command("list")
def absences_list(
    person: PersonOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    reasons: Annotated[bool, typer.Option(help="Show the private reasons.")] = False,
    start: Annotated[
        str | None, typer.Option(hidden=True, help="Deprecated spelling of --from.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(hidden=True, help="Deprecated spelling of --to.")
    ] = None,
) -> None:
    """List absences, optionally of one --person or overlapping --from..--to."""
    with reported_errors():
        if start is not None or end is not None:
            if (from_, to) != (None, None):
                raise InputError("use --from/--to (not with the old --start/--end)")
            deprecated("absences list --start/--end", "--from/--to")
            from_, to = start, end
        first = parse_day(from_, "--from") if from_ is not None else None
        last = parse_day(to, "--to") if to is not None else None
        with session_scope() as session:
            rows = list_absences(session, person_id=person, start=first, end=last)
    table = Table("id", "person", "start", "end", "half", "type", "blocking")
    if reasons:
        table.add_column("reason")
    for a in rows:
        blocking = absence_blocks(a.type, a.blocking)
        cells = [a.id, a.person_id, a.start.isoformat(), a.end.isoformat(), a.half or "day",
                 a.type, "yes" if blocking else "no"]  # fmt: skip
        table.add_row(*cells, *([a.reason or ""] if reasons else []))
    _out.print(table)
    _out.print(f"{len(rows)} absence(s)")


@absences_app.command("import-csv")
def absences_import_csv(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help=f"CSV file whose header is {','.join(CSV_COLUMNS)} (id, half, blocking and"
            f" reason may be left out or empty; dates {DATE_METAVAR}).",
        ),
    ],
) -> None:
    """Add or replace the absences of a CSV file, all or nothing.

    A row with an id sets that absence; a row without one is added unless the same person,
    days, half and type are already recorded.
    """
    with reported_errors(), session_scope() as session:
        summary = import_absences_csv(session, file, actor=_actor())
    _out.print(
        f"{file.name}: {summary.added} added, {summary.replaced} replaced, "
        f"{summary.unchanged} unchanged"
    )
