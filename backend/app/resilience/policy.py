"""The health check's windows and thresholds in one object, built from the settings.

Nothing else in the resilience package keeps a window, a threshold or a clock time of its own:
they all come from here, so a setting can never be shadowed by a module constant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

from app.core.config import Settings
from app.domain.clock import HalfDayClock
from app.resilience.health.levels import UtilizationThresholds
from app.resilience.health.verdict import VerdictPolicy


@dataclass(frozen=True)
class HealthPolicy:
    """Windows, thresholds and the program clock's times for every verdict.

    Attributes:
        utilization_days: the health check's utilization window ("the next 7 days"); a gap in
            it is RED.
        contingency_days: the health check's own N-1/N-2 window ("within 14 days").
        urgent_window: "within 48 hours" for gaps in patient-safety and ACGME work.
        thresholds: the utilization levels' lower bounds.
        default_timezone: the time zone of a program that names none.
    """

    utilization_days: int
    contingency_days: int
    urgent_window: timedelta
    thresholds: UtilizationThresholds
    default_timezone: str
    am_start: time
    am_end: time
    pm_start: time
    pm_end: time

    @classmethod
    def from_settings(cls, settings: Settings) -> HealthPolicy:
        return cls(
            utilization_days=settings.HEALTH_CHECK_DAYS,
            contingency_days=settings.CONTINGENCY_HEALTH_DAYS,
            urgent_window=timedelta(hours=settings.URGENT_GAP_HOURS),
            thresholds=UtilizationThresholds(
                yellow=settings.UTILIZATION_YELLOW,
                orange=settings.UTILIZATION_ORANGE,
                red=settings.UTILIZATION_RED,
                black=settings.UTILIZATION_BLACK,
            ),
            default_timezone=settings.PROGRAM_TIMEZONE,
            am_start=settings.AM_START,
            am_end=settings.AM_END,
            pm_start=settings.PM_START,
            pm_end=settings.PM_END,
        )

    @property
    def verdict(self) -> VerdictPolicy:
        return VerdictPolicy(
            near_days=self.utilization_days,
            contingency_days=self.contingency_days,
            urgent_window=self.urgent_window,
        )

    @property
    def analysed_days(self) -> int:
        """Days from today the health check analyses itself (the longer of its windows)."""
        return max(self.utilization_days, self.contingency_days)

    def clock(self, timezone: str | None = None) -> HalfDayClock:
        """The half-day clock of a program in ``timezone`` (default: the setting)."""
        return HalfDayClock(
            timezone=timezone or self.default_timezone,
            am_start=self.am_start,
            am_end=self.am_end,
            pm_start=self.pm_start,
            pm_end=self.pm_end,
        )
