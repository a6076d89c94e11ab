"""Entering leave, a coordinator's most common act: add, remove, list, import from CSV.

Each call validates everything before it writes, in the caller's transaction, so a bad
absence or a bad CSV row changes nothing. Adding is idempotent: an absence is added unless
one with the same person, dates, half and type already exists (for a CSV row without an
``id``; a row with an ``id`` sets that absence, adding or replacing it). A person id that does
not exist is ``NotFound`` when named on its own (add, list) and a located problem in a CSV.

A new id is never one issued before, even to an absence since removed: the highest number
ever issued or stored is kept in the database (``app.models.sequence``), so each id in the
audit trail names one absence.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import InputError, NotFound, Problem, ValidationFailed
from app.domain.schedule import ABSENCE_TYPES, Half
from app.models.audit import record_audit
from app.models.person import Person
from app.models.schedule import Absence
from app.models.sequence import ABSENCE_SEQUENCE, advance_sequence
from app.programs.fields import (
    ID_PATTERN,
    absence_id,
    absence_number,
    parse_date,
    unstorable,
)

CSV_COLUMNS = ("id", "person_id", "start", "end", "half", "type", "blocking", "reason")
CSV_REQUIRED = ("person_id", "start", "end", "type")
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0"}


@dataclass(frozen=True)
class AbsenceEntry:
    """One absence as entered, before it is stored (``id`` None: give it a new one)."""

    person_id: str
    start: date
    end: date
    type: str
    half: Half | None = None
    blocking: bool | None = None
    reason: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class AbsenceAdded:
    """What ``add_absence`` did: ``row`` is new (``created``) or the one already recorded."""

    row: Absence
    created: bool


@dataclass(frozen=True)
class CsvImportSummary:
    added: int
    replaced: int
    unchanged: int


def add_absence(session: Session, entry: AbsenceEntry, *, actor: str | None) -> AbsenceAdded:
    """Store a new absence, unless the same person, dates, half and type are already recorded.

    An entry without an id that matches a stored absence writes nothing (no audit record
    either) and returns that absence with ``created`` False.

    Raises:
        NotFound: there is no person with the entry's id.
        ValidationFailed: unknown type, end before start, or an id already used.
    """
    _require_person(session, entry.person_id)
    problems = _check(session, entry, "")
    if not problems and entry.id is None:
        for row in session.scalars(select(Absence).where(Absence.person_id == entry.person_id)):
            if _identity(row) == _identity(entry):
                return AbsenceAdded(row=row, created=False)
    if (
        entry.id is not None
        and ID_PATTERN.fullmatch(entry.id)
        and session.get(Absence, entry.id) is not None
    ):
        problems.append(Problem("id", f"an absence with id {entry.id!r} already exists"))
    if problems:
        raise ValidationFailed("absence", problems)
    if entry.id is None:
        entry = replace(entry, id=_new_ids(session, 1, set())[0])
    else:
        count_as_issued(session, [entry.id])
    row = _store(session, entry)
    record_audit(session, "absence.add", actor, _audit_details(row))
    session.flush()
    return AbsenceAdded(row=row, created=True)


def remove_absence(session: Session, absence_id: str, *, actor: str | None) -> None:
    """Delete an absence.

    Raises:
        NotFound: there is no absence with that id.
    """
    row = session.get(Absence, absence_id)
    if row is None:
        raise NotFound(f"no absence with id {absence_id!r}")
    record_audit(session, "absence.remove", actor, _audit_details(row))
    session.delete(row)
    session.flush()


def list_absences(
    session: Session,
    *,
    person_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> list[Absence]:
    """Absences of ``person_id`` (None: everyone) overlapping ``start``..``end``, by start.

    Raises:
        NotFound: ``person_id`` is given and there is no such person.
    """
    query = select(Absence)
    if person_id is not None:
        _require_person(session, person_id)
        query = query.where(Absence.person_id == person_id)
    if start is not None:
        query = query.where(Absence.end >= start)
    if end is not None:
        query = query.where(Absence.start <= end)
    return sorted(session.scalars(query), key=lambda a: (a.start, a.person_id, a.id))


def import_absences_csv(session: Session, path: Path, *, actor: str | None) -> CsvImportSummary:
    """Add or replace the absences of a CSV file, all or nothing.

    Columns: ``id`` (optional), ``person_id``, ``start``, ``end``, ``half`` (empty, AM or PM),
    ``type``, ``blocking`` (empty for the type's default, true or false), ``reason``.

    Raises:
        InputError: the file cannot be read.
        ValidationFailed: problems named by file, line and column, e.g. ``leave.csv:4:end``.
    """
    entries = _read_csv(session, path)
    existing = {a.id: a for a in session.scalars(select(Absence))}
    same_as = {_identity(a): a for a in existing.values()}
    fresh = [e for e in entries if e.id is None and _identity(e) not in same_as]
    new_ids = iter(_new_ids(session, len(fresh), {e.id for e in entries if e.id}))
    added = replaced = unchanged = 0
    for entry in entries:
        if entry.id is None:
            if _identity(entry) in same_as:
                unchanged += 1
                continue
            entry = replace(entry, id=next(new_ids))
        assert entry.id is not None
        old = existing.get(entry.id)
        if old is not None and _as_entry(old) == entry:
            unchanged += 1
            continue
        if old is not None:
            session.delete(old)
            session.flush()
            replaced += 1
        else:
            added += 1
        _store(session, entry)
    summary = CsvImportSummary(added=added, replaced=replaced, unchanged=unchanged)
    record_audit(session, "absences.import_csv", actor, {"source": path.name, **summary.__dict__})
    session.flush()
    return summary


def _read_csv(session: Session, path: Path) -> list[AbsenceEntry]:
    name = path.name
    problems: list[Problem] = []
    entries: list[AbsenceEntry] = []
    first_line_of: dict[str, int] = {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in reader.fieldnames or []]
            reader.fieldnames = header
            problems += [Problem(f"{name}:1:{c}", "missing column") for c in CSV_REQUIRED
                         if c not in header]  # fmt: skip
            problems += [Problem(f"{name}:1:{c}", "unknown column") for c in header
                         if c not in CSV_COLUMNS]  # fmt: skip
            if problems:
                raise ValidationFailed(name, problems)
            for row in reader:
                line = reader.line_num
                entry = _parse_row(row, f"{name}:{line}:", problems)
                if entry is None:
                    continue
                problems += _check(session, entry, f"{name}:{line}:")
                if entry.id is not None:
                    if entry.id in first_line_of:
                        problems.append(
                            Problem(f"{name}:{line}:id", f"repeats line {first_line_of[entry.id]}")
                        )
                    first_line_of.setdefault(entry.id, line)
                entries.append(entry)
    except FileNotFoundError:
        raise InputError(f"{path}: cannot read: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from exc
    except csv.Error as exc:
        problems.append(Problem(f"{name}:{reader.line_num}", f"not valid CSV: {exc}"))
    if problems:
        raise ValidationFailed(name, problems)
    return entries


def _parse_row(row: dict[str, str | None], at: str, problems: list[Problem]) -> AbsenceEntry | None:
    def text(column: str) -> str:
        value = row.get(column)
        return value.strip() if isinstance(value, str) else ""

    if None in row:  # csv puts surplus cells under the key None
        problems.append(Problem(f"{at}{len(row) - 1}", "more cells than columns"))
    before = len(problems)
    for column in CSV_REQUIRED:
        if not text(column):
            problems.append(Problem(f"{at}{column}", "missing"))
    start, end = parse_date(text("start")), parse_date(text("end"))
    for column, value in (("start", start), ("end", end)):
        if text(column) and value is None:
            problems.append(
                Problem(f"{at}{column}", f"expected YYYY-MM-DD, found {text(column)!r}")
            )
    half = text("half").upper()
    if half not in ("", "AM", "PM"):
        problems.append(Problem(f"{at}half", f"expected AM, PM or empty, found {text('half')!r}"))
    blocking_text = text("blocking").lower()
    if blocking_text not in _TRUE | _FALSE | {""}:
        problems.append(Problem(f"{at}blocking", "expected true, false or empty"))
    if len(problems) > before or start is None or end is None:
        return None
    return AbsenceEntry(
        id=text("id") or None,
        person_id=text("person_id"),
        start=start,
        end=end,
        type=text("type").lower(),
        half=Half(half) if half else None,
        blocking=None if not blocking_text else blocking_text in _TRUE,
        reason=text("reason") or None,
    )


def _require_person(session: Session, person_id: str) -> None:
    # An id that is not even well formed (a NUL would be a database error on PostgreSQL) is
    # bad input, reported by _check; only a well-formed unknown id is "not found".
    if ID_PATTERN.fullmatch(person_id) and session.get(Person, person_id) is None:
        raise NotFound(f"no person with id {person_id!r}")


def _check(session: Session, entry: AbsenceEntry, at: str) -> list[Problem]:
    problems = []
    if entry.id is not None and not ID_PATTERN.fullmatch(entry.id):
        problems.append(Problem(f"{at}id", "expected 1-64 of A-Z a-z 0-9 _ . -"))
    if not ID_PATTERN.fullmatch(entry.person_id):
        # Not looked up: an id with a NUL would be a database error on PostgreSQL.
        problems.append(Problem(f"{at}person_id", "expected 1-64 of A-Z a-z 0-9 _ . -"))
    elif session.get(Person, entry.person_id) is None:
        problems.append(Problem(f"{at}person_id", f"no person with id {entry.person_id!r}"))
    if entry.start > entry.end:
        problems.append(Problem(f"{at}end", "is before start"))
    if entry.type not in ABSENCE_TYPES:
        problems.append(
            Problem(f"{at}type", f"unknown type {entry.type!r}; one of {', '.join(ABSENCE_TYPES)}")
        )
    if entry.reason is not None and len(entry.reason) > 1000:
        problems.append(Problem(f"{at}reason", "longer than 1000 characters"))
    elif entry.reason is not None and (why := unstorable(entry.reason)) is not None:
        problems.append(Problem(f"{at}reason", why))
    return problems


def _identity(a: Absence | AbsenceEntry) -> tuple[object, ...]:
    return (a.person_id, a.start, a.end, a.half or None, a.type)


def _as_entry(row: Absence) -> AbsenceEntry:
    return AbsenceEntry(
        id=row.id,
        person_id=row.person_id,
        start=row.start,
        end=row.end,
        type=row.type,
        half=Half(row.half) if row.half else None,
        blocking=row.blocking,
        reason=row.reason,
    )


def _store(session: Session, entry: AbsenceEntry) -> Absence:
    assert entry.id is not None
    row = Absence(
        id=entry.id,
        person_id=entry.person_id,
        start=entry.start,
        end=entry.end,
        half=entry.half.value if entry.half else None,
        type=entry.type,
        blocking=entry.blocking,
        reason=entry.reason,
    )
    session.add(row)
    return row


def count_as_issued(session: Session, ids: Iterable[str]) -> None:
    """Count absence ids stored as given (a program file, a CSV row, ``--id``) as issued.

    The absence sequence is raised to the highest number among them (in the caller's
    transaction), so that no new absence gets one of them, even after its absence is gone.
    """
    numbers = [n for i in ids if (n := absence_number(i)) is not None]
    if numbers:
        advance_sequence(session, ABSENCE_SEQUENCE, at_least=max(numbers))


def _new_ids(session: Session, count: int, taken: set[str]) -> list[str]:
    """``count`` ids never issued before, in the demo's scheme (``A0042``), numbered on from
    the highest number ever issued and from every id of that scheme stored or ``taken``
    (however padded): a number above all of them cannot match any id, stored or removed.

    ``taken`` (ids about to be stored as given) count as issued from now on. The stored ids
    are read too, so that rows written past the sequence (a database restored from parts)
    cannot collide either.
    """
    used = set(session.scalars(select(Absence.id))) | taken
    highest = max((n for i in used if (n := absence_number(i)) is not None), default=0)
    last = advance_sequence(session, ABSENCE_SEQUENCE, at_least=highest, count=count)
    return [absence_id(n) for n in range(last - count + 1, last + 1)]


def _audit_details(row: Absence) -> dict[str, str]:
    # Type and reason may be private (RESILIENCE_MODEL.md section 8): never in the trail.
    return {
        "absence_id": row.id,
        "person_id": row.person_id,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
    }
