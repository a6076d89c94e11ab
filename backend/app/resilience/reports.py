"""Contingency reports: storing them, reading them with current names, and their alerts.

One report is stored per distinct input (idempotent under re-runs and under two runs at
once). The input is known by ``report_fingerprint``, a hash of the raw rows the analysis
reads, so a re-run on unchanged input finds its report before analysing anything, and the
health check knows a stored report is current without rebuilding its window. Names are not
stored but filled in from the current people whenever a report is read. Which report is "the
daily report", the one the health check weighs and the dashboard and API show, is decided here
once (``daily_report_window``, ``pick_daily_report``). The N-1 alerts follow the result of
every run over the standard horizon (from today, ``CONTINGENCY_DAYS``), whether its report was
new or reused; a run over another window leaves them as they are.
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import committed_view
from app.core.gcpause import paused_gc
from app.domain.coverage import range_json
from app.domain.schedule_rows import ScheduleRows
from app.domain.snapshot import load_rows, require_schedule
from app.models.base import iso_utc, utcnow
from app.models.person import Person
from app.models.resilience import ContingencyReport
from app.notifications.service import (
    AlertOutcome,
    AlertSpec,
    open_alert_keys,
    raise_alert,
    raise_alerts,
    resolve_alert,
)
from app.resilience.contingency.crosstrain import CrossTrainingOption
from app.resilience.contingency.report_json import StoredResult
from app.resilience.contingency.result import REPORT_FORMAT, ContingencyResult

CROSS_TRAINING_RECOMMENDATIONS = 5
N1_ALERT_PREFIX = "contingency:n1:"
N1_COMPLIANCE_KEY = "contingency:n1-compliance"
N1_ACTION = (
    "Name a backup for the half-days listed, or cross-train a second person in the"
    " qualification, so that one absence leaves no slot uncovered."
)


@dataclass(frozen=True)
class ReportOutcome:
    """A stored (or reused) report: ``report`` is its JSON with current names filled in;
    ``created_at`` when its row was stored (by this run when ``created``, else by an earlier
    one); ``alerts`` what its alerts did (send their deliveries after the commit with
    ``dispatch_alert_notifications``)."""

    report_id: int
    created: bool
    result: ContingencyResult | StoredResult
    """The findings: built (an analysis in this process), or read from the report's JSON."""
    stored: Mapping[str, Any]
    """The report's JSON as stored (ids only)."""
    names: Mapping[str, str]
    """Current names by person id, for ``report``."""
    duration_s: float
    created_at: datetime
    alerts: tuple[AlertOutcome | None, ...] = ()

    @cached_property
    def report(self) -> dict[str, Any]:
        """The stored JSON with current names (``with_current_names``), made when first read:
        a merge task only returns the summary."""
        return with_current_names(self.stored, self.names)

    def summary(self) -> dict[str, Any]:
        counts = self.result.counts()
        return {
            "report_id": self.report_id,
            "created": self.created,
            "created_at": iso_utc(self.created_at),
            "start": self.stored["window"]["start"],
            "end": self.stored["window"]["end"],
            "unscheduled": self.stored.get("unscheduled"),
            "unscheduled_before": self.stored.get("unscheduled_before"),
            "n1_pass": self.result.n1_pass,
            "n2_pass": self.result.n2_pass,
            "gap_slots": counts["gap_slots"],
            "critical_faculty": counts["critical_faculty"],
            "fatal_pairs": counts["fatal_pairs"],
            "n1_findings": counts["n1_findings"],
            "n2_findings": counts["n2_findings"],
            "duration_s": round(self.duration_s, 3),
        }


FINGERPRINT_TAG = f"contingency-report/{REPORT_FORMAT}"
"""Mixed into every report's fingerprint: a report of another format never matches."""


def report_fingerprint(rows: ScheduleRows, start: date, end: date) -> str:
    """The input fingerprint of the report of ``start``..``end`` (``ScheduleRows.fingerprint``,
    tagged with the report format: a report of another format never matches)."""
    return rows.fingerprint(start, end, tag=FINGERPRINT_TAG)


def has_report_of(session: Session, start: date, end: date) -> bool:
    """True if any report of exactly ``start``..``end`` is stored, whatever its input."""
    c = ContingencyReport.__table__.c
    query = select(c.id).where(c.start == start, c.end == end).limit(1)
    return session.execute(query).first() is not None


