"""The 90-day utilization chart as plain SVG numbers (drawn by the template, no JavaScript).

Each day's utilization is the faculty demand over the faculty on hand of all its half-days
and sites (RESILIENCE_MODEL.md section 4, the same sum the health check makes over a week).
The level bands are the UTILIZATION_* thresholds; a day is one to watch when its utilization
is ORANGE or worse, or when it has a finding (the caller's: a gap or an N-1 failure in the
latest contingency report, a forecast shortfall probability at its threshold). "Days to watch",
not "high-risk days": the dashboard keeps that name for the forecast's own count (ORANGE or
worse, or a shortfall probability above the threshold), a different set.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from app.domain.coverage import SiteHalfDay
from app.resilience.health.levels import Level, UtilizationThresholds, utilization_of

WIDTH = 900
HEIGHT = 240
TOP = 10
BOTTOM = 30
LEFT = 40


@dataclass(frozen=True)
class Band:
    level: str
    y: float
    height: float


@dataclass(frozen=True)
class Day:
    day: date
    rate: float | None
    level: str
    to_watch: bool
    x: float
    y: float | None


@dataclass(frozen=True)
class Chart:
    days: tuple[Day, ...]
    bands: tuple[Band, ...]
    y_max: float
    ticks: tuple[tuple[float, str], ...]
    day_width: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    bottom: int = BOTTOM

    @property
    def points(self) -> str:
        """The polyline of days with a rate (days without demand or pool are left out)."""
        return " ".join(f"{d.x + self.day_width / 2:.1f},{d.y:.1f}" for d in self.days if d.y)

    @property
    def days_to_watch(self) -> tuple[Day, ...]:
        return tuple(d for d in self.days if d.to_watch)

    @property
    def peak(self) -> Day | None:
        rated = [d for d in self.days if d.rate is not None]
        return max(rated, key=lambda d: d.rate or 0.0) if rated else None

    @property
    def labels(self) -> tuple[Day, ...]:
        """Days labelled under the axis: the first, then every 14th."""
        return self.days[::14]


def daily_rates(problems: Iterable[SiteHalfDay]) -> dict[date, float | None]:
    """Each day's utilization (None: no demand and nobody on hand, or demand and nobody)."""
    by_day: dict[date, list[SiteHalfDay]] = defaultdict(list)
    for p in problems:
        by_day[p.halfday.date].append(p)
    out: dict[date, float | None] = {}
    for day, items in by_day.items():
        rate = utilization_of(items).rate
        out[day] = None if math.isinf(rate) else rate
    return out


def build_chart(
    start: date,
    days: int,
    rates: dict[date, float | None],
    thresholds: UtilizationThresholds,
    finding_days: Sequence[date] = (),
) -> Chart:
    """The chart of ``days`` days from ``start``."""
    plot_h = HEIGHT - TOP - BOTTOM
    known = [r for r in rates.values() if r is not None]
    y_max = max(1.0, thresholds.black * 1.1, *(known or [0.0]))

    def y_of(rate: float) -> float:
        return TOP + plot_h * (1 - min(rate, y_max) / y_max)

    edges = [
        (Level.YELLOW, thresholds.yellow, thresholds.orange),
        (Level.ORANGE, thresholds.orange, thresholds.red),
        (Level.RED, thresholds.red, thresholds.black),
        (Level.BLACK, thresholds.black, y_max),
    ]
    bands = tuple(
        Band(level.value, y_of(high), y_of(low) - y_of(high)) for level, low, high in edges
    )
    day_width = (WIDTH - LEFT) / days
    flagged = set(finding_days)
    out = []
    for n in range(days):
        day = start + timedelta(days=n)
        rate = rates.get(day)
        level = thresholds.level(rate) if rate is not None else Level.GREEN
        to_watch = level.rank >= Level.ORANGE.rank or day in flagged
        y = y_of(rate) if rate is not None else None
        out.append(Day(day, rate, level.value, to_watch, LEFT + n * day_width, y))
    ticks = tuple((y_of(t), f"{t:.0%}") for t in (0.0, thresholds.yellow, thresholds.black))
    return Chart(tuple(out), bands, y_max, ticks, day_width)
