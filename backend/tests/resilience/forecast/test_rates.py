"""Unplanned absence rates learned from synthetic histories with a known rate."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

import pytest

from app.domain.schedule import Absence, Half, Person, PersonKind
from app.resilience.forecast.rates import PRIOR_DAYS, _active_weekdays, estimate_rates

FIRST = date(2025, 1, 6)  # a Monday
LAST = FIRST + timedelta(days=7 * 52 - 1)  # 52 whole weeks


def _faculty(n: int) -> list[Person]:
    return [Person(f"F{i:03d}", f"Dr {i}", PersonKind.FACULTY) for i in range(n)]


def _history(people: list[Person], rate_of: dict[int, float], seed: int) -> list[Absence]:
    """Each person is out sick on each day independently with the weekday's rate."""
    rng = random.Random(seed)
    out = []
    day = FIRST
    while day <= LAST:
        for p in people:
            if rng.random() < rate_of[day.weekday()]:
                out.append(Absence(f"a{len(out)}", p.id, day, day, "sick"))
        day += timedelta(days=1)
    return out


def test_program_rate_per_weekday_matches_the_known_rate() -> None:
    people = _faculty(100)
    known = {0: 0.06, 1: 0.03, 2: 0.03, 3: 0.03, 4: 0.04, 5: 0.01, 6: 0.0}
    rates = estimate_rates(
        people, _history(people, known, 1), FIRST, LAST, default_rate=0.5, min_history_days=28
    )
    assert rates.source == "history"
    assert rates.history_days == 364
    for w, r in known.items():
        # 100 people x 52 days per weekday: binomial standard error at most 0.0034.
        tolerance = 4 * math.sqrt(max(r, 0.001) * (1 - r) / 5200)
        assert rates.program[w] == pytest.approx(r, abs=tolerance)


def test_person_rate_shrinks_towards_the_program_rate() -> None:
    people = _faculty(50)
    known = dict.fromkeys(range(7), 0.02)
    absences = _history(people, known, 2)
    # F000 is out every Monday: 52 absence days out of 52 Mondays.
    absences += [
        Absence(f"m{i}", "F000", FIRST + timedelta(weeks=i), FIRST + timedelta(weeks=i), "sick")
        for i in range(52)
    ]
    rates = estimate_rates(people, absences, FIRST, LAST, default_rate=0.5, min_history_days=28)
    program_monday = rates.program[0]
    # A day with two records counts once.
    mondays_out = len(
        {a.start for a in absences if a.person_id == "F000" and a.start.weekday() == 0}
    )
    expected = (mondays_out + PRIOR_DAYS * program_monday) / (52 + PRIOR_DAYS)
    assert rates.rate("F000", 0) == pytest.approx(expected)
    assert rates.rate("F000", 0) > 0.5
    assert rates.rate("unknown", 3) == rates.program[3]


def test_too_little_history_uses_the_default_rate() -> None:
    people = _faculty(5)
    rates = estimate_rates(
        people, [], FIRST, FIRST + timedelta(days=9), default_rate=0.02, min_history_days=28
    )
    assert rates.source == "default"
    assert rates.program == (0.02,) * 7
    assert rates.rate("F001", 2) == 0.02


def test_planned_absences_residents_and_half_days_are_counted_right() -> None:
    people = [*_faculty(1), Person("R1", "Resident", PersonKind.RESIDENT)]
    monday, next_monday = FIRST, FIRST + timedelta(weeks=1)
    absences = [
        Absence("v", "F000", FIRST, LAST, "vacation"),  # planned: not counted
        Absence("r", "R1", FIRST, LAST, "sick"),  # a resident: not rated
        Absence("h", "F000", monday, monday, "sick", half=Half.AM),  # half a day
        Absence("e", "F000", next_monday, next_monday, "family_emergency"),
    ]
    rates = estimate_rates(people, absences, FIRST, LAST, default_rate=0.5, min_history_days=28)
    assert rates.absence_days == 1.5
    assert list(rates.by_person) == ["F000"]
    assert rates.program[0] == pytest.approx(1.5 / 52)
    assert rates.program[1] == 0.0


def test_active_weekdays_counts_like_a_day_by_day_walk() -> None:
    rng = random.Random(3)
    for _ in range(200):
        first = FIRST + timedelta(days=rng.randint(0, 30))
        last = first + timedelta(days=rng.randint(-3, 60))
        start = first + timedelta(days=rng.randint(-10, 20)) if rng.random() < 0.5 else None
        end = first + timedelta(days=rng.randint(0, 70)) if rng.random() < 0.5 else None
        person = Person("F", "F", PersonKind.FACULTY, active_from=start, active_to=end)
        walk = [0] * 7
        day = first
        while day <= last:
            if person.is_active(day):
                walk[day.weekday()] += 1
            day += timedelta(days=1)
        assert _active_weekdays(person, first, last) == walk
