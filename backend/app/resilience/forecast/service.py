"""Database glue of the utilization forecast: load, run the pure forecast, store, alert.

The caller owns the transaction (CONVENTIONS.md rule 4). Everything is read from one state
of the database (``begin_consistent_read``); the record and its alert are written in the
same transaction, so nothing is stored when the forecast fails.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.config import FORECAST_MAX_DAYS, Settings, get_settings
from app.core.db import begin_consistent_read, committed_view
from app.core.errors import InputError
from app.domain.snapshot import load_snapshot, require_schedule
from app.models.base import utcnow
from app.models.resilience import UtilizationForecast
from app.notifications.service import AlertOutcome, raise_alert, resolve_alert
from app.resilience.clock import program_clock
from app.resilience.contingency.service import window_end
from app.resilience.forecast.demand import TYPICAL_WEEK_LOOKBACK_WEEKS, forecast_problems
from app.resilience.forecast.montecarlo import error_bound, shortfall_by_day
from app.resilience.forecast.rates import estimate_rates
from app.resilience.forecast.result import forecast_days, high_risk_periods
from app.resilience.health.levels import ALERT_LEVEL_FOR, Level, worst
from app.resilience.policy import HealthPolicy

FORECAST_ALERT_KEY = "forecast:high-risk"


@dataclass(frozen=True)
class ForecastOutcome:
    """A stored forecast: its record's id, whether this run made it, and its JSON;
    ``alerts`` what its alert did (send the deliveries after the commit with
    ``dispatch_alert_notifications``)."""

    record_id: int
    created: bool
    result: dict[str, Any]
    duration_s: float
    alerts: tuple[AlertOutcome | None, ...] = ()

    def summary(self) -> dict[str, Any]:
        """The small JSON dict the task returns."""
        r = self.result
        return {
            "forecast_id": self.record_id,
            "created": self.created,
            "start": r["window"]["start"],
            "end": r["window"]["end"],
            "samples": r["samples"],
            "error_bound": r["error_bound"],
            "worst_level": r["worst_level"],
            "max_shortfall_probability": r["max_shortfall_probability"],
            "high_risk_periods": len(r["high_risk_periods"]),
            "high_risk_days": r["high_risk_days"],
            "extrapolated": r["extrapolated"],
            "duration_s": round(self.duration_s, 3),
        }


def publish_forecast_metrics(outcome: ForecastOutcome) -> None:
    """Set the forecast's Prometheus gauges and its last success time."""
    metrics.forecast_max_shortfall_probability.set(outcome.result["max_shortfall_probability"])
    metrics.forecast_high_risk_days.set(outcome.result["high_risk_days"])
    metrics.last_success.labels(task="generate_utilization_forecast").set(_time.time())


def checked_days_ahead(days_ahead: object) -> int:
    """``days_ahead`` if it is a whole number of days from 1 to ``FORECAST_MAX_DAYS``.

    Raises:
        InputError: anything else (nothing is read or stored).
    """
    if isinstance(days_ahead, bool) or not isinstance(days_ahead, int):
        raise InputError(f"days_ahead must be a whole number of days, not {days_ahead!r}")
    if not 1 <= days_ahead <= FORECAST_MAX_DAYS:
        raise InputError(f"days_ahead must be from 1 to {FORECAST_MAX_DAYS}, not {days_ahead}")
    return days_ahead


def _done(session: Session, task_id: str) -> UtilizationForecast | None:
    return session.scalars(
        select(UtilizationForecast).where(UtilizationForecast.task_id == task_id)
    ).first()


