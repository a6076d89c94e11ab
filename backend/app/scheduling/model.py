"""The faculty re-roster a fallback solves (RESILIENCE_MODEL.md section 6), as plain data.

A ``RosterProblem`` is a schedule (already carrying a scenario's losses as absences, its demand
changes and its suspended activities) and a horizon. ``build_index`` turns it into the choices
the solver and the greedy baseline make: *slots* (an activity's faculty demand in one half-day
at its site, from the coverage core, ``build_site_half_days``) and *options* (a faculty member
who may fill one of them). Residents stay where they are, so demand is fixed.

Who may fill a slot (the hard rules that are not constraints but the absence of an option):
the faculty member holds the slot's qualification, is active and present (not absent, not lost
in the scenario) and is not off duty in that half-day (assigned to a non-releasable activity).
A member of the site's pool (section 2) fills a slot without any change of assignment; anyone
else is *moved*: assigned to the slot's activity, which is one change. A move of someone whose
current assignment is not clinical (no qualification, or none) adds a clinical half-day to
their week, counted against their weekly cap.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from app.domain.coverage import SiteHalfDay, build_site_half_days
from app.domain.presence import Presence
from app.domain.schedule import Activity, Category, HalfDay, ScheduleSnapshot

Week = tuple[int, int]
"""ISO (year, week) of a date: the period of a weekly cap."""


def week_of(day: date) -> Week:
    iso = day.isocalendar()
    return iso.year, iso.week


@dataclass(frozen=True)
class RosterProblem:
    """A schedule to re-roster its faculty over ``start``..``end`` (inclusive)."""

    snapshot: ScheduleSnapshot
    start: date
    end: date


@dataclass(frozen=True)
class SolverOptions:
    """CP-SAT's limits per solve: seconds, parallel workers and random seed (one worker and a
    fixed seed give the same answer every time)."""

    time_limit_s: float = 10.0
    workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Slot:
    """The faculty demand of one activity in one half-day at its site."""

    halfday: HalfDay
    site: str
    activity_id: str
    category: Category
    qualification: str
    demand: int


@dataclass(frozen=True)
class Option:
    """Faculty member ``person_id`` may fill a unit of ``slots[slot]``.

    Attributes:
        move: filling it needs an assignment change (not in the site's pool).
        adds_clinical: the move adds a clinical half-day to the person's week.
    """

    person_id: str
    slot: int
    move: bool
    adds_clinical: bool


@dataclass(frozen=True)
class RosterIndex:
    """Slots, options and weekly-cap room of a ``RosterProblem``."""

    slots: tuple[Slot, ...]
    options: tuple[Option, ...]
    room: dict[tuple[str, Week], int]
    """Clinical half-days a person may still gain in a week (only capped people)."""
    current: dict[tuple[str, HalfDay], str] = field(repr=False)
    """person, half-day -> the activity of their current assignment (faculty only)."""
    problems: tuple[SiteHalfDay, ...] = field(repr=False)
    """The coverage problems the slots come from, in time order."""


def is_clinical(activity: Activity | None) -> bool:
    """Whether an assignment to ``activity`` is a clinical half-day (it has a qualification)."""
    return activity is not None and activity.qualification is not None


def build_index(problem: RosterProblem) -> RosterIndex:
    """The slots and options of ``problem`` (see the module docstring for the rules)."""
    snap, start, end = problem.snapshot, problem.start, problem.end
    acts = snap.activities_by_id
    faculty = [p for p in snap.people if p.is_faculty]
    presence = Presence(snap.people_by_id, snap.absences, start, end)
    current: dict[tuple[str, HalfDay], str] = {}
    for asg in snap.assignments:
        person = snap.people_by_id.get(asg.person_id)
        in_window = start <= asg.halfday.date <= end
        if person is not None and person.is_faculty and in_window and asg.activity_id in acts:
            current[asg.person_id, asg.halfday] = asg.activity_id

    def available(pid: str, hd: HalfDay) -> bool:
        act_id = current.get((pid, hd))
        return act_id is None or acts[act_id].releasable

    base: dict[tuple[str, Week], int] = defaultdict(int)
    slots: list[Slot] = []
    options: list[Option] = []
    problems = build_site_half_days(snap, start, end)
    by_halfday: dict[HalfDay, list[SiteHalfDay]] = defaultdict(list)
    for site_half_day in problems:
        by_halfday[site_half_day.halfday].append(site_half_day)
    for hd, at_sites in sorted(by_halfday.items()):
        present = [f for f in faculty if presence.present(f, hd) and available(f.id, hd)]
        for f in present:
            if is_clinical(acts.get(current.get((f.id, hd), ""))):
                base[f.id, week_of(hd.date)] += 1
        for sp in at_sites:
            pool = {m.person_id for m in sp.pool}
            for d in sp.demands:
                slots.append(
                    Slot(hd, sp.site, d.activity_id, d.category, d.qualification, d.demand)
                )
                for f in present:
                    if d.qualification not in f.qualifications:
                        continue
                    move = f.id not in pool
                    now = acts.get(current.get((f.id, hd), ""))
                    options.append(
                        Option(f.id, len(slots) - 1, move, move and not is_clinical(now))
                    )
    room: dict[tuple[str, Week], int] = {}
    for opt in options:
        person = snap.people_by_id[opt.person_id]
        if opt.adds_clinical and person.weekly_cap is not None:
            key = (opt.person_id, week_of(slots[opt.slot].halfday.date))
            room[key] = max(0, person.weekly_cap - base[key])
    return RosterIndex(tuple(slots), tuple(options), room, current, tuple(problems))
