"""Transactions behave alike on SQLite and PostgreSQL (the embedded default is not weaker)."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.audit import AuditRecord
from app.models.base import utcnow


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
