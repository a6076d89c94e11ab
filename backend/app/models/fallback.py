"""Stored fallback schedules (RESILIENCE_MODEL.md section 6)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class FallbackSchedule(Base):
    """One scenario's fallback over one window; the input fingerprint tells when it is stale.

    ``result`` holds the change set (moves), coverage per category, shed activities, displaced
    residents, uncovered slots, the solver's status and gap per tier and the greedy baseline
    (``app.resilience.fallbacks.compute.compute_fallback``).
    """

    __tablename__ = "fallback_schedule"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scenario: Mapped[str] = mapped_column(String(64))
    start: Mapped[date]
    end: Mapped[date]
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    """CP-SAT's status of tier 1 (OPTIMAL, FEASIBLE, UNKNOWN)."""
    moves: Mapped[int]
    uncovered_slots: Mapped[int]
    n1_pass: Mapped[bool]
    n2_pass: Mapped[bool]
    result: Mapped[dict[str, Any]]

    __table_args__ = (
        UniqueConstraint("scenario", "start", "end", "fingerprint", name="uq_fallback_input"),
        Index("ix_fallback_schedule_created_at", "created_at"),
    )
