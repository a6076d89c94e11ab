"""Database glue of the N-1/N-2 contingency analysis: windows, reports, alerts, what-ifs.

The pure analysis lives in ``contingency``; this module loads the schedule in effect, stores
one report per distinct input (idempotent under re-runs), raises alerts only for findings
that are new since the previous report, and answers the what-if questions.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core import metrics
from app.core.errors import InputError, NotFound
from app.models.base import utcnow
from app.models.resilience import ContingencyReport
from app.notifications.service import open_alert_keys, raise_alert, resolve_alert
from app.resilience.contingency import ContingencyResult, analyze_contingency, merge
from app.resilience.contingency_whatif import (
    AbsenceImpact,
    absence_impact,
    cross_training_candidates,
)
from app.resilience.coverage import SiteHalfDay, build_site_half_days
from app.resilience.domain import Absence, Half, ScheduleSnapshot
from app.resilience.fingerprint import site_half_day_digest, window_fingerprint
from app.resilience.health_report import ContingencySummary
from app.resilience.snapshot import load_snapshot

CROSS_TRAINING_RECOMMENDATIONS = 5
N1_ALERT_PREFIX = "contingency:n1:"
N1_COMPLIANCE_KEY = "contingency:n1-compliance"


def summarize_for_health(
    problems: Sequence[SiteHalfDay], start: date, end: date
) -> ContingencySummary:
    """N-1/N-2 of the health check's contingency window (RESILIENCE_MODEL.md section 4).

    Args:
        problems: the coverage problems of ``start``..``end``.
    """
    result = analyze_contingency(problems)
    return ContingencySummary(
        window_start=start,
        window_end=end,
        n1_halfdays=tuple(sorted({e.halfday for _, e in result.n1_findings()})),
        n2_halfdays=tuple(sorted({e.halfday for _, e in result.n2_findings()})),
        critical_faculty=len(result.critical_faculty),
        fatal_pairs=len(result.fatal_pairs),
        n1_pass=result.n1_pass,
        n2_pass=result.n2_pass,
    )


@dataclass(frozen=True)
class ChunkAnalysis:
    """The analysis of one date chunk, in the JSON form that crosses the broker."""

    start: date
    end: date
    result: ContingencyResult
    digests: tuple[str, ...]
    duration_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "result": self.result.to_json(ranking_limit=0),
            "digests": list(self.digests),
            "duration_s": self.duration_s,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ChunkAnalysis:
        return cls(
            date.fromisoformat(d["start"]),
            date.fromisoformat(d["end"]),
            ContingencyResult.from_json(d["result"]),
            tuple(d["digests"]),
            float(d.get("duration_s", 0.0)),
        )


def analyze_chunk(snapshot: ScheduleSnapshot, start: date, end: date) -> ChunkAnalysis:
    """Analyse the dates ``start``..``end`` of ``snapshot``."""
    t0 = _time.perf_counter()
    problems = build_site_half_days(snapshot, start, end)
    return _analyze_problems(problems, snapshot, start, end, t0)


def _analyze_problems(
    problems: Sequence[SiteHalfDay],
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    t0: float,
) -> ChunkAnalysis:
    result = analyze_contingency(problems, snapshot.people_by_id)
    digests = tuple(site_half_day_digest(p) for p in problems)
    return ChunkAnalysis(start, end, result, digests, _time.perf_counter() - t0)


def chunk_dates(start: date, end: date, chunk_days: int) -> list[tuple[date, date]]:
    """Consecutive date ranges of at most ``chunk_days`` covering ``start``..``end``."""
    if chunk_days < 1:
        raise InputError("chunk size must be at least one day")
    out: list[tuple[date, date]] = []
    cur = start
    while cur <= end:
        last = min(end, cur + timedelta(days=chunk_days - 1))
        out.append((cur, last))
        cur = last + timedelta(days=1)
    return out


def analyze_window(
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    *,
    chunk_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ContingencyResult, str]:
    """Analyse ``start``..``end`` chunk by chunk (for progress), merged; with its fingerprint."""
    problems = build_site_half_days(snapshot, start, end)
    return _analyze_in_chunks(problems, snapshot, start, end, chunk_days, progress)


def _analyze_in_chunks(
    problems: Sequence[SiteHalfDay],
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    chunk_days: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[ContingencyResult, str]:
    chunks = chunk_dates(start, end, chunk_days)
    parts: list[ChunkAnalysis] = []
    for i, (a, b) in enumerate(chunks):
        t0 = _time.perf_counter()
        part = [p for p in problems if a <= p.halfday.date <= b]
        parts.append(_analyze_problems(part, snapshot, a, b, t0))
        if progress is not None:
            progress(i + 1, len(chunks))
    return merge_chunks(parts)


def merge_chunks(parts: Sequence[ChunkAnalysis]) -> tuple[ContingencyResult, str]:
    """Merge chunk analyses; the fingerprint equals that of one single-process analysis."""
    ordered = sorted(parts, key=lambda c: c.start)
    digests = [d for c in ordered for d in c.digests]
    return merge([c.result for c in ordered]), window_fingerprint(digests)


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


def run_contingency_report(
    session: Session,
    *,
    start: date,
    days_ahead: int,
    progress: Callable[[int, int], None] | None = None,
) -> ReportOutcome:
    """Analyse ``days_ahead`` days from ``start`` in this process and store the report."""
    if days_ahead < 1:
        raise InputError("--days-ahead must be at least 1")
    end = start + timedelta(days=days_ahead - 1)
    snapshot = load_snapshot(session, start=start, end=end)
    t0 = _time.perf_counter()
    problems = build_site_half_days(snapshot, start, end)
    result, fingerprint = _analyze_in_chunks(problems, snapshot, start, end, progress=progress)
    duration = _time.perf_counter() - t0
    return store_report(
        session,
        start=start,
        end=end,
        fingerprint=fingerprint,
        result=result,
        snapshot=snapshot,
        duration_s=duration,
        problems=problems,
    )


def report_is_stale(session: Session, report: ContingencyReport) -> bool:
    """True when the schedule of the report's window has changed since it was made."""
    snapshot = load_snapshot(session, start=report.start, end=report.end)
    problems = build_site_half_days(snapshot, report.start, report.end)
    return window_fingerprint(site_half_day_digest(p) for p in problems) != report.fingerprint


def what_if_absence(
    session: Session,
    *,
    person_id: str,
    start: date,
    end: date,
    half: Half | None = None,
) -> tuple[AbsenceImpact, list[SiteHalfDay]]:
    """The gaps and findings a proposed absence would add (nothing is stored)."""
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    snapshot = load_snapshot(session, start=start, end=end)
    person = snapshot.people_by_id.get(person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id!r}")
    before = build_site_half_days(snapshot, start, end)
    absence = Absence("what-if", person_id, start, end, "other", half=half, blocking=True)
    after_snapshot = replace(snapshot, absences=(*snapshot.absences, absence))
    after = build_site_half_days(after_snapshot, start, end)
    return absence_impact(before, after, snapshot.people_by_id), after
