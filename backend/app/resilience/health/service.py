"""Database glue of the health check: load the schedule, run the pure verdict, store a record.

Each function takes the caller's session (the caller owns the transaction, CONVENTIONS.md
rule 4) and returns plain data.

Which findings the verdict weighs (RESILIENCE_MODEL.md section 4, "the horizon"): every gap
and N-1/N-2 finding of the health check's own windows (utilization: ``HEALTH_CHECK_DAYS``;
contingency: ``CONTINGENCY_HEALTH_DAYS``), and those of the daily contingency report beyond
them when one describes the schedule as it is now (``reports.pick_daily_report``: the one
made from these rows whatever its age, else the newest, stale and not used). Half-days that
have ended count for nothing.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.core.db import begin_consistent_read, committed_view
from app.core.gcpause import paused_gc
from app.domain.coverage import (
    build_site_half_days,
    unscheduled_before_range,
    unscheduled_range,
)
from app.domain.presence import Presence
from app.domain.schedule import ScheduleSnapshot, half_days
from app.domain.snapshot import load_rows, require_schedule
from app.models.base import iso_utc, utcnow
from app.models.resilience import HealthCheckRecord
from app.notifications.service import AlertOutcome, raise_alert, resolve_alert
from app.resilience.clock import program_clock
from app.resilience.contingency.chunks import summarize_for_health
from app.resilience.contingency.result import ContingencyResult
from app.resilience.forecast.margins import early_warning_now
from app.resilience.health.levels import ALERT_LEVEL_FOR
from app.resilience.health.report import HealthReport, LaterFindings, assess_health
from app.resilience.policy import HealthPolicy
from app.resilience.reports import DailyReport, daily_report_window, pick_daily_report

DEFENSE_ALERT_KEY = "defense-level"


@dataclass(frozen=True)
class HealthCheckOutcome:
    """A stored health check: its record's id and summary, and the report when run now.

    ``report`` is None when the record already existed (a redelivered task: nothing was run).
    ``alerts``: what the defense-level alert did; send its deliveries after the commit
    (``dispatch_alert_notifications``).
    """

    record_id: int
    summary_json: dict[str, Any]
    report: HealthReport | None
    duration_s: float
    alerts: tuple[AlertOutcome | None, ...] = ()

    @property
    def repeated(self) -> bool:
        return self.report is None

    def summary(self) -> dict[str, Any]:
        """The small JSON dict the task returns."""
        return dict(self.summary_json)


def record_summary(record: HealthCheckRecord) -> dict[str, Any]:
    """The summary of a stored health-check record."""
    result = record.result
    return {
        "record_id": record.id,
        "window_start": record.window_start.isoformat(),
        "window_end": record.window_end.isoformat(),
        "utilization": record.utilization,
        "utilization_level": record.utilization_level,
        "defense_level": record.defense_level,
        "gap_slots": record.gap_count,
        "coverage_rate": round(float(result.get("coverage_rate", 1.0)), 4),
        "n1_status": record.n1_status,
        "n2_status": record.n2_status,
        "duration_s": round(record.duration_s, 3),
    }


def _later_findings(
    daily: DailyReport | None, *, gaps_after: date, findings_after: date
) -> LaterFindings:
    """What the daily report adds beyond the health check's own windows, when it is current."""
    if daily is None:
        return LaterFindings()
    report = daily.row
    source: dict[str, Any] = {
        "id": report.id,
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "created_at": iso_utc(report.created_at),
    }
    if not daily.current:
        return LaterFindings(source={**source, "status": "stale: not used"})
    result = ContingencyResult.from_json(report.report)
    return LaterFindings(
        gaps=tuple(g for sg in result.gaps for g in sg.gaps if g.halfday.date > gaps_after),
        n1_halfdays=tuple(
            sorted({e.halfday for _, e in result.n1_findings() if e.halfday.date > findings_after})
        ),
        n2_halfdays=tuple(
            sorted({e.halfday for _, e in result.n2_findings() if e.halfday.date > findings_after})
        ),
        source={**source, "status": "used"},
    )


