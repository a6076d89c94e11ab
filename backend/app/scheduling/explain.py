"""What a re-roster changes, in the schedule's own terms: moves, the schedule with them laid
over it, and the residents whose activity is suspended (displaced)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from app.domain.schedule import (
    Assignment,
    AssignmentRole,
    Half,
    HalfDay,
    ScheduleSnapshot,
)
from app.scheduling.model import RosterIndex


@dataclass(frozen=True, order=True)
class Move:
    """Faculty member ``person_id`` goes to ``activity_id`` in ``halfday`` (from ``previous``,
    None when they had no assignment there)."""

    halfday: HalfDay
    person_id: str
    activity_id: str
    previous: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.halfday.to_json(),
            "person_id": self.person_id,
            "activity_id": self.activity_id,
            "previous": self.previous,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Move:
        halfday = HalfDay(date.fromisoformat(d["date"]), Half(d["half"]))
        return cls(halfday, d["person_id"], d["activity_id"], d["previous"])


def moves_of(index: RosterIndex, chosen: Iterable[int]) -> tuple[Move, ...]:
    """The moves among the options ``chosen`` (pool members fill slots without one)."""
    out = []
    for i in chosen:
        opt = index.options[i]
        if opt.move:
            slot = index.slots[opt.slot]
            previous = index.current.get((opt.person_id, slot.halfday))
            out.append(Move(slot.halfday, opt.person_id, slot.activity_id, previous))
    return tuple(sorted(out))


def apply_moves(snapshot: ScheduleSnapshot, moves: Iterable[Move]) -> ScheduleSnapshot:
    """The schedule with ``moves`` laid over it: each replaces its person's half-day."""
    new = {(m.person_id, m.halfday): m for m in moves}
    kept = [a for a in snapshot.assignments if (a.person_id, a.halfday) not in new]
    added = [
        Assignment(m.person_id, m.halfday, m.activity_id, AssignmentRole.PRIMARY)
        for m in new.values()
    ]
    return replace(snapshot, assignments=(*kept, *added))


@dataclass(frozen=True, order=True)
class Displaced:
    """A resident whose activity in ``halfday`` is suspended."""

    halfday: HalfDay
    person_id: str
    activity_id: str

    def to_json(self) -> dict[str, str]:
        return {
            **self.halfday.to_json(),
            "person_id": self.person_id,
            "activity_id": self.activity_id,
        }


def displaced_residents(
    snapshot: ScheduleSnapshot, suspended: frozenset[str], start: date, end: date
) -> tuple[Displaced, ...]:
    """Residents assigned to a suspended activity from ``start`` to ``end``."""
    people = snapshot.people_by_id
    return tuple(
        sorted(
            Displaced(a.halfday, a.person_id, a.activity_id)
            for a in snapshot.assignments
            if a.activity_id in suspended
            and start <= a.halfday.date <= end
            and a.person_id in people
            and not people[a.person_id].is_faculty
        )
    )
