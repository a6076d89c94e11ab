"""``residency-scheduler migrate`` says what it did: created, migrated from where, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.core.config import get_settings
from app.core.db import reset_engine, sqlite_file
from app.core.migrate import alembic_config
from app.core.schema_version import HEAD_REVISION, REVISIONS
from tests.conftest import BACKENDS


@pytest.fixture
def configured_blank(blank_database_url: str, configure: Callable[[str], None]) -> str:
    """``blank_database_url`` made the configured database."""
    configure(blank_database_url)
    return blank_database_url


def _migrate() -> str:
    done = CliRunner().invoke(cli_app, ["migrate"])
    assert done.exit_code == 0, done.output
    return done.stdout


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_migrate_says_what_it_did_when_run_on_new_old_and_current_databases(
    configured_blank: str,
) -> None:
    new_file = sqlite_file(configured_blank) if configured_blank.startswith("sqlite") else None
    assert new_file is None or not new_file.exists()
    older = REVISIONS[-3]

    first = _migrate()
    again = _migrate()
    command.downgrade(alembic_config(configured_blank), older)
    upgraded = _migrate()

    if new_file is not None:  # SQLite: the file is made by migrate
        assert first == f"database created and migrated to {HEAD_REVISION}\n"
    else:  # PostgreSQL: an existing database without tables
        assert first == f"empty database migrated to {HEAD_REVISION}\n"
    assert again == f"database already at {HEAD_REVISION}: nothing to do\n"
    assert upgraded == f"database migrated from {older} to {HEAD_REVISION}\n"


def test_migrate_says_empty_database_when_the_sqlite_file_exists_without_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "empty.db"
    path.touch(mode=0o600)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    reset_engine()
    try:
        assert _migrate() == f"empty database migrated to {HEAD_REVISION}\n"
    finally:
        reset_engine()
        get_settings.cache_clear()
