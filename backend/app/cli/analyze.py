"""Command-line views of the contingency analysis: ``analyze contingency`` and ``what-if``."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.options import (
    DATE_METAVAR,
    FromOption,
    HalfOption,
    JsonOption,
    PersonOption,
    ToOption,
    parse_day,
    required,
)
from app.cli.output import OutputConsole, metrics_outlive_command, print_json, reported_errors
from app.core.config import CONTINGENCY_MAX_DAYS, get_settings
from app.core.db import session_scope
from app.core.errors import InputError
from app.core.gcpause import collector_off_for_command
from app.models.base import shown_time, utcnow
from app.notifications.dispatch import dispatch_alert_notifications
from app.resilience.contingency.service import (
    contingency_window,
    is_standard_window,
    run_contingency_report,
    what_if_absence,
)
from app.resilience.reports import publish_contingency_metrics

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

    from app.domain.schedule import Half
    from app.resilience.fallbacks.repair import RepairProposal

out = OutputConsole(soft_wrap=True)  # piped to a file, a line stays one line
err = OutputConsole(stderr=True)  # progress bars, so that stdout stays clean for --json
what_if_app = typer.Typer(
    help="Ask what a change would do, without changing anything.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _where(e: dict[str, Any]) -> str:
    return f"{e['date']} {e['half']} @{e['site']}"


def analyze_contingency_cmd(
    days_ahead: Annotated[
        int | None,
        typer.Option(
            "--days-ahead",
            min=1,
            max=CONTINGENCY_MAX_DAYS,
            help="Days to analyse (default: CONTINGENCY_DAYS).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            metavar=DATE_METAVAR,
            help="First day of the window (default: today in the program's time zone).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every finding as JSON.")] = False,
    pretty: Annotated[
        bool,
        typer.Option(
            "--pretty", help="Print the JSON indented (implies --json; default: compact)."
        ),
    ] = False,
) -> None:
    """Exact N-1/N-2 contingency analysis, stored as a report (same input: same report).

    The window is --days-ahead days from --start. Only the standard horizon (no --start, the
    default --days-ahead) updates the N-1 alerts; other windows leave them as they are.
    """
    as_json = as_json or pretty  # asking for indented JSON is asking for JSON
    with reported_errors(), collector_off_for_command():
        first_day = parse_day(start, "--start") if start else None
        standard = is_standard_window(get_settings(), days_ahead, first_day)
        with session_scope() as session:
            first, last = contingency_window(
                session, get_settings(), days_ahead=days_ahead, start=first_day, now=utcnow()
            )
            days = (last - first).days + 1
            if as_json:
                outcome = run_contingency_report(
                    session, start=first, days_ahead=days, alerts=standard
                )
            else:
                # Imported here: only the terminal view draws a progress bar.
                from rich.progress import (
                    BarColumn,
                    MofNCompleteColumn,
                    Progress,
                    TextColumn,
                    TimeElapsedColumn,
                )

                with Progress(
                    TextColumn("analysing"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn("weeks"),
                    TimeElapsedColumn(),
                    console=err.console,
                    transient=True,
                    disable=not err.console.is_terminal,  # a bar only where it is drawn
                ) as bar:
                    task = bar.add_task("contingency", total=None)

                    def progress(done: int, total: int) -> None:
                        bar.update(task, completed=done, total=total)

                    outcome = run_contingency_report(
                        session, start=first, days_ahead=days, progress=progress, alerts=standard
                    )
    dispatch_alert_notifications(outcome.alerts)
    if metrics_outlive_command():
        publish_contingency_metrics(outcome)
    if as_json:
        print_json({"summary": outcome.summary(), "report": outcome.report}, pretty=pretty)
        return
    _print_report(outcome.summary(), outcome.report)


def _print_report(summary: dict[str, Any], report: dict[str, Any]) -> None:
    from rich.table import Table  # only the terminal view draws tables

    verdict = {True: "[green]pass[/green]", False: "[red]FAIL[/red]"}
    stored = shown_time(summary["created_at"])
    out.print(
        f"Contingency {summary['start']} .. {summary['end']}  (report {summary['report_id']},"
        f" stored {stored})",
        highlight=False,
    )
    if not summary["created"]:
        out.print("  Input unchanged since that report was stored: nothing re-analysed.")
    before = report.get("unscheduled_before")
    if before:
        out.print(
            f"  [yellow]Unscheduled[/yellow] {before['start']} .. {before['end']}:"
            " before the start of the published schedule, not analysed"
        )
    unscheduled = report.get("unscheduled")
    if unscheduled:
        out.print(
            f"  [yellow]Unscheduled[/yellow] {unscheduled['start']} .. {unscheduled['end']}:"
            " after the end of the published schedule, not analysed"
        )
    out.print(f"  N-1 {verdict[summary['n1_pass']]}   N-2 {verdict[summary['n2_pass']]}")
    out.print(
        f"  {summary['gap_slots']} unfilled slot(s); {summary['critical_faculty']} critical"
        f" faculty in {summary['n1_findings']} half-day findings; {summary['fatal_pairs']}"
        f" fatal pairs in {summary['n2_findings']} half-day findings"
    )
    if report["gaps"]:
        table = Table(title="Gaps (already uncovered)")
        for col in ("half-day", "activity", "needs", "missing"):
            table.add_column(col)
        for g in report["gaps"][:20]:
            for x in g["gaps"]:
                table.add_row(_where(g), x["activity_id"], x["qualification"], str(x["missing"]))
        out.print(table)
    if report["critical_faculty"]:
        out.print(critical_faculty_table(report))
    names = report["names"]
    pairs = report["rankings"]["pairs_by_half_days"]
    if pairs:
        table = Table(title="Fatal pairs (top 15 by half-days)")
        for col in ("pair", "half-days", "residents"):
            table.add_column(col)
        for row in pairs[:15]:
            table.add_row(
                " + ".join(row["person_ids"]), str(row["half_days"]), str(row["residents_affected"])
            )
        out.print(table)
    if report["cross_training"]:
        out.print("  Cross-training that removes the most findings:")
        for o in report["cross_training"]:
            # Two lines: with the name on the first, the counts still fit 80 columns.
            out.print(
                f"    - grant {o['qualification']} to {names.get(o['person_id'])}"
                f" ({o['person_id']}):\n      {grant_effect(o)}",
                highlight=False,
            )


def grant_effect(option: dict[str, Any]) -> str:
    """What a recommended grant (a ``cross_training`` entry of a report) changes, in words.

    The findings it adds are named only when there are some, so that a grant that removes
    N-1 findings but adds fatal pairs does not read as a pure gain.
    """
    added = [
        f"{option[key]} {level}"
        for key, level in (("n1_added", "N-1"), ("n2_added", "N-2"))
        if option[key]
    ]
    adds = f"; adds {', '.join(added)}" if added else ""
    return (
        f"removes {option['n1_removed']} N-1, {option['n2_removed']} N-2{adds};"
        f" fills {option['gap_slots_filled']} gap slot(s)"
    )


def critical_faculty_table(report: dict[str, Any], rows: int = 25) -> Table:
    """The critical faculty of ``report``, most half-days first, one line per person.

    Fits 80 columns: the faculty and qualification columns give way, cut short with an
    ellipsis (the id before the name stays whole; the qualification left short on most of the
    person's half-days comes first); the counts and the first half-day never do.
    """
    from rich.table import Table  # only the terminal view draws tables

    names, exposures = report["names"], report["exposures"]
    people = {c["person_id"]: c for c in report["critical_faculty"]}
    table = Table(title="Critical faculty (alone cover a qualification on some half-days)")
    # Only the columns that may wrap are narrowed to fit; their cells (_cut) never wrap.
    table.add_column("faculty")
    table.add_column("half-days", justify="right", no_wrap=True)
    table.add_column("residents", justify="right", no_wrap=True)
    table.add_column("qualification")
    table.add_column("first", no_wrap=True)
    for row in report["rankings"]["critical_by_half_days"][:rows]:
        c = people[row["person_ids"][0]]
        short = Counter(q for i in c["exposures"] for q in exposures[i]["qualifications"])
        quals = sorted(short, key=lambda q: (-short[q], q))
        first = exposures[c["exposures"][0]]
        name = names.get(c["person_id"])
        table.add_row(
            _cut(c["person_id"] + (f" {name}" if name else "")),
            str(c["half_days"]),
            str(c["residents_affected"]),
            _cut(", ".join(quals)),
            f"{first['date']} {first['half']}",
        )
    return table


def _cut(text: str) -> Text:
    """A cell that stays on one line, cut short with an ellipsis when its column is narrow."""
    from rich.text import Text

    return Text(text, no_wrap=True, overflow="ellipsis")


@what_if_app.command("absence")
def what_if_absence_cmd(
    person: PersonOption = None,
    from_: FromOption = None,
    to: ToOption = None,
    half: HalfOption = None,
    repair: Annotated[
        bool,
        typer.Option(
            "--repair", help="Also propose the fewest assignment changes that close its gaps."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The gaps and N-1/N-2 findings an absence of --person from --from to --to would add.

    --person, --from and --to are required; nothing is stored. With --repair, also the
    smallest change set that closes the gaps it opens, to enter with
    `absences add ... --apply-repair PROPOSAL`.
    """
    with reported_errors():
        person = required(person, "--person")
        first = parse_day(required(from_, "--from"), "--from")
        last = parse_day(required(to, "--to"), "--to")
        if last - first > timedelta(days=366):
            raise InputError("--from/--to: at most a year at a time")
        # Imported here: the repair's solver (ortools, numpy) is a second of every start.
        from app.resilience.fallbacks.repair import propose_repair

        with session_scope() as session:
            impact, _ = what_if_absence(session, person_id=person, start=first, end=last, half=half)
            proposal = (
                propose_repair(
                    session, get_settings(), person_id=person, start=first, end=last, half=half
                )
                if repair
                else None
            )
    data = impact.to_json()
    if as_json:
        print_json(data | ({"repair": proposal.to_json()} if proposal else {}), pretty=True)
        return
    if proposal is not None:
        _print_repair(proposal, person, first, last, half)
    span = f"{first} .. {last}" + (f" {half.value} only" if half else "")
    out.print(f"What if {person} were away {span}:")
    if impact.changes_nothing:
        out.print("  nothing changes: no new gaps or contingency findings")
        return
    for g in data["gaps_added"]:
        out.print(
            f"  [red]new gap[/red] {_where(g)}: {g['activity_id']} short {g['missing']}"
            f" {g['qualification']}"
        )
    for f in data["n1_added"]:
        out.print(
            f"  [dark_orange]new N-1[/dark_orange] {f['person_id']} alone holds up"
            f" {_where(f)} ({', '.join(f['qualifications'])})"
        )
    n2 = data["n2_added"]
    for f in n2[:30]:
        out.print(f"  [yellow]new fatal pair[/yellow] {' + '.join(f['person_ids'])} {_where(f)}")
    if len(n2) > 30:
        out.print(f"  ... and {len(n2) - 30} more fatal-pair findings (use --json)")
    removed = len(data["gaps_removed"]) + len(data["n1_removed"]) + len(data["n2_removed"])
    if removed:
        out.print(f"  ({removed} finding(s) would disappear, e.g. where the person held a slot)")


def _print_repair(
    proposal: RepairProposal, person: str, first: date, last: date, half: Half | None
) -> None:
    if not proposal.moves:
        what = (
            f"no change can close the {proposal.gaps_opened} opened slot(s)"
            if proposal.gaps_opened
            else "the absence opens no slot: nothing to repair"
        )
        out.print(f"Repair: {what}; enter the absence alone if you accept it", highlight=False)
        return
    out.print(
        f"Repair proposal {proposal.proposal}: {len(proposal.moves)} change(s) for the"
        f" {proposal.gaps_opened} opened slot(s); {proposal.gaps_left} slot(s) stay uncovered,"
        f" {len(proposal.n1_left)} N-1 finding(s) remain",
        highlight=False,
    )
    for m in proposal.moves:
        out.print(
            f"  {m.halfday}: {m.person_id} to {m.activity_id} (from {m.previous or 'nothing'})",
            highlight=False,
        )
    for f in proposal.n1_left[:10]:
        out.print(f"  N-1 left: {f['person_id']} alone holds up {_where(f)}", highlight=False)
    spell = f" --half {half.value}" if half else ""
    out.print(
        f"  enter both: residency-scheduler absences add --person {person} --from {first}"
        f" --to {last}{spell} --apply-repair {proposal.proposal}",
        highlight=False,
    )
