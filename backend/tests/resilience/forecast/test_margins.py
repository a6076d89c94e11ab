"""The early warning inside the health check: the margin series read from stored checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.models.resilience import HealthCheckRecord
from app.programs.service import import_program
from app.resilience.forecast.early_warning import (
    NOT_ENOUGH_HISTORY,
    WARNING,
    assess_early_warning,
)
from app.resilience.forecast.margins import daily_margins
from app.resilience.health.service import run_health_check
from tests.programs.factories import small_program
from tests.resilience.forecast.test_early_warning import _approaching, _steady

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _record(day: date, utilization: float | None) -> HealthCheckRecord:
    at = datetime(day.year, day.month, day.day, 15, tzinfo=UTC)
    return HealthCheckRecord(
        started_at=at, finished_at=at, duration_s=0.1, window_start=day,
        window_end=day + timedelta(days=6), utilization=utilization, utilization_level="GREEN",
        defense_level="GREEN", gap_count=0, n1_status="pass", n2_status="pass", result={},
    )  # fmt: skip


def _load_program(session: Session) -> None:
    """A schedule to check: with none, the health check refuses to run (``NoSchedule``)."""
    import_program(session, small_program(), source="test", actor="test")
    session.commit()


def _store_series(session: Session, margins: list[float]) -> None:
    first = TODAY - timedelta(days=len(margins))
    for i, margin in enumerate(margins):
        session.add(_record(first + timedelta(days=i), 1.0 - margin))
    session.commit()


def test_daily_margins_average_each_day_and_skip_old_and_unknown(session: Session) -> None:
    session.add_all(
        [
            _record(TODAY - timedelta(days=2), 0.6),
            _record(TODAY - timedelta(days=2), 0.8),  # same day: margin (0.4 + 0.2) / 2
            _record(TODAY - timedelta(days=1), None),  # demand with nobody: no margin
            _record(TODAY - timedelta(days=1), 0.5),
            _record(TODAY - timedelta(days=200), 0.1),  # beyond the 120 days looked at
            _record(TODAY + timedelta(days=1), 0.1),  # after today
        ]
    )
    session.commit()
    margins = daily_margins(session, TODAY)
    assert [round(m, 6) for m in margins] == [0.3, 0.5]


def test_health_check_without_history_says_not_enough(session: Session) -> None:
    _load_program(session)
    outcome = run_health_check(session, now=NOW)
    session.commit()
    record = session.get(HealthCheckRecord, outcome.record_id)
    assert record is not None
    early = record.result["early_warning"]
    assert early["status"] == NOT_ENOUGH_HISTORY
    assert early["history_days"] == 0 and early["min_days"] == 30


def _pure(series: list[float]) -> dict[str, object]:
    return assess_early_warning(series, window_days=14, min_days=30, p_value=0.05).to_json()


def test_health_check_warns_on_a_margin_approaching_a_tipping_point(session: Session) -> None:
    # The statistics are tested in test_early_warning.py; here, that the health check reads
    # the stored margins and reports the verdict on them (a series the test itself warns on).
    series = next(s for s in (_approaching(120, k) for k in range(20)) if _pure(s)["warning"])
    _store_series(session, series)
    _load_program(session)
    outcome = run_health_check(session, now=NOW)
    session.commit()
    record = session.get(HealthCheckRecord, outcome.record_id)
    assert record is not None
    early = record.result["early_warning"]
    assert early == _pure(series)
    assert early["status"] == WARNING and early["history_days"] == 120


def test_health_check_stays_quiet_on_a_steady_margin(session: Session) -> None:
    _store_series(session, _steady(90, seed=3))
    _load_program(session)
    outcome = run_health_check(session, now=NOW)
    session.commit()
    record = session.get(HealthCheckRecord, outcome.record_id)
    assert record is not None
    assert record.result["early_warning"] == _pure(_steady(90, seed=3))
    assert record.result["early_warning"]["status"] != WARNING