def run_forecast(
    session: Session,
    *,
    days_ahead: int | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
    task_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ForecastOutcome:
    """Forecast the next ``days_ahead`` days and store the record (and the high-risk alert).

    Args:
        days_ahead: days from today (None: ``FORECAST_DAYS``).
        now: the current instant (tests pass one).
        task_id: the Celery task id; a forecast of this task stored already is returned.
        progress: called with (days done, days) while the Monte Carlo runs.

    Raises:
        InputError: a bad ``days_ahead``.
        NoSchedule: there is no published schedule to forecast from (nothing is stored).
    """
    settings = settings or get_settings()
    days = checked_days_ahead(settings.FORECAST_DAYS if days_ahead is None else days_ahead)
    begin_consistent_read(session)
    if task_id is not None and (row := _done(session, task_id)) is not None:
        return ForecastOutcome(row.id, False, row.result, row.duration_s)
    require_schedule(session)
    t0 = _time.perf_counter()
    now = now or utcnow()
    start = program_clock(session, settings).today(now)
    end = window_end(start, days)
    result = _forecast(session, settings, start, end, progress)
    duration = _time.perf_counter() - t0
    result["duration_s"] = round(duration, 3)
    record = UtilizationForecast(
        task_id=task_id,
        start=start,
        end=end,
        samples=result["samples"],
        high_risk_days=result["high_risk_days"],
        max_shortfall_probability=result["max_shortfall_probability"],
        worst_level=result["worst_level"],
        duration_s=duration,
        result=result,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        if task_id is None:
            raise
        with committed_view(session) as other:  # the same task stored first elsewhere
            row = _done(other, task_id)
            assert row is not None
            return ForecastOutcome(row.id, False, row.result, row.duration_s)
    alert = _alert_on_periods(session, result, now)
    session.flush()
    return ForecastOutcome(record.id, True, result, duration, (alert,))


def _forecast(
    session: Session,
    settings: Settings,
    start: date,
    end: date,
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """The forecast of ``start``..``end`` as stored JSON."""
    history_first = start - timedelta(days=settings.FORECAST_HISTORY_DAYS)
    load_start = min(history_first, start - timedelta(weeks=TYPICAL_WEEK_LOOKBACK_WEEKS))
    snapshot = load_snapshot(session, start=load_start, end=end)
    schedule_end = snapshot.schedule_end
    if schedule_end is not None and schedule_end < end:
        # The typical week's days must be loaded, however long ago the schedule ended.
        template_start = schedule_end - timedelta(weeks=TYPICAL_WEEK_LOOKBACK_WEEKS)
        if template_start < load_start:
            snapshot = load_snapshot(session, start=template_start, end=end)
    # History is recorded while there is a schedule: from its first assignment to its end.
    first_recorded = min((a.halfday.date for a in snapshot.assignments), default=start)
    last_recorded = start - timedelta(days=1)
    if snapshot.schedule_end is not None:
        last_recorded = min(last_recorded, snapshot.schedule_end)
    rates = estimate_rates(
        snapshot.people,
        snapshot.absences,
        max(history_first, first_recorded),
        last_recorded,
        default_rate=settings.UNPLANNED_ABSENCE_DEFAULT_RATE,
        min_history_days=settings.FORECAST_MIN_HISTORY_DAYS,
    )
    problems, extrapolated = forecast_problems(snapshot, start, end)
    samples = settings.FORECAST_SAMPLES
    seed = start.toordinal()  # the same day's forecast of the same data is the same
    shortfalls = shortfall_by_day(problems, rates, samples, seed, progress)
    all_days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    thresholds = HealthPolicy.from_settings(settings).thresholds
    days = forecast_days(problems, all_days, extrapolated, shortfalls, thresholds)
    threshold = settings.SHORTFALL_PROBABILITY_THRESHOLD
    periods = high_risk_periods(days, threshold)
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "schedule_end": None if schedule_end is None else schedule_end.isoformat(),
        "extrapolated": None
        if not extrapolated
        else {"start": extrapolated[0].isoformat(), "end": extrapolated[-1].isoformat()},
        "samples": samples,
        "error_bound": round(error_bound(samples), 4),
        "confidence": 0.95,
        "seed": seed,
        "threshold": threshold,
        "rates": rates.to_json(),
        "worst_level": worst(d.level for d in days).value,
        "max_shortfall_probability": round(max((d.probability for d in days), default=0.0), 4),
        "high_risk_days": sum(1 for d in days if d.high_risk(threshold)),
        "high_risk_periods": [p.to_json() for p in periods],
        "days": [d.to_json() for d in days],
    }


FORECAST_ACTION = (
    "Plan cover for the high-risk days named (backups, moved leave or shed work) before they come."
)


def _alert_on_periods(
    session: Session, result: dict[str, Any], now: datetime
) -> AlertOutcome | None:
    """One alert while the forecast has high-risk periods, resolved when it has none."""
    periods = result["high_risk_periods"]
    if not periods:
        return resolve_alert(session, FORECAST_ALERT_KEY, now=now)
    level = worst([Level.ORANGE, *(Level(p["worst_level"]) for p in periods)])
    first = periods[0]
    alert_level = ALERT_LEVEL_FOR[level]
    assert alert_level is not None
    return raise_alert(
        session,
        alert_level,
        f"Forecast: {len(periods)} high-risk period(s) in {result['window']['start']}.."
        f"{result['window']['end']}; first {first['start']}..{first['end']}"
        f" ({first['worst_level']}, shortfall probability up to"
        f" {first['max_shortfall_probability']:.2f})",
        {
            "dedup_key": FORECAST_ALERT_KEY,
            "high_risk_days": result["high_risk_days"],
            "periods": periods[:10],
            "max_shortfall_probability": result["max_shortfall_probability"],
            "action": FORECAST_ACTION,
        },
        now=now,
    )
