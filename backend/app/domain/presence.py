"""Who is present in a half-day: active on that date and not away on a blocking absence."""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, timedelta

from app.domain.schedule import Absence, Half, HalfDay, Person


class Presence:
    """Answers "is this person present (active, not absent) in this half-day?" quickly.

    Blocking absences are expanded once into the set of people away in each half-day of the
    window, so each question is one set lookup rather than a scan of the person's absences.
    """

    def __init__(
        self, people: Mapping[str, Person], absences: Iterable[Absence], start: date, end: date
    ) -> None:
        self._away: dict[tuple[date, Half], set[str]] = defaultdict(set)
        both = (Half.AM, Half.PM)
        for a in absences:
            if not a.blocking or a.end < start or a.start > end:
                continue
            first, last = max(a.start, start), min(a.end, end)
            halves = both if a.half is None else (a.half,)
            for i in range((last - first).days + 1):
                day = first + timedelta(days=i)
                for half in halves:
                    self._away[day, half].add(a.person_id)
        # Only these can be inactive on some day: the others are active on every date. Who is
        # inactive changes only on the dates where someone's active range begins or ends
        # after one: between two such dates it is one set, computed once.
        self._bounded = [p for p in people.values() if p.active_from or p.active_to]
        changes = {p.active_from for p in self._bounded if p.active_from}
        changes.update(
            p.active_to + timedelta(days=1)
            for p in self._bounded
            if p.active_to and p.active_to < date.max
        )
        self._changes = sorted(changes)
        self._inactive: dict[int, frozenset[str]] = {}

    def present(self, person: Person, halfday: HalfDay) -> bool:
        day = halfday.date
        return person.is_active(day) and person.id not in self._away.get((day, halfday.half), ())

    def unavailable(self, halfday: HalfDay) -> set[str]:
        """The ids of the people not present in ``halfday`` (of those passed in)."""
        day = halfday.date
        segment = bisect_right(self._changes, day)
        inactive = self._inactive.get(segment)
        if inactive is None:
            inactive = frozenset(p.id for p in self._bounded if not p.is_active(day))
            self._inactive[segment] = inactive
        return set(inactive).union(self._away.get((day, halfday.half), ()))
