"""Deliveries of alert notifications: one row per channel and target, one per attempt.

A delivery is planned in the transaction that raised (or resolved) the alert, sent by its own
task on the ``notifications`` queue after that transaction commits, and keeps every attempt.
Its ``idempotency_key`` is the same on every attempt (the webhook's ``webhook-id``, the email's
``Message-ID``), so a receiver that sees it twice can keep one effect.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_APP = "in_app"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class NoticeEvent(StrEnum):
    """Why a notification goes out: the alert was raised (new, rose, repeated) or resolved."""

    RAISED = "raised"
    RESOLVED = "resolved"


class AlertDelivery(Base):
    """One notification of one alert to one target (an address, a URL, the app itself)."""

    __tablename__ = "alert_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))
    """The alert's level when this notification was planned."""
    channel: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_alert_delivery_status", "status"),)


class DeliveryAttempt(Base):
    """One try of a delivery: when, whether it worked, and why not."""

    __tablename__ = "delivery_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("alert_delivery.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool]
    retryable: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(String(500))
