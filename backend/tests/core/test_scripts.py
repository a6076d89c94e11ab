"""scripts/start-celery.sh and scripts/health-check.sh, run as an operator runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.core.config import BACKEND_DIR
from tests.support.celery_fixtures import broker_env
from tests.support.faults import RedisServer

SCRIPTS = BACKEND_DIR.parent / "scripts"


def script_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment with this interpreter as PYTHON and the test's settings."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        PYTHON=sys.executable,
        ENVIRONMENT="test",
        DATA_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'scripts.db'}",
        METRICS_PORT="0",
    )
    env.update(settings)
    return env


def test_start_celery_names_import_error_when_broker_transport_cannot_load(
    tmp_path: Path,
) -> None:
    # A `packaging` that cannot be imported, as in a venv made without kombu's [redis] extra.
    shadow = tmp_path / "shadow" / "packaging"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'packaging'\", name='packaging')\n"
    )
    env = script_env(tmp_path, PYTHONPATH=str(shadow.parent), REDIS_URL="redis://127.0.0.1:1/0")

    done = subprocess.run(
        [str(SCRIPTS / "start-celery.sh"), "worker"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "ModuleNotFoundError: No module named 'packaging'" in done.stderr
    assert "does not answer" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_start_celery_prints_exception_line_when_broker_does_not_answer(
    tmp_path: Path,
) -> None:
    env = script_env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    done = subprocess.run(
        [str(SCRIPTS / "start-celery.sh"), "worker"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "broker check failed" in done.stderr and "Connection refused" in done.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.redis
def test_start_celery_migrates_refuses_a_second_start_and_stops_gracefully_when_sigterm(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    env = script_env(tmp_path, **broker_env(server.url), CELERY_WORKER_CONCURRENCY="1")
    run_dir = tmp_path / "var" / "run"
    log = tmp_path / "start.log"
    with log.open("wb") as out:
        script = subprocess.Popen(
            [str(SCRIPTS / "start-celery.sh"), "both"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while not ((run_dir / "worker.pid").exists() and (run_dir / "beat.pid").exists()):
            assert script.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        while " ready." not in log.read_text():
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        pids = [int((run_dir / f"{role}.pid").read_text()) for role in ("worker", "beat")]
        schema = subprocess.run(
            [sys.executable, "-m", "app.core.probe", "schema"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        second = subprocess.run(
            [str(SCRIPTS / "start-celery.sh"), "worker"],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

        script.send_signal(signal.SIGTERM)
        status = script.wait(timeout=60)
    finally:
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGKILL)
            script.wait()
        server.stop()

    assert schema.returncode == 0, schema.stdout  # migrations ran first
    assert second.returncode == 3
    assert f"the worker is already running (PID {pids[0]}" in second.stderr
    assert status == 0, log.read_text()
    assert not any(_alive(pid) for pid in pids)
    assert not (run_dir / "worker.pid").exists() and not (run_dir / "beat.pid").exists()
    assert "warm shutdown" in log.read_text().lower()


def test_start_celery_removes_a_stale_pid_file_when_its_process_is_gone(tmp_path: Path) -> None:
    run_dir = tmp_path / "var" / "run"
    run_dir.mkdir(parents=True)
    dead = subprocess.Popen(["true"])
    dead.wait()
    (run_dir / "worker.pid").write_text(f"{dead.pid}\n")
    env = script_env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    done = subprocess.run(
        [str(SCRIPTS / "start-celery.sh"), "worker"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert "removing the stale PID file" in done.stdout
    assert not (run_dir / "worker.pid").exists()
    assert done.returncode == 1  # then the broker check fails: nothing listens on port 1
