"""Tiny hand-made programs for the solver tests: each builds exactly the case a test names."""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.schedule import (
    Absence,
    Activity,
    Assignment,
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
)
from app.scheduling.model import RosterIndex, RosterProblem, SolverOptions, build_index
from app.scheduling.solve import RosterSolution, solve_roster

MON = date(2026, 12, 7)  # a Monday
ONE_WORKER = SolverOptions(time_limit_s=30, workers=1, seed=0)


def hd(day_offset: int, half: str = "AM") -> HalfDay:
    return HalfDay(MON + timedelta(days=day_offset), Half(half))


def faculty(pid: str, *quals: str, cap: int | None = None, **dates: date) -> Person:
    return Person(
        pid, pid, PersonKind.FACULTY, qualifications=frozenset(quals), weekly_cap=cap, **dates
    )


def resident(pid: str) -> Person:
    return Person(pid, pid, PersonKind.RESIDENT, pgy=2)


def clinic(
    aid: str, qual: str = "q", site: str = "main", category: Category | None = None
) -> Activity:
    """An activity needing one ``qual`` faculty member per resident assigned (ratio 1)."""
    cat = category or Category.CONTINUITY_OF_CARE
    return Activity(aid, aid, cat, site, qual, ratio_pgy1=1, ratio_pgy2plus=1)


def off_duty(aid: str = "post_call") -> Activity:
    return Activity(aid, aid, Category.ADMINISTRATION, "main", None, releasable=False)


def admin(aid: str = "admin", site: str = "main") -> Activity:
    return Activity(aid, aid, Category.ADMINISTRATION, site, None)


def on(person: str, activity: str, halfday: HalfDay) -> Assignment:
    return Assignment(person, halfday, activity, AssignmentRole.PRIMARY)


def away(person: str, day_offset: int) -> Absence:
    day = MON + timedelta(days=day_offset)
    return Absence(f"a-{person}-{day_offset}", person, day, day, "vacation")


def snapshot(
    people: list[Person],
    activities: list[Activity],
    assignments: list[Assignment],
    absences: list[Absence] | None = None,
) -> ScheduleSnapshot:
    return ScheduleSnapshot(
        ProgramInfo(schedule_end=MON + timedelta(days=13)),
        tuple(people),
        tuple(activities),
        tuple(assignments),
        tuple(absences or ()),
    )


def solve(snap: ScheduleSnapshot, days: int = 7) -> tuple[RosterSolution, RosterIndex]:
    index = build_index(RosterProblem(snap, MON, MON + timedelta(days=days - 1)))
    return solve_roster(index, ONE_WORKER), index
