"""A real worker on a real Redis: the fixtures of ``tests.support.celery_fixtures`` at work."""

from __future__ import annotations

import pytest
from celery import Celery

from tests.support.celery_fixtures import (  # noqa: F401  (fixtures used by name)
    APP_TASK_NAMES,
    BROKER_DB,
    RESULTS_DB,
    CeleryWorkerProcess,
    celery_client,
    celery_database_url,
    celery_redis_url,
    celery_worker_proc,
    start_celery_worker,
)

pytestmark = pytest.mark.redis


def test_worker_answers_ping_and_lists_app_tasks_when_broker_is_redis(
    celery_worker_proc: CeleryWorkerProcess,  # noqa: F811
    celery_client: Celery,  # noqa: F811
) -> None:
    inspect = celery_client.control.inspect([celery_worker_proc.nodename], timeout=10)
    registered = inspect.registered() or {}

    assert celery_client.control.ping([celery_worker_proc.nodename], timeout=5)
    assert set(registered.get(celery_worker_proc.nodename, [])) == APP_TASK_NAMES


def test_task_result_round_trips_when_broker_is_redis(
    celery_worker_proc: CeleryWorkerProcess,  # noqa: F811
    celery_client: Celery,  # noqa: F811
) -> None:
    assert celery_client.conf.broker_url.endswith(f"/{BROKER_DB}")
    assert celery_client.conf.result_backend.endswith(f"/{RESULTS_DB}")

    result = celery_client.send_task("celery.accumulate", args=[7, "call"])

    assert result.get(timeout=30) == [7, "call"]
    assert f"celery.accumulate[{result.id}] received" in celery_worker_proc.log()
