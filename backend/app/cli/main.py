"""``residency-scheduler``: thin commands over the services.

Exit codes come from ``app.core.errors.EXIT_CODES``: 0 success, 1 engine error, 2 bad input,
3 not found, 4 not allowed, 75 database or broker unavailable, 78 schema behind (run
``migrate``) or ahead (a newer release migrated it) of the code's migrations, or no SQLite
database file; 141 when the reader of standard output stops reading (``| head``).
Help is plain click text (``rich_markup_mode=None``): flags show no ``<bool>`` type.
A command's module is imported only when that command runs (``app.cli.lazy``): the registries
below list each one with the first paragraph of its help, which the listings show.
"""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Callable
from typing import Annotated, Any, NoReturn

import typer

# Typer carries its own copy of click; its commands are of that copy's classes.
from typer import _click as click

from app.cli.lazy import LazyCommand, LazyGroup
from app.cli.output import OutputConsole, metrics_outlive_command, reported_errors
from app.core import gcpause


class AnalyzeCommands(LazyGroup):
    """``analyze``: each analysis from its own module, ``health`` from this one."""

    registry = (
        LazyCommand(
            "contingency",
            "app.cli.analyze:analyze_contingency_cmd",
            "Exact N-1/N-2 contingency analysis, stored as a report (same input: same report).",
        ),
        LazyCommand(
            "fallbacks",
            "app.cli.fallbacks:analyze_fallbacks_cmd",
            "Compute every scenario's fallback now, in this process, and store them.",
        ),
        LazyCommand(
            "forecast",
            "app.cli.forecast:analyze_forecast_cmd",
            "Forecast utilization, level and shortfall probability day by day (stored).",
        ),
        "health",
    )


EXIT_READER_GONE = 141
"""Exit status when the reader of standard output stops reading (``| head``): 128 + SIGPIPE,
what a shell shows for a program that SIGPIPE ended."""


def _end_quietly_reader_gone() -> NoReturn:
    """End with ``EXIT_READER_GONE`` and no message: standard output's reader has gone.

    Standard output is pointed at the null device first, so that the interpreter's last flush
    of what is still buffered finds somewhere to write (else: "Exception ignored ... Broken
    pipe" on stderr, and exit status 120).
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(EXIT_READER_GONE)


class Commands(LazyGroup):
    """Every command, in the order of ``--help``; a command's module is imported when it runs."""

    registry = (
        LazyCommand(
            "import",
            "app.cli.programs:import_cmd",
            "Replace the program's schedule data with a program file.",
            replaces_help=True,
        ),
        LazyCommand(
            "export",
            "app.cli.programs:export_cmd",
            "Write the program's schedule data to a program file.",
            replaces_help=True,
        ),
        LazyCommand(
            "demo-data",
            "app.cli.demo:demo_data_cmd",
            "Load a realistic demo program (or write it with --output).",
            replaces_help=True,
        ),
        "migrate",
        "analyze",
        LazyCommand(
            "what-if",
            "app.cli.analyze:what_if_app",
            "Ask what a change would do, without changing anything.",
        ),
        LazyCommand(
            "fallbacks",
            "app.cli.fallbacks:fallbacks_app",
            "Stored fallback schedules: list, show, export.",
        ),
        LazyCommand(
            "crisis",
            "app.cli.crisis:crisis_app",
            "Activate, deactivate and show the crisis response.",
        ),
        LazyCommand(
            "absences",
            "app.cli.programs:absences_app",
            "Enter, remove and list absences.",
            replaces_help=True,
        ),
        LazyCommand(
            "users", "app.cli.users:users_app", "Add, list and disable users.", replaces_help=True
        ),
        LazyCommand(
            "tokens",
            "app.cli.users:tokens_app",
            "Create, list and revoke API tokens.",
            replaces_help=True,
        ),
        LazyCommand(
            "alerts",
            "app.cli.alerts:alerts_app",
            "List and acknowledge alerts; send failed deliveries again.",
        ),
    )

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a broken pipe ends it quietly (click would end it with exit 1)."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _end_quietly_reader_gone()


app = typer.Typer(
    name="residency-scheduler",
    help="Resilience engine of a residency program's schedule.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    cls=Commands,
)
analyze_app = typer.Typer(
    help="Run an analysis now, in this process.",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=AnalyzeCommands,
)
app.add_typer(analyze_app, name="analyze")

out = OutputConsole(soft_wrap=True)  # piped to a file, a line stays one line

REASONS_SHOWN = 8
"""Reasons of the defense level printed by ``analyze health`` (``--json`` has them all)."""

LEVEL_STYLE = {"GREEN": "green", "YELLOW": "yellow", "ORANGE": "dark_orange", "RED": "red"}


def _styled(level: str) -> str:
    style = LEVEL_STYLE.get(level, "bold white on black")
    return f"[{style}]{level}[/{style}]"


@app.command("migrate")
def migrate_cmd() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    from app.core.migrate import upgrade_database

    with reported_errors():
        done = upgrade_database()
    if done.created:
        out.print(f"database created and migrated to {done.after}")
    elif not done.before:
        out.print(f"empty database migrated to {done.after}")
    elif done.changed:
        out.print(f"database migrated from {', '.join(done.before)} to {done.after}")
    else:
        out.print(f"database already at {done.after}: nothing to do")


