"""A ``ScheduleSnapshot`` as plain JSON data, to hand a part of one snapshot to another process.

The contingency chord's parent loads the schedule once and gives each chunk task its part in
this form, so that every chunk analyses the same state and reads nothing from the database.
People, activities, holidays and the program travel whole; assignments and absences only for
the dates asked for. Assignments are the bulk, so they are short lists (the chord sends them
grouped instead, under ``assignment_groups``: ``ScheduleRows.to_json``):

    {"program": {...}, "people": [{...}], "activities": [{...}], "holidays": ["2026-12-25"],
     "assignments": [["F001", "2026-11-30", "AM", "clinic", "primary"], ...],
     "absences": [["A1", "F001", "2026-11-30", "2026-12-01", "sick", null, true], ...]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from app.domain.schedule import (
    Absence,
    Activity,
    Assignment,
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    MinFacultyRule,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
)

_HALVES = {h.value: h for h in Half}
_ROLES = {r.value: r for r in AssignmentRole}


def assignments_from_rows(rows: Iterable[Sequence[str]]) -> tuple[Assignment, ...]:
    """Assignments from ``[person_id, date, half, activity_id, role]`` rows (the form above),
    one ``HalfDay`` object per half-day."""
    halfdays: dict[tuple[str, str], HalfDay] = {}
    out = []
    for person_id, day, half, activity_id, role in rows:
        key = (day, half)
        halfday = halfdays.get(key)
        if halfday is None:
            halfday = halfdays[key] = HalfDay(date.fromisoformat(day), _HALVES[half])
        out.append(Assignment(person_id, halfday, activity_id, _ROLES[role]))
    return tuple(out)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def snapshot_to_json(
    snapshot: ScheduleSnapshot, start: date | None = None, end: date | None = None
) -> dict[str, Any]:
    """``snapshot`` as JSON data, with only the assignments and absences of ``start``..``end``.

    Args:
        snapshot: the schedule.
        start, end: the dates wanted, inclusive (None: unbounded on that side). An absence is
            kept when it overlaps them.
    """
    lo, hi = start or date.min, end or date.max
    p = snapshot.program
    # A slice must keep the whole schedule's end and start, which its own assignments may
    # not show.
    sliced = start is not None or end is not None
    schedule_end = p.schedule_end or (snapshot.schedule_end if sliced else None)
    schedule_start = p.schedule_start or (snapshot.schedule_start if sliced else None)
    return {
        "program": {
            "name": p.name,
            "timezone": p.timezone,
            "main_site": p.main_site,
            "academic_year_start": list(p.academic_year_start),
            "schedule_end": schedule_end.isoformat() if schedule_end else None,
            "schedule_start": schedule_start.isoformat() if schedule_start else None,
        },
        "people": [_person_to_json(x) for x in snapshot.people],
        "activities": [activity_to_json(a) for a in snapshot.activities],
        "holidays": sorted(d.isoformat() for d in snapshot.holidays),
        "assignments": [
            [
                a.person_id,
                a.halfday.date.isoformat(),
                a.halfday.half.value,
                a.activity_id,
                a.role.value,
            ]
            for a in snapshot.assignments
            if lo <= a.halfday.date <= hi
        ],
        "absences": absences_to_json(snapshot.absences, lo, hi),
    }


def absences_to_json(absences: Iterable[Absence], lo: date, hi: date) -> list[list[Any]]:
    """The absences overlapping ``lo``..``hi``, in the form ``snapshot_to_json`` writes."""
    return [
        [
            a.id,
            a.person_id,
            a.start.isoformat(),
            a.end.isoformat(),
            a.type,
            a.half and a.half.value,
            a.blocking,
        ]
        for a in absences
        if a.end >= lo and a.start <= hi
    ]


def snapshot_from_json(data: Mapping[str, Any]) -> ScheduleSnapshot:
    """The snapshot ``snapshot_to_json`` wrote (equal to the original for the dates it kept)."""
    p = data["program"]
    month, day = p["academic_year_start"]
    return ScheduleSnapshot(
        program=ProgramInfo(
            name=p["name"],
            timezone=p["timezone"],
            main_site=p["main_site"],
            academic_year_start=(int(month), int(day)),
            schedule_end=date.fromisoformat(p["schedule_end"]) if p.get("schedule_end") else None,
            schedule_start=(
                date.fromisoformat(p["schedule_start"]) if p.get("schedule_start") else None
            ),
        ),
        people=tuple(_person_from_json(x) for x in data["people"]),
        activities=tuple(_activity_from_json(a) for a in data["activities"]),
        assignments=assignments_from_rows(data["assignments"]),
        absences=tuple(
            Absence(
                aid,
                pid,
                date.fromisoformat(a),
                date.fromisoformat(b),
                kind,
                Half(half) if half else None,
                blocking,
            )
            for aid, pid, a, b, kind, half, blocking in data["absences"]
        ),
        holidays=frozenset(date.fromisoformat(d) for d in data["holidays"]),
    )


def _person_to_json(p: Person) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind.value,
        "pgy": p.pgy,
        "pgy_academic_year": p.pgy_academic_year,
        "faculty_role": p.faculty_role,
        "qualifications": sorted(p.qualifications),
        "weekly_cap": p.weekly_cap,
        "active_from": _iso(p.active_from),
        "active_to": _iso(p.active_to),
    }


def _person_from_json(d: Mapping[str, Any]) -> Person:
    return Person(
        id=d["id"],
        name=d["name"],
        kind=PersonKind(d["kind"]),
        pgy=d["pgy"],
        pgy_academic_year=d["pgy_academic_year"],
        faculty_role=d["faculty_role"],
        qualifications=frozenset(d["qualifications"]),
        weekly_cap=d["weekly_cap"],
        active_from=_day(d["active_from"]),
        active_to=_day(d["active_to"]),
    )


def activity_to_json(a: Activity) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "category": a.category.value,
        "site": a.site,
        "qualification": a.qualification,
        "min_faculty": a.min_faculty,
        "min_faculty_rules": [
            {
                "min_faculty": r.min_faculty,
                "weekdays": sorted(r.weekdays) if r.weekdays is not None else None,
                "half": r.half.value if r.half is not None else None,
                "start": _iso(r.start),
                "end": _iso(r.end),
                "holiday": r.holiday,
            }
            for r in a.min_faculty_rules
        ],
        "ratio_pgy1": a.ratio_pgy1,
        "ratio_pgy2plus": a.ratio_pgy2plus,
        "releasable": a.releasable,
    }


def _activity_from_json(d: Mapping[str, Any]) -> Activity:
    return Activity(
        id=d["id"],
        name=d["name"],
        category=Category(d["category"]),
        site=d["site"],
        qualification=d["qualification"],
        min_faculty=d["min_faculty"],
        min_faculty_rules=tuple(
            MinFacultyRule(
                min_faculty=r["min_faculty"],
                weekdays=frozenset(r["weekdays"]) if r["weekdays"] is not None else None,
                half=Half(r["half"]) if r["half"] is not None else None,
                start=_day(r["start"]),
                end=_day(r["end"]),
                holiday=r["holiday"],
            )
            for r in d["min_faculty_rules"]
        ),
        ratio_pgy1=d["ratio_pgy1"],
        ratio_pgy2plus=d["ratio_pgy2plus"],
        releasable=d["releasable"],
    )