def describes(report: ContingencyReport, rows: ScheduleRows) -> bool:
    """True when ``report`` was made from exactly these rows in its window.

    Args:
        rows: the schedule now, loaded for at least the report's window.
    """
    return report_fingerprint(rows, report.start, report.end) == report.fingerprint


@dataclass(frozen=True)
class DailyReportWindow:
    """The window of the daily report, and the newest report of that window."""

    newest_id: int
    start: date
    end: date


@dataclass(frozen=True)
class DailyReport:
    """The daily report, and whether it was made from the schedule as it is now."""

    row: ContingencyReport
    current: bool


def daily_report_window(
    session: Session, today: date, horizon_days: int
) -> DailyReportWindow | None:
    """The window of the daily report: of the reports with days to come, the one reaching
    furthest (the newest among equals); None when there is none.

    A report reaching further than the daily horizon (``horizon_days`` from today,
    ``CONTINGENCY_DAYS``: a one-off year run from the command line) is not the daily report:
    checking it every 15 minutes would cost the health check a rebuild of its whole window.
    A shorter one-off run (``--days-ahead 3``) must not hide the daily report's later
    findings either. Reads ids and dates only: a report is large.
    """
    found = session.execute(
        select(ContingencyReport.id, ContingencyReport.start, ContingencyReport.end)
        .where(
            ContingencyReport.end >= today,
            ContingencyReport.end < today + timedelta(days=horizon_days),
        )
        .order_by(
            ContingencyReport.end.desc(),
            ContingencyReport.created_at.desc(),
            ContingencyReport.id.desc(),
        )
        .limit(1)
    ).first()
    return None if found is None else DailyReportWindow(found.id, found.start, found.end)


def pick_daily_report(
    session: Session, window: DailyReportWindow, rows: ScheduleRows
) -> DailyReport:
    """The report of ``window`` to read: the one made from ``rows`` whatever its age, else the
    newest of the window (not ``current``: the schedule has changed since).

    A schedule change that is undone brings back the input of an earlier report; a re-run
    then reuses that report rather than storing a new one, so the newest report of the window
    is not the one that describes the schedule.

    Args:
        rows: the schedule now, loaded for at least the window.
    """
    fingerprint = report_fingerprint(rows, window.start, window.end)
    current_id = session.scalar(
        select(ContingencyReport.id).where(
            ContingencyReport.fingerprint == fingerprint,
            ContingencyReport.start == window.start,
            ContingencyReport.end == window.end,
        )
    )
    row = session.get_one(ContingencyReport, window.newest_id if current_id is None else current_id)
    return DailyReport(row, current_id is not None)


def daily_report(session: Session, today: date, horizon_days: int) -> DailyReport | None:
    """The daily report as the health check reads it (``daily_report_window``,
    ``pick_daily_report``); None when there is none."""
    window = daily_report_window(session, today, horizon_days)
    if window is None:
        return None
    rows = load_rows(session, start=window.start, end=window.end)
    return pick_daily_report(session, window, rows)


def person_names(session: Session) -> dict[str, str]:
    """Every person's name by id, as stored now."""
    return {person_id: name for person_id, name in session.execute(select(Person.id, Person.name))}


