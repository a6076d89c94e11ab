"""The resilience tasks' retry policy and names, and the failure count of a real worker."""

from __future__ import annotations

import random
import re
import time
import urllib.request

import pytest
import redis.exceptions
from sqlalchemy.exc import OperationalError

from app.core.celery_app import celery_app, retry_countdown_s
from app.core.claims import ClaimMissing
from app.core.config import Settings, get_settings
from app.core.errors import TransientError
from app.resilience import tasks
from tests.support.celery_fixtures import StartWorker
from tests.support.services import free_port

TASKS = (
    tasks.periodic_health_check,
    tasks.run_contingency_analysis,
    tasks.analyze_contingency_chunk,
    tasks.merge_contingency_chunks,
)
FAILOVER_S = 60
"""A database or Redis failover the retries must outlast."""
RETRY_WINDOW_MAX_S = 300
"""...while a failing task still fails within a few minutes."""


def test_tasks_retry_transient_errors_up_to_configured_maximum() -> None:
    settings = get_settings()
    for task in TASKS:
        assert task.max_retries == settings.TASK_RETRY_MAX == 8
        assert OperationalError in task.autoretry_for
        assert redis.exceptions.ConnectionError in task.autoretry_for
        assert ValueError not in task.autoretry_for  # a bug is not retried


def test_retry_window_outlasts_failover_and_stays_bounded_by_default() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    rng = random.Random(8)
    windows = [
        sum(retry_countdown_s(n, settings, rng) for n in range(settings.TASK_RETRY_MAX))
        for _ in range(500)
    ]

    assert min(windows) >= FAILOVER_S
    assert max(windows) <= RETRY_WINDOW_MAX_S
    assert len({round(w, 3) for w in windows}) > 100  # jittered: workers do not retry in step
    assert all(
        retry_countdown_s(n, settings, rng) <= settings.TASK_RETRY_BACKOFF_MAX_S
        for n in range(20)
        for _ in range(20)
    )


def test_retry_settings_come_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASK_RETRY_MAX", "2")
    monkeypatch.setenv("TASK_RETRY_BACKOFF_MAX_S", "5")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.TASK_RETRY_MAX == 2
    assert all(retry_countdown_s(n, settings) <= 5 for n in range(10))


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


@pytest.mark.redis
def test_failure_counted_once_when_health_check_fails_after_retries(
    start_celery_worker: StartWorker,
) -> None:
    port = free_port()
    worker = start_celery_worker(
        "postgresql+psycopg://nobody@127.0.0.1:1/none",  # refuses every connection
        extra_env={
            "METRICS_PORT": str(port),
            "TASK_RETRY_MAX": "2",
            "TASK_RETRY_BACKOFF_MAX_S": "1",
        },
    )

    result = worker.client().send_task(tasks.periodic_health_check.name, queue="resilience")
    with pytest.raises(Exception, match="OperationalError"):  # rebuilt from JSON by the client
        result.get(timeout=90, propagate=True)
    # The failure is stored before on_failure runs: wait for the count, then a little more.
    deadline = time.monotonic() + 30  # generous: a loaded machine is slow
    while (count := _failures(port)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)

    assert worker.log().count("Retry in") == 2
    assert count == _failures(port) == 1.0


def _failures(port: int) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(
        r'^resilience_health_check_failures_total\{reason="database"\} (\S+)$', text, re.M
    )
    return float(found.group(1)) if found else None


def test_analysis_started_again_with_same_horizon_when_merge_finally_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.run_contingency_analysis, "apply_async", lambda **kw: sent.append(kw))
    merge_args = ([], "2026-11-30", "2026-12-27", {}, None)
    outage = TransientError("database away")
    tasks.merge_contingency_chunks.on_failure(outage, "t1", merge_args, {"rerun": 1}, None)
    tasks.run_contingency_analysis.on_failure(outage, "t2", (), {"days_ahead": 5}, None)
    tasks.run_contingency_analysis.on_failure(outage, "t3", (), {"rerun": 3}, None)  # spent

    settings = get_settings()
    assert sent == [
        {
            "kwargs": {"days_ahead": 28, "start": "2026-11-30", "rerun": 2},
            "countdown": settings.CONTINGENCY_RERUN_DELAY_S,
        },
        {
            "kwargs": {"days_ahead": 5, "start": None, "rerun": 1},
            "countdown": settings.CONTINGENCY_RERUN_DELAY_S,
        },
    ]
    assert settings.CONTINGENCY_RERUN_MAX == 3


def test_analysis_started_again_when_merge_finds_its_claims_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The chunks' results expired (or Redis restarted without them): only a new run can send
    # them again. A bug of the merge itself is not retried that way.
    sent: list[dict[str, object]] = []
    monkeypatch.setattr(tasks.run_contingency_analysis, "apply_async", lambda **kw: sent.append(kw))
    merge_args = ([], "2026-11-30", "2026-12-06", {}, None)
    gone = ClaimMissing("payload resilience-claim:0 is gone")
    tasks.merge_contingency_chunks.on_failure(gone, "t1", merge_args, {"rerun": 0}, None)
    tasks.merge_contingency_chunks.on_failure(ValueError("bug"), "t2", merge_args, {}, None)

    assert sent == [
        {
            "kwargs": {"days_ahead": 7, "start": "2026-11-30", "rerun": 1},
            "countdown": get_settings().CONTINGENCY_RERUN_DELAY_S,
        }
    ]
