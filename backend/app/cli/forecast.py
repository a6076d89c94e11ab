"""``analyze forecast``: the utilization forecast, run now and stored, printed per week."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from app.cli.output import OutputConsole, reported_errors
from app.core.config import FORECAST_MAX_DAYS
from app.core.db import session_scope
from app.notifications.dispatch import dispatch_alert_notifications

out = OutputConsole(soft_wrap=True)  # piped to a file, a line stays one line
err = OutputConsole(stderr=True)  # the progress bar, so that stdout stays clean for --json


def analyze_forecast_cmd(
    days_ahead: Annotated[
        int | None,
        typer.Option(
            "--days-ahead",
            min=1,
            max=FORECAST_MAX_DAYS,
            help="Days to forecast from today (default: FORECAST_DAYS).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print every day as JSON.")] = False,
) -> None:
    """Forecast utilization, level and shortfall probability day by day (stored).

    The shortfall probability is the chance that unplanned absences (sick, family
    emergency) leave some slot of the day unfillable, by Monte Carlo (FORECAST_SAMPLES).
    """
    # Imported here: the forecast imports numpy, which the other commands need not pay for.
    from app.resilience.forecast.service import publish_forecast_metrics, run_forecast

    with reported_errors(), session_scope() as session:
        if as_json:
            outcome = run_forecast(session, days_ahead=days_ahead)
        else:
            with Progress(
                TextColumn("forecasting"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days"),
                TimeElapsedColumn(),
                console=err.console,
                transient=True,
                disable=not err.console.is_terminal,  # a bar only where it is drawn
            ) as bar:
                task = bar.add_task("forecast", total=None)

                def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                outcome = run_forecast(session, days_ahead=days_ahead, progress=progress)
    dispatch_alert_notifications(outcome.alerts)
    publish_forecast_metrics(outcome)
    if as_json:
        print(json.dumps({"summary": outcome.summary(), "forecast": outcome.result}, indent=1))
        return
    _print_forecast(outcome.summary(), outcome.result)


def _print_forecast(summary: dict[str, Any], result: dict[str, Any]) -> None:
    from app.resilience.forecast.result import weekly_summary

    rates = result["rates"]
    out.print(
        f"Forecast {summary['start']} .. {summary['end']}  (forecast {summary['forecast_id']},"
        f" {summary['duration_s']:.1f} s)",
        highlight=False,
    )
    out.print(
        f"  Shortfall probability: {result['samples']} samples per day, 95 % error at most"
        f" +/-{result['error_bound']:.4f}; unplanned absence rate from"
        f" {_rate_source(rates)}",
        highlight=False,
    )
    if result["extrapolated"]:
        ext = result["extrapolated"]
        out.print(
            f"  [yellow]Extrapolated[/yellow] {ext['start']} .. {ext['end']}: after the end of"
            f" the published schedule ({result['schedule_end']}), demand from the typical week",
            highlight=False,
        )
    table = Table(title="Per week (Monday first)")
    for col in ("week", "days", "utilization", "worst level", "worst P(shortfall)", "high-risk"):
        table.add_column(col)
    periods = result["high_risk_periods"]
    weeks = weekly_summary(result["days"])
    for w in weeks:
        util = "n/a" if w["utilization"] is None else f"{w['utilization']:.1%}"
        risky = [p for p in periods if p["start"] <= _sunday(w["week"]) and p["end"] >= w["week"]]
        table.add_row(
            w["week"] + (" *" if w["extrapolated_days"] else ""),
            str(w["days"]),
            util,
            w["worst_level"],
            f"{w['max_shortfall_probability']:.3f} ({w['max_shortfall_date']})",
            "yes" if risky else "",
        )
    out.print(table)
    if any(w["extrapolated_days"] for w in weeks):
        out.print("  * some days extrapolated from the typical week")
    threshold = result["threshold"]
    if not periods:
        out.print(f"  High-risk periods: none (ORANGE or worse, or P(shortfall) > {threshold})")
        return
    out.print(f"  High-risk periods (ORANGE or worse, or P(shortfall) > {threshold}):")
    for p in periods:
        out.print(
            f"    {p['start']} .. {p['end']} ({p['days']} day(s)): worst {p['worst_level']},"
            f" P(shortfall) up to {p['max_shortfall_probability']:.3f}",
            highlight=False,
        )


def _rate_source(rates: dict[str, Any]) -> str:
    if rates["source"] == "default":
        return f"the default {rates['program_by_weekday'][0]} per day (too little history)"
    return (
        f"{rates['history_days']} days of history ({rates['absence_days']} absence days;"
        f" per person {rates['min']} .. {rates['max']} per day)"
    )


def _sunday(monday: str) -> str:
    return (date.fromisoformat(monday) + timedelta(days=6)).isoformat()
