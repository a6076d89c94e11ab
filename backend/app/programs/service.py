"""Import and export of program documents against the database.

One program per database: an import replaces all of the program's schedule data (users,
audit records, analysis results and the absence id sequence stay) inside the caller's
transaction, and the file's absence ids count as issued. Validation runs first, so a bad
document writes nothing. An import whose data equals what is stored writes no program rows
at all; it still leaves an audit record saying the data was unchanged, so the trail shows
every attempt. Once the caller has committed a large import, ``refresh_after_import`` leaves
PostgreSQL's statistics and visibility map fresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Table, delete, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core.db import vacuum_analyze
from app.domain.schedule import PersonKind
from app.models.activity import Activity, MinFacultyRule
from app.models.audit import record_audit
from app.models.person import Person, Qualification, person_qualification
from app.models.program import PROGRAM_ROW_ID, Program, Site
from app.models.schedule import Absence, Assignment, Holiday
from app.programs.absences import count_as_issued
from app.programs.document import FORMAT_NAME, FORMAT_VERSION, validate_program_with_notes

logger = logging.getLogger(__name__)

IMPORT_VACUUM_MIN_ROWS = 1000
"""Rows an import deletes and inserts from which ``refresh_after_import`` vacuums (as many as
PostgreSQL's autovacuum waits for by default); below, a few stale pages cost nothing."""

# Children first, so that deleting in this order never breaks a foreign key.
_PROGRAM_TABLES: tuple[Table, ...] = tuple(
    m if isinstance(m, Table) else m.__table__  # type: ignore[misc]
    for m in (
        Assignment,
        Absence,
        MinFacultyRule,
        Activity,
        person_qualification,
        Person,
        Qualification,
        Site,
        Holiday,
        Program,
    )
)


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    Attributes:
        source: the file name the document came from.
        changed: False when the stored data already equalled the document.
        counts: rows per section of the document (people, assignments, ...).
        notes: what was accepted but read differently from how it is written, as
            ``place: note`` lines (docs/program-format.md).
        rows_written: program rows deleted and inserted (0 when unchanged).
    """

    source: str
    changed: bool
    counts: dict[str, int]
    notes: tuple[str, ...] = ()
    rows_written: int = 0


def import_program(
    session: Session, document: Any, *, source: str, actor: str | None
) -> ImportSummary:
    """Validate ``document`` and make it the program's data.

    Args:
        session: the caller's session; nothing is committed here.
        document: the parsed JSON document.
        source: where it came from (a file name), for messages and the audit trail.
        actor: who imports it (None: unknown).

    Raises:
        ValidationFailed: the document has problems; nothing was written.
    """
    canonical, found = validate_program_with_notes(document, source=source)
    notes = tuple(str(n) for n in found)
    counts = {key: len(canonical[key]) for key in _COUNTED}
    changed = export_program(session) != canonical
    rows_written = _replace_all(session, canonical) if changed else 0
    count_as_issued(session, (a["id"] for a in canonical["absences"]))
    record_audit(
        session,
        "program.import",
        actor,
        {"source": source, "changed": changed, "counts": counts, "notes": list(notes)},
    )
    session.flush()
    return ImportSummary(
        source=source, changed=changed, counts=counts, notes=notes, rows_written=rows_written
    )


def refresh_after_import(engine: Engine, summary: ImportSummary) -> bool:
    """After the import's transaction committed: ``VACUUM (ANALYZE)`` the program tables.

    Right after an import PostgreSQL has no statistics of the new rows (it plans the grouped
    read of ``app.domain.snapshot`` for a few hundred rows) and no page is marked all-visible,
    so that read cannot use ``ix_assignment_halfday_group`` as an index-only scan until
    autovacuum comes by (never, where it is off). VACUUM cannot run in a transaction: hence
    after the commit, on a connection of its own. Only on PostgreSQL (SQLite plans that read
    on the covering index without statistics) and only when ``IMPORT_VACUUM_MIN_ROWS`` rows
    or more changed. A failure is logged, not raised: the import itself is done.

    Returns:
        True when the tables were vacuumed.
    """
    if summary.rows_written < IMPORT_VACUUM_MIN_ROWS:
        return False
    try:
        return vacuum_analyze(engine, [table.name for table in _PROGRAM_TABLES])
    except DBAPIError as exc:
        logger.warning("program tables not vacuumed after the import: %s", exc.orig or exc)
        return False


_COUNTED = (
    "sites",
    "qualifications",
    "people",
    "activities",
    "holidays",
    "assignments",
    "absences",
)


def _replace_all(session: Session, doc: dict[str, Any]) -> int:
    """Replace every program row by the document's; the number of rows deleted and inserted."""
    session.flush()
    written = 0
    for table in _PROGRAM_TABLES:
        written += cast(CursorResult[Any], session.execute(delete(table))).rowcount
    session.expunge_all()  # ORM objects of deleted rows must not be flushed back
    day = date.fromisoformat

    def opt_day(text: str | None) -> date | None:
        return day(text) if text else None

    program_row = {
        "id": PROGRAM_ROW_ID,
        **doc["program"],
        "schedule_end": opt_day(doc.get("schedule_end")),
    }
    rows: list[tuple[Table, list[dict[str, Any]]]] = [
        (Program.__table__, [program_row]),  # type: ignore[list-item]
        (Site.__table__, doc["sites"]),  # type: ignore[list-item]
        (Qualification.__table__, doc["qualifications"]),  # type: ignore[list-item]
        (Holiday.__table__, [{"date": day(d)} for d in doc["holidays"]]),  # type: ignore[list-item]
    ]
    people = [
        {
            "id": p["id"],
            "name": p["name"],
            "kind": p["kind"],
            "pgy": p.get("pgy"),
            "pgy_academic_year": p.get("pgy_academic_year"),
            "faculty_role": p.get("faculty_role"),
            "weekly_cap": p.get("weekly_cap"),
            "active_from": opt_day(p["active_from"]),
            "active_to": opt_day(p["active_to"]),
        }
        for p in doc["people"]
    ]
    holds = [
        {"person_id": p["id"], "qualification_id": q}
        for p in doc["people"]
        for q in p.get("qualifications", [])
    ]
    activities = [
        {
            "id": a["id"],
            "name": a["name"],
            "category": a["category"],
            "site_id": a["site"],
            "qualification_id": a["qualification"],
            "min_faculty": a["min_faculty"],
            "ratio_pgy1": a["ratio_pgy1"],
            "ratio_pgy2plus": a["ratio_pgy2plus"],
            "releasable": a["releasable"],
        }
        for a in doc["activities"]
    ]
    rules = [
        {
            **r,
            "activity_id": a["id"],
            "position": position,
            "start": opt_day(r["start"]),
            "end": opt_day(r["end"]),
        }
        for a in doc["activities"]
        for position, r in enumerate(a["min_faculty_rules"])
    ]
    assignments = [{**x, "date": day(x["date"])} for x in doc["assignments"]]
    absences = [{**x, "start": day(x["start"]), "end": day(x["end"])} for x in doc["absences"]]
    rows += [
        (Person.__table__, people),  # type: ignore[list-item]
        (person_qualification, holds),
        (Activity.__table__, activities),  # type: ignore[list-item]
        (MinFacultyRule.__table__, rules),  # type: ignore[list-item]
        (Assignment.__table__, assignments),  # type: ignore[list-item]
        (Absence.__table__, absences),  # type: ignore[list-item]
    ]
    for table, values in rows:
        if values:
            session.execute(insert(table), values)
            written += len(values)
    return written


def export_program(session: Session) -> dict[str, Any] | None:
    """The stored program as a canonical document, or None when none has been imported.

    Re-importing the result gives the same stored state, and exporting again gives the same
    bytes (``dump_program``). Lists are sorted here in Python, not by the database, whose
    text collation may differ from the code-point order of the canonical form.
    """
    program = session.get(Program, PROGRAM_ROW_ID)
    if program is None:
        return None
    quals_of: dict[str, list[str]] = {}
    for person_id, qual_id in session.execute(select(person_qualification)).all():
        quals_of.setdefault(person_id, []).append(qual_id)
    rules_of: dict[str, list[MinFacultyRule]] = {}
    for rule in session.scalars(select(MinFacultyRule)):
        rules_of.setdefault(rule.activity_id, []).append(rule)
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "program": {
            "name": program.name,
            "timezone": program.timezone,
            "main_site": program.main_site,
            "academic_year_start": program.academic_year_start,
        },
    }
    if program.schedule_end is not None:  # omitted when null: older files keep their bytes
        document["schedule_end"] = program.schedule_end.isoformat()
    return document | {
        "sites": _by_id({"id": s.id, "name": s.name} for s in session.scalars(select(Site))),
        "qualifications": _by_id(
            {"id": q.id, "name": q.name} for q in session.scalars(select(Qualification))
        ),
        "people": _by_id(_person_doc(p, quals_of) for p in session.scalars(select(Person))),
        "activities": _by_id(_activity_doc(a, rules_of) for a in session.scalars(select(Activity))),
        "holidays": sorted(d.isoformat() for d in session.scalars(select(Holiday.date))),
        "assignments": _assignment_docs(session),
        "absences": _absence_docs(session),
    }


