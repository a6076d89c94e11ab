"""The health check's findings as one pure function of the coverage problems."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.domain.clock import HalfDayClock
from app.domain.coverage import Gap, SiteHalfDay, gaps_of
from app.domain.schedule import HalfDay
from app.resilience.health.levels import (
    DefenseAssessment,
    Level,
    Utilization,
    UtilizationThresholds,
    defense_level,
    utilization_of,
)


@dataclass(frozen=True)
class ContingencySummary:
    """What the health check needs from an N-1/N-2 analysis of its contingency window."""

    window_start: date
    window_end: date
    n1_halfdays: tuple[HalfDay, ...]
    n2_halfdays: tuple[HalfDay, ...]
    critical_faculty: int
    fatal_pairs: int
    n1_pass: bool
    n2_pass: bool


@dataclass(frozen=True)
class HealthReport:
    """The state of the next days: utilization, gaps, contingency and the defense level."""

    window_start: date
    window_end: date
    utilization: Utilization
    utilization_level: Level
    gaps: tuple[Gap, ...]
    filled_slots: int
    defense: DefenseAssessment
    contingency: ContingencySummary | None
    faculty_total: int
    faculty_present: int
    faculty_on_duty: int

    @property
    def coverage_rate(self) -> float:
        demand = self.utilization.demand
        return self.filled_slots / demand if demand else 1.0

    @property
    def gap_slots(self) -> int:
        return sum(g.missing for g in self.gaps)

    @property
    def n1_status(self) -> str:
        if self.contingency is None:
            return "not_analysed"
        return "pass" if self.contingency.n1_pass else "fail"

    @property
    def n2_status(self) -> str:
        if self.contingency is None:
            return "not_analysed"
        return "pass" if self.contingency.n2_pass else "fail"

    def to_json(self) -> dict[str, object]:
        c = self.contingency
        rate = self.utilization.rate
        return {
            "window": {"start": self.window_start.isoformat(), "end": self.window_end.isoformat()},
            "utilization": self.utilization.to_json(),
            "utilization_level": self.utilization_level.value,
            "coverage_rate": round(self.coverage_rate, 6),
            "buffer_remaining": None
            if math.isinf(rate)
            else round(self.utilization.buffer_remaining, 6),
            "gap_slots": self.gap_slots,
            "gaps": [g.to_json() for g in self.gaps],
            "defense": self.defense.to_json(),
            "faculty": {
                "total": self.faculty_total,
                "present": self.faculty_present,
                "on_duty": self.faculty_on_duty,
            },
            "contingency": (
                {"status": "not yet analysed"}
                if c is None
                else {
                    "window": {
                        "start": c.window_start.isoformat(),
                        "end": c.window_end.isoformat(),
                    },
                    "n1_pass": c.n1_pass,
                    "n2_pass": c.n2_pass,
                    "critical_faculty": c.critical_faculty,
                    "fatal_pairs": c.fatal_pairs,
                }
            ),
            "n1_status": self.n1_status,
            "n2_status": self.n2_status,
        }


def assess_health(
    problems: Sequence[SiteHalfDay],
    *,
    window_start: date,
    window_end: date,
    now: datetime,
    clock: HalfDayClock,
    thresholds: UtilizationThresholds,
    contingency: ContingencySummary | None,
    faculty_total: int,
    faculty_present: int,
) -> HealthReport:
    """Assess the window's problems (and, when given, its contingency findings)."""
    util = utilization_of(problems)
    level = thresholds.level(util.rate)
    gaps: list[Gap] = []
    for p in problems:
        gaps.extend(gaps_of(p))
    filled = util.demand - sum(g.missing for g in gaps)
    on_duty = len({m.person_id for p in problems for m in p.pool})
    defense = defense_level(
        now=now,
        clock=clock,
        utilization_level=level,
        gaps=gaps,
        n1_halfdays=None if contingency is None else contingency.n1_halfdays,
        n2_halfdays=None if contingency is None else contingency.n2_halfdays,
    )
    return HealthReport(
        window_start=window_start,
        window_end=window_end,
        utilization=util,
        utilization_level=level,
        gaps=tuple(gaps),
        filled_slots=filled,
        defense=defense,
        contingency=contingency,
        faculty_total=faculty_total,
        faculty_present=faculty_present,
        faculty_on_duty=on_duty,
    )
