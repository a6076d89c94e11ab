"""The forecast against a real database: what it stores, its alert and its bad input.

Programs are written by hand and so are the expectations: two faculty cover one inpatient
slot each half-day, so the day is short only when both are out (probability ``r * r``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.core.errors import InputError
from app.models.alert import Alert, AlertStatus
from app.models.resilience import UtilizationForecast
from app.programs.service import import_program
from app.resilience.forecast.montecarlo import error_bound
from app.resilience.forecast.service import FORECAST_ALERT_KEY, run_forecast

TODAY = date(2026, 12, 1)
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in New York


def _program(
    days: int, first: int = 0, sick: list[tuple[str, int]] | None = None
) -> dict[str, Any]:
    """A on inpatient (min 1) and B on admin at the same site, every half-day of ``first`` ..
    ``first + days - 1`` (day offsets from TODAY); ``sick`` = (person, day offset)."""

    def day(offset: int) -> str:
        return (TODAY + timedelta(days=offset)).isoformat()

    person = {"kind": "faculty", "faculty_role": "core", "weekly_cap": None,
              "active_from": None, "active_to": None, "qualifications": ["attending"]}  # fmt: skip
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {
            "name": "Forecast test",
            "timezone": "America/New_York",
            "main_site": "main",
            "academic_year_start": "07-01",
        },  # fmt: skip
        "sites": [{"id": "main", "name": "Main"}],
        "qualifications": [{"id": "attending", "name": "Attending"}],
        "people": [{"id": p, "name": f"Dr {p}", **person} for p in ("A", "B")],
        "activities": [
            {
                "id": "inpatient",
                "name": "Inpatient",
                "category": "patient_safety",
                "site": "main",
                "qualification": "attending",
                "min_faculty": 1,
            },
            {
                "id": "admin",
                "name": "Admin",
                "category": "administration",
                "site": "main",
                "releasable": True,
            },
        ],  # fmt: skip
        "holidays": [],
        "assignments": [
            {"person_id": p, "date": day(d), "half": h, "activity_id": a, "role": "primary"}
            for d in range(first, first + days)
            for h in ("AM", "PM")
            for p, a in (("A", "inpatient"), ("B", "admin"))
        ],
        "absences": [
            {
                "id": f"S{i}",
                "person_id": p,
                "start": day(d),
                "end": day(d),
                "type": "sick",
                "half": None,
                "blocking": None,
            }
            for i, (p, d) in enumerate(sick or [])
        ],  # fmt: skip
    }


def _load(session: Session, doc: dict[str, Any]) -> None:
    import_program(session, doc, source="test", actor="test")
    session.commit()


def _settings(**values: Any) -> Settings:
    return get_settings().model_copy(update=values)


def _records(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(UtilizationForecast)) or 0


def test_forecast_stores_each_day_and_marks_the_extrapolated_ones(session: Session) -> None:
    _load(session, _program(14))
    settings = _settings(UNPLANNED_ABSENCE_DEFAULT_RATE=0.2, FORECAST_SAMPLES=10_000)
    outcome = run_forecast(session, days_ahead=21, now=NOW, settings=settings)
    session.commit()
    result = outcome.result
    assert outcome.created and _records(session) == 1
    assert result["window"] == {"start": "2026-12-01", "end": "2026-12-21"}
    assert result["extrapolated"] == {"start": "2026-12-15", "end": "2026-12-21"}
    assert result["rates"]["source"] == "default"
    assert len(result["days"]) == 21
    for d in result["days"]:
        assert (d["demand"], d["pool"], d["level"]) == (2, 4, "GREEN")  # 2 slots, 2 x 2 on hand
        # Short only when both are out: 0.2 * 0.2.
        assert abs(d["shortfall_probability"] - 0.04) <= error_bound(10_000)
        assert d["extrapolated"] == (d["date"] >= "2026-12-15")
    assert result["high_risk_periods"] == []
    assert session.scalar(select(Alert).where(Alert.dedup_key == FORECAST_ALERT_KEY)) is None


def test_forecast_alert_opens_on_high_risk_and_resolves_when_it_passes(session: Session) -> None:
    _load(session, _program(7))
    risky = _settings(UNPLANNED_ABSENCE_DEFAULT_RATE=0.5, FORECAST_SAMPLES=2_000)
    outcome = run_forecast(session, days_ahead=7, now=NOW, settings=risky)
    session.commit()
    # 0.5 * 0.5 = 0.25 > 0.10 every day: one period over the whole week, GREEN utilization.
    assert [(p["start"], p["end"]) for p in outcome.result["high_risk_periods"]] == [
        ("2026-12-01", "2026-12-07")
    ]
    alert = session.scalar(select(Alert).where(Alert.dedup_key == FORECAST_ALERT_KEY))
    assert alert is not None and alert.level == "warning" and alert.status == "active"
    assert "sick" not in alert.message

    calm = _settings(UNPLANNED_ABSENCE_DEFAULT_RATE=0.01, FORECAST_SAMPLES=2_000)
    run_forecast(session, days_ahead=7, now=NOW, settings=calm)
    session.commit()
    session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED.value


def test_forecast_rates_come_from_the_programs_own_history(session: Session) -> None:
    # 60 days recorded before today; A was out sick on 12 of them.
    _load(session, _program(74, first=-60, sick=[("A", -5 * i - 1) for i in range(12)]))
    outcome = run_forecast(session, days_ahead=7, now=NOW, settings=_settings())
    rates = outcome.result["rates"]
    assert rates["source"] == "history"
    assert rates["history_days"] == 60
    assert rates["absence_days"] == 12.0


def test_redelivered_forecast_task_is_a_no_op(session: Session) -> None:
    _load(session, _program(7))
    settings = _settings(FORECAST_SAMPLES=500)
    first = run_forecast(session, days_ahead=7, now=NOW, settings=settings, task_id="t-1")
    session.commit()
    again = run_forecast(session, days_ahead=7, now=NOW, settings=settings, task_id="t-1")
    assert again.record_id == first.record_id and not again.created
    assert _records(session) == 1


@pytest.mark.parametrize("days_ahead", [0, -3, 367, 10**9, True, "30", 2.5])
def test_bad_days_ahead_is_refused_and_nothing_is_stored(session: Session, days_ahead: Any) -> None:
    _load(session, _program(7))
    with pytest.raises(InputError, match="days_ahead"):
        run_forecast(session, days_ahead=days_ahead, now=NOW, settings=_settings())
    session.rollback()
    assert _records(session) == 0


def test_schedule_that_ended_long_ago_still_gives_its_typical_week(session: Session) -> None:
    _load(session, _program(14, first=-500))
    outcome = run_forecast(session, days_ahead=7, now=NOW, settings=_settings())
    assert outcome.result["extrapolated"] == {"start": "2026-12-01", "end": "2026-12-07"}
    assert [(d["demand"], d["pool"]) for d in outcome.result["days"]] == [(2, 4)] * 7
    # Nothing was scheduled in the last 365 days: no history, the default rate.
    assert outcome.result["rates"]["source"] == "default"
