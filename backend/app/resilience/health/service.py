"""Database glue of the resilience analyses: load a snapshot, run the pure core, store results.

Each function takes the caller's session (the caller owns the transaction, CONVENTIONS.md
rule 4) and returns plain data.
"""

from __future__ import annotations

import time as _time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.core import metrics
from app.core.config import Settings, get_settings
from app.domain.clock import HalfDayClock
from app.domain.coverage import build_site_half_days
from app.domain.schedule import Absence, HalfDay, ScheduleSnapshot, half_days
from app.domain.snapshot import load_snapshot
from app.models.base import utcnow
from app.models.resilience import HealthCheckRecord
from app.notifications.service import raise_alert, resolve_alert
from app.resilience.contingency.chunks import summarize_for_health
from app.resilience.health.levels import (
    ALERT_LEVEL_FOR,
    UtilizationThresholds,
)
from app.resilience.health.report import HealthReport, assess_health

DEFENSE_ALERT_KEY = "defense-level"


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def clock_for(settings: Settings, snapshot: ScheduleSnapshot | None = None) -> HalfDayClock:
    """The program's half-day clock: its own time zone if it has one, else the setting."""
    tz = snapshot.program.timezone if snapshot is not None else settings.PROGRAM_TIMEZONE
    return HalfDayClock(
        timezone=tz or settings.PROGRAM_TIMEZONE,
        am_start=_parse_hhmm(settings.AM_START),
        am_end=_parse_hhmm(settings.AM_END),
        pm_start=_parse_hhmm(settings.PM_START),
        pm_end=_parse_hhmm(settings.PM_END),
    )


def thresholds_for(settings: Settings) -> UtilizationThresholds:
    return UtilizationThresholds(
        yellow=settings.UTILIZATION_YELLOW,
        orange=settings.UTILIZATION_ORANGE,
        red=settings.UTILIZATION_RED,
        black=settings.UTILIZATION_BLACK,
    )


@dataclass(frozen=True)
class HealthCheckOutcome:
    record_id: int
    report: HealthReport
    duration_s: float

    def summary(self) -> dict[str, Any]:
        """The small JSON dict the task returns."""
        r = self.report
        return {
            "record_id": self.record_id,
            "window_start": r.window_start.isoformat(),
            "window_end": r.window_end.isoformat(),
            "utilization": r.utilization.to_json()["rate"],
            "utilization_level": r.utilization_level.value,
            "defense_level": r.defense.level.value,
            "gap_slots": r.gap_slots,
            "coverage_rate": round(r.coverage_rate, 4),
            "n1_status": r.n1_status,
            "n2_status": r.n2_status,
            "duration_s": round(self.duration_s, 3),
        }


def run_health_check(
    session: Session, *, now: datetime | None = None, settings: Settings | None = None
) -> HealthCheckOutcome:
    """Run the health check over the next ``HEALTH_CHECK_DAYS`` days and store its record."""
    settings = settings or get_settings()
    started = utcnow()
    t0 = _time.perf_counter()
    now = now or started
    # Only the dates the checks look at (a day of margin for the program's own time zone).
    rough_today = clock_for(settings).today(now)
    days = max(settings.HEALTH_CHECK_DAYS, settings.CONTINGENCY_HEALTH_DAYS)
    snapshot = load_snapshot(
        session,
        start=rough_today - timedelta(days=1),
        end=rough_today + timedelta(days=days + 1),
    )
    clock = clock_for(settings, snapshot)
    start = clock.today(now)
    end = start + timedelta(days=settings.HEALTH_CHECK_DAYS - 1)
    contingency_end = start + timedelta(days=settings.CONTINGENCY_HEALTH_DAYS - 1)
    # Built once for both windows; N-1/N-2 is fast enough to run on every health check.
    all_problems = build_site_half_days(snapshot, start, max(end, contingency_end))
    problems = [p for p in all_problems if p.halfday.date <= end]
    contingency = summarize_for_health(
        [p for p in all_problems if p.halfday.date <= contingency_end], start, contingency_end
    )
    window = half_days(start, settings.HEALTH_CHECK_DAYS)
    absences: dict[str, list[Absence]] = defaultdict(list)
    for a in snapshot.absences:
        absences[a.person_id].append(a)

    def present_in(person_id: str, hd: HalfDay) -> bool:
        return not any(a.covers(hd) for a in absences.get(person_id, ()))

    active = [
        f for f in snapshot.people if f.is_faculty and any(f.is_active(hd.date) for hd in window)
    ]
    present = [
        f for f in active if any(f.is_active(hd.date) and present_in(f.id, hd) for hd in window)
    ]
    report = assess_health(
        problems,
        window_start=start,
        window_end=end,
        now=now,
        clock=clock,
        thresholds=thresholds_for(settings),
        contingency=contingency,
        faculty_total=len(active),
        faculty_present=len(present),
    )
    duration = _time.perf_counter() - t0
    record = HealthCheckRecord(
        started_at=started,
        finished_at=utcnow(),
        duration_s=duration,
        window_start=start,
        window_end=end,
        utilization=report.utilization.to_json()["rate"],
        utilization_level=report.utilization_level.value,
        defense_level=report.defense.level.value,
        gap_count=report.gap_slots,
        n1_status=report.n1_status,
        n2_status=report.n2_status,
        result=report.to_json(),
    )
    session.add(record)
    _alert_on_defense_level(session, report, now)
    session.flush()
    return HealthCheckOutcome(record.id, report, duration)


def _alert_on_defense_level(session: Session, report: HealthReport, now: datetime) -> None:
    level = report.defense.level
    alert_level = ALERT_LEVEL_FOR[level]
    if alert_level is None:
        resolve_alert(session, DEFENSE_ALERT_KEY, now=now)
        return
    raise_alert(
        session,
        alert_level,
        f"Defense level {level.value} for {report.window_start}..{report.window_end}",
        {
            "dedup_key": DEFENSE_ALERT_KEY,
            "defense_level": level.value,
            "reasons": list(report.defense.reasons[:10]),
            "utilization": report.utilization.to_json()["rate"],
            "gap_slots": report.gap_slots,
        },
        now=now,
    )


def publish_health_metrics(outcome: HealthCheckOutcome) -> None:
    """Set the Prometheus gauges from a health check."""
    r = outcome.report
    metrics.utilization_rate.set(r.utilization.rate)  # +Inf when demand meets nobody
    metrics.utilization_level.set(metrics.LEVEL_VALUES[r.utilization_level.value])
    metrics.defense_level.set(metrics.LEVEL_VALUES[r.defense.level.value])
    metrics.coverage_rate.set(r.coverage_rate)
    metrics.buffer_remaining.set(r.utilization.buffer_remaining)
    metrics.gaps.set(r.gap_slots)
    metrics.faculty_available.labels(type="total").set(r.faculty_total)
    metrics.faculty_available.labels(type="present").set(r.faculty_present)
    metrics.faculty_available.labels(type="on_duty").set(r.faculty_on_duty)
    if r.contingency is not None:
        metrics.n1_compliant.set(1 if r.contingency.n1_pass else 0)
        metrics.n2_compliant.set(1 if r.contingency.n2_pass else 0)
        metrics.critical_faculty.labels(window="health").set(r.contingency.critical_faculty)
        metrics.fatal_pairs.labels(window="health").set(r.contingency.fatal_pairs)
    metrics.health_check_duration.observe(outcome.duration_s)
    metrics.last_success.labels(task="periodic_health_check").set(_time.time())
