"""The migrations: one head, tables equal to the models, and a clean way back down."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.core.db import make_engine
from app.core.migrate import alembic_config, upgrade_database
from app.models import Base
from tests.conftest import BACKENDS


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
