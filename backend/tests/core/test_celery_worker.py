"""A real worker on a real Redis: the fixtures of ``tests.support.celery_fixtures`` at work."""

from __future__ import annotations

import gc
import time
from pathlib import Path

import pytest
from celery import Celery

from tests.support.celery_fixtures import (  # noqa: F401  (fixtures used by name)
    APP_TASK_NAMES,
    BROKER_DB,
    RESULTS_DB,
    CeleryWorkerProcess,
    StartWorker,
    broker_env,
    celery_client,
    celery_database_url,
    celery_redis_url,
    celery_worker_proc,
    start_celery_worker,
)
from tests.support.faults import SLOW_TASKS_DIR, RedisServer

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


def test_seed_inspect_commands_show_the_running_worker(
    start_celery_worker: StartWorker,  # noqa: F811
    tmp_path: Path,
) -> None:
    # A private Redis: the task held for later must not reach another test's worker.
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        env = broker_env(server.url) | {
            "PYTHONPATH": str(SLOW_TASKS_DIR),
            "TEST_SLOW_TASKS": "celery.accumulate=30",  # outlasts the inspect commands
        }
        worker = start_celery_worker(extra_env=env)
        client = worker.client()
        # Ids only: a result object left for the garbage collector would unsubscribe from
        # this private Redis after it stopped.
        # The held task first: with prefetch 1, a running task would keep it on the broker.
        later_id = client.send_task("celery.accumulate", args=[2], countdown=600).id
        deadline = time.monotonic() + 30
        while f"{later_id}] received" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        running_id = client.send_task("celery.accumulate", args=[1]).id
        gc.collect()
        while "sleeps 30" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        out = {
            command: worker.celery("inspect", command, "-d", worker.nodename, "-t", "10")
            for command in ("active", "scheduled", "registered", "stats")
        }
        while f"{running_id}] succeeded" not in worker.log() and time.monotonic() < deadline + 60:
            time.sleep(0.2)
        client.control.revoke(later_id)
        worker.stop()
    finally:
        server.stop()

    assert f"{running_id}] succeeded" in worker.log()
    assert all(done.returncode == 0 for done in out.values()), out
    assert running_id in out["active"].stdout
    assert later_id in out["scheduled"].stdout
    assert all(name in out["registered"].stdout for name in APP_TASK_NAMES)
    assert '"pool"' in out["stats"].stdout and '"max-concurrency": 1' in out["stats"].stdout
