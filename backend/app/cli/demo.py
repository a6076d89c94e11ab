"""The ``demo-data`` command: generate the demo program, write it to a file or load it.

Registered in ``app.cli.main`` as ``residency-scheduler demo-data``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.output import OutputConsole, reported_errors
from app.core.db import get_engine, session_scope
from app.core.errors import InputError
from app.demo.generator import generate_demo_program
from app.models.program import PROGRAM_ROW_ID, Program
from app.programs.document import dump_program, validate_program
from app.programs.service import import_program, refresh_after_import

DEMO_SOURCE = "demo-data"
"""The source name the import and its audit record carry."""


def summarize_demo(document: dict[str, Any]) -> str:
    """A few readable lines about a program document: who, what, how much."""
    kinds = Counter(p["kind"] for p in document["people"])
    days = sorted({a["date"] for a in document["assignments"]})
    half_days = len({(a["date"], a["half"]) for a in document["assignments"]})
    span = f"{days[0]} to {days[-1]}" if days else "no dates"
    on_first_day = sum(
        1
        for p in document["people"]
        if p["kind"] == "resident"
        and days
        and (p["active_from"] or days[0]) <= days[0] <= (p["active_to"] or days[0])
    )
    absence_types = Counter(a["type"] for a in document["absences"])
    absences = ", ".join(f"{n} {kind}" for kind, n in absence_types.most_common())
    return "\n".join(
        [
            f"{document['program']['name']}: {span}",
            f"  people: {kinds['faculty']} faculty, {kinds['resident']} residents "
            f"({on_first_day} of them on the first day)",
            f"  activities: {len(document['activities'])} at {len(document['sites'])} sites, "
            f"{len(document['qualifications'])} qualifications",
            f"  half-days: {half_days} with assignments, {len(document['holidays'])} holidays",
            f"  assignments: {len(document['assignments'])}",
            f"  absences: {len(document['absences'])} ({absences or 'none'})",
        ]
    )


def demo_data_cmd(
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
    faculty: Annotated[int, typer.Option(help="Faculty members.")] = 22,
    residents: Annotated[
        int | None, typer.Option(help="Residents on the first day (default: 1.64 per faculty).")
    ] = None,
    weeks: Annotated[int, typer.Option(help="Weeks of half-days from this week's Monday.")] = 52,
    qualifications: Annotated[
        int, typer.Option(help="Qualifications (named ones, then special_NN).")
    ] = 8,
    cross_trained: Annotated[
        float | None,
        typer.Option(
            metavar="SHARE",
            help="A cross-trained faculty: each member holds each qualification with this"
            " probability (0.5: about half of them).",
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="Write the program file here instead of loading it."),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace", help="Replace the program the database holds (its absences included)."
        ),
    ] = False,
) -> None:
    """Generate a realistic demo program and load it into the database (or write a file).

    A database that already holds a program is left alone unless --replace is given.
    """
    console = OutputConsole(soft_wrap=True)
    with reported_errors():
        if output is None and not replace:
            _refuse_to_replace()
        document = generate_demo_program(
            seed=seed,
            faculty=faculty,
            residents=residents,
            weeks=weeks,
            qualifications=qualifications,
            cross_trained=cross_trained,
        )
        if output is not None:
            canonical = validate_program(document, source=DEMO_SOURCE)
            try:
                output.write_text(dump_program(canonical), encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{output}: cannot write: {exc}") from exc
            console.print(f"wrote {output}", highlight=False)
        else:
            _load(document)
    console.print(summarize_demo(document), highlight=False)


def _refuse_to_replace() -> None:
    with session_scope() as session:
        stored = session.get(Program, PROGRAM_ROW_ID)
        name = stored.name if stored is not None else None
    if name is not None:
        raise InputError(
            f"the database already holds the program {name!r}: demo-data"
            " would replace it and every absence entered; add --replace to do so, or --output"
            " FILE to write the demo program to a file"
        )


def _load(document: dict[str, Any]) -> None:
    with session_scope() as session:
        summary = import_program(session, document, source=DEMO_SOURCE, actor=None)
    refresh_after_import(get_engine(), summary)  # committed: now VACUUM may run
    verb = "loaded into the database" if summary.changed else "already in the database"
    OutputConsole().print(f"demo program {verb}", highlight=False)
