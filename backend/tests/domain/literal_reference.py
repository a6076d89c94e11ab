"""RESILIENCE_MODEL.md section 2, read literally: an independent reference for coverage.

Starts from the raw ``ScheduleSnapshot`` fields and never calls the product's
``build_site_half_days``, ``faculty_demand``, ``Presence``, ``gaps_of``, ``Person.is_active``,
``Absence.covers``, ``MinFacultyRule.matches``, ``Activity.min_faculty_on`` or
``ScheduleSnapshot.pgy_on``: each rule is written out again here, per person and per slot, in
the slowest obvious way. Slow on purpose; use on small snapshots only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from math import ceil

from app.domain.schedule import (
    Activity,
    AssignmentRole,
    Half,
    MinFacultyRule,
    Person,
    PersonKind,
    ScheduleSnapshot,
)

Key = tuple[date, Half, str]
"""(date, half, site)."""


@dataclass(frozen=True)
class LiteralSiteHalfDay:
    """What the model says about one half-day at one site."""

    demand: dict[str, int]
    """activity id -> faculty demand, for activities with positive demand."""
    pool: frozenset[str]
    gaps: dict[str, int]
    """activity id -> unfilled slots when slots are filled in sacrifice order."""

    @property
    def total_demand(self) -> int:
        return sum(self.demand.values())


def is_present(snapshot: ScheduleSnapshot, person: Person, day: date, half: Half) -> bool:
    """Active on ``day`` and on no blocking absence that covers this half of it."""
    if person.active_from is not None and day < person.active_from:
        return False
    if person.active_to is not None and day > person.active_to:
        return False
    for absence in snapshot.absences:
        if absence.person_id != person.id or not absence.blocking:
            continue
        if not absence.start <= day <= absence.end:
            continue
        if absence.half is None or absence.half == half:
            return False
    return True


def pgy_level(snapshot: ScheduleSnapshot, person: Person, day: date) -> int:
    """The PGY level on ``day``: one more at each academic-year start since the stated one."""
    assert person.pgy is not None
    if person.pgy_academic_year is None:
        return person.pgy
    month, dom = snapshot.program.academic_year_start
    year_started = day.year if day >= date(day.year, month, dom) else day.year - 1
    return max(1, min(8, person.pgy + (year_started - person.pgy_academic_year)))


def rule_applies(rule: MinFacultyRule, day: date, half: Half, holiday: bool) -> bool:
    if rule.weekdays is not None and day.weekday() not in rule.weekdays:
        return False
    if rule.half is not None and rule.half != half:
        return False
    if rule.start is not None and day < rule.start:
        return False
    if rule.end is not None and day > rule.end:
        return False
    return rule.holiday is None or rule.holiday == holiday


def minimum_faculty(activity: Activity, day: date, half: Half, holiday: bool) -> int:
    """The first rule whose every given field matches sets the minimum; else the default."""
    for rule in activity.min_faculty_rules:
        if rule_applies(rule, day, half, holiday):
            return rule.min_faculty
    return activity.min_faculty


def demand_of(activity: Activity, minimum: int, pgy1: int, pgy2plus: int) -> int:
    """``max(min_faculty, ceil(n1/r1 + n2/r2))`` with exact fractions."""
    need = Fraction(0)
    if activity.ratio_pgy1 is not None:
        need += Fraction(pgy1, activity.ratio_pgy1)
    if activity.ratio_pgy2plus is not None:
        need += Fraction(pgy2plus, activity.ratio_pgy2plus)
    return max(minimum, ceil(need))


def matched_slots(slots: list[str], members: list[frozenset[str]]) -> int:
    """Size of a maximum matching of members to individual slots (Kuhn, from each slot)."""
    holder: list[int | None] = [None] * len(members)  # member -> slot index

    def place(slot: int, seen: set[int]) -> bool:
        for m, quals in enumerate(members):
            if m in seen or slots[slot] not in quals:
                continue
            seen.add(m)
            current = holder[m]
            if current is None or place(current, seen):
                holder[m] = slot
                return True
        return False

    return sum(place(s, set()) for s in range(len(slots)))


def schedule_end_of(snapshot: ScheduleSnapshot) -> date | None:
    """The stated end, else the last date anyone is assigned."""
    if snapshot.program.schedule_end is not None:
        return snapshot.program.schedule_end
    dates = [a.halfday.date for a in snapshot.assignments]
    return max(dates) if dates else None


def literal_coverage(
    snapshot: ScheduleSnapshot, start: date, end: date
) -> dict[Key, LiteralSiteHalfDay]:
    """Section 2 for every half-day and site from ``start`` to ``end`` that has demand or pool."""
    out: dict[Key, LiteralSiteHalfDay] = {}
    last = schedule_end_of(snapshot)
    if last is None:
        return out
    people = {p.id: p for p in snapshot.people}
    activities = {a.id: a for a in snapshot.activities}
    day = start
    while day <= min(end, last):
        for half in (Half.AM, Half.PM):
            here = [a for a in snapshot.assignments if a.halfday.date == day]
            here = [a for a in here if a.halfday.half == half]
            sites = {a.site for a in snapshot.activities}
            for site in sorted(sites):
                found = _site_half_day(snapshot, people, activities, here, day, half, site)
                if found.demand or found.pool:
                    out[(day, half, site)] = found
        day += timedelta(days=1)
    return out


def _site_half_day(
    snapshot: ScheduleSnapshot,
    people: dict[str, Person],
    activities: dict[str, Activity],
    here: list,  # type: ignore[type-arg]
    day: date,
    half: Half,
    site: str,
) -> LiteralSiteHalfDay:
    holiday = day in snapshot.holidays
    demand: dict[str, int] = {}
    for activity in snapshot.activities:
        if activity.site != site or activity.qualification is None:
            continue  # no qualification: no faculty demand at all
        primaries = [
            a for a in here if a.activity_id == activity.id and a.role is AssignmentRole.PRIMARY
        ]
        minimum = minimum_faculty(activity, day, half, holiday)
        if not primaries and minimum == 0:
            continue  # the activity is not in this half-day
        residents = [
            people[a.person_id]
            for a in primaries
            if people[a.person_id].kind is PersonKind.RESIDENT
            and is_present(snapshot, people[a.person_id], day, half)
        ]
        pgy1 = sum(1 for r in residents if pgy_level(snapshot, r, day) == 1)
        need = demand_of(activity, minimum, pgy1, len(residents) - pgy1)
        if need > 0:
            demand[activity.id] = need
    pool: set[str] = set()
    for a in here:
        person, activity = people[a.person_id], activities[a.activity_id]
        if person.kind is not PersonKind.FACULTY or activity.site != site:
            continue
        if not is_present(snapshot, person, day, half):
            continue
        # The model: an activity with a qualification is always releasable.
        releasable = activity.releasable or activity.qualification is not None
        if a.role is AssignmentRole.BACKUP or releasable:
            pool.add(person.id)
    members = [people[p].qualifications for p in sorted(pool)]
    order = sorted(demand, key=lambda i: (activities[i].category.protection, i))
    gaps: dict[str, int] = {}
    slots: list[str] = []
    filled_before = 0
    for activity_id in order:
        # Matroid greedy: the i-th activity gets rank(first i) - rank(first i - 1) slots.
        qualification = activities[activity_id].qualification
        assert qualification is not None
        slots += [qualification] * demand[activity_id]
        filled_now = matched_slots(slots, members)
        if filled_now - filled_before < demand[activity_id]:
            gaps[activity_id] = demand[activity_id] - (filled_now - filled_before)
        filled_before = filled_now
    return LiteralSiteHalfDay(demand, frozenset(pool), gaps)
