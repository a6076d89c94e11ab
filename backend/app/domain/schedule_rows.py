"""The schedule as read from the database, before any analysis: ``ScheduleRows``.

Assignments are the bulk of a program (about 180,000 for 150 faculty over a year, four times
that for 600), so they are read grouped, one row per activity and role in a half-day, and stay
plain text until an analysis needs them:

    (date "YYYY-MM-DD", half "AM"|"PM", activity_id, role, "person_id person_id ...")

the person ids sorted and joined by single spaces (as the database's aggregate gives them), the
groups sorted by date, half, activity and role (about 7,000 groups
for 150 faculty over a year: 25 times fewer objects than one row per assignment). From these
groups come, without building anything else:

- ``fingerprint``: the input fingerprint of a window, so that a stored report is known to be
  current (or stale) before any analysis runs;
- ``to_json``: the part of the schedule a chunk of the horizon needs, in the form
  ``snapshot_json`` reads, with the assignments as groups (``assignment_groups``);
- ``snapshot``: the frozen ``ScheduleSnapshot`` of a window, one ``HalfDay`` per half-day.

Person ids never contain a space (``programs.fields.ID_PATTERN``), so a group's people are
read, cross the broker and are hashed as one space-separated string, split only where an
analysis reads them.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import cached_property
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from app.core.gcpause import paused_gc
from app.domain.schedule import ScheduleSnapshot
from app.domain.snapshot_json import (
    absences_to_json,
    activity_to_json,
    assignments_from_rows,
    snapshot_from_json,
    snapshot_to_json,
)

if TYPE_CHECKING:
    from hashlib import _Hash

AssignmentRow = tuple[str, str, str, str, str]
"""One assignment: ``(person_id, date ISO, half, activity_id, role)``."""

AssignmentGroup = tuple[str, str, str, str, str]
"""The assignments of one activity and role in one half-day:
``(date ISO, half, activity_id, role, "person ids sorted, joined by single spaces")``."""

_DATE = itemgetter(0)
GROUP_KEY = itemgetter(0, 1, 2, 3)
"""The sort key of an ``AssignmentGroup``: date, half, activity, role."""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def group_rows(rows: Iterable[Sequence[str]]) -> list[AssignmentGroup]:
    """``AssignmentRow`` rows (any order) as sorted ``AssignmentGroup`` groups."""
    keyed = sorted((d, h, a, r, p) for p, d, h, a, r in rows)
    return [
        (d, h, a, r, " ".join([x[4] for x in members]))
        for (d, h, a, r), members in groupby(keyed, key=GROUP_KEY)
    ]


@dataclass(frozen=True)
class ScheduleRows:
    """Everything an analysis reads, with the assignments still as text groups.

    Attributes:
        base: the program, people, activities, holidays and absences (of the loaded window),
            with no assignments; its ``program.schedule_end`` is the one in effect.
        groups: ``AssignmentGroup`` tuples of the loaded window, sorted.
    """

    base: ScheduleSnapshot
    groups: Sequence[AssignmentGroup]

    def between(self, start: date | None, end: date | None) -> Sequence[AssignmentGroup]:
        """The assignment groups of ``start``..``end`` inclusive (None: unbounded)."""
        groups = self.groups
        lo = 0 if start is None else bisect_left(groups, start.isoformat(), key=_DATE)
        hi = len(groups) if end is None else bisect_right(groups, end.isoformat(), key=_DATE)
        return groups[lo:hi]

    def rows(self, start: date | None = None, end: date | None = None) -> Iterator[AssignmentRow]:
        """One ``AssignmentRow`` per assignment of ``start``..``end``, in group order."""
        for day, half, activity_id, role, people in self.between(start, end):
            for person_id in people.split(" "):
                yield (person_id, day, half, activity_id, role)

    def snapshot(self, start: date | None = None, end: date | None = None) -> ScheduleSnapshot:
        """The frozen snapshot, with the assignments of ``start``..``end`` only (sorted by
        half-day and person)."""
        with paused_gc():  # many small frozen objects, no reference cycles
            rows = sorted(self.rows(start, end), key=itemgetter(1, 2, 0))
            assignments = assignments_from_rows(rows)
        return replace(self.base, assignments=assignments)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleRows:
        """The rows of ``to_json`` data (``assignment_groups``), or of any ``snapshot_to_json``
        data (its ``assignments`` are grouped here); a missing schedule end is their last date,
        a missing schedule start their first.
        """
        if "assignment_groups" in data:
            groups: list[AssignmentGroup] = sorted(
                (d, h, a, r, people) for d, h, a, r, people in data["assignment_groups"]
            )
        else:
            groups = group_rows(data["assignments"])
        base = snapshot_from_json({**data, "assignments": []})
        if groups and (base.program.schedule_end is None or base.program.schedule_start is None):
            program = replace(
                base.program,
                schedule_end=base.program.schedule_end or date.fromisoformat(groups[-1][0]),
                schedule_start=base.program.schedule_start or date.fromisoformat(groups[0][0]),
            )
            base = replace(base, program=program)
        return cls(base, groups)

    def to_json(self, start: date, end: date) -> dict[str, Any]:
        """``snapshot_to_json`` of ``start``..``end`` without its ``assignments`` key: they are
        in ``assignment_groups``, ``[date, half, activity_id, role, "person_id person_id ..."]``
        (a chunk's whole schedule in a few thousand short lists).

        It is ``shared_json()`` and ``window_json(start, end)`` together: a horizon's chunks
        share the first (written once for all of them) and each has its own second.
        """
        return {**self.shared_json(), **self.window_json(start, end)}

    def shared_json(self) -> dict[str, Any]:
        """The part of ``to_json`` that is the same for every window: the program, people,
        activities and holidays (the schedule's end kept, as a slice of it would)."""
        data = snapshot_to_json(replace(self.base, absences=()), date.min, date.max)
        del data["assignments"], data["absences"]
        return data

    def window_json(
        self, start: date, end: date, groups: Sequence[AssignmentGroup] | None = None
    ) -> dict[str, Any]:
        """The part of ``to_json`` proper to ``start``..``end``: its absences and assignments
        (``groups``: the window's groups read apart, as ``between`` would give them).

        No "assignments" key at all: a worker of a version before the groups then fails on
        the payload (and the chord is run again) instead of reading an empty schedule.
        """
        window = self.between(start, end) if groups is None else groups
        return {
            "absences": self._absences_of(start, end),
            "assignment_groups": [list(g) for g in window],
        }

    @cached_property
    def _absence_rows(self) -> list[tuple[date, date, list[Any]]]:
        """Each absence's first and last date and its JSON form, written once (a horizon's
        fingerprint and each of its chunks' payloads select from them)."""
        absences = self.base.absences
        rows = absences_to_json(absences, date.min, date.max)
        return [(a.start, a.end, row) for a, row in zip(absences, rows, strict=True)]

    def _absences_of(self, start: date, end: date) -> list[list[Any]]:
        """``absences_to_json`` of the absences overlapping ``start``..``end``."""
        return [row for first, last, row in self._absence_rows if last >= start and first <= end]

    def fingerprint(self, start: date, end: date, tag: str) -> str:
        """A hex digest of everything the coverage problems of ``start``..``end`` depend on.

        Cheap (one hash over the rows, nothing built) and conservative: any change to the
        window's assignments or absences, or to people (names aside), activities, holidays or
        the program's year start and schedule end (and its schedule start, when the window
        begins before it) changes it. Names are left out: reports store ids and read names
        fresh, so a renamed person keeps the report.

        Args:
            tag: mixed in first; callers name what the digest stands for (e.g. a report
                format), so that digests made for another purpose never match.
        """
        digest = GroupDigest(self.fingerprint_head(start, end, tag))
        digest.add(self.between(start, end))
        return digest.hexdigest()

    def fingerprint_head(self, start: date, end: date, tag: str) -> _Hash:
        """The ``fingerprint`` hash before its assignments: everything but the groups (a
        ``hashlib`` object). ``GroupDigest`` adds the groups read a date range at a time."""
        b, p = self.base, self.base.program
        head = [
            tag,
            list(p.academic_year_start),
            _iso(p.schedule_end),
            [
                [x.id, x.kind.value, x.pgy, x.pgy_academic_year, sorted(x.qualifications),
                 _iso(x.active_from), _iso(x.active_to)]
                for x in b.people
            ],
            [{**activity_to_json(a), "name": None} for a in b.activities],
            sorted(d.isoformat() for d in b.holidays),
            self._absences_of(start, end),
        ]  # fmt: skip
        if p.schedule_start is not None and p.schedule_start > start:
            # Only then does the start bound the days analysed; left out otherwise, so that
            # the digests of windows within the schedule stay what they were.
            head.append(["schedule_start", p.schedule_start.isoformat()])
        return hashlib.sha256(json.dumps(head, separators=(",", ":")).encode())


class GroupDigest:
    """The groups of a window's ``fingerprint``, hashed whole or as they are read one date range
    after another (the same bytes either way: fields joined by US, groups by newlines)."""

    def __init__(self, head: _Hash) -> None:
        """``head``: ``ScheduleRows.fingerprint_head`` of the window."""
        self._digest = head
        self._any = False

    def add(self, groups: Sequence[AssignmentGroup]) -> None:
        """Hash the groups of the next date range (in date order; none is fine)."""
        if not groups:
            return
        if self._any:
            self._digest.update(b"\n")
        self._digest.update("\n".join(["\x1f".join(g) for g in groups]).encode())
        self._any = True

    def hexdigest(self) -> str:
        return self._digest.hexdigest()
