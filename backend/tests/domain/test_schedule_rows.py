"""The lean loader (``load_rows``): equal to an ORM-object loader, and its fingerprint.

The ORM loader here is written independently of the app's: it reads mapped objects one by
one, relationships included, as the obvious code would.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.core.errors import ConfigurationError
from app.core.migrate import upgrade_database
from app.domain.coverage import build_site_half_days, site_half_days_of_rows
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
from app.domain.schedule_rows import GroupDigest, ScheduleRows
from app.domain.snapshot import assignment_groups, load_base, load_rows
from app.domain.snapshot_json import snapshot_from_json, snapshot_to_json
from app.models import activity as activity_model
from app.models import person as person_model
from app.models import program as program_model
from app.models import schedule as schedule_model
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.contingency.chunks import chunk_dates
from tests.programs.factories import START, random_program

TAG = "test"


def orm_view(session: Session, start: date, end: date) -> dict[str, Any]:
    """The schedule of ``start``..``end`` from ORM objects, as comparable sets."""
    program = session.get(program_model.Program, program_model.PROGRAM_ROW_ID)
    assert program is not None
    assignments = session.scalars(select(schedule_model.Assignment)).all()
    month, day = program.academic_year_start.split("-")
    return {
        "program": ProgramInfo(
            program.name,
            program.timezone,
            program.main_site,
            (int(month), int(day)),
            program.schedule_end or max(a.date for a in assignments),
            min(a.date for a in assignments),
        ),
        "people": {
            Person(p.id, p.name, PersonKind(p.kind), p.pgy, p.pgy_academic_year, p.faculty_role,
                   frozenset(q.id for q in p.qualifications), p.weekly_cap, p.active_from,
                   p.active_to)
            for p in session.scalars(select(person_model.Person))
        },
        "activities": {
            Activity(a.id, a.name, Category(a.category), a.site_id, a.qualification_id,
                     a.min_faculty,
                     tuple(MinFacultyRule(r.min_faculty,
                                          None if r.weekdays is None else frozenset(r.weekdays),
                                          Half(r.half) if r.half else None, r.start, r.end,
                                          r.holiday)
                           for r in sorted(a.rules, key=lambda r: r.position)),
                     a.ratio_pgy1, a.ratio_pgy2plus, a.releasable)
            for a in session.scalars(select(activity_model.Activity))
        },
        "assignments": {
            Assignment(a.person_id, HalfDay(a.date, Half(a.half)), a.activity_id,
                       AssignmentRole(a.role))
            for a in assignments
            if start <= a.date <= end
        },
        "absences": {
            Absence(a.id, a.person_id, a.start, a.end, a.type, Half(a.half) if a.half else None,
                    absence_blocks(a.type, a.blocking))
            for a in session.scalars(select(schedule_model.Absence))
            if a.start <= end and a.end >= start
        },
        "holidays": frozenset(h.date for h in session.scalars(select(schedule_model.Holiday))),
    }  # fmt: skip


def lean_view(session: Session, start: date, end: date) -> dict[str, Any]:
    snapshot = load_rows(session, start=start, end=end).snapshot()
    return {
        "program": snapshot.program,
        "people": set(snapshot.people),
        "activities": set(snapshot.activities),
        "assignments": set(snapshot.assignments),
        "absences": set(snapshot.absences),
        "holidays": snapshot.holidays,
    }


@pytest.mark.parametrize("seed", range(6))
def test_lean_loader_equals_orm_loader_when_program_is_random(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    import_program(session, random_program(rng, people=14, days=21), source="p", actor=None)
    session.commit()
    for _ in range(3):
        first = START + timedelta(days=rng.randint(0, 15))
        last = first + timedelta(days=rng.randint(0, 10))
        expected = orm_view(session, first, last)
        assert expected["assignments"]  # never two empty windows compared
        assert lean_view(session, first, last) == expected
        session.rollback()


def _store_again_in_reverse_order_of_person(session: Session) -> None:
    """Store the assignments again, the last person's first: a database joining a group's
    people in the order it stored them would give them reversed."""
    table = schedule_model.Assignment.__table__
    columns = ("person_id", "date", "half", "activity_id", "role")
    kept = [dict(zip(columns, r, strict=True))
            for r in session.execute(select(*(table.c[c] for c in columns)))]  # fmt: skip
    kept.sort(key=lambda r: r["person_id"], reverse=True)
    session.execute(table.delete())
    session.execute(table.insert(), kept)
    session.commit()


def test_groups_are_sorted_whole_and_sliced_by_date_when_loaded(session: Session) -> None:
    import_program(session, random_program(random.Random(3), days=20), source="p", actor=None)
    session.commit()
    _store_again_in_reverse_order_of_person(session)
    rows = load_rows(session)
    stored = [
        (a.person_id, a.date.isoformat(), a.half, a.activity_id, a.role)
        for a in session.scalars(select(schedule_model.Assignment))
    ]
    # One group per (date, half, activity, role), its people sorted, every assignment once.
    keys = [g[:4] for g in rows.groups]
    assert keys == sorted(set(keys))
    # The people of a group joined by single spaces in code point order, as the database
    # gave them (SQLite reads them off the group index, PostgreSQL sorts them in "C").
    people = [g[4].split(" ") for g in rows.groups]
    assert all(ids == sorted(ids) and all(ids) for ids in people)
    assert any(len(ids) > 1 for ids in people)  # some group has an order to check
    assert sorted(rows.rows()) == sorted(stored)
    assert len(list(rows.rows())) == len(stored)
    a, b = START + timedelta(days=3), START + timedelta(days=9)
    assert list(rows.between(a, b)) == [
        g for g in rows.groups if a.isoformat() <= g[0] <= b.isoformat()
    ]
    part = snapshot_from_json({**rows.to_json(a, b), "assignments": list(rows.rows(a, b))})
    assert set(part.assignments) == set(rows.snapshot(a, b).assignments)
    assert ScheduleRows.from_json(rows.to_json(a, b)).groups == list(rows.between(a, b))
    # The per-assignment form (``snapshot_to_json``) groups to the same.
    assert ScheduleRows.from_json(snapshot_to_json(rows.snapshot(a, b))).groups == list(
        rows.between(a, b)
    )


@pytest.mark.postgres
@pytest.mark.parametrize("blank_database_url", ["postgresql"], indirect=True)
def test_people_in_code_point_order_when_the_database_collates_ids_otherwise(
    blank_database_url: str,
) -> None:
    upgrade_database(blank_database_url)
    engine = make_engine(blank_database_url)
    try:
        with engine.begin() as conn:
            icu = conn.execute(
                text("SELECT 1 FROM pg_collation WHERE collname = 'en-US-x-icu'")
            ).scalar()
            if icu is None:
                pytest.skip("this PostgreSQL has no ICU collation")
            # A database created with an English collation: case and punctuation weigh less.
            conn.execute(text('ALTER TABLE assignment ALTER COLUMN person_id'
                              ' TYPE varchar(64) COLLATE "en-US-x-icu"'))  # fmt: skip
        doc = random_program(random.Random(11), people=16, days=6)
        lower = {p["id"]: p["id"].lower() for p in doc["people"][::2]}
        for record in (*doc["people"], *doc["assignments"], *doc["absences"]):
            key = "id" if "kind" in record else "person_id"
            record[key] = lower.get(record[key], record[key])
        with Session(engine) as session:
            import_program(session, doc, source="p", actor=None)
            session.commit()
            groups = load_rows(session).groups
            own_order = session.execute(
                text("SELECT string_agg(person_id, ' ' ORDER BY person_id) FROM assignment"
                     " GROUP BY date, half, activity_id, role")
            ).scalars().all()  # fmt: skip
    finally:
        engine.dispose()

    people = [g[4].split(" ") for g in groups]
    assert all(ids == sorted(ids) for ids in people)  # code point order, as Python and SQLite
    # ...which is not the database's own order of these ids in some group.
    assert {g[4] for g in groups} != set(own_order)


def test_groups_are_the_same_when_the_group_index_was_dropped_by_hand(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL sorts a group's people itself")
    import_program(session, random_program(random.Random(5), days=12), source="p", actor=None)
    session.commit()
    _store_again_in_reverse_order_of_person(session)
    with_index = load_rows(session).groups
    session.rollback()
    session.execute(text(f"DROP INDEX {schedule_model.ASSIGNMENT_GROUP_INDEX}"))
    session.commit()

    without = load_rows(session).groups

    assert without == with_index
    assert any(" " in g[4] for g in without)  # some group has an order to keep
    assert "is missing" in caplog.text


@pytest.mark.parametrize("seed", range(4))
def test_problems_of_rows_equal_problems_of_snapshot_when_program_is_random(
    session: Session, seed: int
) -> None:
    rng = random.Random(seed)
    import_program(session, random_program(rng, people=16, days=28), source="p", actor=None)
    session.commit()
    rows = load_rows(session)
    for _ in range(4):
        first = START + timedelta(days=rng.randint(-3, 20))
        last = first + timedelta(days=rng.randint(0, 14))
        expected = build_site_half_days(rows.snapshot(), first, last)
        assert any(p.demands for p in expected) or last < START  # not two empty lists
        assert site_half_days_of_rows(rows, first, last) == expected
        part = ScheduleRows.from_json(rows.to_json(first, last))  # a chunk's view
        assert site_half_days_of_rows(part, first, last) == expected


def _fingerprint(session: Session, start: date, end: date) -> str:
    rows = load_rows(session, start=start, end=end)
    session.rollback()
    return rows.fingerprint(start, end, TAG)


def _reimport(session: Session, doc: dict[str, Any]) -> None:
    import_program(session, doc, source="p", actor=None)
    session.commit()


def test_fingerprint_follows_the_window_input_and_nothing_else(session: Session) -> None:
    doc = random_program(random.Random(11), days=20)
    _reimport(session, doc)
    first, last = START + timedelta(days=5), START + timedelta(days=11)
    base = _fingerprint(session, first, last)

    # The same input read through a wider window: the same fingerprint.
    wide = load_rows(session, start=START, end=START + timedelta(days=19))
    session.rollback()
    assert wide.fingerprint(first, last, TAG) == base
    assert wide.fingerprint(first, last, "other purpose") != base

    # A renamed person: the same (reports store ids, names are read fresh).
    doc["people"][0]["name"] = "Someone Else"
    _reimport(session, doc)
    assert _fingerprint(session, first, last) == base

    # An assignment outside the window moved: the same.
    outside = next(a for a in doc["assignments"] if a["date"] > last.isoformat())
    outside["half"] = "PM" if outside["half"] == "AM" else "AM"
    doc["assignments"] = [
        a
        for a in doc["assignments"]
        if a is outside
        or not (a["person_id"] == outside["person_id"] and a["date"] == outside["date"])
    ]
    _reimport(session, doc)
    assert _fingerprint(session, first, last) == base

    # An assignment inside the window dropped: changed.
    inside = next(
        a for a in doc["assignments"] if first.isoformat() <= a["date"] <= last.isoformat()
    )
    doc["assignments"].remove(inside)
    _reimport(session, doc)
    changed = _fingerprint(session, first, last)
    assert changed != base

    # An absence overlapping the window: changed again.
    add_absence(
        session,
        AbsenceEntry(person_id=inside["person_id"], start=first, end=first, type="sick"),
        actor="t",
    )
    session.commit()
    assert _fingerprint(session, first, last) != changed


def test_load_refuses_a_person_id_with_a_space_when_put_in_by_hand(session: Session) -> None:
    import_program(session, random_program(random.Random(5), days=5), source="p", actor=None)
    session.commit()
    moved = session.scalars(select(schedule_model.Assignment)).first()
    assert moved is not None
    person = session.get(person_model.Person, moved.person_id)
    assert person is not None
    # Not possible through any entry point (ids are checked there): only by hand.
    session.add(
        person_model.Person(id="F 99", name="By hand", kind=person.kind, pgy=person.pgy,
                            pgy_academic_year=person.pgy_academic_year)
    )  # fmt: skip
    session.flush()
    moved.person_id = "F 99"
    session.commit()

    with pytest.raises(ConfigurationError, match="person id contains a space"):
        load_rows(session)


def test_fingerprint_follows_the_schedule_start_when_window_begins_before_it(
    session: Session,
) -> None:
    doc = random_program(random.Random(12), days=20)
    day = {d: (START + timedelta(days=d)).isoformat() for d in range(20)}
    late = [a for a in doc["assignments"] if a["date"] >= day[5]]
    moved = next(a for a in doc["assignments"] if a["date"] == day[1])
    _reimport(session, {**doc, "assignments": late})  # the schedule starts on day 5
    before = START + timedelta(days=3), START + timedelta(days=10)  # days 3-4 not judged
    within = START + timedelta(days=6), START + timedelta(days=10)
    base_before, base_within = _fingerprint(session, *before), _fingerprint(session, *within)

    # One assignment on day 1, outside both windows: the schedule now starts on day 1, so
    # days 3-4 are judged (gaps there, if any) and the first window's input changed.
    _reimport(session, {**doc, "assignments": [*late, moved]})
    assert _fingerprint(session, *before) != base_before
    assert _fingerprint(session, *within) == base_within


def test_chunk_rows_keep_the_schedule_start_when_their_first_days_have_no_assignment() -> None:
    wards = Activity("wards", "Wards", Category.PATIENT_SAFETY, "main", "inpatient", min_faculty=1)
    f1 = Person("f1", "f1", PersonKind.FACULTY, qualifications=frozenset({"inpatient"}))
    first, last = date(2026, 12, 2), date(2026, 12, 6)
    base = ScheduleSnapshot(
        ProgramInfo(schedule_end=last, schedule_start=first), (f1,), (wards,), ()
    )
    groups = [(d.isoformat(), "AM", "wards", "primary", "f1") for d in (first, last)]
    rows = ScheduleRows(base, groups)
    a, b = date(2026, 12, 4), last  # the chunk's only assignment is on its last day
    whole = site_half_days_of_rows(rows, a, b)
    assert sorted({p.halfday.date for p in whole}) == [a, date(2026, 12, 5), b]
    chunk = ScheduleRows.from_json(rows.to_json(a, b))
    assert chunk.base.program.schedule_start == first
    assert site_half_days_of_rows(chunk, a, b) == whole


def test_fingerprint_of_ranges_read_one_after_another_equals_one_whole_read(
    session: Session,
) -> None:
    """What the streamed contingency chord hashes (``GroupDigest`` over ``assignment_groups``
    of each chunk's dates) is ``fingerprint`` of the window read at once; each chunk's part is
    ``window_json`` of the whole read."""
    rng = random.Random(21)
    for trial in range(6):
        doc = random_program(rng, days=rng.randint(3, 20))
        _reimport(session, doc)
        for _ in range(4):
            # Windows that start before the schedule, end after it, or lie wholly past it:
            # ranges with no assignment at all come first, last and in between.
            first = START + timedelta(days=rng.randint(-4, 18))
            last = first + timedelta(days=rng.randint(0, 30))
            whole = load_rows(session, start=first, end=last)
            expected = whole.fingerprint(first, last, TAG)
            base = load_base(session, start=first, end=last)
            head = ScheduleRows(base, ())
            digest = GroupDigest(head.fingerprint_head(first, last, TAG))
            empty_ranges = 0
            for a, b in chunk_dates(first, last, rng.randint(1, 9)):
                groups = assignment_groups(session, a, b)
                empty_ranges += not groups
                digest.add(groups)
                assert head.window_json(a, b, groups) == whole.window_json(a, b), (trial, a, b)
            session.rollback()
            assert digest.hexdigest() == expected, (trial, first, last, empty_ranges)
