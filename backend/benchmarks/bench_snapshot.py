"""Benchmark: ``load_rows`` and ``load_snapshot`` against raw reads of the same rows.

The program is 150 faculty precepting clinic in every half-day of 52 weeks (109,200
assignments), imported into a fresh database (SQLite in a temporary folder, or
``--database-url``). Timed in the same run, best of ``--runs``: a raw ``sqlite3`` read of every
row (SQLite only; the floor), a Core SELECT of the same rows, ``load_rows`` (the lean loader:
rows kept as text, what the fingerprint and a chunk's part need) and ``load_snapshot`` (rows
turned into frozen snapshot data). The figures that matter are the ratios.
This replaces a test that asserted a wall-clock limit (it failed on busy machines).

Run from backend/:  .venv/bin/python benchmarks/bench_snapshot.py [--runs 3]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))  # for ``app`` and the factories in tests/programs

from sqlalchemy import Table, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade_database  # noqa: E402
from app.domain.snapshot import load_rows, load_snapshot  # noqa: E402
from app.models.activity import Activity, MinFacultyRule  # noqa: E402
from app.models.person import Person, person_qualification  # noqa: E402
from app.models.program import Program  # noqa: E402
from app.models.schedule import Absence, Assignment, Holiday  # noqa: E402
from app.programs.service import import_program  # noqa: E402
from benchmarks.bench_contingency_core import best_of  # noqa: E402
from tests.programs.factories import small_program  # noqa: E402

FIRST_DAY = date(2027, 1, 4)


def big_program(faculty: int, weeks: int) -> dict[str, Any]:
    """``small_program`` with ``faculty`` preceptors in clinic every half-day of ``weeks``."""
    doc = small_program()
    doc["people"] = [
        {"id": f"F{i:03d}", "name": f"F {i}", "kind": "faculty",
         "qualifications": ["clinic_preceptor"]}
        for i in range(faculty)
    ]  # fmt: skip
    doc["absences"] = []
    days = [FIRST_DAY + timedelta(days=d) for d in range(weeks * 7)]
    doc["assignments"] = [
        {"person_id": p["id"], "date": d.isoformat(), "half": half, "activity_id": "clinic"}
        for p in doc["people"] for d in days for half in ("AM", "PM")
    ]  # fmt: skip
    return doc


def core_select(session: Session, start: date | None = None, end: date | None = None) -> int:
    """Baseline: the rows ``load_snapshot`` reads, as plain Core tuples, nothing built."""
    tables: list[Any] = [Program, Person, person_qualification, Activity, MinFacultyRule]
    tables += [Holiday]
    rows = 0
    for model in tables:
        table = model if isinstance(model, Table) else model.__table__
        rows += len(session.execute(select(table)).all())
    a = Assignment.__table__.c
    query = select(a.person_id, a.date, a.half, a.activity_id, a.role)
    if start is not None and end is not None:
        query = query.where(a.date >= start, a.date <= end)
    rows += len(session.execute(query).all())
    rows += len(session.execute(select(Absence.__table__)).all())
    return rows


def raw_read(path: str, start: date | None = None, end: date | None = None) -> int:
    """The floor: the same rows through the sqlite3 module, nothing converted or built."""
    tables = ("program", "person", "person_qualification", "activity", "min_faculty_rule")
    with sqlite3.connect(path) as c:
        rows = sum(len(c.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
        rows += len(c.execute("SELECT * FROM holiday").fetchall())
        sql = "SELECT person_id, date, half, activity_id, role FROM assignment"
        if start is not None and end is not None:
            sql += f" WHERE date >= '{start}' AND date <= '{end}'"
        rows += len(c.execute(sql).fetchall())
        rows += len(c.execute("SELECT * FROM absence").fetchall())
    c.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--faculty", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    with Session(engine) as session:
        import_program(session, big_program(args.faculty, args.weeks), source="big", actor=None)
        session.commit()
    window = (FIRST_DAY, FIRST_DAY + timedelta(weeks=4, days=-1))
    with Session(engine) as session:
        rows = core_select(session)
        assignments = len(load_snapshot(session).assignments)
        select_s = best_of(args.runs, lambda: core_select(session), cold=False)
        rows_s = best_of(args.runs, lambda: load_rows(session), cold=False)
        load_s = best_of(args.runs, lambda: load_snapshot(session), cold=False)
        window_select_s = best_of(args.runs, lambda: core_select(session, *window), cold=False)
        window_load_s = best_of(
            args.runs, lambda: load_snapshot(session, start=window[0], end=window[1]), cold=False
        )
    print(
        f"{args.faculty} faculty x {args.weeks} weeks: {assignments} assignments, {rows} rows "
        f"on {engine.url.get_backend_name()} (best of {args.runs})"
    )
    print(
        f"  whole table: Core SELECT {select_s:.3f} s, load_rows {rows_s:.3f} s, "
        f"load_snapshot {load_s:.3f} s"
    )
    print(f"    ratio load_snapshot / Core SELECT: {load_s / select_s:.2f}")
    if engine.url.get_backend_name() == "sqlite":
        path = str(engine.url.database)
        raw_s = best_of(args.runs, lambda: raw_read(path), cold=False)
        print(f"    raw sqlite3 read {raw_s:.3f} s; ratio load_rows / raw: {rows_s / raw_s:.2f}")
        print(f"    load_snapshot / raw: {load_s / raw_s:.2f}")
    print(
        f"  4-week window: Core SELECT {window_select_s:.3f} s, load_snapshot {window_load_s:.3f} s"
    )
    print(f"    ratio load_snapshot / Core SELECT: {window_load_s / window_select_s:.2f}")
    engine.dispose()


if __name__ == "__main__":
    main()