def run_health_check(
    session: Session,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
    task_id: str | None = None,
) -> HealthCheckOutcome:
    """Run the health check and store its record (and the defense-level alert).

    Args:
        now: the current instant (tests pass one).
        task_id: the Celery task id; when a record of this task exists already (a redelivered
            message), nothing is run again and that record is returned.

    Everything it reads comes from one state of the database (``begin_consistent_read``), so
    ``session`` must not have read anything yet in its transaction. On SQLite an import that
    commits during the check makes the record's write fail ("database is locked": the
    check's snapshot is out of date); the task retries it on the new data.

    Raises:
        NoSchedule: there is no published schedule to judge (nothing is stored, no alert is
            raised or resolved).
    """
    settings = settings or get_settings()
    # The report row, the program's clock and the schedule: all from one state of the data.
    begin_consistent_read(session)
    if task_id is not None:
        done = session.scalars(
            select(HealthCheckRecord).where(HealthCheckRecord.task_id == task_id)
        ).first()
        if done is not None:
            return HealthCheckOutcome(done.id, record_summary(done), None, done.duration_s)
    require_schedule(session)
    policy = HealthPolicy.from_settings(settings)
    started = utcnow()
    t0 = _time.perf_counter()
    now = now or started
    clock = program_clock(session, settings)
    start = clock.today(now)
    end = start + timedelta(days=policy.utilization_days - 1)
    contingency_end = start + timedelta(days=policy.contingency_days - 1)
    analysed_end = start + timedelta(days=policy.analysed_days - 1)
    window = daily_report_window(session, start, settings.CONTINGENCY_DAYS)
    # One read of the rows for the windows and, when there is a report, its whole window:
    # the report read is the one made from those rows when there is one (found by their
    # fingerprint: nothing of its window is built), and every finding weighed comes from the
    # same state of the schedule.
    load_start, load_end = start, analysed_end
    if window is not None:
        load_start, load_end = min(start, window.start), max(analysed_end, window.end)
    rows = load_rows(session, start=load_start, end=load_end)
    daily = None if window is None else pick_daily_report(session, window, rows)
    with paused_gc():  # the report's findings as frozen objects, over a large heap
        later = _later_findings(daily, gaps_after=analysed_end, findings_after=contingency_end)
    snapshot = rows.snapshot(start, analysed_end)
    # Ended half-days count for nothing: they are not analysed at all, so no gap, finding or
    # N-1 status comes from them.
    live = [
        p
        for p in build_site_half_days(snapshot, start, analysed_end)
        if clock.end_of(p.halfday) > now
    ]
    contingency = summarize_for_health(
        [p for p in live if p.halfday.date <= contingency_end], start, contingency_end
    )
    faculty_total, faculty_present = _faculty_counts(snapshot, start, end)
    report = assess_health(
        live,
        window_start=start,
        window_end=end,
        now=now,
        clock=clock,
        thresholds=policy.thresholds,
        contingency=contingency,
        faculty_total=faculty_total,
        faculty_present=faculty_present,
        later=later,
        policy=policy.verdict,
        analysed_end=analysed_end,
        unscheduled=unscheduled_range(snapshot, start, analysed_end),
        unscheduled_before=unscheduled_before_range(snapshot, start, analysed_end),
        early_warning=early_warning_now(session, start, settings),
    )
    duration = _time.perf_counter() - t0
    record = HealthCheckRecord(
        task_id=task_id,
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
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        # The same task ran at the same moment elsewhere and stored first: that run counts.
        if task_id is None:
            raise
        # Its record was committed after this check's consistent view began: read it fresh.
        with committed_view(session) as other:
            done = other.scalars(
                select(HealthCheckRecord).where(HealthCheckRecord.task_id == task_id)
            ).one()
        return HealthCheckOutcome(done.id, record_summary(done), None, done.duration_s)
    alert = _alert_on_defense_level(session, report, now, settings)
    session.flush()
    return HealthCheckOutcome(record.id, record_summary(record), report, duration, (alert,))


def _faculty_counts(snapshot: ScheduleSnapshot, start: date, end: date) -> tuple[int, int]:
    """Faculty active on some day of the window, and those of them present some half-day."""
    window = half_days(start, (end - start).days + 1)
    presence = Presence(snapshot.people_by_id, snapshot.absences, start, end)
    active = [
        f for f in snapshot.people if f.is_faculty and any(f.is_active(h.date) for h in window)
    ]
    present = [f for f in active if any(presence.present(f, h) for h in window)]
    return len(active), len(present)


DEFENSE_ACTION = (
    "Fill the gaps of the half-days named, or shed lower-priority work, before they start."
)


def _alert_on_defense_level(
    session: Session, report: HealthReport, now: datetime, settings: Settings
) -> AlertOutcome | None:
    level = report.defense.level
    alert_level = ALERT_LEVEL_FOR[level]
    if alert_level is None:
        return resolve_alert(session, DEFENSE_ALERT_KEY, now=now, settings=settings)
    return raise_alert(
        session,
        alert_level,
        f"Defense level {level.value} for {report.window_start}..{report.analysed_end}",
        {
            "dedup_key": DEFENSE_ALERT_KEY,
            "defense_level": level.value,
            "reasons": list(report.defense.reasons[:10]),
            "utilization": report.utilization.to_json()["rate"],
            "gap_slots": report.gap_slots,
            "halfdays": sorted({str(g.halfday) for g in report.gaps})[:20],
            "action": DEFENSE_ACTION,
        },
        now=now,
        settings=settings,
    )


def publish_health_metrics(outcome: HealthCheckOutcome) -> None:
    """Set the Prometheus gauges from a health check run now (a repeated one sets nothing)."""
    from app.core import metrics  # prometheus_client: only where metrics are published

    r = outcome.report
    if r is None:
        return
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
