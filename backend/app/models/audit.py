"""The audit trail of imports and privileged actions: who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.models.base import Base, utcnow


class AuditRecord(Base):
    """One audited action; ``details`` never holds private absence types or reasons."""

    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]

    __table_args__ = (Index("ix_audit_record_at", "at"),)


def record_audit(
    session: Session, action: str, actor: str | None, details: dict[str, Any]
) -> AuditRecord:
    """Add an audit record to the caller's transaction and return it."""
    record = AuditRecord(action=action, actor=actor, details=details)
    session.add(record)
    return record
