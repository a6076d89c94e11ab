"""Coverage of one half-day at one site (RESILIENCE_MODEL.md section 2).

The faculty demand of an activity in a half-day is
``max(min_faculty, ceil(n1 / r1 + n2 / r2))``; each unit is a slot that needs a faculty member
holding the activity's qualification. A half-day at a site is represented by its demand
per activity and by its pool of present faculty; covering it is a bipartite matching of pool
members (one slot each) to activities (capacity = demand). ``fill_in_sacrifice_order`` solves
it exactly with augmenting paths, adding slots most protected activity first, so that the
slots left empty (the gaps) are the least protected ones.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import filterfalse, groupby
from operator import itemgetter

from app.core.gcpause import paused_gc
from app.domain.matching import filled_slots
from app.domain.presence import Presence
from app.domain.schedule import (
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    PersonKind,
    ScheduleSnapshot,
    half_days,
    pgy_in_academic_year,
)
from app.domain.schedule_rows import ScheduleRows


@dataclass(frozen=True)
class ActivityDemand:
    """The faculty an activity needs in one half-day, and the residents it supervises."""

    activity_id: str
    category: Category
    qualification: str
    demand: int
    residents: tuple[str, ...]


@dataclass(frozen=True)
class PoolMember:
    person_id: str
    qualifications: frozenset[str]


@dataclass(frozen=True)
class SiteHalfDay:
    """One half-day at one site: what faculty it needs and who is on hand."""

    halfday: HalfDay
    site: str
    demands: tuple[ActivityDemand, ...]
    """Activities with positive demand, most protected category first."""
    pool: tuple[PoolMember, ...]

    @property
    def total_demand(self) -> int:
        return sum(d.demand for d in self.demands)

    @property
    def pool_size(self) -> int:
        return len(self.pool)

    def demand_by_qualification(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for d in self.demands:
            out[d.qualification] += d.demand
        return dict(out)


@dataclass(frozen=True)
class Gap:
    """Slots left unfilled by every maximum matching's count (which activity: least protected)."""

    halfday: HalfDay
    site: str
    activity_id: str
    category: Category
    qualification: str
    missing: int

    def to_json(self) -> dict[str, object]:
        return {
            **self.halfday.to_json(),
            "site": self.site,
            "activity_id": self.activity_id,
            "category": self.category.value,
            "qualification": self.qualification,
            "missing": self.missing,
        }


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def faculty_demand(min_faculty: int, n1: int, n2: int, r1: int | None, r2: int | None) -> int:
    """``max(min_faculty, ceil(n1/r1 + n2/r2))`` in exact integer arithmetic.

    A missing ratio means that group needs no supervision.
    """
    num, den = 0, 1
    if r1 and n1:
        num, den = n1, r1
    if r2 and n2:
        num, den = num * r2 + n2 * den, den * r2
    return max(min_faculty, _ceil_div(num, den) if num else 0)


