"""Forecast days after the schedule's end repeat the program's typical week."""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.schedule import (
    Absence,
    Activity,
    Assignment,
    Category,
    Half,
    HalfDay,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
)
from app.resilience.forecast.demand import forecast_problems, template_days

MONDAY = date(2025, 6, 30)
HOLIDAY = MONDAY + timedelta(weeks=1)  # the schedule's last Monday
END = MONDAY + timedelta(days=13)  # a Sunday: two scheduled weeks


def _snapshot(
    absences: tuple[Absence, ...] = (), active_to: date | None = None
) -> ScheduleSnapshot:
    people = (
        Person("F1", "Dr One", PersonKind.FACULTY, qualifications=frozenset({"a"})),
        Person(
            "F2", "Dr Two", PersonKind.FACULTY, qualifications=frozenset({"a"}), active_to=active_to
        ),
    )
    clinic = Activity("clinic", "Clinic", Category.CONTINUITY_OF_CARE, "main", "a", min_faculty=1)
    assignments = []
    for day in (MONDAY + timedelta(days=i) for i in range(14)):
        if day.weekday() < 5:
            who = "F2" if day == HOLIDAY else "F1"
            assignments.append(Assignment(who, HalfDay(day, Half.AM), "clinic"))
            if day.weekday() == 1:
                assignments.append(Assignment("F2", HalfDay(day, Half.AM), "clinic"))
    return ScheduleSnapshot(
        ProgramInfo(schedule_end=END),
        people,
        (clinic,),
        tuple(assignments),
        absences,
        frozenset({HOLIDAY}),
    )


def test_template_days_are_the_latest_of_each_weekday_skipping_holidays() -> None:
    templates = template_days(_snapshot())
    assert templates[0] == MONDAY  # the last Monday is a holiday: the one before
    assert templates[1] == HOLIDAY + timedelta(days=1)
    assert templates[6] == END


def test_days_after_the_end_repeat_their_template_day_and_are_marked() -> None:
    problems, extrapolated = forecast_problems(_snapshot(), MONDAY, END + timedelta(days=14))
    assert extrapolated == [END + timedelta(days=i) for i in range(1, 15)]
    pools = {(p.halfday.date, p.halfday.half): {m.person_id for m in p.pool} for p in problems}
    next_monday = END + timedelta(days=1)
    assert pools[next_monday, Half.AM] == {"F1"}  # from the Monday before the holiday
    assert pools[next_monday + timedelta(days=1), Half.AM] == {"F1", "F2"}  # a Tuesday
    assert pools[next_monday + timedelta(days=7), Half.AM] == {"F1"}
    demand = {(p.halfday.date, p.halfday.half): p.total_demand for p in problems}
    assert demand[next_monday, Half.AM] == 1


def test_extrapolated_days_still_see_known_absences_and_departures() -> None:
    later_tuesday = END + timedelta(days=9)
    gone = END + timedelta(days=3)
    snapshot = _snapshot(
        absences=(Absence("x", "F1", later_tuesday, later_tuesday, "conference"),),
        active_to=gone,
    )
    problems, _ = forecast_problems(snapshot, END + timedelta(days=1), END + timedelta(days=14))
    pools = {(p.halfday.date, p.halfday.half): {m.person_id for m in p.pool} for p in problems}
    assert pools[END + timedelta(days=2), Half.AM] == {"F1", "F2"}  # Tuesday, F2 still here
    assert pools[later_tuesday, Half.AM] == set()  # F1 away, F2 gone: a gap


def test_a_window_inside_the_schedule_extrapolates_nothing() -> None:
    _, extrapolated = forecast_problems(_snapshot(), MONDAY, END)
    assert extrapolated == []
