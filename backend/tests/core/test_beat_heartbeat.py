"""The embedded beat's heartbeat: health-check.sh sees a stopped beat at once.

Judged by the health checks beat sent alone, a beat killed right after sending one looked up
for two health-check intervals (30 min); its heartbeat file (pid, host, time of the last tick)
shows it gone on the next check.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.beat import BEAT_HEARTBEAT_STALE_S, write_heartbeat
from app.core.config import BACKEND_DIR
from app.core.migrate import upgrade_database
from app.core.probe import ProbeFailed, check_beat_heartbeat
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker
from tests.support.programs import load_small_program

BEAT_UP_TIMEOUT_S = 120.0


def _probe_beat(worker: CeleryWorkerProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.core.probe", "beat"],
        cwd=BACKEND_DIR, env=worker.env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _health_check_beat_line(worker: CeleryWorkerProcess) -> tuple[int, str]:
    done = subprocess.run(
        [str(BACKEND_DIR.parent / "scripts" / "health-check.sh"), "--verbose"],
        env=worker.env | {"PYTHON": sys.executable},
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    line = next(line for line in done.stdout.splitlines() if "Celery beat" in line)
    return done.returncode, line


def _start_beat_until_up(worker: CeleryWorkerProcess, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "beat", "-l", "info"],
            cwd=BACKEND_DIR, env=worker.env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + BEAT_UP_TIMEOUT_S
    while (probe := _probe_beat(worker)).returncode != 0:
        assert beat.poll() is None, log.read_text()
        assert time.monotonic() < deadline, probe.stdout + log.read_text() + worker.log()
        time.sleep(1)
    return beat


def test_health_check_shows_beat_down_at_once_when_embedded_beat_stops(
    start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'checked.db'}"
    upgrade_database(url)
    load_small_program(url)  # with no schedule, no health check is recorded: beat looks down
    worker = start_celery_worker(url, embedded=True)
    log = tmp_path / "beat.log"

    beat = _start_beat_until_up(worker, log)
    up_status, up_line = _health_check_beat_line(worker)
    killed_pid = beat.pid
    os.kill(killed_pid, signal.SIGKILL)  # a crash: nothing cleaned up
    beat.wait(timeout=30)
    killed_status, killed_line = _health_check_beat_line(worker)

    beat = _start_beat_until_up(worker, log)
    beat.terminate()  # a clean stop
    beat.wait(timeout=30)
    stopped_status, stopped_line = _health_check_beat_line(worker)

    assert up_line.startswith("[OK  ]"), up_line
    assert up_status == 1  # no API runs here: degraded, not because of beat
    assert killed_line.startswith("[FAIL]"), killed_line
    assert f"process {killed_pid} is gone" in killed_line
    assert killed_status == 1
    assert stopped_line.startswith("[FAIL]"), stopped_line
    assert "no heartbeat" in stopped_line
    assert stopped_status == 1


def test_beat_heartbeat_check_when_fresh_stale_or_process_gone(tmp_path: Path) -> None:
    path = tmp_path / "celerybeat-heartbeat"
    write_heartbeat(path)
    at = json.loads(path.read_text())["at"]

    assert f"pid {os.getpid()}" in check_beat_heartbeat(path, now_s=at + 1)
    with pytest.raises(ProbeFailed, match="stale"):  # alive but no longer ticking
        check_beat_heartbeat(path, now_s=at + BEAT_HEARTBEAT_STALE_S + 1)

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    path.write_text(json.dumps({"pid": gone.pid, "host": socket.gethostname(), "at": at}))
    with pytest.raises(ProbeFailed, match=f"process {gone.pid} is gone"):
        check_beat_heartbeat(path, now_s=at + 1)
    # On another host the pid means nothing: only the age counts.
    path.write_text(json.dumps({"pid": gone.pid, "host": "elsewhere.invalid", "at": at}))
    assert check_beat_heartbeat(path, now_s=at + 1)

    path.unlink()
    with pytest.raises(ProbeFailed, match="no heartbeat"):
        check_beat_heartbeat(path, now_s=at)
