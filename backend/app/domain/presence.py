"""Who is present in a half-day: active on that date and not away on a blocking absence."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from app.domain.schedule import Absence, Half, HalfDay, Person, half_days


class Presence:
    """Answers "is this person present (active, not absent) in this half-day?" quickly.

    Blocking absences are expanded once into a set of (person, half-day) within the window,
    so each question is one set lookup rather than a scan of the person's absences.
    """

    def __init__(
        self, people: Mapping[str, Person], absences: Iterable[Absence], start: date, end: date
    ) -> None:
        self._people = people
        self._away: set[tuple[str, date, Half]] = set()
        for a in absences:
            if not a.blocking or a.end < start or a.start > end:
                continue
            first, last = max(a.start, start), min(a.end, end)
            for hd in half_days(first, (last - first).days + 1):
                if a.half is None or a.half is hd.half:
                    self._away.add((a.person_id, hd.date, hd.half))

    def present(self, person: Person, halfday: HalfDay) -> bool:
        day = halfday.date
        return person.is_active(day) and (person.id, day, halfday.half) not in self._away
