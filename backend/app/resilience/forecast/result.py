"""The forecast's days, high-risk periods and weekly summary (RESILIENCE_MODEL.md section 7).

Pure: assembled from the coverage problems of each day and the Monte Carlo estimates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from app.domain.coverage import SiteHalfDay
from app.resilience.forecast.montecarlo import DayShortfall
from app.resilience.health.levels import (
    Level,
    Utilization,
    UtilizationThresholds,
    utilization_of,
    worst,
)


@dataclass(frozen=True)
class ForecastDay:
    """One day: demand and pool summed over its site-half-days, level and shortfall chance.

    Attributes:
        level: the utilization level of the day (``UtilizationThresholds``).
        extrapolated: after the schedule's end: demand from the program's typical week.
        shortfall: the Monte Carlo estimate (None on a day with no demand).
    """

    day: date
    utilization: Utilization
    level: Level
    extrapolated: bool
    shortfall: DayShortfall | None

    @property
    def probability(self) -> float:
        return 0.0 if self.shortfall is None else self.shortfall.probability

    def high_risk(self, threshold: float) -> bool:
        return self.level.rank >= Level.ORANGE.rank or self.probability > threshold

    def to_json(self) -> dict[str, Any]:
        s = self.shortfall
        return {
            "date": self.day.isoformat(),
            "extrapolated": self.extrapolated,
            **self.utilization.to_json(),
            "level": self.level.value,
            "shortfall_probability": round(self.probability, 4),
            "standard_error": 0.0 if s is None else round(s.standard_error, 4),
            "covered_as_planned": True if s is None else s.covered_as_planned,
        }


@dataclass(frozen=True)
class HighRiskPeriod:
    """A run of consecutive high-risk days."""

    start: date
    end: date
    worst_level: Level
    max_probability: float

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": (self.end - self.start).days + 1,
            "worst_level": self.worst_level.value,
            "max_shortfall_probability": round(self.max_probability, 4),
        }


def forecast_days(
    problems: Sequence[SiteHalfDay],
    days: Sequence[date],
    extrapolated: Sequence[date],
    shortfalls: Mapping[date, DayShortfall],
    thresholds: UtilizationThresholds,
) -> list[ForecastDay]:
    """One ``ForecastDay`` per date of ``days`` (a day without problems has no demand)."""
    by_day = {d: list(g) for d, g in groupby(problems, key=lambda p: p.halfday.date)}
    later = set(extrapolated)
    out = []
    for day in days:
        util = utilization_of(by_day.get(day, ()))
        out.append(
            ForecastDay(day, util, thresholds.level(util.rate), day in later, shortfalls.get(day))
        )
    return out


def high_risk_periods(days: Sequence[ForecastDay], threshold: float) -> list[HighRiskPeriod]:
    """Runs of consecutive days at ORANGE or worse or above ``threshold``."""
    periods: list[HighRiskPeriod] = []
    run: list[ForecastDay] = []
    for d in [*days, None]:
        if d is not None and d.high_risk(threshold) and (not run or d.day == _next(run[-1])):
            run.append(d)
            continue
        if run:
            periods.append(
                HighRiskPeriod(
                    run[0].day,
                    run[-1].day,
                    worst(x.level for x in run),
                    max(x.probability for x in run),
                )
            )
        run = [d] if d is not None and d.high_risk(threshold) else []
    return periods


def _next(d: ForecastDay) -> date:
    return d.day + timedelta(days=1)


def weekly_summary(days: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per week (Monday first) of stored forecast days: utilization, levels, worst day."""
    weeks: list[dict[str, Any]] = []
    for monday, group in groupby(days, key=lambda d: _monday(d["date"])):
        rows = list(group)
        util = Utilization(sum(r["demand"] for r in rows), sum(r["pool"] for r in rows))
        top = max(rows, key=lambda r: r["shortfall_probability"])
        rate = util.rate
        weeks.append(
            {
                "week": monday,
                "days": len(rows),
                "extrapolated_days": sum(1 for r in rows if r["extrapolated"]),
                "utilization": None if math.isinf(rate) else round(rate, 4),
                "worst_level": worst(Level(r["level"]) for r in rows).value,
                "max_shortfall_probability": top["shortfall_probability"],
                "max_shortfall_date": top["date"],
            }
        )
    return weeks


def _monday(iso: str) -> str:
    day = date.fromisoformat(iso)
    return (day - timedelta(days=day.weekday())).isoformat()