def with_current_names(report: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A shallow copy of a stored report whose ``names`` map gives every person it names.

    Reports store person ids only, so that renaming someone never leaves a stale name in a
    report that is reused for an unchanged schedule. The map covers critical faculty, fatal
    pairs (and so the rankings) and cross-training; an id that is no longer a person gets None.
    The report's findings are shared, not copied: treat the result as read-only.
    """
    ids = {c["person_id"] for c in report.get("critical_faculty", [])}
    for p in report.get("fatal_pairs", []):
        ids.update(p["person_ids"])
    ids.update(o["person_id"] for o in report.get("cross_training", []))
    return {**report, "names": {i: names.get(i) for i in sorted(ids)}}


def _stored_json(
    start: date,
    end: date,
    fingerprint: str,
    result: ContingencyResult | StoredResult,
    cross_training: Sequence[CrossTrainingOption],
    timings: Mapping[str, float],
    unscheduled: tuple[date, date] | None = None,
    unscheduled_before: tuple[date, date] | None = None,
) -> dict[str, Any]:
    """The report as stored: ids only, an empty ``names`` map (see ``with_current_names``)."""
    return {
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "unscheduled": range_json(unscheduled),
        "unscheduled_before": range_json(unscheduled_before),
        "fingerprint": fingerprint,
        **result.to_json(),
        "cross_training": [o.to_json() for o in cross_training],
        "timings": {k: round(v, 4) for k, v in timings.items()},
        "names": {},
    }


def _find_report(
    session: Session, fingerprint: str, start: date, end: date
) -> ContingencyReport | None:
    return session.scalars(
        select(ContingencyReport).where(
            ContingencyReport.fingerprint == fingerprint,
            ContingencyReport.start == start,
            ContingencyReport.end == end,
        )
    ).first()


def reuse_report(
    session: Session,
    *,
    start: date,
    end: date,
    fingerprint: str,
    names: Mapping[str, str],
    now: datetime | None = None,
    alert_cooldown: timedelta | None = None,
    alerts: bool = True,
) -> ReportOutcome | None:
    """The stored report of this input, with alerts reconciled to it; None when there is none.

    Called before any analysis: a re-run on unchanged input reads its report and analyses
    nothing (``created`` False). ``alerts`` False leaves the alerts as they are (a window
    other than the standard horizon: ``contingency.service.is_standard_window``).
    """
    t0 = _time.perf_counter()
    row = _find_report(session, fingerprint, start, end)
    if row is None:
        return None
    result = StoredResult(row.report, names)  # no finding built until read (alerts: N-1 only)
    done = (
        reconcile_alerts(session, result, names, now=now, cooldown=alert_cooldown) if alerts else []
    )
    duration_s = _time.perf_counter() - t0
    return ReportOutcome(
        row.id, False, result, row.report, names, duration_s, row.created_at, tuple(done)
    )


@dataclass(frozen=True)
class ReportInput:
    """The rows a report of a window is made from, their fingerprint and the people's names."""

    rows: ScheduleRows
    fingerprint: str
    names: dict[str, str]


def read_input(
    session: Session, *, start: date, end: date, alerts: bool
) -> ReportInput | ReportOutcome:
    """Read ``start``..``end`` once: the stored report of that input (``reuse_report``), or
    the input to analyse.

    Raises:
        NoSchedule: there is no published schedule to analyse.
    """
    require_schedule(session)
    rows = load_rows(session, start=start, end=end)
    fingerprint = report_fingerprint(rows, start, end)
    names = {p.id: p.name for p in rows.base.people}
    stored = reuse_report(
        session, start=start, end=end, fingerprint=fingerprint, names=names, alerts=alerts
    )
    return stored if stored is not None else ReportInput(rows, fingerprint, names)


def store_report(
    session: Session,
    *,
    start: date,
    end: date,
    fingerprint: str,
    result: ContingencyResult | StoredResult,
    cross_training: Sequence[CrossTrainingOption],
    names: Mapping[str, str],
    duration_s: float,
    cross_training_s: float = 0.0,
    now: datetime | None = None,
    alert_cooldown: timedelta | None = None,
    unscheduled: tuple[date, date] | None = None,
    unscheduled_before: tuple[date, date] | None = None,
    alerts: bool = True,
) -> ReportOutcome:
    """Store the report of ``start``..``end`` unless one with this input exists; reconcile alerts.

    Re-running on unchanged input returns the stored report (``created`` False), so a task
    redelivered under late acknowledgement makes no duplicate. Two runs storing the same input
    at once both succeed: the insert runs in a savepoint, and the one that loses the race on
    the unique input constraint reuses the row the other stored. Either way the alerts are
    reconciled with ``result`` (``reconcile_alerts``).

    Args:
        cross_training: the recommended grants (``CROSS_TRAINING_RECOMMENDATIONS`` of them).
        names: current names by person id, for the returned report and alert messages.
        now, alert_cooldown: passed to the alerts (tests pass them).
        unscheduled: the part of the window after the published schedule's end (not
            analysed: no gaps or findings there).
        unscheduled_before: the part of the window before the schedule's first day (not
            analysed either).
        alerts: False leaves the alerts as they are: only the standard horizon speaks for
            the program (``contingency.service.is_standard_window``).
    """
    row = _find_report(session, fingerprint, start, end)
    created = False
    if row is None:
        timings = {"analysis_s": duration_s, "cross_training_s": cross_training_s}
        counts = result.counts()  # not len(result.fatal_pairs): a stored result builds them
        with paused_gc():  # the report's JSON: many small acyclic objects
            stored = _stored_json(
                start,
                end,
                fingerprint,
                result,
                cross_training,
                timings,
                unscheduled,
                unscheduled_before,
            )
        new = ContingencyReport(
            start=start,
            end=end,
            fingerprint=fingerprint,
            n1_pass=result.n1_pass,
            n2_pass=result.n2_pass,
            gap_count=counts["gap_slots"],
            critical_count=counts["critical_faculty"],
            fatal_pair_count=counts["fatal_pairs"],
            duration_s=duration_s,
            report=stored,
        )
        try:
            with session.begin_nested():
                session.add(new)
                session.flush()
            row, created = new, True
        except IntegrityError:
            # Another run stored the same input since our lookup: use its report (read
            # outside this transaction's consistent view, which began before it existed).
            row = _find_report(session, fingerprint, start, end)
            if row is None:
                with committed_view(session) as other:
                    row = _find_report(other, fingerprint, start, end)
            if row is None:
                raise
    done = (
        reconcile_alerts(session, result, names, now=now, cooldown=alert_cooldown) if alerts else []
    )
    return ReportOutcome(
        row.id, created, result, row.report, names, duration_s, row.created_at, tuple(done)
    )


def reconcile_alerts(
    session: Session,
    result: ContingencyResult | StoredResult,
    names: Mapping[str, str],
    *,
    now: datetime | None = None,
    cooldown: timedelta | None = None,
) -> list[AlertOutcome | None]:
    """Make the contingency alerts follow ``result``, the current state.

    One alert per critical faculty member (``contingency:n1:<person id>``) is opened or
    refreshed (``raise_alert`` decides whether it notifies again); those of people no longer
    critical are resolved. The N-1 compliance alert is raised while N-1 fails and resolved
    when it passes. Returns what each raise and resolution did.
    """
    now = now or utcnow()
    critical_now = {c.person_id for c in result.critical_faculty}
    specs = []
    for c in result.critical_faculty:
        first = c.exposures[0]
        name = names.get(c.person_id) or c.person_id
        specs.append(
            AlertSpec(
                "warning",
                f"{name} is critical: alone holds up"
                f" {c.half_days} half-day(s), first {first.halfday}"
                f" ({', '.join(first.qualifications)})",
                {
                    "dedup_key": f"{N1_ALERT_PREFIX}{c.person_id}",
                    "person_id": c.person_id,
                    "half_days": c.half_days,
                    "residents_affected": c.residents_affected,
                    "who": [name],
                    "halfdays": [str(e.halfday) for e in c.exposures[:20]],
                    "action": N1_ACTION,
                },
            )
        )
    # One query for all of them: a large program has hundreds of critical people.
    outcomes: list[AlertOutcome | None] = list(
        raise_alerts(session, specs, now=now, cooldown=cooldown)
    )
    for key in open_alert_keys(session, N1_ALERT_PREFIX):
        if key.removeprefix(N1_ALERT_PREFIX) not in critical_now:
            outcomes.append(resolve_alert(session, key, now=now))
    if result.n1_pass:
        outcomes.append(resolve_alert(session, N1_COMPLIANCE_KEY, now=now))
        return outcomes
    counts = result.counts()
    outcomes.append(
        raise_alert(
            session,
            "warning",
            f"N-1 contingency fails: {counts['critical_faculty']} critical faculty,"
            f" {counts['gap_slots']} unfilled slot(s)",
            {
                "dedup_key": N1_COMPLIANCE_KEY,
                **counts,
                "who": [names.get(c.person_id) or c.person_id for c in result.critical_faculty][
                    :20
                ],
                "action": N1_ACTION,
            },
            now=now,
            cooldown=cooldown,
        )
    )
    return outcomes


def publish_contingency_metrics(outcome: ReportOutcome) -> None:
    from app.core import metrics  # prometheus_client: only where metrics are published

    counts = outcome.result.counts()
    metrics.critical_faculty.labels(window="horizon").set(counts["critical_faculty"])
    metrics.fatal_pairs.labels(window="horizon").set(counts["fatal_pairs"])
    metrics.contingency_findings.labels(window="horizon", kind="n1").set(counts["n1_findings"])
    metrics.contingency_findings.labels(window="horizon", kind="n2").set(counts["n2_findings"])
    metrics.contingency_findings.labels(window="horizon", kind="gap").set(counts["gap_slots"])
    metrics.contingency_analysis_duration.observe(outcome.duration_s)
    metrics.last_success.labels(task="run_contingency_analysis").set(_time.time())
