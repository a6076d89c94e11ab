"""Utilization, its level and the defense level (RESILIENCE_MODEL.md section 4).

Pure functions over coverage problems and findings: no database, no Celery, no settings.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.coverage import SiteHalfDay


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
