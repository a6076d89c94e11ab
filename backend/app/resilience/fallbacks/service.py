"""Stored fallbacks: computing and storing them, listing and reading them, staleness.

The functions the CLI, the tasks and the HTTP API call: ``fallback_window``,
``prepare_fallbacks``, ``store_scenario_fallback``, ``precompute_in_process``,
``list_fallbacks``, ``get_fallback`` and ``fallback_view``. A stored fallback is *stale* once
its window's schedule or absences (or the scenario's definition) differ from what it was
computed from: its fingerprint no longer matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import NotFound
from app.domain.clock import HalfDayClock
from app.domain.coverage import build_site_half_days
from app.domain.schedule import ScheduleSnapshot
from app.domain.snapshot import load_rows, load_snapshot
from app.models.activity import Activity as ActivityRow
from app.models.base import iso_utc
from app.models.fallback import FallbackSchedule
from app.models.person import Person as PersonRow
from app.models.resilience import ContingencyReport
from app.resilience.clock import program_clock
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.service import contingency_window
from app.resilience.fallbacks.compute import compute_fallback, fallback_fingerprint
from app.resilience.fallbacks.scenarios import SCENARIOS, SCENARIOS_BY_NAME, Ranking, Scenario
from app.resilience.reports import describes
from app.scheduling.model import SolverOptions


def solver_options(settings: Settings) -> SolverOptions:
    return SolverOptions(
        time_limit_s=settings.FALLBACK_SOLVER_TIME_LIMIT_S,
        workers=settings.FALLBACK_SOLVER_WORKERS,
        seed=settings.FALLBACK_SOLVER_SEED,
    )


def fallback_window(
    session: Session,
    settings: Settings,
    *,
    days_ahead: int | None,
    start: date | None,
    now: datetime,
) -> tuple[date, date]:
    """First and last date of the fallbacks (default ``FALLBACK_DAYS`` from today); the same
    window rules and consistent read as ``contingency_window``."""
    days = settings.FALLBACK_DAYS if days_ahead is None else days_ahead
    return contingency_window(session, settings, days_ahead=days, start=start, now=now)


def loss_ranking(session: Session, snapshot: ScheduleSnapshot, start: date, end: date) -> Ranking:
    """The most critical faculty member and fatal pair of the window's schedule.

    Taken from the newest stored contingency report of exactly this window when it still
    describes the schedule, else computed now (the analysis is exact: the same answer).
    """
    problems = build_site_half_days(snapshot, start, end)
    report = session.scalars(
        select(ContingencyReport)
        .where(ContingencyReport.start == start, ContingencyReport.end == end)
        .order_by(ContingencyReport.created_at.desc(), ContingencyReport.id.desc())
    ).first()
    if report is not None and describes(report, load_rows(session, start=start, end=end)):
        rankings = report.report["rankings"]
        critical = rankings["critical_by_half_days"]
        pairs = rankings["pairs_by_half_days"]
    else:
        result = analyze_contingency(problems)
        critical = [r.to_json() for r in result.critical_ranking()]
        pairs = [r.to_json() for r in result.pair_ranking()]
    return Ranking(
        tuple(critical[0]["person_ids"]) if critical else (),
        tuple(pairs[0]["person_ids"]) if pairs else (),
    )


def prepare_fallbacks(session: Session, start: date, end: date) -> tuple[ScheduleSnapshot, Ranking]:
    """The window's schedule and the contingency ranking its scenarios lose people from."""
    snapshot = load_snapshot(session, start=start, end=end)
    return snapshot, loss_ranking(session, snapshot, start, end)


def store_scenario_fallback(
    session: Session,
    scenario: Scenario,
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    ranking: Ranking,
    options: SolverOptions,
) -> tuple[FallbackSchedule, bool]:
    """The stored fallback of ``scenario`` for this input, computed and stored if new.

    Returns:
        The row and whether it was computed now (False: unchanged input, stored one reused).
    """
    fingerprint = fallback_fingerprint(snapshot, scenario, start, end)
    row = _find(session, scenario.name, start, end, fingerprint)
    if row is not None:
        return row, False
    result = compute_fallback(snapshot, scenario, start, end, ranking, options)
    row = FallbackSchedule(
        scenario=scenario.name,
        start=start,
        end=end,
        fingerprint=fingerprint,
        status=result["tiers"][0]["status"],
        moves=len(result["moves"]),
        uncovered_slots=result["uncovered_slots"],
        n1_pass=result["contingency"]["n1_pass"],
        n2_pass=result["contingency"]["n2_pass"],
        result=result,
    )
    session.add(row)
    session.flush()
    return row, True