@analyze_app.command("health")
def analyze_health_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON.")] = False,
) -> None:
    """Run the health check now and print its summary (it is stored like a scheduled one)."""
    from app.core.db import session_scope
    from app.notifications.dispatch import dispatch_alert_notifications
    from app.resilience.health.service import publish_health_metrics, run_health_check

    with reported_errors(), session_scope() as session:
        outcome = run_health_check(session)
    dispatch_alert_notifications(outcome.alerts)
    if metrics_outlive_command():
        publish_health_metrics(outcome)
    assert outcome.report is not None  # run now, not a redelivered task
    result = outcome.report.to_json()
    if as_json:
        print(json.dumps({"summary": outcome.summary(), "result": result}, indent=2))
        return
    _print_health(outcome.summary(), result)


def _print_health(summary: dict[str, Any], result: dict[str, Any]) -> None:
    out.print(
        f"Health check {summary['window_start']} .. {summary['window_end']}"
        f"  (record {summary['record_id']}, {summary['duration_s']:.2f} s)"
    )
    out.print(f"  Defense level      {_styled(summary['defense_level'])}")
    util = result["utilization"]
    rate = "n/a" if util["rate"] is None else f"{util['rate']:.1%}"
    out.print(
        f"  Utilization        {rate}  {_styled(summary['utilization_level'])}"
        f"  ({util['demand']} faculty slots / {util['pool']} on hand)"
    )
    out.print(f"  Coverage           {result['coverage_rate']:.1%} of slots filled")
    fac = result["faculty"]
    out.print(
        f"  Faculty            {fac['total']} active, {fac['present']} present, "
        f"{fac['on_duty']} on duty"
    )
    horizon = result["horizon"]
    report = horizon["report"]
    used = (
        "no daily report yet"
        if report.get("status") == "none"
        else f"daily report {report['id']} ({report['start']} .. {report['end']}): "
        f"{report['status']}"
    )
    out.print(
        f"  Horizon            analysed {horizon['analysed']['start']} .. "
        f"{horizon['analysed']['end']} (ended half-days left out); {used}",
        highlight=False,
    )
    unscheduled = (("unscheduled_before", "before the start"), ("unscheduled", "after the end"))
    for key, where in unscheduled:
        days = horizon.get(key)
        if days:
            out.print(
                f"  Unscheduled        {days['start']} .. {days['end']}: {where} of the"
                " published schedule, not judged",
                highlight=False,
            )
    cont = result["contingency"]
    if "n1_pass" in cont:
        out.print(
            f"  N-1 / N-2          {summary['n1_status']} / {summary['n2_status']}"
            f"  ({cont['critical_faculty']} critical faculty, {cont['fatal_pairs']} fatal pairs,"
            f" {cont['window']['start']} .. {cont['window']['end']})"
        )
    else:
        out.print("  N-1 / N-2          not yet analysed")
    warning = result.get("early_warning")
    if warning is not None:
        out.print(
            f"  Early warning      {warning['status']} ({warning['history_days']} day(s) of"
            f" history, {warning['min_days']} needed)",
            highlight=False,
        )
    gaps = result["gaps"]
    if gaps:
        from rich.table import Table

        table = Table(title=f"Gaps ({summary['gap_slots']} unfilled slots)")
        for col in ("half-day", "site", "activity", "category", "needs", "missing"):
            table.add_column(col)
        for g in gaps[:40]:
            table.add_row(
                f"{g['date']} {g['half']}",
                g["site"],
                g["activity_id"],
                g["category"],
                g["qualification"],
                str(g["missing"]),
            )
        out.print(table)
        if len(gaps) > 40:
            out.print(f"  ... and {len(gaps) - 40} more gaps (use --json for all)")
    else:
        out.print("  Gaps               none")
    reasons = result["defense"]["reasons"]
    if reasons:
        out.print("  Why:")
        for reason in reasons[:REASONS_SHOWN]:
            out.print(f"    - {reason}", highlight=False)
        if len(reasons) > REASONS_SHOWN:
            out.print(f"    ... and {len(reasons) - REASONS_SHOWN} more (use --json for all)")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    from app.core.logging import configure_logging
    from app.core.observability import init_sentry

    try:
        with reported_errors():  # bad settings: one line naming them, never their values
            configure_logging()
            init_sentry("cli")
    except typer.Exit as stop:
        sys.exit(stop.exit_code)
    command: Callable[..., Any] = typer.main.get_command(app)
    collecting = gc.isenabled()
    gcpause.freeze_at_exit = True  # a command may leave the collector off to its end
    try:
        command(args=argv if argv is not None else sys.argv[1:], prog_name="residency-scheduler")
    finally:
        # The process ends next. Its last cyclic collection would walk every object the
        # command made (about 0.4 s after a year's contingency analysis) to free memory the
        # process is about to give back anyway; frozen objects are left to exit.
        gc.freeze()
        gcpause.freeze_at_exit = False
        if collecting:  # as it was (main called in a longer-lived process): nothing is young
            gc.enable()
        try:
            sys.stdout.flush()  # here, not at exit: a reader that has gone is handled
        except BrokenPipeError:
            _end_quietly_reader_gone()