def build_site_half_days(
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    shed: frozenset[Category] = frozenset(),
) -> list[SiteHalfDay]:
    """The coverage problems of every half-day from ``start`` to ``end`` inclusive.

    Days after the schedule end (``ScheduleSnapshot.schedule_end``) or before its start
    (``ScheduleSnapshot.schedule_start``) are not part of the published schedule: they give
    no problems (no gaps), and with no schedule at all nothing does. ``unscheduled_range``
    and ``unscheduled_before_range`` name those days.

    Args:
        snapshot: the schedule in effect.
        start, end: the dates of the window (inclusive).
        shed: categories whose activities are shed: no demand, faculty releasable.

    Returns:
        One ``SiteHalfDay`` per half-day and site that has demand or a pool, in time order,
        from the schedule start up to the schedule end.
    """
    grouped: dict[tuple[date, Half], dict[tuple[str, bool], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for asg in snapshot.assignments:
        hd = asg.halfday
        if start <= hd.date <= end:
            grouped[hd.date, hd.half][asg.activity_id, asg.role is AssignmentRole.PRIMARY].append(
                asg.person_id
            )
    by_halfday: dict[tuple[date, Half], list[_Group]] = {
        key: [(activity_id, primary, people) for (activity_id, primary), people in g.items()]
        for key, g in grouped.items()
    }
    return _site_half_days(snapshot, by_halfday, start, end, shed)


def site_half_days_of_rows(rows: ScheduleRows, start: date, end: date) -> list[SiteHalfDay]:
    """``build_site_half_days`` of ``rows.snapshot(start, end)``, without building it: the
    assignment groups of each half-day are read as they are (sorted by date and half)."""
    by_halfday: dict[tuple[date, Half], list[_Group]] = {}
    for (day, half), groups in groupby(rows.between(start, end), key=itemgetter(0, 1)):
        by_halfday[date.fromisoformat(day), Half(half)] = [
            (activity_id, role == _PRIMARY, people.split(" "))
            for _, _, activity_id, role, people in groups
        ]
    return _site_half_days(rows.base, by_halfday, start, end, frozenset())


_Group = tuple[str, bool, Sequence[str]]
"""The assignments of one activity and role in a half-day: ``(activity_id, primary, people)``."""
_PRIMARY = AssignmentRole.PRIMARY.value


def _site_half_days(
    snapshot: ScheduleSnapshot,
    by_halfday: Mapping[tuple[date, Half], list[_Group]],
    start: date,
    end: date,
    shed: frozenset[Category],
) -> list[SiteHalfDay]:
    if snapshot.schedule_end is None:
        return []
    end = min(end, snapshot.schedule_end)
    if snapshot.schedule_start is not None:
        start = max(start, snapshot.schedule_start)
    if end < start:
        return []
    # Building allocates a few hundred thousand small objects and no reference cycles; pausing
    # the cyclic collector meanwhile saves about a third of the time on a large program.
    with paused_gc():
        return _build_site_half_days(snapshot, by_halfday, start, end, shed)


def _build_site_half_days(
    snapshot: ScheduleSnapshot,
    by_halfday: Mapping[tuple[date, Half], list[_Group]],
    start: date,
    end: date,
    shed: frozenset[Category],
) -> list[SiteHalfDay]:
    acts = snapshot.activities_by_id
    people = snapshot.people_by_id
    presence = Presence(snapshot.people_by_id, snapshot.absences, start, end)
    academic_year = snapshot.program.academic_year
    # Activities with a minimum for some half-day are "in" it even with nobody assigned.
    with_minimum = {a.id for a in snapshot.activities if a.min_faculty or a.min_faculty_rules}
    # Built once per person (and the PGY-1 residents once per academic year), not per half-day.
    members = {
        p.id: PoolMember(p.id, p.qualifications)
        for p in snapshot.people
        if p.kind is PersonKind.FACULTY
    }
    trainees = [p for p in snapshot.people if p.kind is not PersonKind.FACULTY]
    first_years: dict[int, frozenset[str]] = {}  # by academic year: the PGY-1 residents
    known = frozenset(people)
    # The loops below run once per assignment (a year of a large program: hundreds of
    # thousands): filter and map with C-level predicates, not Python comprehensions.
    is_member, member_of = members.__contains__, members.__getitem__

    days = (end - start).days + 1
    out: list[SiteHalfDay] = []

    for hd in half_days(start, days):
        is_holiday = hd.date in snapshot.holidays
        supervised: dict[str, list[str]] = defaultdict(list)  # residents, by activity
        staffed: set[str] = set()
        pools: dict[str, set[str]] = defaultdict(set)  # present faculty ids, by site
        day, half = hd.date, hd.half
        year = academic_year(day)
        pgy1 = first_years.get(year)
        if pgy1 is None:
            pgy1 = first_years[year] = frozenset(
                p.id for p in trainees if (pgy_in_academic_year(p, year) or 2) == 1
            )
        unavailable = presence.unavailable(hd)
        for activity_id, primary, group in by_halfday.get((day, half), ()):
            act = acts.get(activity_id)
            if act is None:
                continue
            if not known.issuperset(group):
                group = tuple(p for p in group if p in known)
                if not group:
                    continue
            if primary:
                staffed.add(activity_id)
            present = (
                group
                if unavailable.isdisjoint(group)
                else list(filterfalse(unavailable.__contains__, group))
            )
            # The pool never depends on demand: only off-duty activities (no qualification,
            # so no demand either) keep their faculty out, unless shedding releases them.
            if not primary or act.releasable or act.category in shed:
                faculty = list(filter(is_member, present))
                if faculty:  # a site with no pool and no demand is not a problem at all
                    pools[act.site].update(faculty)
            # The residents an activity supervises count only where it has a demand: one
            # that needs a qualification and is not shed.
            if primary and act.qualification is not None and act.category not in shed:
                supervised[activity_id] += filterfalse(is_member, present)

        demand_of: dict[str, int] = {}
        for act_id in with_minimum | staffed:
            act = acts[act_id]
            if act.qualification is None or act.category in shed:
                continue
            residents = supervised.get(act_id, ())
            first_year = sum(map(pgy1.__contains__, residents))
            d = faculty_demand(
                act.min_faculty_on(hd, is_holiday),
                first_year,
                len(residents) - first_year,
                act.ratio_pgy1,
                act.ratio_pgy2plus,
            )
            if d > 0:
                demand_of[act_id] = d

        demands_by_site: dict[str, list[ActivityDemand]] = defaultdict(list)
        for act_id, d in demand_of.items():
            act = acts[act_id]
            assert act.qualification is not None
            demands_by_site[act.site].append(
                ActivityDemand(
                    act_id, act.category, act.qualification, d, tuple(sorted(supervised[act_id]))
                )
            )
        for site in sorted(set(pools) | set(demands_by_site)):
            demands = sorted(
                demands_by_site.get(site, []), key=lambda x: (x.category.protection, x.activity_id)
            )
            pool = tuple(map(member_of, sorted(pools.get(site, ()))))
            out.append(SiteHalfDay(hd, site, tuple(demands), pool))
    return out


def unscheduled_range(
    snapshot: ScheduleSnapshot, start: date, end: date
) -> tuple[date, date] | None:
    """The part of ``start``..``end`` after the schedule end, as (first, last) dates.

    Those days are unscheduled (RESILIENCE_MODEL.md section 4): not gaps, not counted in the
    level. None when every day of the window is scheduled (or the window is empty).
    """
    schedule_end = snapshot.schedule_end
    if schedule_end is not None and schedule_end >= end:
        return None  # also keeps a schedule ending on date.max from overflowing below
    first = start if schedule_end is None else max(start, schedule_end + timedelta(days=1))
    return (first, end) if first <= end else None


def unscheduled_before_range(
    snapshot: ScheduleSnapshot, start: date, end: date
) -> tuple[date, date] | None:
    """The part of ``start``..``end`` before the schedule's first day, as (first, last) dates.

    Unscheduled as the days after its end are (``unscheduled_range``): not gaps, not counted
    in the level. None when the window starts on or after that day, or there is no schedule
    (then ``unscheduled_range`` has the whole window).
    """
    schedule_start = snapshot.schedule_start
    if snapshot.schedule_end is None or schedule_start is None or schedule_start <= start:
        return None
    last = min(end, schedule_start - timedelta(days=1))
    return (start, last) if start <= last else None


def range_json(days: tuple[date, date] | None) -> dict[str, str] | None:
    """``{"start", "end"}`` ISO dates of a (first, last) range such as ``unscheduled_range``'s,
    or None."""
    return None if days is None else {"start": days[0].isoformat(), "end": days[1].isoformat()}


def gaps_of(problem: SiteHalfDay, exclude: frozenset[str] = frozenset()) -> list[Gap]:
    """The unfilled slots of ``problem``: the least protected ones (sacrifice order).

    The number of unfilled slots is that of every maximum matching; which activities they
    belong to follows ``fill_in_sacrifice_order``.
    """
    filled = filled_slots(problem, exclude)
    return [
        Gap(
            problem.halfday,
            problem.site,
            d.activity_id,
            d.category,
            d.qualification,
            d.demand - filled[d.activity_id],
        )
        for d in problem.demands
        if filled[d.activity_id] < d.demand
    ]


def is_covered(problem: SiteHalfDay, exclude: frozenset[str] = frozenset()) -> bool:
    return sum(filled_slots(problem, exclude).values()) == problem.total_demand
