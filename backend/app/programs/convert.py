"""Turn a program document (docs/program-format.md) into a schedule snapshot.

The document must already be valid: this is a pure, fast translation that fills in the
format's defaults and never reports problems (validation lives with the importer). It is what
the demo generator's tests and any file-based analysis use to reach the pure core without a
database.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    absence_blocks,
)

Document = Mapping[str, Any]


class _Dates:
    """Parses ISO dates once each: a year of assignments repeats a few hundred dates."""

    def __init__(self) -> None:
        self._seen: dict[str, date] = {}

    def get(self, text: str | None) -> date | None:
        if text is None:
            return None
        return self.day(text)

    def day(self, text: str) -> date:
        found = self._seen.get(text)
        if found is None:
            found = self._seen[text] = date.fromisoformat(text)
        return found


def _program(
    raw: Mapping[str, Any], schedule_end: date | None, schedule_start: date | None
) -> ProgramInfo:
    month, day = (int(part) for part in raw.get("academic_year_start", "07-01").split("-"))
    defaults = ProgramInfo()
    return ProgramInfo(
        name=raw.get("name") or defaults.name,
        timezone=raw.get("timezone") or defaults.timezone,
        main_site=raw.get("main_site") or defaults.main_site,
        academic_year_start=(month, day),
        schedule_end=schedule_end,
        schedule_start=schedule_start,
    )


def _person(raw: Mapping[str, Any], dates: _Dates) -> Person:
    return Person(
        id=raw["id"],
        name=raw["name"],
        kind=PersonKind(raw["kind"]),
        pgy=raw.get("pgy"),
        pgy_academic_year=raw.get("pgy_academic_year"),
        faculty_role=raw.get("faculty_role"),
        qualifications=frozenset(raw.get("qualifications") or ()),
        weekly_cap=raw.get("weekly_cap"),
        active_from=dates.get(raw.get("active_from")),
        active_to=dates.get(raw.get("active_to")),
    )


def _rule(raw: Mapping[str, Any], dates: _Dates) -> MinFacultyRule:
    weekdays = raw.get("weekdays")
    half = raw.get("half")
    return MinFacultyRule(
        min_faculty=raw["min_faculty"],
        weekdays=None if weekdays is None else frozenset(weekdays),
        half=None if half is None else Half(half),
        start=dates.get(raw.get("start")),
        end=dates.get(raw.get("end")),
        holiday=raw.get("holiday"),
    )


def _activity(raw: Mapping[str, Any], main_site: str, dates: _Dates) -> Activity:
    category = Category(raw["category"])
    releasable = raw.get("releasable")
    return Activity(
        id=raw["id"],
        name=raw["name"],
        category=category,
        site=raw.get("site") or main_site,
        qualification=raw.get("qualification"),
        min_faculty=raw.get("min_faculty") or 0,
        min_faculty_rules=tuple(_rule(r, dates) for r in raw.get("min_faculty_rules") or ()),
        ratio_pgy1=raw.get("ratio_pgy1"),
        ratio_pgy2plus=raw.get("ratio_pgy2plus"),
        # Null means the default, true; Activity itself reads False as True when there is a
        # qualification, as the importer does.
        releasable=True if releasable is None else releasable,
    )


def activity_from_document(raw: Mapping[str, Any], main_site: str) -> Activity:
    """One activity of a valid document, with the format's defaults filled in.

    Args:
        raw: an element of the document's ``activities`` list.
        main_site: the program's main site (the default site).
    """
    return _activity(raw, main_site, _Dates())


def _absence(raw: Mapping[str, Any], dates: _Dates) -> Absence:
    half = raw.get("half")
    blocking = absence_blocks(raw["type"], raw.get("blocking"))
    return Absence(
        id=raw["id"],
        person_id=raw["person_id"],
        start=dates.day(raw["start"]),
        end=dates.day(raw["end"]),
        type=raw["type"],
        half=None if half is None else Half(half),
        blocking=blocking,
    )


def snapshot_from_document(doc: Document) -> ScheduleSnapshot:
    """The schedule snapshot a valid program document describes.

    Fills the format's defaults: an activity's site is the program's main site, a null
    ``releasable`` is true (and so is any ``releasable`` of an activity with a
    qualification), a missing schedule end is the last date with an assignment (and the
    schedule start always the first), a null absence ``blocking`` follows the absence type,
    an assignment's role is primary.

    Args:
        doc: a program document that already passed validation.

    Returns:
        The frozen snapshot, people/activities/assignments/absences in document order.
    """
    dates = _Dates()
    raw_assignments = doc.get("assignments") or ()
    schedule_end = dates.get(doc.get("schedule_end"))
    if schedule_end is None and raw_assignments:
        # ISO dates order as text: the latest text is the latest day.
        schedule_end = dates.day(max(raw["date"] for raw in raw_assignments))
    schedule_start = (
        dates.day(min(raw["date"] for raw in raw_assignments)) if raw_assignments else None
    )
    program = _program(doc.get("program") or {}, schedule_end, schedule_start)
    # Each half-day object is shared by all its assignments: fewer objects, faster hashing.
    halfdays: dict[tuple[str, str], HalfDay] = {}
    primary, backup = AssignmentRole.PRIMARY, AssignmentRole.BACKUP
    assignments: list[Assignment] = []
    for raw in raw_assignments:
        key = (raw["date"], raw["half"])
        halfday = halfdays.get(key)
        if halfday is None:
            halfday = halfdays[key] = HalfDay(dates.day(key[0]), Half(key[1]))
        role = backup if raw.get("role") == "backup" else primary
        assignments.append(Assignment(raw["person_id"], halfday, raw["activity_id"], role))
    return ScheduleSnapshot(
        program=program,
        people=tuple(_person(p, dates) for p in doc.get("people") or ()),
        activities=tuple(
            _activity(a, program.main_site, dates) for a in doc.get("activities") or ()
        ),
        assignments=tuple(assignments),
        absences=tuple(_absence(a, dates) for a in doc.get("absences") or ()),
        holidays=frozenset(dates.day(d) for d in doc.get("holidays") or ()),
    )
