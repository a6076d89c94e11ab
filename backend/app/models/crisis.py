"""Crisis response: crisis events, sacrifice decisions, the changes laid over the schedule and
the notices to affected people (RESILIENCE_MODEL.md sections 5 and 8)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class CrisisEvent(Base):
    """One crisis, from activation to deactivation (``ended_at`` None while active)."""

    __tablename__ = "crisis_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    """Digest of the activation request: the same request sent twice activates once."""
    severity: Mapped[str] = mapped_column(String(16))
    shedding_level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    approved_by: Mapped[str] = mapped_column(String(100))
    scenario: Mapped[str | None] = mapped_column(String(64))
    fallback_id: Mapped[int | None] = mapped_column(
        ForeignKey("fallback_schedule.id", ondelete="SET NULL")
    )
    fallback_choice: Mapped[str] = mapped_column(String(500))
    """Which fallback was laid over the schedule and why (or why none)."""
    activated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(100))
    end_reason: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (Index("ix_crisis_event_ended_at", "ended_at"),)


class SacrificeDecision(Base):
    """Who decided to shed what, when and why; in force while ``ended_at`` is None."""

    __tablename__ = "sacrifice_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    crisis_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("crisis_event.id", ondelete="CASCADE")
    )
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    """The approver; None for an automatic decision (load shedding by the health check)."""
    automatic: Mapped[bool] = mapped_column(default=False)
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(1000))
    suspended_activities: Mapped[dict[str, Any]]
    """``{"activities": [ids], "categories": [names]}``."""
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_sacrifice_decision_ended_at", "ended_at"),)


class CrisisAssignmentChange(Base):
    """One half-day of a fallback laid over the schedule, with what it replaced."""

    __tablename__ = "crisis_assignment_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    crisis_event_id: Mapped[int] = mapped_column(ForeignKey("crisis_event.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(64))
    date: Mapped[dt.date]
    half: Mapped[str] = mapped_column(String(2))
    activity_id: Mapped[str] = mapped_column(String(64))
    previous_activity_id: Mapped[str | None] = mapped_column(String(64))
    previous_role: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_crisis_assignment_change_crisis_event_id", "crisis_event_id"),)


class CrisisNotice(Base):
    """A notice to one affected person of their changed half-days (stored for delivery)."""

    __tablename__ = "crisis_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    crisis_event_id: Mapped[int] = mapped_column(ForeignKey("crisis_event.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(16))
    """``activated`` or ``ended``."""
    message: Mapped[str] = mapped_column(String(4000))
    half_days: Mapped[dict[str, Any]]
    """``{"changes": [{"date", "half", "activity_id", "previous"}]}``."""

    __table_args__ = (Index("ix_crisis_notice_person_id", "person_id"),)
