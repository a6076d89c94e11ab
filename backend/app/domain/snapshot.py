"""The one adapter from database rows to a ``ScheduleSnapshot`` (CONVENTIONS.md rule 1).

No ORM objects: the small tables are read with Core selects, and the assignments, the bulk of
a program (about 180,000 rows for 150 faculty over a year), grouped by the database and read
with the DB-API cursor of the session's own connection (same transaction), kept as text groups
(``ScheduleRows``). Dates come back as ISO text from SQLite and as dates from PostgreSQL; each
distinct one is converted once.
"""

from __future__ import annotations

import logging
import sqlite3
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.db import begin_consistent_read
from app.core.errors import ConfigurationError, NoSchedule
from app.core.gcpause import paused_gc
from app.domain.schedule import (
    Absence,
    Activity,
    Category,
    Half,
    MinFacultyRule,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
    absence_blocks,
)
from app.domain.schedule_rows import GROUP_KEY, AssignmentGroup, ScheduleRows
from app.domain.shedding import suspend_activities
from app.models.activity import Activity as ActivityRow
from app.models.activity import MinFacultyRule as RuleRow
from app.models.person import Person as PersonRow
from app.models.person import person_qualification
from app.models.program import PROGRAM_ROW_ID, Program
from app.models.schedule import ASSIGNMENT_GROUP_INDEX as GROUP_INDEX
from app.models.schedule import Absence as AbsenceRow
from app.models.schedule import Assignment as AssignmentTable
from app.models.schedule import Holiday

logger = logging.getLogger(__name__)


def load_snapshot(
    session: Session,
    *,
    start: date | None = None,
    end: date | None = None,
    shedding: bool = True,
) -> ScheduleSnapshot:
    """The stored schedule as a snapshot, optionally only the dates ``start``..``end``.

    As ``load_rows(...).snapshot()`` (see ``load_rows``), and with ``shedding`` the load
    shedding in force applied: activities suspended by a sacrifice decision not yet ended make
    no demand (the schedule in effect). ``load_rows`` and ``shedding=False`` give the demand
    before shedding (the true state), which the health check and contingency reports judge.
    """
    snapshot = load_rows(session, start=start, end=end).snapshot()
    suspended = _suspended(session) if shedding else frozenset()
    return suspend_activities(snapshot, suspended) if suspended else snapshot


def _suspended(session: Session) -> frozenset[str]:
    """Ids of the activities suspended by the sacrifice decisions in force."""
    from app.models.crisis import SacrificeDecision  # loaded by the analyses that shed only

    decisions = session.scalars(
        select(SacrificeDecision.suspended_activities).where(SacrificeDecision.ended_at.is_(None))
    )
    return frozenset(a for d in decisions for a in d.get("activities", ()))


def load_rows(
    session: Session, *, start: date | None = None, end: date | None = None
) -> ScheduleRows:
    """The stored schedule as rows, optionally only the dates ``start``..``end``.

    Args:
        session: an open session.
        start: first date whose assignments and absences are wanted (None: from the first).
        end: last such date, inclusive (None: to the last). People, activities and holidays
            are always loaded whole.

    Returns:
        The rows; empty, with default program settings, when nothing was imported. Their
        ``program.schedule_end`` is the stated one, else the last date with an assignment
        in the whole table (whatever the window), else None; their
        ``program.schedule_start`` the first date with an assignment in the whole table.

    Its SELECTs all see one state of the database, even while an import commits
    (``begin_consistent_read``): call it first in a transaction, or in one begun consistent.
    Only the absences overlapping the window are read, so a program with many past absences
    costs a windowed load nothing.
    """
    base = load_base(session, start=start, end=end)
    with paused_gc():  # tens of thousands of small objects, no reference cycles
        return ScheduleRows(base, assignment_groups(session, start, end))


def load_base(
    session: Session, *, start: date | None = None, end: date | None = None
) -> ScheduleSnapshot:
    """``load_rows(...).base``: everything but the assignments (read them, in the same
    consistent view, with ``assignment_groups``, whole or a date range at a time)."""
    begin_consistent_read(session)
    with paused_gc():
        return ScheduleSnapshot(
            program=_program_info(session),
            people=_people(session),
            activities=_activities(session),
            assignments=(),
            absences=_absences(session, start, end),
            holidays=frozenset(session.scalars(select(Holiday.date))),
        )


def _program_info(session: Session) -> ProgramInfo:
    program = session.get(Program, PROGRAM_ROW_ID)
    if program is None:
        return ProgramInfo()
    month, day = program.academic_year_start.split("-")
    # Over the whole table, not the loaded window: a window's last assignment is not the end.
    # Two scalar subqueries, not min() and max() in one SELECT: SQLite answers a lone min()
    # or max() from the date index's ends, but scans the whole table for both at once (40 ms
    # on a year of 600 faculty, against 0.1 ms).
    assigned = AssignmentTable.__table__.c.date
    first_assigned, last_assigned = session.execute(
        select(
            select(func.min(assigned)).scalar_subquery(),
            select(func.max(assigned)).scalar_subquery(),
        )
    ).one()
    return ProgramInfo(
        name=program.name,
        timezone=program.timezone,
        main_site=program.main_site,
        academic_year_start=(int(month), int(day)),
        schedule_end=program.schedule_end or last_assigned,
        schedule_start=first_assigned,
    )


