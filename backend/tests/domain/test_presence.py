"""Who is unavailable in a half-day (``Presence``), against the rule written out per person.

RESILIENCE_MODEL.md section 2: a person is present in a half-day when active on its date
(``active_from <= date <= active_to``, an open end being no bound) and not away on a blocking
absence covering it (whole days, or only the half it names).
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from app.domain.presence import Presence
from app.domain.schedule import Absence, Half, HalfDay, Person, PersonKind

START = date(2026, 6, 20)
DAYS = 40


def _maybe_day(rng: random.Random) -> date | None:
    if rng.random() < 0.4:
        return None
    return START + timedelta(days=rng.randint(-5, DAYS + 5))


def _people(rng: random.Random) -> list[Person]:
    out = []
    for i in range(rng.randint(1, 25)):
        a, b = _maybe_day(rng), _maybe_day(rng)
        if a and b and a > b and rng.random() < 0.8:
            a, b = b, a  # mostly sensible ranges, some empty ones
        kind = PersonKind.FACULTY if rng.random() < 0.5 else PersonKind.RESIDENT
        out.append(Person(f"P{i:02d}", f"P{i}", kind, active_from=a, active_to=b))
    return out


def _absences(rng: random.Random, people: list[Person]) -> list[Absence]:
    out = []
    for i in range(rng.randint(0, 30)):
        first = START + timedelta(days=rng.randint(-10, DAYS + 5))
        last = first + timedelta(days=rng.randint(0, 6))
        out.append(
            Absence(
                f"A{i}",
                rng.choice(people).id,
                first,
                last,
                "sick",
                half=rng.choice([None, Half.AM, Half.PM]),
                blocking=rng.random() < 0.8,
            )
        )
    return out


def _unavailable_by_rule(
    people: list[Person], absences: list[Absence], day: date, half: Half
) -> set[str]:
    out = set()
    for p in people:
        before = p.active_from is not None and day < p.active_from
        after = p.active_to is not None and day > p.active_to
        away = any(
            a.person_id == p.id
            and a.blocking
            and a.start <= day <= a.end
            and (a.half is None or a.half == half)
            for a in absences
        )
        if before or after or away:
            out.add(p.id)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_unavailable_follows_active_ranges_and_blocking_absences_when_random(seed: int) -> None:
    rng = random.Random(seed)
    people = _people(rng)
    absences = _absences(rng, people)
    first = START + timedelta(days=rng.randint(0, 10))
    last = first + timedelta(days=rng.randint(0, DAYS - 10))
    presence = Presence({p.id: p for p in people}, absences, first, last)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rng.shuffle(days)  # asked in any order, not only forwards
    for day in days:
        for half in (Half.AM, Half.PM):
            expected = _unavailable_by_rule(people, absences, day, half)
            assert presence.unavailable(HalfDay(day, half)) == expected, (day, half)


def test_unavailable_changes_on_the_first_and_the_day_after_the_last_active_day() -> None:
    joins = Person("J", "Joins", PersonKind.FACULTY, active_from=date(2026, 7, 1))
    leaves = Person("L", "Leaves", PersonKind.RESIDENT, active_to=date(2026, 6, 30))
    presence = Presence({"J": joins, "L": leaves}, [], date(2026, 6, 29), date(2026, 7, 2))
    assert presence.unavailable(HalfDay(date(2026, 6, 30), Half.PM)) == {"J"}
    assert presence.unavailable(HalfDay(date(2026, 7, 1), Half.AM)) == {"L"}
    assert presence.unavailable(HalfDay(date(2026, 6, 29), Half.AM)) == {"J"}
