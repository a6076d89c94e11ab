"""Database fixtures shared by every test package.

``engine`` is parametrized over SQLite (a file in a temporary folder) and PostgreSQL (a
freshly created database with a unique name, dropped at the end; marked ``postgres``). Both are
migrated once per test session with ``upgrade_database`` and emptied after each test, so a
test sees empty tables and may commit freely.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, delete, make_url, text
from sqlalchemy.orm import Session

import app.models.every
from app.core.config import get_settings
from app.core.db import make_engine, reset_engine
from app.core.migrate import upgrade_database
from tests.support.services import ensure_postgres

# Celery and Redis fixtures live in their own plugin module; the lead registers it here:
pytest_plugins = ["tests.support.celery_fixtures"]

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _create_postgres_database() -> tuple[str, Callable[[], None]]:
    """A new empty PostgreSQL database: its URL, and a function that drops it."""
    admin_url = make_url(ensure_postgres())
    name = f"rs_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture
def blank_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new, unmigrated database of the backend named by the test's parameter.

    Use with ``@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)``.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    url, drop = _create_postgres_database()
    try:
        yield url
    finally:
        drop()


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of each backend, shared by the whole test session."""
    drop: Callable[[], None] | None = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    else:
        url, drop = _create_postgres_database()
    upgrade_database(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
        if drop is not None:
            drop()


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated database with empty tables (emptied again after the test)."""
    yield migrated_engine
    with migrated_engine.begin() as conn:
        for table in reversed(app.models.every.Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on ``engine``; the test commits or not as it likes."""
    with Session(engine, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[[str], None]]:
    """Make a URL the configured database (as a command or worker would find it)."""

    def configure_url(url: str) -> None:
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
        get_settings.cache_clear()
        reset_engine()

    yield configure_url
    reset_engine()
    get_settings.cache_clear()


@pytest.fixture
def configured_database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """``engine``'s database made the configured one (for code that calls ``session_scope``)."""
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    reset_engine()
    yield engine
    reset_engine()
    get_settings.cache_clear()
