"""Celery tasks of the resilience engine (queue ``resilience``).

Tasks are thin (CONVENTIONS.md rule 2): they take primitives, open one transaction, call the
service layer and return a small JSON dict. Only tasks that are fully real are defined here;
the beat entries of the others are switched on as their tasks arrive.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.exceptions
from celery import Task
from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import DBAPIError, OperationalError

from app.core import metrics
from app.core.celery_app import TASK_MAX_RETRIES, TASK_RETRY_BACKOFF_MAX_S, celery_app
from app.core.db import session_scope
from app.core.errors import TransientError
from app.resilience.service import publish_health_metrics, run_health_check

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


@celery_app.task(name="app.resilience.tasks.periodic_health_check", bind=True, **RETRY_POLICY)
def periodic_health_check(self: Task) -> dict[str, Any]:  # type: ignore[type-arg]
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
