"""The demo program's absences: planned ones the roster works around, unplanned ones after.

Planned absences (vacations, conferences, a deployment, a PCS move, parental leave, medical
appointments) are known when the schedule is made, so nobody is rostered on them. Sick days
and family emergencies are drawn after the roster exists, as they happen in real life: they
are what leaves a few half-days short.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.demo.people import FacultyPlan, ResidentPlan


@dataclass
class AbsencePlan:
    """An absence over days ``first_day``..``last_day`` (day numbers from the start)."""

    person_id: str
    first_day: int
    last_day: int
    type: str
    half: int | None = None
    """None for whole days, 0 for AM only, 1 for PM only."""
    blocking: bool | None = None
    reason: str | None = None


class AbsenceBook:
    """Collects absences and keeps one person's absences from overlapping."""

    def __init__(self, rng: random.Random, days: int, first_monday: int) -> None:
        self.rng = rng
        self.days = days
        self.first_monday = first_monday
        self.absences: list[AbsencePlan] = []
        self._taken: dict[str, set[int]] = {}

    @property
    def weeks(self) -> int:
        """Whole Monday-to-Friday weeks inside the horizon."""
        return max(0, (self.days - self.first_monday - 5) // 7 + 1)

    def free(self, person_id: str, first_day: int, last_day: int) -> bool:
        taken = self._taken.get(person_id, set())
        return all(d not in taken for d in range(first_day, last_day + 1))

    def add(self, absence: AbsencePlan) -> None:
        assert 0 <= absence.first_day <= absence.last_day < self.days, absence
        self.absences.append(absence)
        taken = self._taken.setdefault(absence.person_id, set())
        taken.update(range(absence.first_day, absence.last_day + 1))

    def add_in_week(
        self,
        person_id: str,
        kind: str,
        weekdays: tuple[int, int],
        active: Callable[[int], bool],
        reason: str | None = None,
    ) -> bool:
        """Place an absence on weekdays ``weekdays`` (inclusive) of a random free week."""
        if self.weeks == 0:
            return False
        for _ in range(8):  # a few tries; a busy calendar simply gets one absence fewer
            monday = self.first_monday + 7 * self.rng.randrange(self.weeks)
            first, last = monday + weekdays[0], monday + weekdays[1]
            fits = last < self.days and active(first) and active(last)
            if fits and self.free(person_id, first, last):
                self.add(AbsencePlan(person_id, first, last, kind, reason=reason))
                return True
        return False

    def blocked_half_days(self) -> dict[str, set[tuple[int, int]]]:
        """Person id -> the (day, half) pairs its blocking absences take out."""
        out: dict[str, set[tuple[int, int]]] = {}
        for a in self.absences:
            if a.blocking is False or a.type == "telework":
                continue
            halves = (0, 1) if a.half is None else (a.half,)
            out.setdefault(a.person_id, set()).update(
                (d, h) for d in range(a.first_day, a.last_day + 1) for h in halves
            )
        return out


def _per_year(rng: random.Random, choices: Sequence[int], weeks: int) -> int:
    return round(rng.choice(choices) * weeks / 52)


def plan_routine_absences(
    book: AbsenceBook,
    faculty: list[FacultyPlan],
    residents: list[ResidentPlan],
    weeks: int,
) -> None:
    """Vacations, conferences, appointments, telework days and one parental leave."""
    rng = book.rng
    for f in faculty:
        for _ in range(_per_year(rng, (2, 3, 3), weeks)):
            book.add_in_week(f.id, "vacation", (0, 4), f.active)
        if rng.random() < 0.8 * min(1.0, weeks / 26):
            book.add_in_week(f.id, "conference", (1, 3), f.active)
        if rng.random() < 0.3 and book.weeks:
            day = book.first_monday + 7 * rng.randrange(book.weeks) + rng.randrange(5)
            if f.active(day) and book.free(f.id, day, day):
                book.add(AbsencePlan(f.id, day, day, "medical", half=rng.randrange(2)))
        if rng.random() < 0.15:
            # Telework does not block by default; it is here to be seen, not to cut coverage.
            book.add_in_week(f.id, "telework", (4, 4), f.active)
    for r in residents:
        for _ in range(_per_year(rng, (2, 2, 3), weeks)):
            book.add_in_week(r.id, "vacation", (0, 4), r.active)
        if r.pgy >= 2 and rng.random() < 0.5 * min(1.0, weeks / 26):
            book.add_in_week(r.id, "conference", (0, 2), r.active)
    if len(residents) >= 9 and book.weeks >= 12:
        parent = residents[rng.randrange(len(residents) // 3, len(residents))]
        book.add_in_week(parent.id, "parental", (0, 7 * 5 + 4), parent.active)


def plan_unplanned_absences(
    book: AbsenceBook,
    people: Sequence[FacultyPlan | ResidentPlan],
    working_days: list[int],
    weeks: int,
) -> None:
    """Sick days for many people and a family emergency or two, on working days."""
    rng = book.rng
    if not working_days:
        return
    for p in people:
        for _ in range(_per_year(rng, (0, 1, 1, 2, 3), weeks)):
            day = rng.choice(working_days)
            if p.active(day) and book.free(p.id, day, day):
                book.add(AbsencePlan(p.id, day, day, "sick"))
    for p in rng.sample(list(people), min(len(people), max(1, len(people) // 30))):
        day = rng.choice(working_days)
        fits = day + 2 < book.days and p.active(day + 2)
        if fits and p.active(day) and book.free(p.id, day, day + 2):
            book.add(AbsencePlan(p.id, day, day + 2, "family_emergency"))