def _by_id(items: Any) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item["id"])


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _person_doc(p: Person, quals_of: dict[str, list[str]]) -> dict[str, Any]:
    out: dict[str, Any] = {"id": p.id, "name": p.name, "kind": p.kind}
    if p.kind == PersonKind.RESIDENT:
        out.update(pgy=p.pgy, pgy_academic_year=p.pgy_academic_year)
    else:
        out.update(
            faculty_role=p.faculty_role,
            qualifications=sorted(quals_of.get(p.id, [])),
            weekly_cap=p.weekly_cap,
        )
    out.update(active_from=_iso(p.active_from), active_to=_iso(p.active_to))
    return out


def _activity_doc(a: Activity, rules_of: dict[str, list[MinFacultyRule]]) -> dict[str, Any]:
    rules = sorted(rules_of.get(a.id, []), key=lambda r: r.position)
    return {
        "id": a.id,
        "name": a.name,
        "category": a.category,
        "site": a.site_id,
        "qualification": a.qualification_id,
        "min_faculty": a.min_faculty,
        "min_faculty_rules": [
            {
                "min_faculty": r.min_faculty,
                "weekdays": r.weekdays,
                "half": r.half,
                "start": _iso(r.start),
                "end": _iso(r.end),
                "holiday": r.holiday,
            }
            for r in rules
        ],
        "ratio_pgy1": a.ratio_pgy1,
        "ratio_pgy2plus": a.ratio_pgy2plus,
        "releasable": a.releasable,
    }


def _assignment_docs(session: Session) -> list[dict[str, Any]]:
    c = Assignment.__table__.c
    rows = session.execute(select(c.person_id, c.date, c.half, c.activity_id, c.role)).all()
    docs = [
        {"person_id": pid, "date": d.isoformat(), "half": h, "activity_id": aid, "role": role}
        for pid, d, h, aid, role in rows
    ]
    docs.sort(key=lambda x: (x["date"], x["half"], x["person_id"]))
    return docs


def _absence_docs(session: Session) -> list[dict[str, Any]]:
    c = Absence.__table__.c
    columns = (c.id, c.person_id, c.start, c.end, c.half, c.type, c.blocking, c.reason)
    docs = [
        {
            "id": i,
            "person_id": pid,
            "start": s.isoformat(),
            "end": e.isoformat(),
            "half": h,
            "type": t,
            "blocking": b,
            "reason": reason,
        }
        for i, pid, s, e, h, t, b, reason in session.execute(select(*columns)).all()
    ]
    return _by_id(docs)
