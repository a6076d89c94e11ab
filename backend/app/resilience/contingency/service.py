"""Database glue of the N-1/N-2 contingency analysis: the report of a window, and what-ifs."""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.core.config import CONTINGENCY_MAX_DAYS, Settings
from app.core.db import begin_consistent_read
from app.core.errors import InputError, NotFound
from app.core.gcpause import paused_gc
from app.domain.coverage import (
    SiteHalfDay,
    build_site_half_days,
    site_half_days_of_rows,
    unscheduled_before_range,
    unscheduled_range,
)
from app.domain.schedule import Absence, Half, Person
from app.domain.snapshot import load_snapshot
from app.resilience.clock import program_clock
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.crosstrain import cross_training_candidates
from app.resilience.contingency.result import ContingencyResult
from app.resilience.contingency.whatif import AbsenceImpact, absence_impact
from app.resilience.reports import (
    CROSS_TRAINING_RECOMMENDATIONS,
    ReportOutcome,
    read_input,
    store_report,
)


def contingency_window(
    session: Session,
    settings: Settings,
    *,
    days_ahead: int | None,
    start: date | None,
    now: datetime,
) -> tuple[date, date]:
    """First and last date of a contingency report.

    Args:
        days_ahead: days to analyse (None: ``CONTINGENCY_DAYS``).
        start: the first date (None: today on the program's clock at ``now``).

    It begins the analysis's consistent view (``begin_consistent_read``): the program's clock
    read here and the snapshot loaded next see the same state.

    Raises:
        InputError: ``days_ahead`` is below 1 or above ``CONTINGENCY_MAX_DAYS`` (three years).
    """
    begin_consistent_read(session)
    days = settings.CONTINGENCY_DAYS if days_ahead is None else days_ahead
    if days < 1:
        raise InputError("--days-ahead must be at least 1")
    if days > CONTINGENCY_MAX_DAYS:
        raise InputError(
            f"--days-ahead must be at most {CONTINGENCY_MAX_DAYS} (three years), not {days}"
        )
    first = start if start is not None else program_clock(session, settings).today(now)
    return first, window_end(first, days)


def is_standard_window(settings: Settings, days_ahead: int | None, start: date | None) -> bool:
    """True for the standard horizon: from today, ``CONTINGENCY_DAYS`` days (the daily task's).

    Only its reports reconcile the N-1 alerts: a week or a year asked for by hand must not
    resolve and raise again the alerts of people critical outside that window.
    """
    return start is None and (days_ahead is None or days_ahead == settings.CONTINGENCY_DAYS)


def window_end(first: date, days: int) -> date:
    """The last date of ``days`` days from ``first``.

    Raises:
        InputError: the window would run past the last date there is (9999-12-31).
    """
    if days < 1:
        raise InputError("--days-ahead must be at least 1")
    if days - 1 > (date.max - first).days:
        raise InputError(
            f"--start {first} with --days-ahead {days}: the window would run past"
            f" {date.max}, the last date there is"
        )
    return first + timedelta(days=days - 1)


def run_contingency_report(
    session: Session,
    *,
    start: date,
    days_ahead: int,
    progress: Callable[[int, int], None] | None = None,
    alerts: bool = True,
) -> ReportOutcome:
    """Analyse ``days_ahead`` days from ``start`` in this process and store the report.

    The input fingerprint is taken from the rows first: on unchanged input the stored report
    is returned (``created`` False) and nothing is analysed. ``alerts``: reconcile the N-1
    alerts with it (the standard horizon only: ``is_standard_window``).

    Raises:
        NoSchedule: there is no published schedule to analyse (nothing is stored).
    """
    end = window_end(start, days_ahead)
    read = read_input(session, start=start, end=end, alerts=alerts)
    if isinstance(read, ReportOutcome):
        return read
    rows, fingerprint, names = read.rows, read.fingerprint, read.names
    base = rows.base  # no assignments: the problems are built from the rows themselves
    t0 = _time.perf_counter()
    problems = site_half_days_of_rows(rows, start, end)
    del rows
    with paused_gc():  # pure analysis: many small acyclic objects, no garbage cycles
        result = _analyse(problems, base.people_by_id, start, end, progress)
        duration = _time.perf_counter() - t0
        t1 = _time.perf_counter()
        options = cross_training_candidates(problems, result, limit=CROSS_TRAINING_RECOMMENDATIONS)
    return store_report(
        session,
        start=start,
        end=end,
        fingerprint=fingerprint,
        result=result,
        cross_training=options,
        names=names,
        duration_s=duration,
        cross_training_s=_time.perf_counter() - t1,
        unscheduled=unscheduled_range(base, start, end),
        unscheduled_before=unscheduled_before_range(base, start, end),
        alerts=alerts,
    )


def _analyse(
    problems: Sequence[SiteHalfDay],
    people: Mapping[str, Person],
    start: date,
    end: date,
    progress: Callable[[int, int], None] | None,
) -> ContingencyResult:
    """N-1/N-2 of the whole window in one pass (chunks and their merge are for the workers),
    calling ``progress(weeks done, weeks)`` as the days go by."""
    if progress is None:
        return analyze_contingency(problems, people)
    weeks = -(-((end - start).days + 1) // 7)

    def on_day(day: date) -> None:
        progress((day - start).days // 7, weeks)

    result = analyze_contingency(problems, people, on_day=on_day)
    progress(weeks, weeks)
    return result


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
