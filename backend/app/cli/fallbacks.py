"""Command-line views of the fallback schedules: ``analyze fallbacks`` and
``fallbacks list|show|export``."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli.options import DATE_METAVAR, JsonOption, parse_day
from app.cli.output import OutputConsole, reported_errors
from app.core.config import CONTINGENCY_MAX_DAYS, get_settings
from app.core.db import session_scope
from app.core.errors import InputError
from app.models.base import utcnow
from app.resilience.fallbacks.export import fallback_calendars, fallback_csv
from app.resilience.fallbacks.service import (
    export_context,
    fallback_view,
    fallback_window,
    get_fallback,
    list_fallbacks,
    precompute_in_process,
)

out = OutputConsole(soft_wrap=True, highlight=False)
err = OutputConsole(stderr=True)  # progress bars: stdout stays clean for --json
fallbacks_app = typer.Typer(
    help="Stored fallback schedules: list, show, export.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def analyze_fallbacks_cmd(
    days_ahead: Annotated[
        int | None,
        typer.Option(
            "--days-ahead",
            min=1,
            max=CONTINGENCY_MAX_DAYS,
            help="Days to cover (default: FALLBACK_DAYS).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(metavar=DATE_METAVAR, help="First day (default: today, program's clock)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Compute every scenario's fallback now, in this process, and store them.

    A scenario whose input is unchanged reuses its stored fallback.
    """
    settings = get_settings()
    with reported_errors():
        first_day = parse_day(start, "--start") if start else None
        with session_scope() as session:
            first, last = fallback_window(
                session, settings, days_ahead=days_ahead, start=first_day, now=utcnow()
            )
            with Progress(
                TextColumn("fallbacks {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err.console,
                transient=True,
                disable=as_json or not err.console.is_terminal,  # drawn on a terminal only
            ) as bar:
                task = bar.add_task("", total=None)

                def progress(done: int, total: int, scenario: str) -> None:
                    bar.update(task, completed=done, total=total, description=scenario)

                summaries = precompute_in_process(session, settings, first, last, progress)
    if as_json:
        print(
            json.dumps(
                {"start": first.isoformat(), "end": last.isoformat(), "fallbacks": summaries},
                indent=1,
            )
        )
        return
    _print_table(summaries)


def _verdict(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _print_table(rows: list[dict[str, Any]]) -> None:
    windows = sorted({f"{r['start']} .. {r['end']}" for r in rows})
    table = Table(title=f"window {', '.join(windows)}", title_justify="left")
    for col in (
        "id",
        "scenario",
        "tier 1",
        "changes",
        "uncovered",
        "greedy",
        "N-1/N-2",
        "state",
    ):
        # Scenario names are what `crisis activate --scenario` takes: never cut one short.
        widest = max((len(r["scenario"]) for r in rows), default=0) if col == "scenario" else None
        table.add_column(col, min_width=widest, no_wrap=col == "scenario")
    for r in rows:
        state = "STALE" if r["stale"] else ("new" if r.get("created") else "ready")
        table.add_row(
            str(r["id"]),
            r["scenario"],
            r["status"],
            str(r["moves"]),
            str(r["uncovered_slots"]),
            str(r["greedy_uncovered_slots"]),
            f"{_verdict(r['n1_pass'])}/{_verdict(r['n2_pass'])}",
            state,
        )
    out.print(table)


@fallbacks_app.command("list")
def list_cmd(
    every: Annotated[
        bool, typer.Option("--all", help="Every stored one, not only the newest per scenario.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The stored fallbacks (newest per scenario), and whether each is stale."""
    with reported_errors(), session_scope() as session:
        rows = list_fallbacks(session, latest_only=not every).to_json()
    if as_json:
        print(json.dumps(rows, indent=1))
    elif not rows:
        out.print("no fallbacks stored yet: run `residency-scheduler analyze fallbacks`")
    else:
        _print_table(rows)


@fallbacks_app.command("show")
def show_cmd(
    fallback_id: Annotated[int, typer.Argument(metavar="ID")], as_json: JsonOption = False
) -> None:
    """One stored fallback: coverage per category, tiers, changes, displaced residents."""
    with reported_errors(), session_scope() as session:
        view = fallback_view(session, fallback_id)
    if as_json:
        print(json.dumps(view, indent=1))
        return
    result = view["result"]
    out.print(
        f"Fallback {view['id']}: {result['scenario']['title']} ({view['start']} .. {view['end']})"
    )
    if view["stale"]:
        out.print("  STALE: the schedule or absences changed since it was computed")
    out.print(
        f"  lost: {', '.join(result['lost']) or 'nobody'};"
        f" shedding {result['scenario']['shedding']}"
    )
    out.print(f"  suspended: {', '.join(result['suspended_activities']) or 'nothing'}")
    for category, c in result["coverage"].items():
        out.print(f"  {category:<20} {c['filled']}/{c['demand']} slots")
    for t in result["tiers"]:
        out.print(
            f"  tier {t['tier']} {t['name']}: {t['status']} {t['objective']} (gap {t['gap']:.2%})"
        )
    out.print(
        f"  {len(result['moves'])} change(s); {result['uncovered_slots']} slot(s) uncovered"
        f" (greedy: {result['greedy']['uncovered_slots']}; without repair:"
        f" {result['without_repair']['uncovered_slots']}); {len(result['displaced_residents'])}"
        " displaced resident half-day(s)"
    )
    c = result["contingency"]
    out.print(
        f"  its own N-1 {_verdict(c['n1_pass'])}, N-2 {_verdict(c['n2_pass'])}"
        f" ({c['critical_faculty']} critical faculty, {c['fatal_pairs']} fatal pairs)"
    )


@fallbacks_app.command("export")
def export_cmd(
    fallback_id: Annotated[int, typer.Argument(metavar="ID")],
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", help="ics: a folder (one file per person); csv: a file or -."
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", help="ics or csv.")] = "ics",
) -> None:
    """Write a fallback's changes as iCalendar files (one per person) or as CSV."""
    with reported_errors():
        if fmt not in ("ics", "csv"):
            raise InputError(f"--format: expected ics or csv, got {fmt!r}")
        with session_scope() as session:
            result = get_fallback(session, fallback_id).result
            clock, names, activity_names = export_context(session, get_settings())
        if fmt == "csv":
            text = fallback_csv(result, names)
            if output == "-":
                sys.stdout.write(text)
            else:
                Path(output).write_text(text, encoding="utf-8")
            return
        folder = Path(output)
        if folder.exists() and not folder.is_dir():
            raise InputError(f"{output}: not a folder (ics writes one file per person there)")
        folder.mkdir(parents=True, exist_ok=True)
        calendars = fallback_calendars(result, clock, names, activity_names, utcnow())
        for person_id, content in calendars.items():
            safe = re.sub(r"[^A-Za-z0-9_.-]", "_", person_id).lstrip(".") or "_"
            (folder / f"{safe}.ics").write_bytes(content)
    out.print(f"wrote {len(calendars)} calendar(s) to {folder}")
