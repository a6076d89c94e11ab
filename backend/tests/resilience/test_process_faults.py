# ruff: noqa: F811  (fixtures imported from test_faults are used by name as arguments)
"""Faults of issue #12 with real processes, each bounded in time: a pool child SIGKILLed mid-task,
a worker stopped with SIGTERM mid-task, Redis down when the worker starts, and the database
unreachable when a task starts. Private redis-servers and a TCP proxy in front of PostgreSQL;
nothing touches the machine's shared services. Each test prints what it measured (run with
``-s``); docs/operations.md's table of faults tried quotes them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.config import BACKEND_DIR
from app.models.resilience import HealthCheckRecord
from tests.resilience.test_faults import (  # noqa: F401  (fixtures used by name)
    BROKER_DB,
    HEALTH,
    count,
    demo_database,
    on_redis,
    proxied_postgres,
    redis_server,
    slow,
    wait_for,
)
from tests.support.celery_fixtures import StartWorker, worker_env
from tests.support.faults import RedisServer, TcpProxy

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def children_of(pid: int) -> list[int]:
    """Live child processes of ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def records_of(database_url: str, task_id: str) -> int:
    return count(database_url, select(func.count()).where(HealthCheckRecord.task_id == task_id))


def queue_is_empty(server: RedisServer) -> bool:
    broker = server.client(BROKER_DB)
    try:
        return bool(broker.hlen("unacked") == 0 and broker.llen("resilience") == 0)
    finally:
        broker.close()


def test_task_runs_again_once_when_its_pool_child_is_killed(
    demo_database: str,
    redis_server: RedisServer,
    start_celery_worker: StartWorker,
) -> None:
    worker = start_celery_worker(
        demo_database, extra_env=on_redis(redis_server) | slow(periodic_health_check=4)
    )
    task_id = str(worker.client().send_task(HEALTH, queue="resilience").id)
    wait_for(lambda: "periodic_health_check sleeps" in worker.log(), "the task to start")
    (child,) = children_of(worker.process.pid)

    os.kill(child, signal.SIGKILL)
    killed_at = time.monotonic()
    wait_for(lambda: records_of(demo_database, task_id) == 1, "the record", timeout_s=90)
    recovered_s = time.monotonic() - killed_at
    wait_for(lambda: queue_is_empty(redis_server), "the queue to drain")
    time.sleep(2)  # a second run, if any, would store nothing more (the record's task id)

    print(f"\npool child SIGKILL: stored {recovered_s:.1f} s after the kill (4 s task)")
    assert records_of(demo_database, task_id) == 1
    assert "signal 9 (SIGKILL)" in worker.log()
    assert worker.log().count(f"{HEALTH}[{task_id}] received") >= 2  # handed out again
    assert worker.log().count(f"{HEALTH}[{task_id}] succeeded") == 1


def test_running_task_finishes_when_worker_gets_sigterm(
    demo_database: str, redis_server: RedisServer, start_celery_worker: StartWorker
) -> None:
    worker = start_celery_worker(
        demo_database, extra_env=on_redis(redis_server) | slow(periodic_health_check=5)
    )
    task_id = str(worker.client().send_task(HEALTH, queue="resilience").id)
    wait_for(lambda: "periodic_health_check sleeps" in worker.log(), "the task to start")

    sent_at = time.monotonic()
    worker.process.send_signal(signal.SIGTERM)
    status = worker.process.wait(timeout=60)
    stopped_s = time.monotonic() - sent_at

    print(f"\nworker SIGTERM mid-task: exited {status} after {stopped_s:.1f} s, task finished")
    assert status == 0
    assert records_of(demo_database, task_id) == 1  # finished before the worker left
    assert queue_is_empty(redis_server)  # acknowledged: nothing lost, nothing to run again
    assert "warm shutdown" in worker.log().lower()


def test_worker_starts_when_broker_comes_back_after_being_down_at_startup(
    demo_database: str, redis_server: RedisServer, tmp_path: Path
) -> None:
    redis_server.stop()
    env = worker_env(tmp_path / "var", demo_database, on_redis(redis_server))
    env["BROKER_RECONNECT_INTERVAL_MAX_S"] = "1"
    nodename = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log = tmp_path / "worker.log"
    argv = [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "worker", "-Q"]
    argv += ["resilience", "-c", "1", "-n", nodename, "--without-heartbeat", "--without-gossip"]
    argv += ["--without-mingle", "-l", "info"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=BACKEND_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for(lambda: "Trying again" in log.read_text(), "the worker to wait for Redis")
        time.sleep(5)
        assert process.poll() is None, log.read_text()
        redis_server.start()
        back_at = time.monotonic()
        wait_for(lambda: " ready." in log.read_text(), "the worker to start", timeout_s=60)
        ready_s = time.monotonic() - back_at
    finally:
        process.terminate()
        process.wait(timeout=30)

    print(f"\nbroker down at startup: worker ready {ready_s:.1f} s after Redis came back")
    assert ready_s < 30


@pytest.mark.postgres
@pytest.mark.parametrize("blank_database_url", ["postgresql"], indirect=True)
def test_task_retries_with_backoff_then_succeeds_when_database_is_unreachable_at_first(
    proxied_postgres: tuple[str, str, TcpProxy],
    redis_server: RedisServer,
    start_celery_worker: StartWorker,
) -> None:
    direct, proxied, proxy = proxied_postgres
    worker = start_celery_worker(
        proxied,
        extra_env=on_redis(redis_server)
        | {
            # Retries spanning 2-4 s... up to 8 x 2 s: longer than the 6 s cut.
            "TASK_RETRY_MAX": "8",
            "TASK_RETRY_BACKOFF_MAX_S": "2",
            "DATABASE_CONNECT_TIMEOUT_S": "2",
        },
    )
    proxy.set_mode(TcpProxy.CUT)
    task_id = str(worker.client().send_task(HEALTH, queue="resilience").id)
    wait_for(lambda: "Retry in" in worker.log(), "the first retry")
    time.sleep(6)
    proxy.set_mode(TcpProxy.FORWARD)
    back_at = time.monotonic()
    wait_for(lambda: records_of(direct, task_id) == 1, "the record", timeout_s=60)
    recovered_s = time.monotonic() - back_at

    retries = worker.log().count("Retry in")
    print(f"\ndatabase cut 6 s: {retries} retries, stored {recovered_s:.1f} s after it came back")
    assert retries >= 2
    # The record is committed before the worker logs the task's end: wait for that line.
    succeeded = f"{HEALTH}[{task_id}] succeeded"
    wait_for(lambda: succeeded in worker.log(), "the worker to log the task's success")
    wait_for(lambda: queue_is_empty(redis_server), "the queue to drain")
    assert records_of(direct, task_id) == 1