def _find(
    session: Session, scenario: str, start: date, end: date, fingerprint: str
) -> FallbackSchedule | None:
    return session.scalars(
        select(FallbackSchedule).where(
            FallbackSchedule.scenario == scenario,
            FallbackSchedule.start == start,
            FallbackSchedule.end == end,
            FallbackSchedule.fingerprint == fingerprint,
        )
    ).first()


def precompute_in_process(
    session: Session,
    settings: Settings,
    start: date,
    end: date,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[dict[str, Any]]:
    """Every scenario's fallback of the window, in this process; their summaries."""
    snapshot, ranking = prepare_fallbacks(session, start, end)
    out = []
    for i, scenario in enumerate(SCENARIOS):
        if progress is not None:
            progress(i, len(SCENARIOS), scenario.name)
        row, created = store_scenario_fallback(
            session, scenario, snapshot, start, end, ranking, solver_options(settings)
        )
        out.append(fallback_summary(row, stale=False, created=created))
    if progress is not None:
        progress(len(SCENARIOS), len(SCENARIOS), "")
    return out


def fallback_summary(
    row: FallbackSchedule, *, stale: bool, created: bool | None = None
) -> dict[str, Any]:
    """The one-line view of a stored fallback (what lists and task results show)."""
    summary = {
        "id": row.id,
        "scenario": row.scenario,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "created_at": iso_utc(row.created_at),
        "status": row.status,
        "moves": row.moves,
        "uncovered_slots": row.uncovered_slots,
        "greedy_uncovered_slots": row.result["greedy"]["uncovered_slots"],
        "n1_pass": row.n1_pass,
        "n2_pass": row.n2_pass,
        "stale": stale,
    }
    if created is not None:
        summary["created"] = created
    return summary


def stale_ids(session: Session, rows: Iterable[FallbackSchedule]) -> set[int]:
    """The ids of ``rows`` whose input has changed since they were computed."""
    out: set[int] = set()
    snapshots: dict[tuple[date, date], ScheduleSnapshot] = {}
    for row in rows:
        window = (row.start, row.end)
        if window not in snapshots:
            snapshots[window] = load_snapshot(session, start=row.start, end=row.end)
        scenario = SCENARIOS_BY_NAME.get(row.scenario)
        if scenario is None or row.fingerprint != fallback_fingerprint(
            snapshots[window], scenario, row.start, row.end
        ):
            out.add(row.id)
    return out


@dataclass(frozen=True)
class FallbackListing:
    rows: list[FallbackSchedule]
    stale: set[int]

    def to_json(self) -> list[dict[str, Any]]:
        return [fallback_summary(r, stale=r.id in self.stale) for r in self.rows]


def list_fallbacks(session: Session, *, latest_only: bool = True) -> FallbackListing:
    """Stored fallbacks, newest first (with ``latest_only``, the newest per scenario)."""
    rows = list(
        session.scalars(
            select(FallbackSchedule).order_by(
                FallbackSchedule.created_at.desc(), FallbackSchedule.id.desc()
            )
        )
    )
    if latest_only:
        newest: dict[str, FallbackSchedule] = {}
        for row in rows:
            newest.setdefault(row.scenario, row)
        rows = list(newest.values())
    return FallbackListing(rows, stale_ids(session, rows))


def get_fallback(session: Session, fallback_id: int) -> FallbackSchedule:
    """The stored fallback ``fallback_id``; ``NotFound`` otherwise."""
    row = session.get(FallbackSchedule, fallback_id)
    if row is None:
        raise NotFound(f"no fallback with id {fallback_id}")
    return row


def fallback_view(session: Session, fallback_id: int) -> dict[str, Any]:
    """A stored fallback in full: its summary (with staleness) and its result."""
    row = get_fallback(session, fallback_id)
    return {
        **fallback_summary(row, stale=row.id in stale_ids(session, [row])),
        "result": row.result,
    }


def export_context(
    session: Session, settings: Settings
) -> tuple[HalfDayClock, dict[str, str], dict[str, str]]:
    """What an export needs beside the fallback: the program's clock, people's and
    activities' names."""
    people = {pid: name for pid, name in session.execute(select(PersonRow.id, PersonRow.name))}
    activities = {a: name for a, name in session.execute(select(ActivityRow.id, ActivityRow.name))}
    return program_clock(session, settings), people, activities
