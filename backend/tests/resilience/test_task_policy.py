"""The resilience tasks' retry policy and names (no broker needed)."""

from __future__ import annotations

import redis.exceptions
from sqlalchemy.exc import OperationalError

from app.core.celery_app import TASK_MAX_RETRIES, celery_app
from app.resilience import tasks


def test_tasks_retry_transient_errors_at_most_three_times() -> None:
    for task in (
        tasks.periodic_health_check,
        tasks.run_contingency_analysis,
        tasks.analyze_contingency_chunk,
        tasks.merge_contingency_chunks,
    ):
        assert task.max_retries == TASK_MAX_RETRIES == 3
        assert task.retry_backoff and task.retry_jitter
        assert OperationalError in task.autoretry_for
        assert redis.exceptions.ConnectionError in task.autoretry_for
        assert ValueError not in task.autoretry_for  # a bug is not retried


def test_tasks_route_to_resilience_queue() -> None:
    for name in ("periodic_health_check", "run_contingency_analysis"):
        route = celery_app.amqp.router.route({}, f"app.resilience.tasks.{name}")
        assert route["queue"].name == "resilience"


def test_failure_reason_labels_are_bounded() -> None:
    from app.core.metrics import FAILURE_REASONS

    samples = [
        OperationalError("x", {}, Exception()),
        redis.exceptions.ConnectionError(),
        RuntimeError("boom"),
    ]
    assert {tasks._failure_reason(e) for e in samples} <= set(FAILURE_REASONS)
    assert tasks._failure_reason(samples[0]) == "database"
    assert tasks._failure_reason(samples[1]) == "broker"
    assert tasks._failure_reason(samples[2]) == "error"
