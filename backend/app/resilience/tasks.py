"""Celery tasks of the resilience engine (queue ``resilience``).

Tasks are thin (CONVENTIONS.md rule 2): they take primitives, open one transaction, call the
service layer and return a small JSON dict. Only tasks that are fully real are defined here;
the beat entries of the others are switched on as their tasks arrive.
"""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta
from typing import Any

import redis.exceptions
from celery import Task, chord
from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import DBAPIError, OperationalError

from app.core import metrics
from app.core.celery_app import TASK_MAX_RETRIES, TASK_RETRY_BACKOFF_MAX_S, celery_app
from app.core.config import get_settings
from app.core.db import session_scope
from app.core.errors import TransientError
from app.domain.coverage import build_site_half_days
from app.domain.snapshot import load_snapshot
from app.models.base import utcnow
from app.resilience.contingency.chunks import (
    ChunkAnalysis,
    analyze_chunk,
    chunk_dates,
    merge_chunks,
)
from app.resilience.contingency.crosstrain import cross_training_candidates
from app.resilience.contingency.service import run_contingency_report
from app.resilience.health.service import (
    clock_for,
    publish_health_metrics,
    run_health_check,
)
from app.resilience.reports import (
    CROSS_TRAINING_RECOMMENDATIONS,
    publish_contingency_metrics,
    store_report,
)

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerOperationalError,
    TransientError,
    ConnectionError,
)
"""Errors worth a retry: the database or broker was away for a moment."""

RETRY_POLICY: dict[str, Any] = {
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": TASK_MAX_RETRIES,
    "retry_backoff": True,
    "retry_backoff_max": TASK_RETRY_BACKOFF_MAX_S,
    "retry_jitter": True,
}


def _failure_reason(exc: BaseException) -> str:
    """A bounded label value for the failure counter."""
    if isinstance(exc, OperationalError | DBAPIError):
        return "database"
    if isinstance(exc, redis.exceptions.RedisError | BrokerOperationalError):
        return "broker"
    if type(exc).__name__ in {"SoftTimeLimitExceeded", "TimeLimitExceeded"}:
        return "timeout"
    return "error"


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.periodic_health_check", bind=True, **RETRY_POLICY
)
def periodic_health_check(self: Task) -> dict[str, Any]:
    """Check utilization, gaps, N-1/N-2 and the defense level of the coming days.

    Stores a health-check record, updates the Prometheus gauges and raises an alert when the
    defense level is YELLOW or worse. Returns the record's summary.
    """
    try:
        with session_scope() as session:
            outcome = run_health_check(session)
    except BaseException as exc:
        metrics.health_check_failures.labels(reason=_failure_reason(exc)).inc()
        raise
    publish_health_metrics(outcome)
    summary = outcome.summary()
    logger.info(
        "health check: defense %s, utilization %s (%s), %s gap slot(s), N-1 %s, N-2 %s",
        summary["defense_level"],
        summary["utilization"],
        summary["utilization_level"],
        summary["gap_slots"],
        summary["n1_status"],
        summary["n2_status"],
    )
    return summary


def _horizon(days_ahead: int, start: str | None) -> tuple[date, date]:
    if days_ahead < 1:
        raise ValueError("days_ahead must be at least 1")
    first = date.fromisoformat(start) if start else clock_for(get_settings()).today(utcnow())
    return first, first + timedelta(days=days_ahead - 1)


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.run_contingency_analysis", bind=True, **RETRY_POLICY
)
def run_contingency_analysis(
    self: Task,
    days_ahead: int = 90,
    start: str | None = None,
) -> dict[str, Any]:
    """Exact N-1/N-2 analysis of the next ``days_ahead`` days, stored as a report.

    A horizon longer than ``CONTINGENCY_CHUNK_DAYS`` is split into date chunks analysed as a
    Celery chord across the workers; this task is replaced by the chord, so its result is the
    merged report's summary. Shorter horizons run here in one piece.
    """
    first, last = _horizon(days_ahead, start)
    chunk_days = get_settings().CONTINGENCY_CHUNK_DAYS
    chunks = chunk_dates(first, last, chunk_days)
    if len(chunks) > 1:
        header = [analyze_contingency_chunk.s(a.isoformat(), b.isoformat()) for a, b in chunks]
        callback = merge_contingency_chunks.s(first.isoformat(), last.isoformat())
        raise self.replace(chord(header, callback))
    with session_scope() as session:
        outcome = run_contingency_report(session, start=first, days_ahead=days_ahead)
    publish_contingency_metrics(outcome)
    return outcome.summary()


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.analyze_contingency_chunk", bind=True, **RETRY_POLICY
)
def analyze_contingency_chunk(
    self: Task,
    start: str,
    end: str,
) -> dict[str, Any]:
    """Analyse one date chunk of the horizon (read-only; safe to run twice)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    with session_scope() as session:
        snapshot = load_snapshot(session, start=first, end=last)
    return analyze_chunk(snapshot, first, last).to_json()


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.resilience.tasks.merge_contingency_chunks", bind=True, **RETRY_POLICY
)
def merge_contingency_chunks(
    self: Task,
    chunks: list[dict[str, Any]],
    start: str,
    end: str,
) -> dict[str, Any]:
    """Merge the chunk analyses of a chord and store the report (idempotent)."""
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    t0 = time.perf_counter()
    parts = [ChunkAnalysis.from_json(c) for c in chunks]
    result, fingerprint = merge_chunks(parts)
    merge_s = time.perf_counter() - t0 + sum(p.duration_s for p in parts)
    with session_scope() as session:
        snapshot = load_snapshot(session, start=first, end=last)
        problems = build_site_half_days(snapshot, first, last)
        options = cross_training_candidates(problems, result, limit=CROSS_TRAINING_RECOMMENDATIONS)
        outcome = store_report(
            session,
            start=first,
            end=last,
            fingerprint=fingerprint,
            result=result,
            cross_training=options,
            names={p.id: p.name for p in snapshot.people},
            duration_s=merge_s,
        )
    publish_contingency_metrics(outcome)
    return outcome.summary()
