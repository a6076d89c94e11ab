"""High-risk periods and the weekly summary, against expectations written by hand."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.resilience.forecast.montecarlo import DayShortfall
from app.resilience.forecast.result import ForecastDay, high_risk_periods, weekly_summary
from app.resilience.health.levels import Level, Utilization

MONDAY = date(2026, 11, 30)


def _day(offset: int, level: Level, short: int, demand: int = 8, pool: int = 10) -> ForecastDay:
    day = MONDAY + timedelta(days=offset)
    return ForecastDay(
        day, Utilization(demand, pool), level, offset >= 7, DayShortfall(day, 100, short, True)
    )


def test_high_risk_periods_are_runs_of_orange_or_worse_or_likely_shortfall() -> None:
    days = [
        _day(0, Level.GREEN, 0),
        _day(1, Level.ORANGE, 0),  # level
        _day(2, Level.YELLOW, 20),  # probability 0.20 > 0.10
        _day(3, Level.YELLOW, 10),  # 0.10 is not above 0.10
        _day(4, Level.RED, 5),
        _day(5, Level.GREEN, 0),
        _day(6, Level.BLACK, 50),
    ]
    periods = [p.to_json() for p in high_risk_periods(days, 0.10)]
    assert periods == [
        {
            "start": "2026-12-01",
            "end": "2026-12-02",
            "days": 2,
            "worst_level": "ORANGE",
            "max_shortfall_probability": 0.2,
        },
        {
            "start": "2026-12-04",
            "end": "2026-12-04",
            "days": 1,
            "worst_level": "RED",
            "max_shortfall_probability": 0.05,
        },
        {
            "start": "2026-12-06",
            "end": "2026-12-06",
            "days": 1,
            "worst_level": "BLACK",
            "max_shortfall_probability": 0.5,
        },
    ]


def test_weekly_summary_sums_demand_and_pool_and_names_the_worst_day() -> None:
    days = [
        _day(i, Level.ORANGE if i == 3 else Level.GREEN, 30 if i == 8 else i, demand=i, pool=10)
        for i in range(10)
    ]
    weeks = weekly_summary([d.to_json() for d in days])
    assert [w["week"] for w in weeks] == ["2026-11-30", "2026-12-07"]
    first, second = weeks
    assert first["days"] == 7 and second["days"] == 3
    assert first["utilization"] == pytest.approx(21 / 70, abs=1e-4)  # 0+1+...+6 over 7 x 10
    assert second["utilization"] == pytest.approx(24 / 30, abs=1e-4)
    assert first["worst_level"] == "ORANGE" and second["worst_level"] == "GREEN"
    assert first["max_shortfall_date"] == "2026-12-06"  # 6 of 100 samples
    assert second["max_shortfall_probability"] == 0.3
    assert first["extrapolated_days"] == 0 and second["extrapolated_days"] == 3
