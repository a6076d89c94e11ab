"""The health check's findings as one pure function of the coverage problems."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from app.domain.clock import HalfDayClock
from app.domain.coverage import Gap, SiteHalfDay, gaps_of, range_json
from app.domain.schedule import HalfDay
from app.resilience.health.levels import Level, Utilization, UtilizationThresholds, utilization_of
from app.resilience.health.verdict import DefenseAssessment, VerdictPolicy, defense_level

if TYPE_CHECKING:  # numpy, which it imports, is not needed to build a report
    from app.resilience.forecast.early_warning import EarlyWarning


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
class LaterFindings:
    """Gaps and findings beyond the health check's own windows, from the daily report.

    Attributes:
        source: how the report was chosen, for the record (its id, window, and whether used).
    """

    gaps: tuple[Gap, ...] = ()
    n1_halfdays: tuple[HalfDay, ...] = ()
    n2_halfdays: tuple[HalfDay, ...] = ()
    source: dict[str, Any] = field(default_factory=lambda: {"status": "none"})


@dataclass(frozen=True)
class HealthReport:
    """The state of the next days: utilization, gaps, contingency and the defense level.

    ``gaps`` are those of the health check's own windows; ``later`` holds what the daily
    report adds beyond them. Both feed the defense level.
    """

    window_start: date
    window_end: date
    analysed_end: date
    utilization: Utilization
    utilization_level: Level
    gaps: tuple[Gap, ...]
    filled_slots: int
    defense: DefenseAssessment
    contingency: ContingencySummary | None
    later: LaterFindings
    faculty_total: int
    faculty_present: int
    faculty_on_duty: int
    unscheduled: tuple[date, date] | None = None
    """The analysed days after the end of the published schedule (not judged)."""
    unscheduled_before: tuple[date, date] | None = None
    """The analysed days before the first day of the published schedule (not judged)."""
    early_warning: EarlyWarning | None = None
    """Rising variance and autocorrelation of the daily coverage margin (None: not tested)."""

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
            "horizon": {
                "analysed": {
                    "start": self.window_start.isoformat(),
                    "end": self.analysed_end.isoformat(),
                    "note": "half-days that have ended are left out",
                },
                "utilization": {
                    "start": self.window_start.isoformat(),
                    "end": self.window_end.isoformat(),
                },
                "contingency": None
                if c is None
                else {"start": c.window_start.isoformat(), "end": c.window_end.isoformat()},
                "unscheduled": range_json(self.unscheduled),
                "unscheduled_before": range_json(self.unscheduled_before),
                "report": self.later.source,
                "later_gaps": len(self.later.gaps),
                "later_n1_half_days": len(self.later.n1_halfdays),
                "later_n2_half_days": len(self.later.n2_halfdays),
            },
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
            "early_warning": None if self.early_warning is None else self.early_warning.to_json(),
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
    later: LaterFindings | None = None,
    policy: VerdictPolicy | None = None,
    analysed_end: date | None = None,
    unscheduled: tuple[date, date] | None = None,
    early_warning: EarlyWarning | None = None,
    unscheduled_before: tuple[date, date] | None = None,
) -> HealthReport:
    """Assess the analysed problems, and what the daily report adds beyond them.

    Args:
        problems: the coverage problems of every half-day the health check analyses itself
            (its utilization and contingency windows), ended half-days already left out.
        window_start, window_end: the utilization window; utilization, coverage and the
            faculty on duty are of this window.
        contingency: the N-1/N-2 summary of the contingency window (None: not analysed).
        later: gaps and findings of the daily report beyond the analysed windows.
        analysed_end: the last date of ``problems``' windows (default ``window_end``).
        unscheduled: the analysed days after the published schedule's end, for the record.
        unscheduled_before: the analysed days before its first day, for the record.
        early_warning: the early-warning verdict on the stored health checks, for the record.
    """
    later = later or LaterFindings()
    in_window = [p for p in problems if p.halfday.date <= window_end]
    util = utilization_of(in_window)
    level = thresholds.level(util.rate)
    gaps: list[Gap] = []
    for p in problems:
        gaps.extend(gaps_of(p))
    window_gap_slots = sum(g.missing for g in gaps if g.halfday.date <= window_end)
    on_duty = len({m.person_id for p in in_window for m in p.pool})
    defense = defense_level(
        now=now,
        clock=clock,
        utilization_level=level,
        gaps=[*gaps, *later.gaps],
        n1_halfdays=None if contingency is None else (*contingency.n1_halfdays, *later.n1_halfdays),
        n2_halfdays=None if contingency is None else (*contingency.n2_halfdays, *later.n2_halfdays),
        policy=policy,
    )
    return HealthReport(
        window_start=window_start,
        window_end=window_end,
        analysed_end=max(analysed_end or window_end, window_end),
        utilization=util,
        utilization_level=level,
        gaps=tuple(gaps),
        filled_slots=util.demand - window_gap_slots,
        defense=defense,
        contingency=contingency,
        later=later,
        faculty_total=faculty_total,
        faculty_present=faculty_present,
        faculty_on_duty=on_duty,
        unscheduled=unscheduled,
        unscheduled_before=unscheduled_before,
        early_warning=early_warning,
    )
