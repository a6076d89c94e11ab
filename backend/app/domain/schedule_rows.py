"""The schedule as read from the database, before any analysis: ``ScheduleRows``.

Assignments are the bulk of a program (about 180,000 rows for 150 faculty over a year, four
times that for 600), so they stay plain tuples of text until an analysis needs them:

    (person_id, date "YYYY-MM-DD", half "AM"|"PM", activity_id, role)

sorted by date, half and person. From these rows come, without building anything else:

- ``fingerprint``: the input fingerprint of a window, so that a stored report is known to be
  current (or stale) before any analysis runs;
- ``to_json``: the part of the schedule a chunk of the horizon needs, in the form
  ``snapshot_json`` reads (it is the assignments' own form there);
- ``snapshot``: the frozen ``ScheduleSnapshot`` of a window, one ``HalfDay`` per half-day.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from operator import itemgetter
from typing import Any

from app.core.gcpause import paused_gc
from app.domain.schedule import ScheduleSnapshot
from app.domain.snapshot_json import (
    activity_to_json,
    assignments_from_rows,
    snapshot_from_json,
    snapshot_to_json,
)

AssignmentRow = tuple[str, str, str, str, str]
"""``(person_id, date ISO, half, activity_id, role)``."""

_DATE = itemgetter(1)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ScheduleRows:
    """Everything an analysis reads, with the assignments still as rows.

    Attributes:
        base: the program, people, activities, holidays and absences (of the loaded window),
            with no assignments; its ``program.schedule_end`` is the one in effect.
        assignments: ``AssignmentRow`` tuples of the loaded window, sorted.
    """

    base: ScheduleSnapshot
    assignments: Sequence[AssignmentRow]

    def between(self, start: date | None, end: date | None) -> Sequence[AssignmentRow]:
        """The assignment rows of ``start``..``end`` inclusive (None: unbounded)."""
        rows = self.assignments
        lo = 0 if start is None else bisect_left(rows, start.isoformat(), key=_DATE)
        hi = len(rows) if end is None else bisect_right(rows, end.isoformat(), key=_DATE)
        return rows[lo:hi]

    def snapshot(self, start: date | None = None, end: date | None = None) -> ScheduleSnapshot:
        """The frozen snapshot, with the assignments of ``start``..``end`` only."""
        with paused_gc():  # many small frozen objects, no reference cycles
            assignments = assignments_from_rows(self.between(start, end))
        return replace(self.base, assignments=assignments)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ScheduleRows:
        """The rows of ``to_json`` (or of any ``snapshot_to_json``) data, with no assignment
        built: they are sorted, and a missing schedule end is their last date."""
        rows = sorted(map(tuple, data["assignments"]), key=itemgetter(1, 2, 0))
        base = snapshot_from_json({**data, "assignments": []})
        if base.program.schedule_end is None and rows:
            program = replace(base.program, schedule_end=date.fromisoformat(rows[-1][1]))
            base = replace(base, program=program)
        return cls(base, rows)

    def to_json(self, start: date, end: date) -> dict[str, Any]:
        """``snapshot_to_json`` of ``start``..``end``, built from the rows as they are."""
        data = snapshot_to_json(self.base, start, end)
        data["assignments"] = list(self.between(start, end))
        return data

    def fingerprint(self, start: date, end: date, tag: str) -> str:
        """A hex digest of everything the coverage problems of ``start``..``end`` depend on.

        Cheap (one hash over the rows, nothing built) and conservative: any change to the
        window's assignments or absences, or to people (names aside), activities, holidays or
        the program's year start and schedule end, changes it. Names are left out: reports
        store ids and read names fresh, so a renamed person keeps the report.

        Args:
            tag: mixed in first; callers name what the digest stands for (e.g. a report
                format), so that digests made for another purpose never match.
        """
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
            [
                [a.id, a.person_id, a.start.isoformat(), a.end.isoformat(), a.type,
                 a.half and a.half.value, a.blocking]
                for a in b.absences
                if a.end >= start and a.start <= end
            ],
        ]  # fmt: skip
        digest = hashlib.sha256(json.dumps(head, separators=(",", ":")).encode())
        digest.update("\n".join(map("\x1f".join, self.between(start, end))).encode())
        return digest.hexdigest()
