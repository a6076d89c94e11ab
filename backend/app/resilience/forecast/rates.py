"""Unplanned absence rates per person and weekday, learned from the program's history.

The rate of person ``p`` on weekday ``w`` is the chance that ``p`` is out on an unplanned
absence (``ABSENCE_TYPES[...].unplanned``: sick, family emergency, bereavement) on a given
day ``w`` on which ``p`` is active. From the history (``history_start`` .. ``history_end``):

- ``k[p, w]``: days with weekday ``w`` that an unplanned absence of ``p`` covers (a half-day
  absence counts half), ``n[p, w]``: days with weekday ``w`` on which ``p`` was active;
- the program's weekday rate ``R[w] = sum_p k / sum_p n``;
- the person's rate shrinks towards it: ``(k + PRIOR_DAYS * R[w]) / (n + PRIOR_DAYS)``, so a
  person with little history gets about the program's rate and one with a long history their
  own (a Beta prior worth ``PRIOR_DAYS`` days).

With fewer than ``min_history_days`` days of history the default rate is used for everyone,
and ``source`` says so. Only faculty count: they make up the pools.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from app.domain.schedule import ABSENCE_TYPES, Absence, Person

PRIOR_DAYS = 20.0
"""Weight, in days of history, of the program's weekday rate in each person's rate."""

UNPLANNED_TYPES = frozenset(name for name, kind in ABSENCE_TYPES.items() if kind.unplanned)


@dataclass(frozen=True)
class AbsenceRates:
    """Chance of an unplanned absence per person and weekday (0 Monday .. 6 Sunday).

    Attributes:
        by_person: person id -> seven daily rates; a person not listed gets ``program``.
        program: the program's rate per weekday (or the default seven times).
        source: ``history`` or ``default``.
        history_days: days of history the rates come from (0 with the default).
        absence_days: unplanned absence days counted in that history.
    """

    program: tuple[float, ...]
    source: str
    history_days: int
    absence_days: float
    by_person: dict[str, tuple[float, ...]] = field(default_factory=dict)

    def rate(self, person_id: str, weekday: int) -> float:
        return self.by_person.get(person_id, self.program)[weekday]

    def to_json(self) -> dict[str, object]:
        values = [r for rates in self.by_person.values() for r in rates] or list(self.program)
        return {
            "source": self.source,
            "history_days": self.history_days,
            "absence_days": round(self.absence_days, 1),
            "program_by_weekday": [round(r, 5) for r in self.program],
            "prior_days": PRIOR_DAYS,
            "people": len(self.by_person),
            "min": round(min(values), 5),
            "max": round(max(values), 5),
        }


def _active_weekdays(person: Person, first: date, last: date) -> list[int]:
    """Days with each weekday in ``first``..``last`` on which ``person`` is active."""
    lo = max(first, person.active_from) if person.active_from else first
    hi = min(last, person.active_to) if person.active_to else last
    counts = [0] * 7
    if hi < lo:
        return counts
    days = (hi - lo).days + 1
    for w in range(7):
        # Days d in lo..hi with d.weekday() == w: full weeks plus the first partial one.
        offset = (w - lo.weekday()) % 7
        counts[w] = 0 if offset >= days else (days - offset - 1) // 7 + 1
    return counts


def estimate_rates(
    people: Iterable[Person],
    absences: Sequence[Absence],
    history_start: date,
    history_end: date,
    *,
    default_rate: float,
    min_history_days: int,
) -> AbsenceRates:
    """The unplanned absence rates of the faculty from their absences in the history.

    Args:
        people: everyone (only faculty are rated).
        absences: absences overlapping the history (others and planned types are ignored).
        history_start, history_end: the history's first and last day (inclusive); an empty
            range (end before start) means no history.
        default_rate: the daily rate used when the history is too short.
        min_history_days: the shortest history the rates are learned from.
    """
    history_days = max(0, (history_end - history_start).days + 1)
    faculty = [p for p in people if p.is_faculty]
    if history_days < min_history_days or not faculty:
        return AbsenceRates((default_rate,) * 7, "default", 0, 0.0)
    absent: dict[str, list[float]] = {p.id: [0.0] * 7 for p in faculty}
    seen: set[tuple[str, date, object]] = set()  # overlapping records count a day once
    for a in absences:
        if a.type not in UNPLANNED_TYPES or a.person_id not in absent:
            continue
        day = max(a.start, history_start)
        while day <= min(a.end, history_end):
            if (a.person_id, day, a.half) not in seen:
                seen.add((a.person_id, day, a.half))
                absent[a.person_id][day.weekday()] += 1.0 if a.half is None else 0.5
            day += timedelta(days=1)
    exposure = {p.id: _active_weekdays(p, history_start, history_end) for p in faculty}
    program = []
    for w in range(7):
        n = sum(e[w] for e in exposure.values())
        k = sum(a[w] for a in absent.values())
        program.append(k / n if n else default_rate)
    by_person = {
        pid: tuple(
            (absent[pid][w] + PRIOR_DAYS * program[w]) / (exposure[pid][w] + PRIOR_DAYS)
            for w in range(7)
        )
        for pid in absent
    }
    total = sum(sum(a) for a in absent.values())
    return AbsenceRates(tuple(program), "history", history_days, total, by_person)
