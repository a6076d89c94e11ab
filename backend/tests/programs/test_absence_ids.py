"""Absence ids are issued once: never again after removal, counted as numbers, kept in the
database, and ids stored as given (program files, CSV rows, ``--id``) count as issued."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.core.config import BACKEND_DIR
from app.models.audit import AuditRecord
from app.models.schedule import Absence
from app.programs.absences import (
    AbsenceEntry,
    add_absence,
    import_absences_csv,
    remove_absence,
)
from app.programs.service import import_program
from tests.programs.factories import small_program

DAY = date(2027, 1, 10)


def _program(*absence_ids: str) -> dict[str, Any]:
    """The small program with its absences renamed to ``absence_ids`` (at most three)."""
    doc = small_program()
    doc["absences"] = [{**a, "id": i} for a, i in zip(doc["absences"], absence_ids, strict=False)]
    return doc


def _add(session: Session, day_offset: int, **changes: Any) -> str:
    """Add an absence of F1 on its own day (a new absence each time) and commit; its id."""
    day = DAY + timedelta(days=day_offset)
    fields: dict[str, Any] = {"person_id": "F1", "start": day, "end": day, "type": "sick"}
    added = add_absence(session, AbsenceEntry(**(fields | changes)), actor="c")
    session.commit()
    assert added.created
    return added.row.id


def _remove(session: Session, absence_id: str) -> None:
    remove_absence(session, absence_id, actor="c")
    session.commit()


def test_new_absence_id_is_not_reused_when_its_absence_was_removed(session: Session) -> None:
    import_program(session, small_program(), source="p.json", actor=None)  # A1, A2, A3
    session.commit()
    first = _add(session, 0)
    _remove(session, first)
    second = _add(session, 1)
    _remove(session, second)
    third = _add(session, 2)

    assert (first, second, third) == ("A0004", "A0005", "A0006")
    trail = [
        (r.action, r.details["absence_id"])
        for r in session.scalars(select(AuditRecord).order_by(AuditRecord.id))
        if r.action.startswith("absence.")
    ]
    assert trail == [
        ("absence.add", "A0004"),
        ("absence.remove", "A0004"),
        ("absence.add", "A0005"),
        ("absence.remove", "A0005"),
        ("absence.add", "A0006"),
    ]


def test_csv_rows_without_id_get_unused_ids_when_absences_were_removed(
    session: Session, tmp_path: Path
) -> None:
    import_program(session, small_program(), source="p.json", actor=None)
    session.commit()
    _remove(session, _add(session, 0))  # A0004 issued, then removed
    leave = tmp_path / "leave.csv"
    leave.write_text(
        "person_id,start,end,type\nF1,2027-02-01,2027-02-01,sick\nF2,2027-02-01,2027-02-01,sick\n",
        encoding="utf-8",
    )
    import_absences_csv(session, leave, actor="c")
    session.commit()
    assert set(session.scalars(select(Absence.id))) == {"A1", "A2", "A3", "A0005", "A0006"}


def test_new_absence_ids_count_on_past_a9999_when_the_highest_was_removed(
    session: Session,
) -> None:
    import_program(session, _program("A9998", "A9999"), source="p.json", actor=None)
    session.commit()
    _remove(session, "A9999")
    wide = _add(session, 0)
    _remove(session, wide)  # the highest stored is A9998 again; A10000 sorts before it as text
    after = [_add(session, 1), _add(session, 2)]

    assert (wide, after) == ("A10000", ["A10001", "A10002"])


def test_imported_and_given_absence_ids_stay_issued_when_their_absences_are_removed(
    session: Session, tmp_path: Path
) -> None:
    import_program(session, _program("A0050"), source="p.json", actor=None)
    session.commit()
    _remove(session, "A0050")
    from_program = _add(session, 0)

    leave = tmp_path / "leave.csv"
    leave.write_text("id,person_id,start,end,type\nA0070,F2,2027-02-01,2027-02-01,sick\n")
    import_absences_csv(session, leave, actor="c")
    session.commit()
    _remove(session, "A0070")
    from_csv = _add(session, 1)

    assert _add(session, 2, id="A0090") == "A0090"
    _remove(session, "A0090")
    from_given = _add(session, 3)

    # A program imported over everything, without absences, leaves the numbers issued.
    import_program(session, _program(), source="p.json", actor=None)
    session.commit()
    after_import = _add(session, 4)

    assert [from_program, from_csv, from_given, after_import] == [
        "A0051",
        "A0071",
        "A0091",
        "A0092",
    ]


def test_absence_ids_stay_issued_when_each_command_is_a_new_process(
    engine: Engine, tmp_path: Path
) -> None:
    with Session(engine) as session:
        import_program(session, small_program(), source="p.json", actor=None)
        session.commit()
    env = os.environ | {
        "DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path / "var"),
    }

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "absences", *args],
            cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    add = ["add", "--person", "F1", "--from", "2027-01-04", "--to", "2027-01-04"]
    first = cli(*add).split()[-1]
    cli("remove", first)
    second = cli(*add).split()[-1]

    assert (first, second) == ("A0004", "A0005")


def test_concurrent_adds_get_distinct_ids_when_the_second_waits_for_the_first(
    engine: Engine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a second add waits for the database")
    with Session(engine) as session:
        import_program(session, small_program(), source="p.json", actor=None)
        session.commit()
    outcome: dict[str, object] = {}

    def second_add() -> None:
        try:
            with Session(engine) as other:
                day = DAY + timedelta(days=1)
                entry = AbsenceEntry(person_id="F2", start=day, end=day, type="sick")
                outcome["id"] = add_absence(other, entry, actor="b").row.id
                other.commit()
        except Exception as exc:  # reported by the assertion below
            outcome["error"] = exc

    with Session(engine) as first:
        first_id = add_absence(
            first, AbsenceEntry(person_id="F1", start=DAY, end=DAY, type="sick"), actor="a"
        ).row.id
        thread = threading.Thread(target=second_add)
        thread.start()
        for _ in range(3000):  # until the second add waits on a lock the first one holds
            if not thread.is_alive() or _lock_waits(engine):
                break
            time.sleep(0.01)
        first.commit()
    thread.join(timeout=120)

    assert not thread.is_alive()
    assert (first_id, outcome) == ("A0004", {"id": "A0005"})
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Absence)) == 5


def _lock_waits(engine: Engine) -> int:
    # A connection of its own each time: pg_stat_activity is read once per transaction.
    with engine.connect() as conn:
        waits = conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
    return int(waits or 0)


def test_absence_ids_count_up_to_the_limit_and_ignore_numbers_past_it_when_given(
    session: Session,
) -> None:
    huge = "A" + "9" * 63  # a valid id of 64 characters; its number fits no database integer
    import_program(session, _program(huge), source="p.json", actor=None)
    session.commit()

    assert _add(session, 0) == "A0001"  # no number below the limit can spell the huge id
    assert session.get(Absence, huge) is not None

    largest = "A" + "9" * 17  # the largest number counted, far past 32-bit integers
    _remove(session, _add(session, 1, id=largest))
    assert _add(session, 2) == "A1" + "0" * 17
