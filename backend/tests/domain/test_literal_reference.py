"""The product's coverage (section 2) equals the literal reference on random snapshots."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from app.domain.coverage import build_site_half_days, gaps_of
from app.domain.schedule import (
    Absence,
    Activity,
    Assignment,
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    MinFacultyRule,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
)
from tests.domain.literal_reference import Key, LiteralSiteHalfDay, literal_coverage

SITES = ("main", "north", "remote")
QUALS = ("inpatient", "clinic", "ob")
# Windows around a July 1 (PGY levels advance) and around a holiday.
STARTS = (date(2026, 6, 27), date(2026, 12, 21), date(2027, 1, 15))


def _maybe(rng: random.Random, value: object, p: float = 0.5) -> object:
    return value if rng.random() < p else None


def random_rule(rng: random.Random, start: date) -> MinFacultyRule:
    first = start + timedelta(days=rng.randint(-2, 5))
    return MinFacultyRule(
        min_faculty=rng.randint(0, 3),
        weekdays=_maybe(rng, frozenset(rng.sample(range(7), rng.randint(1, 4)))),  # type: ignore[arg-type]
        half=_maybe(rng, rng.choice(list(Half))),  # type: ignore[arg-type]
        start=_maybe(rng, first),  # type: ignore[arg-type]
        end=_maybe(rng, first + timedelta(days=rng.randint(0, 4))),  # type: ignore[arg-type]
        holiday=_maybe(rng, rng.random() < 0.5, 0.6),  # type: ignore[arg-type]
    )


def random_activity(rng: random.Random, i: int, start: date) -> Activity:
    if rng.random() < 0.25:  # off-duty time or other work without a qualification
        return Activity(
            f"act{i}",
            f"Activity {i}",
            rng.choice(list(Category)),
            rng.choice(SITES),
            None,
            releasable=rng.random() < 0.5,
        )
    return Activity(
        f"act{i}",
        f"Activity {i}",
        rng.choice(list(Category)),
        rng.choice(SITES),
        rng.choice(QUALS),
        min_faculty=rng.choice([0, 0, 1, 2]),
        min_faculty_rules=tuple(random_rule(rng, start) for _ in range(rng.randint(0, 3))),
        ratio_pgy1=rng.choice([None, 1, 2, 3]),
        ratio_pgy2plus=rng.choice([None, 2, 4]),
        releasable=rng.random() < 0.5,  # read as True: every one of these has a qualification
    )


def random_person(rng: random.Random, i: int, start: date) -> Person:
    active_from = _maybe(rng, start + timedelta(days=rng.randint(-3, 4)), 0.25)
    active_to = _maybe(rng, start + timedelta(days=rng.randint(1, 8)), 0.25)
    if active_from and active_to and active_to < active_from:  # type: ignore[operator]
        active_from, active_to = active_to, active_from
    common = {"active_from": active_from, "active_to": active_to}
    if rng.random() < 0.5:
        return Person(
            f"r{i}",
            f"Resident {i}",
            PersonKind.RESIDENT,
            pgy=rng.randint(1, 3),
            pgy_academic_year=rng.choice([2025, 2026, 2027]),
            **common,  # type: ignore[arg-type]
        )
    quals = frozenset(rng.sample(QUALS, rng.randint(0, 3)))
    return Person(f"f{i}", f"Faculty {i}", PersonKind.FACULTY, qualifications=quals, **common)  # type: ignore[arg-type]


def random_snapshot(rng: random.Random) -> tuple[ScheduleSnapshot, date, date]:
    start = rng.choice(STARTS)
    days = rng.randint(3, 7)
    window_end = start + timedelta(days=days - 1)
    activities = [random_activity(rng, i, start) for i in range(rng.randint(2, 7))]
    people = [random_person(rng, i, start) for i in range(rng.randint(3, 12))]
    assignments = []
    for person in people:
        for d in range(-1, days + 1):
            for half in Half:
                if rng.random() < 0.6:
                    role = AssignmentRole.BACKUP if rng.random() < 0.2 else AssignmentRole.PRIMARY
                    halfday = HalfDay(start + timedelta(days=d), half)
                    act = rng.choice(activities).id
                    assignments.append(Assignment(person.id, halfday, act, role))
    absences = []
    for i in range(rng.randint(0, 8)):
        first = start + timedelta(days=rng.randint(-6, days))  # some begin before the window
        absences.append(
            Absence(
                f"a{i}",
                rng.choice(people).id,
                first,
                first + timedelta(days=rng.randint(0, 5)),
                "vacation",
                half=rng.choice([None, None, Half.AM, Half.PM]),
                blocking=rng.random() < 0.85,
            )
        )
    holidays = frozenset(start + timedelta(days=d) for d in range(days) if rng.random() < 0.25) | {
        date(2026, 12, 25),
        date(2027, 1, 18),
    }
    schedule_end = _maybe(rng, start + timedelta(days=rng.randint(-1, days + 1)), 0.3)
    program = ProgramInfo(
        academic_year_start=rng.choice([(7, 1), (7, 1), (1, 1)]),
        schedule_end=schedule_end,  # type: ignore[arg-type]
    )
    snapshot = ScheduleSnapshot(
        program, tuple(people), tuple(activities), tuple(assignments), tuple(absences), holidays
    )
    return snapshot, start, window_end


def product_coverage(snapshot: ScheduleSnapshot, start: date, end: date) -> dict[Key, object]:
    out: dict[Key, object] = {}
    for p in build_site_half_days(snapshot, start, end):
        out[(p.halfday.date, p.halfday.half, p.site)] = (
            {d.activity_id: d.demand for d in p.demands},
            frozenset(m.person_id for m in p.pool),
            {g.activity_id: g.missing for g in gaps_of(p)},
            p.total_demand,
        )
    return out


def as_compared(found: dict[Key, LiteralSiteHalfDay]) -> dict[Key, object]:
    return {k: (v.demand, v.pool, v.gaps, v.total_demand) for k, v in found.items()}


@pytest.mark.parametrize("seed", range(6))
def test_build_site_half_days_and_gaps_equal_literal_reference_on_random_snapshots(
    seed: int,
) -> None:
    rng = random.Random(1000 + seed)
    seen = {"gaps": 0, "demand": 0, "pool": 0}
    for _ in range(40):
        snapshot, start, end = random_snapshot(rng)
        expected = literal_coverage(snapshot, start, end)
        assert product_coverage(snapshot, start, end) == as_compared(expected)
        seen["gaps"] += sum(bool(v.gaps) for v in expected.values())
        seen["demand"] += sum(v.total_demand for v in expected.values())
        seen["pool"] += sum(len(v.pool) for v in expected.values())
    # The comparison ran on snapshots where coverage has something to say.
    assert all(count > 0 for count in seen.values()), seen
