"""The one adapter from database rows to a ``ScheduleSnapshot`` (CONVENTIONS.md rule 1).

Assignments are the bulk of a program (about 150,000 rows for 150 faculty over a year), so
they are read as plain column tuples with a Core select rather than as ORM objects.
"""

from __future__ import annotations

from datetime import date
from operator import itemgetter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import begin_consistent_read
from app.core.gcpause import paused_gc
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
from app.domain.shedding import suspend_activities
from app.models.activity import Activity as ActivityRow
from app.models.activity import MinFacultyRule as RuleRow
from app.models.crisis import SacrificeDecision
from app.models.person import Person as PersonRow
from app.models.person import person_qualification
from app.models.program import PROGRAM_ROW_ID, Program
from app.models.schedule import Absence as AbsenceRow
from app.models.schedule import Assignment as AssignmentRow
from app.models.schedule import Holiday


def load_snapshot(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    shedding: bool = True,
) -> ScheduleSnapshot:
    """The stored schedule as a snapshot, optionally only the dates ``start``..``end``.

    Args:
        session: an open session.
        start: first date whose assignments and absences are wanted (None: from the first).
        end: last such date, inclusive (None: to the last). People, activities and holidays
            are always loaded whole.
        shedding: apply the load shedding in force: activities suspended by a sacrifice
            decision not yet ended make no demand (the schedule in effect). False gives the
            demand before shedding (the true state).

    Returns:
        The snapshot; an empty one with default program settings when nothing was imported.
        Its ``program.schedule_end`` is the stated one, else the last date with an assignment
        in the whole table (whatever the window), else None.

    Its SELECTs all see one state of the database, even while an import commits
    (``begin_consistent_read``): call it first in a transaction, or in one begun consistent.
    Only the absences overlapping the window are read, so a program with many past absences
    costs a windowed snapshot nothing.
    """
    begin_consistent_read(session)
    with paused_gc():  # tens of thousands of small frozen objects, no reference cycles
        snapshot = ScheduleSnapshot(
            program=_program_info(session),
            people=_people(session),
            activities=_activities(session),
            assignments=_assignments(session, start, end),
            absences=_absences(session, start, end),
            holidays=frozenset(session.scalars(select(Holiday.date))),
        )
    suspended = _suspended(session) if shedding else frozenset()
    return suspend_activities(snapshot, suspended) if suspended else snapshot


def _suspended(session: Session) -> frozenset[str]:
    """Ids of the activities suspended by the sacrifice decisions in force."""
    decisions = session.scalars(
        select(SacrificeDecision.suspended_activities).where(SacrificeDecision.ended_at.is_(None))
    )
    return frozenset(a for d in decisions for a in d.get("activities", ()))


def _program_info(session: Session) -> ProgramInfo:
    program = session.get(Program, PROGRAM_ROW_ID)
    if program is None:
        return ProgramInfo()
    month, day = program.academic_year_start.split("-")
    # Over the whole table, not the loaded window: a window's last assignment is not the end.
    last_assigned = session.scalar(select(func.max(AssignmentRow.__table__.c.date)))
    return ProgramInfo(
        name=program.name,
        timezone=program.timezone,
        main_site=program.main_site,
        academic_year_start=(int(month), int(day)),
        schedule_end=program.schedule_end or last_assigned,
    )


def _people(session: Session) -> tuple[Person, ...]:
    quals: dict[str, set[str]] = {}
    for person_id, qual_id in session.execute(select(person_qualification)).all():
        quals.setdefault(person_id, set()).add(qual_id)
    c = PersonRow.__table__.c
    rows = session.execute(select(PersonRow.__table__).order_by(c.id)).all()
    return tuple(
        Person(
            id=r.id,
            name=r.name,
            kind=PersonKind(r.kind),
            pgy=r.pgy,
            pgy_academic_year=r.pgy_academic_year,
            faculty_role=r.faculty_role,
            qualifications=frozenset(quals.get(r.id, ())),
            weekly_cap=r.weekly_cap,
            active_from=r.active_from,
            active_to=r.active_to,
        )
        for r in rows
    )


def _activities(session: Session) -> tuple[Activity, ...]:
    rules: dict[str, list[MinFacultyRule]] = {}
    rule_rows = session.execute(
        select(RuleRow.__table__).order_by(RuleRow.activity_id, RuleRow.position)
    ).all()
    for r in rule_rows:
        rules.setdefault(r.activity_id, []).append(
            MinFacultyRule(
                min_faculty=r.min_faculty,
                weekdays=frozenset(r.weekdays) if r.weekdays is not None else None,
                half=Half(r.half) if r.half else None,
                start=r.start,
                end=r.end,
                holiday=r.holiday,
            )
        )
    rows = session.execute(select(ActivityRow.__table__).order_by(ActivityRow.id)).all()
    activities = []
    for r in rows:
        activities.append(
            Activity(
                id=r.id,
                name=r.name,
                category=Category(r.category),
                site=r.site_id,
                qualification=r.qualification_id,
                min_faculty=r.min_faculty,
                min_faculty_rules=tuple(rules.get(r.id, ())),
                ratio_pgy1=r.ratio_pgy1,
                ratio_pgy2plus=r.ratio_pgy2plus,
                releasable=r.releasable,
            )
        )
    return tuple(activities)


def _assignments(session: Session, start: date | None, end: date | None) -> tuple[Assignment, ...]:
    c = AssignmentRow.__table__.c
    query = select(c.person_id, c.date, c.half, c.activity_id, c.role)
    if start is not None:
        query = query.where(c.date >= start)
    if end is not None:
        query = query.where(c.date <= end)
    halves = {h.value: h for h in Half}
    roles = {r.value: r for r in AssignmentRole}
    halfdays: dict[tuple[date, str], HalfDay] = {}  # shared: one object per half-day
    out = []
    # Sorted here, not by the database, so that both backends give the same order.
    rows = sorted(session.execute(query).all(), key=itemgetter(1, 2, 0))
    for person_id, day, half, activity_id, role in rows:
        key = (day, half)
        halfday = halfdays.get(key)
        if halfday is None:
            halfday = halfdays[key] = HalfDay(day, halves[half])
        out.append(Assignment(person_id, halfday, activity_id, roles[role]))
    return tuple(out)


def _absences(session: Session, start: date | None, end: date | None) -> tuple[Absence, ...]:
    c = AbsenceRow.__table__.c
    query = select(c.id, c.person_id, c.start, c.end, c.type, c.half, c.blocking)
    if start is not None:
        query = query.where(c.end >= start)
    if end is not None:
        query = query.where(c.start <= end)
    out = []
    for absence_id, person_id, first, last, kind, half, blocking in session.execute(query):
        out.append(
            Absence(
                id=absence_id,
                person_id=person_id,
                start=first,
                end=last,
                type=kind,
                half=Half(half) if half else None,
                blocking=absence_blocks(kind, blocking),
            )
        )
    out.sort(key=lambda a: a.id)
    return tuple(out)
