"""Transactions behave alike on SQLite and PostgreSQL (the embedded default is not weaker);
PostgreSQL connections carry the connect and statement timeouts of the settings."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import get_engine, make_engine, postgres_connect_args, reset_engine, session_scope
from app.core.errors import DatabaseMissing, exit_code_for
from app.core.migrate import upgrade_database
from app.core.probe import check_database, check_schema
from app.models.audit import AuditRecord, record_audit
from app.models.base import utcnow
from tests.support.services import ensure_postgres


def _audit(action: str) -> AuditRecord:
    return AuditRecord(at=utcnow(), action=action, actor="test", details={})


def test_savepoint_is_undone_when_outer_transaction_rolls_back(engine: Engine) -> None:
    with Session(engine) as session:
        with session.begin_nested():
            session.add(_audit("inside savepoint"))
        session.add(_audit("after savepoint"))
        session.flush()
        session.rollback()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == 0


def test_savepoint_rollback_keeps_outer_work_when_outer_commits(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(_audit("before"))
        session.flush()
        savepoint = session.begin_nested()
        session.add(_audit("undone"))
        session.flush()
        savepoint.rollback()
        session.commit()
    with Session(engine) as session:
        assert list(session.scalars(select(AuditRecord.action))) == ["before"]


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Files are created as by a login shell (umask 022: world-readable by default)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_embedded_database_is_private_when_engine_creates_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, usual_umask: None
) -> None:
    data = tmp_path / "var"
    monkeypatch.setenv("DATA_DIR", str(data))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    reset_engine()
    try:
        upgrade_database()
        with session_scope() as session:
            record_audit(session, "test.private", "test", {"reason": "private"})
        wal = data / "scheduler.db-wal"
        assert wal.exists()  # the engine's journal mode
        assert _mode(data) == 0o700
        assert _mode(data / "scheduler.db") == 0o600
        assert _mode(wal) == 0o600
    finally:
        reset_engine()
        get_settings.cache_clear()


def test_sqlite_file_is_private_when_made_in_new_folders(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "a" / "b" / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (x TEXT)"))
    engine.dispose()
    assert [_mode(p) for p in (tmp_path / "a", tmp_path / "a" / "b", path)] == [0o700, 0o700, 0o600]
    # An existing folder or file is left as it is.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    make_engine(f"sqlite:///{shared / 'y.db'}").dispose()
    assert _mode(shared) == 0o755 and _mode(shared / "y.db") == 0o600


@pytest.mark.postgres
def test_statement_is_cancelled_when_longer_than_statement_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_S", "0.5")
    get_settings.cache_clear()
    engine = make_engine(ensure_postgres())
    try:
        with engine.connect() as conn, pytest.raises(OperationalError, match="statement timeout"):
            conn.execute(text("SELECT pg_sleep(5)"))
    finally:
        engine.dispose()
        get_settings.cache_clear()


def test_postgres_connections_get_timeouts_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT_S", "3")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT_S", "0")
    get_settings.cache_clear()
    try:
        args = postgres_connect_args()
    finally:
        get_settings.cache_clear()
    assert args["connect_timeout"] == 3 and "options" not in args


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_engine_opens_in_memory_sqlite_and_writes_no_file_when_configured(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    reset_engine()
    try:
        # The engine, not a session: sessions also check the schema, which a fresh in-memory
        # database has not got.
        with get_engine().connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1
    finally:
        reset_engine()
        get_settings.cache_clear()
    assert [p.name for p in tmp_path.iterdir()] == ["var"]  # the data folder only
    assert list((tmp_path / "var").iterdir()) == []


def test_engine_refuses_sqlite_file_that_does_not_exist_without_creating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "typo" / "schedler.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    reset_engine()
    try:
        with pytest.raises(DatabaseMissing, match="migrate") as refused, session_scope():
            pass
    finally:
        reset_engine()
        get_settings.cache_clear()
    assert refused.value.path == str(missing)
    assert exit_code_for(refused.value) == 78
    assert list(tmp_path.iterdir()) == []


def test_probe_passes_a_sqlite_file_not_created_yet_and_the_schema_check_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # start-celery.sh checks the database before it migrates: a first start has no file yet.
    missing = tmp_path / "var" / "scheduler.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    get_settings.cache_clear()
    reset_engine()
    try:
        assert "no file yet" in check_database()
        with pytest.raises(DatabaseMissing):
            check_schema()
        assert not missing.parent.exists()
        upgrade_database()
        assert "no file yet" not in check_database()
        assert check_schema().startswith("schema at head")
    finally:
        reset_engine()
        get_settings.cache_clear()
