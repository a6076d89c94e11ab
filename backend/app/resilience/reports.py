"""Contingency reports: storing them, knowing when they are stale, and the alerts they raise.

One report is stored per distinct input (idempotent under re-runs); the N-1 alerts follow the
findings of each run.
"""

from __future__ import annotations

import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core import metrics
from app.domain.coverage import SiteHalfDay, build_site_half_days
from app.domain.fingerprint import site_half_day_digest, window_fingerprint
from app.domain.schedule import ScheduleSnapshot
from app.domain.snapshot import load_snapshot
from app.models.base import utcnow
from app.models.resilience import ContingencyReport
from app.notifications.service import open_alert_keys, raise_alert, resolve_alert
from app.resilience.contingency.crosstrain import cross_training_candidates
from app.resilience.contingency.result import ContingencyResult

CROSS_TRAINING_RECOMMENDATIONS = 5
N1_ALERT_PREFIX = "contingency:n1:"
N1_COMPLIANCE_KEY = "contingency:n1-compliance"


@dataclass(frozen=True)
class ReportOutcome:
    report_id: int
    created: bool
    result: ContingencyResult
    report: dict[str, Any]
    duration_s: float

    def summary(self) -> dict[str, Any]:
        counts = self.result.counts()
        return {
            "report_id": self.report_id,
            "created": self.created,
            "start": self.report["window"]["start"],
            "end": self.report["window"]["end"],
            "n1_pass": self.result.n1_pass,
            "n2_pass": self.result.n2_pass,
            "gap_slots": counts["gap_slots"],
            "critical_faculty": counts["critical_faculty"],
            "fatal_pairs": counts["fatal_pairs"],
            "n1_findings": counts["n1_findings"],
            "n2_findings": counts["n2_findings"],
            "duration_s": round(self.duration_s, 3),
        }


def store_report(
    session: Session,
    *,
    start: date,
    end: date,
    fingerprint: str,
    result: ContingencyResult,
    snapshot: ScheduleSnapshot,
    duration_s: float,
    problems: Sequence[SiteHalfDay] | None = None,
) -> ReportOutcome:
    """Store the report of ``start``..``end`` unless one with this input already exists.

    Re-running on unchanged input returns the stored report (``created`` False), so a task
    redelivered under late acknowledgement makes no duplicate and no new alerts.

    Args:
        problems: the window's coverage problems when the caller has them; otherwise they are
            built from ``snapshot`` for the cross-training what-if, only if a report is new.
    """
    existing = session.scalars(
        select(ContingencyReport).where(
            ContingencyReport.fingerprint == fingerprint,
            ContingencyReport.start == start,
            ContingencyReport.end == end,
        )
    ).first()
    if existing is not None:
        return ReportOutcome(existing.id, False, result, existing.report, duration_s)
    t0 = _time.perf_counter()
    if problems is None:
        problems = build_site_half_days(snapshot, start, end)
    options = cross_training_candidates(problems, result, limit=CROSS_TRAINING_RECOMMENDATIONS)
    what_if_s = _time.perf_counter() - t0
    names = {p.id: p.name for p in snapshot.people}
    report = {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "fingerprint": fingerprint,
        **result.to_json(),
        "cross_training": [{**o.to_json(), "name": names.get(o.person_id)} for o in options],
        "timings": {"analysis_s": round(duration_s, 4), "cross_training_s": round(what_if_s, 4)},
    }
    previous = session.scalars(
        select(ContingencyReport).order_by(ContingencyReport.created_at.desc()).limit(1)
    ).first()
    row = ContingencyReport(
        start=start,
        end=end,
        fingerprint=fingerprint,
        n1_pass=result.n1_pass,
        n2_pass=result.n2_pass,
        gap_count=result.counts()["gap_slots"],
        critical_count=len(result.critical_faculty),
        fatal_pair_count=len(result.fatal_pairs),
        duration_s=duration_s,
        report=report,
    )
    session.add(row)
    session.flush()
    _alert_on_new_findings(session, result, previous)
    return ReportOutcome(row.id, True, result, report, duration_s)


def _alert_on_new_findings(
    session: Session, result: ContingencyResult, previous: ContingencyReport | None
) -> None:
    """Alert when N-1 newly fails or a faculty member newly becomes critical."""
    was_critical = (
        {c["person_id"] for c in previous.report.get("critical_faculty", [])} if previous else set()
    )
    was_passing = previous.n1_pass if previous is not None else True
    now = utcnow()
    critical_now = {c.person_id for c in result.critical_faculty}
    for c in result.critical_faculty:
        if c.person_id in was_critical:
            continue
        first = c.exposures[0]
        raise_alert(
            session,
            "warning",
            f"{c.name or c.person_id} is critical: alone holds up {c.half_days} half-day(s),"
            f" first {first.halfday} ({', '.join(first.qualifications)})",
            {
                "dedup_key": f"{N1_ALERT_PREFIX}{c.person_id}",
                "person_id": c.person_id,
                "half_days": c.half_days,
                "residents_affected": c.residents_affected,
            },
            now=now,
        )
    for key in open_alert_keys(session, N1_ALERT_PREFIX):
        if key.removeprefix(N1_ALERT_PREFIX) not in critical_now:
            resolve_alert(session, key, now=now)
    if not result.n1_pass and was_passing:
        counts = result.counts()
        raise_alert(
            session,
            "warning",
            f"N-1 contingency fails: {counts['critical_faculty']} critical faculty,"
            f" {counts['gap_slots']} unfilled slot(s)",
            {"dedup_key": N1_COMPLIANCE_KEY, **counts},
            now=now,
        )
    elif result.n1_pass:
        resolve_alert(session, N1_COMPLIANCE_KEY, now=now)


def publish_contingency_metrics(outcome: ReportOutcome) -> None:
    counts = outcome.result.counts()
    metrics.critical_faculty.labels(window="horizon").set(counts["critical_faculty"])
    metrics.fatal_pairs.labels(window="horizon").set(counts["fatal_pairs"])
    metrics.contingency_findings.labels(window="horizon", kind="n1").set(counts["n1_findings"])
    metrics.contingency_findings.labels(window="horizon", kind="n2").set(counts["n2_findings"])
    metrics.contingency_findings.labels(window="horizon", kind="gap").set(counts["gap_slots"])
    metrics.contingency_analysis_duration.observe(outcome.duration_s)
    metrics.last_success.labels(task="run_contingency_analysis").set(_time.time())


def report_is_stale(session: Session, report: ContingencyReport) -> bool:
    """True when the schedule of the report's window has changed since it was made."""
    snapshot = load_snapshot(session, start=report.start, end=report.end)
    problems = build_site_half_days(snapshot, report.start, report.end)
    return window_fingerprint(site_half_day_digest(p) for p in problems) != report.fingerprint