def require_schedule(session: Session) -> None:
    """Refuse to judge when there is no published schedule (``NoSchedule``).

    With no program imported, or one with neither assignments nor a stated schedule end,
    every day is unscheduled: an analysis would find nothing and call that safe.

    Raises:
        NoSchedule: nothing to judge; says whether a program is there at all.
    """
    program = session.get(Program, PROGRAM_ROW_ID)
    if program is not None and (
        program.schedule_end is not None
        or session.scalar(select(AssignmentTable.__table__.c.date).limit(1)) is not None
    ):
        return
    raise NoSchedule(None if program is None else program.name)


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


def assignment_groups(
    session: Session, start: date | None, end: date | None
) -> list[AssignmentGroup]:
    """The assignments of ``start``..``end`` (None: unbounded) as sorted ``AssignmentGroup``
    text tuples.

    Grouped by the database (one row per date, half, activity and role, the person ids joined
    by spaces), read through the DB-API cursor: a year of a large program is a few thousand
    rows, not hundreds of thousands. The joined ids are kept as the database gives them, in
    order: PostgreSQL's ``string_agg`` is told to sort them; SQLite (whose ``group_concat``
    takes an order only from 3.44) is made to read the rows off the group index
    (``INDEXED BY``: the query fails rather than read them another way), whose last column is
    the person id, and its ``group_concat`` joins rows in the order it reads them.
    """
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    table = quote(AssignmentTable.__tablename__)
    c = AssignmentTable.__table__.c
    keys = ", ".join(quote(x.name) for x in (c.date, c.half, c.activity_id, c.role))
    person = quote(c.person_id.name)
    if connection.dialect.name == "postgresql":
        # Byte order ("C"), as Python and SQLite's index sort, not the database's collation.
        joined, source = f"string_agg({person}, ' ' ORDER BY {person} COLLATE \"C\")", table
    else:
        joined, source = f"group_concat({person}, ' ')", f"{table} INDEXED BY {GROUP_INDEX}"
    sql = f"SELECT {keys}, count(*), {joined} FROM {source}"
    # Literal ISO dates (from date objects: nothing to escape), compared as text by SQLite
    # and cast to date by PostgreSQL.
    bounds = [f"{quote(c.date.name)} {op} '{day.isoformat()}'"
              for op, day in ((">=", start), ("<=", end)) if day is not None]  # fmt: skip
    if bounds:
        sql += " WHERE " + " AND ".join(bounds)
    sql += f" GROUP BY {keys}"
    in_order = True
    try:
        fetched = _fetch_all(connection, sql)
    except sqlite3.OperationalError as exc:
        if "no such index" not in str(exc):
            raise
        # Dropped by hand (migration 0008 creates it): slower, and each group sorted here.
        logger.warning(
            "index %s is missing: the assignments are read without it (slower); recreate it"
            " with: CREATE INDEX %s ON assignment (date, half, activity_id, role, person_id)",
            GROUP_INDEX,
            GROUP_INDEX,
        )
        fetched = _fetch_all(connection, sql.replace(f" INDEXED BY {GROUP_INDEX}", ""))
        in_order = False
    iso: dict[Any, str] = {}  # PostgreSQL gives dates: one conversion per date
    groups: list[AssignmentGroup] = []
    for day, half, activity_id, role, count, people in fetched:
        if people.count(" ") + 1 != count:  # ids are checked where they enter; by hand
            raise ConfigurationError(
                f"assignments of {day} {half} {activity_id}: a person id contains a space;"
                " person ids are letters, digits, '_', '.' and '-' (fix the person table)"
            )
        day_iso = (
            day if isinstance(day, str) else iso.get(day) or iso.setdefault(day, day.isoformat())
        )
        if not in_order:
            people = " ".join(sorted(people.split(" ")))
        groups.append((day_iso, half, activity_id, role, people))
    # Sorted here, not by the database, so that both backends give the same order (already
    # in this order from SQLite's index: a linear check).
    groups.sort(key=GROUP_KEY)
    return groups


def _fetch_all(connection: Any, sql: str) -> list[Any]:
    """Every row of ``sql``, through the DB-API cursor of ``connection`` (no Row objects)."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _absences(session: Session, start: date | None, end: date | None) -> tuple[Absence, ...]:
    c = AbsenceRow.__table__.c
    query = select(c.id, c.person_id, c.start, c.end, c.type, c.half, c.blocking)
    if start is not None:
        query = query.where(c.end >= start)
    if end is not None:
        query = query.where(c.start <= end)
    out = []
    for absence_id, person_id, first, last, kind, half, blocking in session.execute(query).all():
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
