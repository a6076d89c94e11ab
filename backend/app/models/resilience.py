"""Stored results of the resilience analyses."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class HealthCheckRecord(Base):
    """One run of the 15-minute health check."""

    __tablename__ = "health_check_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """The Celery task id that made it (None from the command line): a redelivery is a no-op."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(default=utcnow)
    duration_s: Mapped[float]
    window_start: Mapped[date]
    window_end: Mapped[date]
    utilization: Mapped[float | None]
    utilization_level: Mapped[str] = mapped_column(String(16))
    defense_level: Mapped[str] = mapped_column(String(16))
    gap_count: Mapped[int]
    n1_status: Mapped[str] = mapped_column(String(16))
    """``pass``, ``fail`` or ``not_analysed``."""
    n2_status: Mapped[str] = mapped_column(String(16))
    result: Mapped[dict[str, Any]]

    __table_args__ = (
        Index("ix_health_check_record_finished_at", "finished_at"),
        Index("ix_health_check_record_window_start", "window_start"),  # the early warning's
    )


class ContingencyReport(Base):
    """One N-1/N-2 contingency report; the input fingerprint makes re-runs idempotent."""

    __tablename__ = "contingency_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    start: Mapped[date]
    end: Mapped[date]
    fingerprint: Mapped[str] = mapped_column(String(64))
    n1_pass: Mapped[bool]
    n2_pass: Mapped[bool]
    gap_count: Mapped[int]
    critical_count: Mapped[int]
    fatal_pair_count: Mapped[int]
    duration_s: Mapped[float]
    report: Mapped[dict[str, Any]]

    __table_args__ = (
        UniqueConstraint("fingerprint", "start", "end", name="uq_contingency_report_input"),
        Index("ix_contingency_report_created_at", "created_at"),
    )


class UtilizationForecast(Base):
    """One run of the utilization forecast (RESILIENCE_MODEL.md section 7)."""

    __tablename__ = "utilization_forecast"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """The Celery task id that made it (None from the command line): a redelivery is a no-op."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    start: Mapped[date]
    end: Mapped[date]
    samples: Mapped[int]
    high_risk_days: Mapped[int]
    max_shortfall_probability: Mapped[float]
    worst_level: Mapped[str] = mapped_column(String(16))
    duration_s: Mapped[float]
    result: Mapped[dict[str, Any]]

    __table_args__ = (Index("ix_utilization_forecast_created_at", "created_at"),)
