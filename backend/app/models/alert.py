"""Alerts raised by the analyses (their deliveries: ``app.models.delivery``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class AlertLevel(StrEnum):
    """Alert severity, least to most severe."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"
    EMERGENCY = "emergency"

    @property
    def rank(self) -> int:
        return list(AlertLevel).index(self)


class AlertStatus(StrEnum):
    ACTIVE = "active"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Alert(Base):
    """One alert, identified by its dedup key while it stays open."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500))
    details: Mapped[dict[str, Any]]
    dedup_key: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.ACTIVE.value)
    occurrences: Mapped[int] = mapped_column(default=1)
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    acknowledged_at: Mapped[datetime | None]
    """When it was last acknowledged (None: never, or before migration 0010 recorded it)."""
    resolved_at: Mapped[datetime | None]
    last_notified_at: Mapped[datetime | None]
    notified_level: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_alert_dedup_key_status", "dedup_key", "status"),)
