"""Transactions behave alike on SQLite and PostgreSQL (the embedded default is not weaker);
PostgreSQL connections carry the connect and statement timeouts of the settings."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.core.db import make_engine, postgres_connect_args
from app.models.audit import AuditRecord
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
