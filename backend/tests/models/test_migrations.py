"""The migrations: one head, tables equal to the models, and a clean way back down."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.core.migrate import alembic_config, upgrade_database
from app.models.audit import record_audit
from app.models.every import Base
from app.models.person import Person
from app.models.schedule import Absence
from app.programs.absences import AbsenceEntry, add_absence
from tests.conftest import BACKENDS

DAY = date(2027, 1, 4)


def test_migrations_have_single_head_when_listed() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_upgrade_matches_models_when_database_is_fresh(blank_database_url: str) -> None:
    upgrade_database(blank_database_url)
    upgrade_database(blank_database_url)  # a second run finds nothing to do
    engine = make_engine(blank_database_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
    finally:
        engine.dispose()
    assert diffs == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_downgrade_removes_every_table_when_going_to_base(blank_database_url: str) -> None:
    upgrade_database(blank_database_url)
    command.downgrade(alembic_config(blank_database_url), "base")
    engine = make_engine(blank_database_url)
    try:
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    upgrade_database(blank_database_url)  # and back up again


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_upgrade_from_0008_counts_absence_ids_the_audit_trail_names(
    blank_database_url: str,
) -> None:
    command.upgrade(alembic_config(blank_database_url), "0008")
    engine = make_engine(blank_database_url)
    try:
        with Session(engine) as session:  # rows as 0008 had them, written by the models
            session.add(Person(id="F1", name="Dr. Lee", kind="faculty"))
            session.flush()
            session.add(Absence(id="A0003", person_id="F1", start=DAY, end=DAY, type="sick"))
            for action in ("absence.add", "absence.remove"):  # A0007, since removed
                record_audit(session, action, "c", {"absence_id": "A0007", "person_id": "F1"})
            record_audit(session, "absence.add", "c", {"absence_id": "LEAVE-99"})
            session.commit()
        upgrade_database(blank_database_url)
        with Session(engine) as session:
            day = DAY + timedelta(days=1)
            entry = AbsenceEntry(person_id="F1", start=day, end=day, type="sick")
            assert add_absence(session, entry, actor="c").row.id == "A0008"
    finally:
        engine.dispose()
