"""After a large import the program tables are vacuumed and analysed (PostgreSQL), so the
grouped read of the assignments can be an index-only scan at once, not after autovacuum."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.core.config import get_settings
from app.core.db import make_engine, reset_engine
from app.core.migrate import upgrade_database
from app.demo.generator import generate_demo_program
from app.programs.document import validate_program
from app.programs.service import IMPORT_VACUUM_MIN_ROWS, import_program, refresh_after_import
from tests.conftest import BACKENDS
from tests.programs.factories import small_program

POSTGRES = [p for p in BACKENDS if not isinstance(p, str)]


def _document_rows(document: dict[str, Any]) -> int:
    """Rows a document is stored as: one per item, the program row, qualifications held and
    staffing rules."""
    doc = validate_program(document, source="test")
    holds = sum(len(p.get("qualifications", [])) for p in doc["people"])
    rules = sum(len(a["min_faculty_rules"]) for a in doc["activities"])
    items = sum(len(doc[key]) for key in ("sites", "qualifications", "people", "activities"))
    dated = sum(len(doc[key]) for key in ("holidays", "assignments", "absences"))
    return 1 + holds + rules + items + dated


def _assignment_upkeep(engine: Engine) -> dict[str, Any]:
    """What PostgreSQL knows of ``assignment``, read on a fresh connection."""
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT s.last_vacuum, s.last_analyze, c.relallvisible, c.reltuples,"
                " (SELECT count(*) FROM assignment) AS rows"
                " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
                " WHERE s.relname = 'assignment'"
            )
        ).one()
    return dict(row._mapping)


def test_rows_written_counts_deleted_and_inserted_rows(session: Session) -> None:
    first, second = small_program(), generate_demo_program(seed=2, weeks=4)

    stored = import_program(session, first, source="a.json", actor=None)
    again = import_program(session, first, source="a.json", actor=None)
    replaced = import_program(session, second, source="b.json", actor=None)

    assert stored.rows_written == _document_rows(first)
    assert (again.changed, again.rows_written) == (False, 0)
    assert replaced.rows_written == _document_rows(first) + _document_rows(second)
    assert _document_rows(first) < IMPORT_VACUUM_MIN_ROWS < _document_rows(second)


def test_refresh_vacuums_on_postgresql_only_after_large_import(engine: Engine) -> None:
    postgres = engine.dialect.name == "postgresql"
    with Session(engine) as session:
        small = import_program(session, small_program(), source="a.json", actor=None)
        session.commit()
    if postgres:
        before = _assignment_upkeep(engine)
    assert refresh_after_import(engine, small) is False  # a few rows: not worth it
    if postgres:
        assert _assignment_upkeep(engine) == before
    with Session(engine) as session:
        large = import_program(
            session, generate_demo_program(seed=2, weeks=4), source="b.json", actor=None
        )
        session.commit()

    assert refresh_after_import(engine, large) is postgres  # SQLite needs no statistics

    if postgres:
        after = _assignment_upkeep(engine)
        assert after["last_vacuum"] is not None and after["last_analyze"] is not None
        if before["last_vacuum"] is not None:
            assert after["last_vacuum"] > before["last_vacuum"]
        assert after["reltuples"] == after["rows"] == large.counts["assignments"]


@pytest.fixture
def fresh_postgres(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[Engine]:
    """A migrated PostgreSQL database no test used before (never vacuumed), configured."""
    upgrade_database(blank_database_url)
    monkeypatch.setenv("DATABASE_URL", blank_database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    reset_engine()
    engine = make_engine(blank_database_url)
    yield engine
    engine.dispose()
    reset_engine()
    get_settings.cache_clear()


@pytest.mark.parametrize("blank_database_url", POSTGRES, indirect=True)
@pytest.mark.parametrize(
    "args", [["import", "{program}"], ["demo-data", "--weeks", "4"]], ids=lambda a: a[0]
)
def test_import_command_leaves_assignment_ready_for_index_only_scans(
    args: list[str], fresh_postgres: Engine, tmp_path: Path
) -> None:
    program = tmp_path / "program.json"
    program.write_text(json.dumps(generate_demo_program(seed=2, weeks=4)), encoding="utf-8")
    before = _assignment_upkeep(fresh_postgres)
    assert (before["last_vacuum"], before["last_analyze"], before["relallvisible"]) == (
        None,
        None,
        0,
    )

    result = CliRunner().invoke(cli_app, [a.format(program=program) for a in args])

    assert result.exit_code == 0, result.output
    after = _assignment_upkeep(fresh_postgres)
    assert isinstance(after["last_vacuum"], datetime)
    assert isinstance(after["last_analyze"], datetime)
    assert after["reltuples"] == after["rows"] > IMPORT_VACUUM_MIN_ROWS  # planner knows
    assert after["relallvisible"] > 0  # visibility map set: no heap fetch per index entry
