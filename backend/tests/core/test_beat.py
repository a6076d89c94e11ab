"""Beat runs once: two beat processes on one Redis send the schedule once (celery-redbeat lock),
and the waiting one takes over when the holder dies, without sending anything twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.core.config import BACKEND_DIR
from tests.support.celery_fixtures import BROKER_DB, broker_env, worker_env
from tests.support.faults import RedisServer

pytestmark = pytest.mark.redis

LOCK_TIMEOUT_S = 15
ACQUIRED = "beat: Acquired lock"
QUARTER_HOUR_S = 15 * 60
TEST_SPAN_S = 180
"""Longest this test can run: its waits and time-outs add up to about 165 s."""


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server
    server.stop()


def _start_beat(server: RedisServer, folder: Path) -> tuple[subprocess.Popen[bytes], Path]:
    folder.mkdir()
    env = worker_env(folder / "var", f"sqlite:///{folder / 'unused.db'}", broker_env(server.url))
    env["BEAT_LOCK_TIMEOUT_S"] = str(LOCK_TIMEOUT_S)
    log = folder / "beat.log"
    with log.open("wb") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "beat", "-l", "info"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return beat, log


def _queued(server: RedisServer) -> int:
    """Messages waiting on the resilience queue (no worker runs in these tests)."""
    client = server.client(BROKER_DB)
    try:
        return sum(int(client.llen(key)) for key in client.keys("resilience*"))
    finally:
        client.close()


def _queued_tasks(server: RedisServer) -> list[str]:
    """The task name and id of each waiting message, for a failure to show what was sent."""
    client = server.client(BROKER_DB)
    try:
        messages = [m for key in client.keys("resilience*") for m in client.lrange(key, 0, -1)]
    finally:
        client.close()
    headers = [json.loads(message)["headers"] for message in messages]
    return [f"{h.get('task')} {h.get('id')}" for h in headers]


def _wait(check: Callable[[], bool], what: str, timeout_s: float, *logs: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        shown = "\n".join(log.read_text() for log in logs)
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{shown}"
        time.sleep(0.2)


def _clear_of_quarter_hour(needed_s: float) -> None:
    """Wait, if need be, so that no quarter hour (the health check's own beat) falls within the
    next ``needed_s`` seconds: a message it sends would be counted as a second send."""
    to_boundary = QUARTER_HOUR_S - time.time() % QUARTER_HOUR_S
    if to_boundary < needed_s:
        time.sleep(to_boundary + 2)


def test_two_beats_send_the_schedule_once_and_the_second_takes_over_when_first_dies(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    _clear_of_quarter_hour(TEST_SPAN_S)
    started = time.time()
    first, first_log = _start_beat(redis_server, tmp_path / "a")
    second, second_log = _start_beat(redis_server, tmp_path / "b")
    try:
        _wait(
            lambda: _queued(redis_server) >= 1,
            "the first-start health check",
            45,
            first_log,
            second_log,
        )
        # Both beats had a fresh schedule (never ran the health check): without the lock each
        # would send it at start. Give the second every chance to do so.
        time.sleep(8)
        holder, holder_log, waiting, waiting_log = (
            (first, first_log, second, second_log)
            if ACQUIRED in first_log.read_text()
            else (second, second_log, first, first_log)
        )
        assert ACQUIRED in holder_log.read_text()
        assert ACQUIRED not in waiting_log.read_text(), waiting_log.read_text()
        assert _queued(redis_server) == 1, _queued_tasks(redis_server)

        os.kill(holder.pid, signal.SIGKILL)  # no chance to release the lock
        holder.wait(timeout=20)
        killed_at = time.monotonic()
        _wait(
            lambda: ACQUIRED in waiting_log.read_text(),
            "the take-over",
            3 * LOCK_TIMEOUT_S,
            waiting_log,
        )
        took_over_s = time.monotonic() - killed_at
        time.sleep(6)  # a tick or two of the new holder
    finally:
        for beat in (first, second):
            if beat.poll() is None:
                beat.terminate()
                beat.wait(timeout=20)

    assert took_over_s <= LOCK_TIMEOUT_S + 10
    assert time.time() - started < TEST_SPAN_S, "ran past the quarter hour it kept clear of"
    # The schedule in Redis says the health check already ran: nothing is sent again.
    assert _queued(redis_server) == 1, (_queued_tasks(redis_server), waiting_log.read_text())
    assert "RedisBeatScheduler" in waiting_log.read_text()


def test_the_file_scheduler_does_not_import_redbeat() -> None:
    # Importing redbeat connects a beat-start handler that fails on any other scheduler (an
    # ERROR traceback in every embedded beat's log): only the Redis scheduler's module imports it.
    code = "import sys, app.core.beat, app.core.celery_app; print('redbeat' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=BACKEND_DIR, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
