"""Utilization, its level and the defense level (RESILIENCE_MODEL.md section 4).

Pure functions over coverage problems and findings: no database, no Celery, no settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.clock import HalfDayClock
from app.domain.coverage import Gap, SiteHalfDay
from app.domain.schedule import Category, HalfDay


class Level(StrEnum):
    """Utilization and defense levels, best to worst."""

    GREEN = "GREEN"
    YELLOW = "YELLOW"
    ORANGE = "ORANGE"
    RED = "RED"
    BLACK = "BLACK"

    @property
    def rank(self) -> int:
        return LEVEL_ORDER.index(self)


LEVEL_ORDER: tuple[Level, ...] = tuple(Level)

ALERT_LEVEL_FOR: dict[Level, str | None] = {
    Level.GREEN: None,
    Level.YELLOW: "info",
    Level.ORANGE: "warning",
    Level.RED: "critical",
    Level.BLACK: "emergency",
}
"""The alert level raised for a defense level (GREEN raises none)."""


def worst(levels: Iterable[Level]) -> Level:
    return max(levels, key=lambda lv: lv.rank, default=Level.GREEN)


@dataclass(frozen=True)
class UtilizationThresholds:
    """Lower bounds of YELLOW, ORANGE, RED and BLACK (the seed system's defaults)."""

    yellow: float = 0.70
    orange: float = 0.80
    red: float = 0.90
    black: float = 0.95

    def level(self, rate: float) -> Level:
        if rate >= self.black:
            return Level.BLACK
        if rate >= self.red:
            return Level.RED
        if rate >= self.orange:
            return Level.ORANGE
        if rate >= self.yellow:
            return Level.YELLOW
        return Level.GREEN


@dataclass(frozen=True)
class Utilization:
    """Total faculty demand over total pool size, summed over half-days and sites.

    ``rate`` is ``inf`` when there is demand and nobody on hand (shown as BLACK).
    """

    demand: int
    pool: int

    @property
    def rate(self) -> float:
        if self.pool:
            return self.demand / self.pool
        return math.inf if self.demand else 0.0

    @property
    def buffer_remaining(self) -> float:
        """Share of the faculty on hand not consumed by required work (never below 0)."""
        return max(0.0, 1.0 - self.rate) if self.pool else 0.0

    def to_json(self) -> dict[str, object]:
        rate = self.rate
        return {
            "demand": self.demand,
            "pool": self.pool,
            "rate": None if math.isinf(rate) else round(rate, 6),
        }


def utilization_of(problems: Iterable[SiteHalfDay]) -> Utilization:
    demand = pool = 0
    for p in problems:
        demand += p.total_demand
        pool += p.pool_size
    return Utilization(demand, pool)


URGENT_CATEGORIES = frozenset({Category.PATIENT_SAFETY, Category.ACGME_REQUIREMENTS})
URGENT_WINDOW = timedelta(hours=48)
NEAR_DAYS = 7
CONTINGENCY_NEAR_DAYS = 14


@dataclass(frozen=True)
class DefenseAssessment:
    """The defense level and the finding behind each part of it."""

    level: Level
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"level": self.level.value, "reasons": list(self.reasons)}


def defense_level(
    *,
    now: datetime,
    clock: HalfDayClock,
    utilization_level: Level,
    gaps: Sequence[Gap],
    n1_halfdays: Sequence[HalfDay] | None,
    n2_halfdays: Sequence[HalfDay] | None,
) -> DefenseAssessment:
    """The worst of the rules of RESILIENCE_MODEL.md section 4.

    Args:
        now: the current instant (timezone-aware).
        clock: the program's half-day clock.
        utilization_level: the level of the next 7 days' utilization.
        gaps: every gap of the analysed horizon.
        n1_halfdays: half-days with an N-1 failure (None: not analysed).
        n2_halfdays: half-days with a fatal pair (None: not analysed).
    """
    today = clock.today(now)
    near = today + timedelta(days=NEAR_DAYS)
    contingency_near = today + timedelta(days=CONTINGENCY_NEAR_DAYS)
    parts: list[tuple[Level, str]] = []
    if utilization_level is not Level.GREEN:
        parts.append((utilization_level, f"utilization of the next {NEAR_DAYS} days"))
    for gap in gaps:
        if clock.end_of(gap.halfday) <= now:
            continue  # already over
        urgent = clock.start_of(gap.halfday) < now + URGENT_WINDOW
        where = f"{gap.activity_id} at {gap.site} on {gap.halfday}"
        if urgent and gap.category in URGENT_CATEGORIES:
            parts.append((Level.BLACK, f"{gap.category.value} gap within 48 hours: {where}"))
        elif gap.halfday.date < near:
            parts.append((Level.RED, f"gap within {NEAR_DAYS} days: {where}"))
        else:
            parts.append((Level.ORANGE, f"gap later in the horizon: {where}"))
    for hd in n1_halfdays or ():
        if hd.date < contingency_near:
            parts.append((Level.ORANGE, f"N-1 failure within {CONTINGENCY_NEAR_DAYS} days: {hd}"))
        else:
            parts.append((Level.YELLOW, f"N-1 failure later in the horizon: {hd}"))
    for hd in n2_halfdays or ():
        if hd.date < contingency_near:
            parts.append((Level.YELLOW, f"fatal pair within {CONTINGENCY_NEAR_DAYS} days: {hd}"))
    level = worst(lv for lv, _ in parts)
    # Keep the reasons that set the level first, then a few others, so the summary stays short.
    ordered = sorted(parts, key=lambda p: -p[0].rank)
    reasons = tuple(f"{lv.value}: {why}" for lv, why in ordered[:20])
    return DefenseAssessment(level, reasons)
