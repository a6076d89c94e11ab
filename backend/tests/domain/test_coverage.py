"""Coverage of one half-day (RESILIENCE_MODEL.md section 2)."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from app.domain.coverage import (
    ActivityDemand,
    PoolMember,
    SiteHalfDay,
    build_site_half_days,
    gaps_of,
    is_covered,
    unscheduled_before_range,
    unscheduled_range,
)
from app.domain.matching import fill_in_sacrifice_order
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

DAY = date(2026, 12, 2)  # a Wednesday
AM = HalfDay(DAY, Half.AM)


def faculty(pid: str, *quals: str, **kw: object) -> Person:
    return Person(pid, pid, PersonKind.FACULTY, qualifications=frozenset(quals), **kw)  # type: ignore[arg-type]


def resident(pid: str, pgy: int) -> Person:
    return Person(pid, pid, PersonKind.RESIDENT, pgy=pgy, pgy_academic_year=2026)


CLINIC = Activity(
    "clinic",
    "Clinic",
    Category.CONTINUITY_OF_CARE,
    "main",
    "clinic_preceptor",
    ratio_pgy1=2,
    ratio_pgy2plus=4,
)
WARDS = Activity("wards", "Wards", Category.PATIENT_SAFETY, "main", "inpatient", min_faculty=1)
ADMIN = Activity("admin", "Admin", Category.ADMINISTRATION, "main", None, releasable=True)
POSTCALL = Activity(
    "postcall", "Post-call", Category.ACGME_REQUIREMENTS, "main", None, releasable=False
)
REMOTE = Activity(
    "tele",
    "Telehealth",
    Category.CONTINUITY_OF_CARE,
    "remote",
    "clinic_preceptor",
    ratio_pgy2plus=4,
)


def snap(people, activities, assignments, absences=()):  # type: ignore[no-untyped-def]
    return ScheduleSnapshot(
        ProgramInfo(), tuple(people), tuple(activities), tuple(assignments), tuple(absences)
    )


def asg(pid: str, act: str, role: AssignmentRole = AssignmentRole.PRIMARY) -> Assignment:
    return Assignment(pid, AM, act, role)


def test_demand_uses_ratios_and_minimum() -> None:
    people = [resident("r1", 1), resident("r2", 1), resident("r3", 2), faculty("f1", "inpatient")]
    s = snap(
        people, [CLINIC, WARDS], [asg("r1", "clinic"), asg("r2", "clinic"), asg("r3", "clinic")]
    )
    (site,) = [p for p in build_site_half_days(s, DAY, DAY) if p.halfday == AM]
    demands = {d.activity_id: d.demand for d in site.demands}
    # 2 PGY-1 / 2 + 1 PGY-2 / 4 = 1.25 -> 2 preceptors; wards minimum 1 though nobody assigned.
    assert demands == {"clinic": 2, "wards": 1}
    assert site.pool == ()  # f1 is not on duty this half-day
    assert sum(g.missing for g in gaps_of(site)) == 3


def test_pgy_advances_at_academic_year_start() -> None:
    intern = Person("r1", "r1", PersonKind.RESIDENT, pgy=1, pgy_academic_year=2025)
    s = snap([intern], [CLINIC], [])
    assert s.pgy_on(intern, date(2026, 6, 30)) == 1
    assert s.pgy_on(intern, date(2026, 7, 1)) == 2


def test_pool_includes_demand_releasable_and_backup_but_not_postcall() -> None:
    people = [
        resident("r1", 2),
        faculty("f1", "clinic_preceptor"),
        faculty("f2", "clinic_preceptor"),
        faculty("f3", "clinic_preceptor"),
        faculty("f4", "clinic_preceptor"),
    ]
    s = snap(
        people,
        [CLINIC, ADMIN, POSTCALL],
        [
            asg("r1", "clinic"),
            asg("f1", "clinic"),
            asg("f2", "admin"),
            asg("f3", "postcall"),
            asg("f4", "clinic", AssignmentRole.BACKUP),
        ],
    )
    (site,) = build_site_half_days(s, DAY, DAY)
    assert [m.person_id for m in site.pool] == ["f1", "f2", "f4"]


def test_pool_is_per_site_and_absence_removes_member() -> None:
    people = [
        resident("r1", 2),
        resident("r2", 2),
        faculty("f1", "clinic_preceptor"),
        faculty("f2", "clinic_preceptor"),
    ]
    absence = Absence("a1", "f2", DAY, DAY, "vacation", half=Half.AM)
    s = snap(
        people,
        [CLINIC, REMOTE],
        [asg("r1", "clinic"), asg("r2", "tele"), asg("f1", "clinic"), asg("f2", "tele")],
        [absence],
    )
    sites = {p.site: p for p in build_site_half_days(s, DAY, DAY) if p.halfday == AM}
    assert is_covered(sites["main"])
    assert not is_covered(sites["remote"])  # f2 is away and f1 cannot cross sites
    # A non-blocking absence leaves the member in the pool.
    s2 = snap(
        people,
        [CLINIC, REMOTE],
        [asg("r1", "clinic"), asg("r2", "tele"), asg("f1", "clinic"), asg("f2", "tele")],
        [Absence("a1", "f2", DAY, DAY, "telework", blocking=False)],
    )
    sites2 = {p.site: p for p in build_site_half_days(s2, DAY, DAY) if p.halfday == AM}
    assert is_covered(sites2["remote"])


def test_min_faculty_rule_first_match_wins() -> None:
    act = Activity(
        "wards",
        "Wards",
        Category.PATIENT_SAFETY,
        "main",
        "inpatient",
        min_faculty=1,
        min_faculty_rules=(
            MinFacultyRule(3, weekdays=frozenset({2}), half=Half.AM),
            MinFacultyRule(2, weekdays=frozenset({2})),
        ),
    )
    assert act.min_faculty_on(AM, False) == 3
    assert act.min_faculty_on(HalfDay(DAY, Half.PM), False) == 2
    assert act.min_faculty_on(HalfDay(date(2026, 12, 3), Half.AM), False) == 1


def test_shedding_removes_demand_and_releases_faculty() -> None:
    people = [resident("r1", 2), faculty("f1", "clinic_preceptor", "inpatient")]
    s = snap(people, [CLINIC, WARDS], [asg("r1", "clinic"), asg("f1", "clinic")])
    before = [p for p in build_site_half_days(s, DAY, DAY) if p.halfday == AM][0]
    after = [
        p
        for p in build_site_half_days(s, DAY, DAY, frozenset({Category.CONTINUITY_OF_CARE}))
        if p.halfday == AM
    ][0]
    assert not is_covered(before)  # one person, two slots
    assert is_covered(after) and [d.activity_id for d in after.demands] == ["wards"]


def test_gap_falls_on_least_protected_activity_of_a_qualification() -> None:
    problem = SiteHalfDay(
        AM,
        "main",
        (
            ActivityDemand("wards", Category.PATIENT_SAFETY, "md", 1, ()),
            ActivityDemand("clinic", Category.CONTINUITY_OF_CARE, "md", 1, ()),
        ),
        (PoolMember("f1", frozenset({"md"})),),
    )
    (gap,) = gaps_of(problem)
    assert gap.activity_id == "clinic" and gap.missing == 1


def _exhaustive_max(problem: SiteHalfDay) -> int:
    """Try every way of giving each pool member one slot or none (tiny cases only)."""
    slots = [d.qualification for d in problem.demands for _ in range(d.demand)]
    best = 0
    options = [[None, *range(len(slots))] for _ in problem.pool]
    for choice in itertools.product(*options):
        used = [c for c in choice if c is not None]
        if len(used) != len(set(used)):
            continue
        if all(
            slots[c] in m.qualifications
            for m, c in zip(problem.pool, choice, strict=True)
            if c is not None
        ):
            best = max(best, len(used))
    return best


def test_sacrifice_order_filling_is_maximum_on_random_cases() -> None:
    rng = random.Random(11)
    quals = ["a", "b", "c"]
    for _ in range(400):
        demands = tuple(
            ActivityDemand(
                f"act{i}", rng.choice(list(Category)), rng.choice(quals), rng.randint(1, 2), ()
            )
            for i in range(rng.randint(1, 3))
        )
        pool = tuple(
            PoolMember(f"f{i}", frozenset(rng.sample(quals, rng.randint(0, 3))))
            for i in range(rng.randint(0, 4))
        )
        problem = SiteHalfDay(AM, "main", demands, pool)
        if sum(d.demand for d in demands) > 5:
            continue
        qualification = {d.activity_id: d.qualification for d in demands}
        got = {p: qualification[a] for p, a in fill_in_sacrifice_order(problem).items()}
        assert len(got) == _exhaustive_max(problem)
        for person, q in got.items():
            assert q in next(m for m in pool if m.person_id == person).qualifications
        assert is_covered(problem) == (len(got) == problem.total_demand)


def test_pool_keeps_faculty_of_activity_with_qualification_when_it_has_no_residents() -> None:
    # A clinic preceptor with nobody to precept this half-day is still on hand at the site.
    without = snap([faculty("f1", "clinic_preceptor")], [CLINIC, WARDS], [asg("f1", "clinic")])
    with_one = snap(
        [faculty("f1", "clinic_preceptor"), resident("r1", 2)],
        [CLINIC, WARDS],
        [asg("f1", "clinic"), asg("r1", "clinic")],
    )
    (alone,) = build_site_half_days(without, DAY, DAY)[:1]
    (busy,) = build_site_half_days(with_one, DAY, DAY)[:1]
    assert [m.person_id for m in alone.pool] == ["f1"]
    assert [m.person_id for m in busy.pool] == ["f1"]  # a resident adds a slot, never a person


def test_activity_with_qualification_is_releasable_when_it_says_not() -> None:
    clinic = Activity("c", "C", Category.CONTINUITY_OF_CARE, "main", "q", releasable=False)
    rest = Activity("r", "Rest", Category.ACGME_REQUIREMENTS, "main", None, releasable=False)
    plain = Activity("a", "A", Category.PATIENT_SAFETY, "main", None)
    assert (clinic.releasable, rest.releasable, plain.releasable) == (True, False, True)


def _one_member_two_services(clinic_qualification: str) -> SiteHalfDay:
    return SiteHalfDay(
        AM,
        "main",
        (
            ActivityDemand("wards", Category.PATIENT_SAFETY, "inpatient", 1, ()),
            ActivityDemand("clinic", Category.CONTINUITY_OF_CARE, clinic_qualification, 1, ()),
        ),
        (PoolMember("f1", frozenset({"inpatient", clinic_qualification})),),
    )


def test_gap_falls_on_least_protected_activity_whatever_the_qualification_ids() -> None:
    for spelling in ("clinic_preceptor", "zz_clinic_preceptor", "a_clinic_preceptor"):
        (gap,) = gaps_of(_one_member_two_services(spelling))
        assert (gap.activity_id, gap.category, gap.missing) == (
            "clinic",
            Category.CONTINUITY_OF_CARE,
            1,
        ), spelling


def test_gap_follows_activity_id_when_categories_tie() -> None:
    problem = SiteHalfDay(
        AM,
        "main",
        (
            ActivityDemand("a_ward", Category.PATIENT_SAFETY, "zz", 1, ()),
            ActivityDemand("b_ward", Category.PATIENT_SAFETY, "aa", 1, ()),
        ),
        (PoolMember("f1", frozenset({"aa", "zz"})),),
    )
    assert [g.activity_id for g in gaps_of(problem)] == ["b_ward"]


def _wards_snapshot(schedule_end: date | None, assigned: bool = True) -> ScheduleSnapshot:
    return ScheduleSnapshot(
        ProgramInfo(schedule_end=schedule_end),
        (faculty("f1", "inpatient"),),
        (WARDS,),
        (asg("f1", "wards"),) if assigned else (),
    )


def test_build_site_half_days_stops_at_schedule_end_when_window_goes_beyond() -> None:
    window = (DAY, DAY + timedelta(days=3))
    stated = build_site_half_days(_wards_snapshot(DAY + timedelta(days=1)), *window)
    assert sorted({p.halfday.date for p in stated}) == [DAY, DAY + timedelta(days=1)]
    # With no stated end, the last date with an assignment ends the schedule.
    by_default = build_site_half_days(_wards_snapshot(None), *window)
    assert [str(p.halfday) for p in by_default] == ["2026-12-02 AM", "2026-12-02 PM"]
    assert build_site_half_days(_wards_snapshot(None, assigned=False), *window) == []


def test_unscheduled_range_is_the_part_after_schedule_end() -> None:
    s = _wards_snapshot(date(2026, 12, 10))
    assert unscheduled_range(s, date(2026, 12, 1), date(2026, 12, 9)) is None
    assert unscheduled_range(s, date(2026, 12, 1), date(2026, 12, 10)) is None
    assert unscheduled_range(s, date(2026, 12, 5), date(2026, 12, 20)) == (
        date(2026, 12, 11),
        date(2026, 12, 20),
    )
    assert unscheduled_range(s, date(2026, 12, 15), date(2026, 12, 20)) == (
        date(2026, 12, 15),
        date(2026, 12, 20),
    )
    empty = _wards_snapshot(None, assigned=False)
    assert unscheduled_range(empty, DAY, DAY) == (DAY, DAY)


def test_build_site_half_days_starts_at_the_first_assigned_day_when_window_begins_before() -> None:
    # WARDS needs one faculty member every half-day: any day judged before the schedule's
    # first day (DAY, f1's morning) would show up as a problem with a gap.
    window = (DAY - timedelta(days=3), DAY + timedelta(days=1))
    s = _wards_snapshot(DAY + timedelta(days=1))
    problems = build_site_half_days(s, *window)
    assert sorted({p.halfday.date for p in problems}) == [DAY, DAY + timedelta(days=1)]
    # A stated start earlier than the first assignment is the one in effect.
    early = ScheduleSnapshot(
        ProgramInfo(schedule_end=DAY, schedule_start=DAY - timedelta(days=1)),
        s.people,
        s.activities,
        s.assignments,
    )
    dates = sorted({p.halfday.date for p in build_site_half_days(early, *window)})
    assert dates == [DAY - timedelta(days=1), DAY]


def test_unscheduled_before_range_is_the_part_before_the_first_assigned_day() -> None:
    s = _wards_snapshot(date(2026, 12, 10))  # assigned on DAY (2026-12-02) only
    assert s.schedule_start == DAY
    assert unscheduled_before_range(s, DAY, date(2026, 12, 9)) is None
    assert unscheduled_before_range(s, date(2026, 12, 3), date(2026, 12, 9)) is None
    assert unscheduled_before_range(s, date(2026, 11, 20), date(2026, 12, 5)) == (
        date(2026, 11, 20),
        date(2026, 12, 1),
    )
    assert unscheduled_before_range(s, date(2026, 11, 20), date(2026, 11, 25)) == (
        date(2026, 11, 20),
        date(2026, 11, 25),
    )
    # No schedule at all: the whole window is ``unscheduled_range``'s, not this one's.
    empty = _wards_snapshot(None, assigned=False)
    assert unscheduled_before_range(empty, DAY, DAY) is None
    assert unscheduled_range(empty, DAY, DAY) == (DAY, DAY)
