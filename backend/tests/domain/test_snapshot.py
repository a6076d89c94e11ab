"""The database-to-snapshot adapter agrees with the document converter.

How fast it is: benchmarks/bench_snapshot.py (no wall-clock asserts in tests)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import app.domain.snapshot as snapshot_module
from app.domain.coverage import build_site_half_days
from app.domain.schedule import ScheduleSnapshot
from app.domain.snapshot import load_snapshot
from app.programs.convert import snapshot_from_document
from app.programs.document import validate_program
from app.programs.service import import_program
from tests.programs.factories import START, random_program, small_program


def as_sets(snapshot: ScheduleSnapshot) -> dict[str, Any]:
    return {
        "program": snapshot.program,
        "people": set(snapshot.people),
        "activities": set(snapshot.activities),
        "assignments": set(snapshot.assignments),
        "absences": set(snapshot.absences),
        "holidays": snapshot.holidays,
    }


@pytest.mark.parametrize("seed", range(4))
def test_load_snapshot_equals_document_snapshot_when_imported(session: Session, seed: int) -> None:
    doc = random_program(random.Random(seed)) if seed else small_program()
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    loaded = load_snapshot(session)
    expected = snapshot_from_document(validate_program(doc, source="p.json"))
    assert as_sets(loaded) == as_sets(expected)
    assert list(loaded.assignments) == sorted(
        loaded.assignments, key=lambda a: (a.halfday, a.person_id)
    )


def test_load_snapshot_resolves_blocking_when_type_default_or_override(session: Session) -> None:
    import_program(session, small_program(), source="p.json", actor=None)
    session.commit()
    absences = {a.id: a for a in load_snapshot(session).absences}
    assert absences["A1"].blocking is True  # vacation, default
    assert absences["A3"].blocking is True  # telework, overridden to blocking
    assert [r.min_faculty for r in load_snapshot(session).activities_by_id["inpatient"]
            .min_faculty_rules] == [2, 1]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_load_snapshot_keeps_window_when_dates_given(session: Session, seed: int) -> None:
    rng = random.Random(seed)
    import_program(session, random_program(rng, days=20), source="p.json", actor=None)
    session.commit()
    everything = load_snapshot(session)
    first = START + timedelta(days=rng.randint(0, 10))
    last = first + timedelta(days=rng.randint(0, 6))
    window = load_snapshot(session, start=first, end=last)
    assert window.assignments  # random_program assigns about 60 % of half-days
    assert set(window.assignments) == {
        a for a in everything.assignments if first <= a.halfday.date <= last
    }
    assert set(window.absences) == {
        a for a in everything.absences if a.start <= last and a.end >= first
    }
    assert window.people == everything.people


def test_load_snapshot_is_empty_when_nothing_was_imported(session: Session) -> None:
    snapshot = load_snapshot(session)
    assert (snapshot.people, snapshot.assignments) == ((), ())


def test_load_snapshot_takes_schedule_end_from_whole_table_when_window_is_earlier(
    session: Session,
) -> None:
    doc = small_program()  # assignments from 2026-12-01 to 2026-12-05
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    window = load_snapshot(session, start=date(2026, 12, 1), end=date(2026, 12, 2))
    assert window.program.schedule_end == date(2026, 12, 5)
    assert max(a.halfday.date for a in window.assignments) == date(2026, 12, 2)
    doc["schedule_end"] = "2027-01-15"
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    assert load_snapshot(session, end=date(2026, 12, 2)).program.schedule_end == date(2027, 1, 15)


def test_load_snapshot_has_no_schedule_end_when_nothing_is_assigned(session: Session) -> None:
    doc = small_program()
    doc["assignments"] = []
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    assert load_snapshot(session).program.schedule_end is None


def test_load_snapshot_keeps_absence_that_began_before_window_and_it_blocks(
    session: Session,
) -> None:
    doc = small_program()  # F1 precepts clinic every morning 2026-12-01 .. 2026-12-05
    doc["absences"] = [
        {"id": "long", "person_id": "F1", "start": "2026-11-20", "end": "2026-12-03",
         "type": "vacation"},
    ]  # fmt: skip
    import_program(session, doc, source="p.json", actor=None)
    session.commit()
    first, last = date(2026, 12, 2), date(2026, 12, 4)
    window = load_snapshot(session, start=first, end=last)
    assert [a.id for a in window.absences] == ["long"]
    on_hand = {
        p.halfday.date: {m.person_id for m in p.pool}
        for p in build_site_half_days(window, first, last)
        if p.site == "main" and p.halfday.half.value == "AM"
    }
    assert on_hand == {date(2026, 12, 2): set(), date(2026, 12, 3): set(), last: {"F1"}}


def _commit_import_between_reads(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, doc: dict[str, Any]
) -> list[str]:
    """Make ``load_snapshot`` commit ``doc`` from a second connection right after it has read
    the people and before it reads the activities and assignments (a concurrent import)."""
    done: list[str] = []
    read_people = snapshot_module._people

    def people_then_import(session: Session) -> Any:
        people = read_people(session)
        if not done:
            with Session(engine) as other:
                import_program(other, doc, source="new.json", actor=None)
                other.commit()
            done.append("imported")
        return people

    monkeypatch.setattr(snapshot_module, "_people", people_then_import)
    return done


def test_load_snapshot_reads_one_state_when_import_commits_between_its_selects(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = small_program()
    import_program(session, old, source="old.json", actor=None)
    session.commit()
    new = random_program(random.Random(7))  # other people, activities and assignments
    done = _commit_import_between_reads(engine, monkeypatch, new)

    loaded = load_snapshot(session)
    session.commit()

    assert done == ["imported"]
    assert as_sets(loaded) == as_sets(snapshot_from_document(validate_program(old, source="o")))
    # The next read sees the import whole.
    fresh = load_snapshot(session)
    assert as_sets(fresh) == as_sets(snapshot_from_document(validate_program(new, source="n")))
