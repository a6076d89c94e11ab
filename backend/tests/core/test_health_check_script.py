"""scripts/health-check.sh in local mode, against a real worker, Redis and database.

Beat is judged by the newest health check it sent (task id ``beat-...``), whatever started
it; a database whose schema is behind the code's migrations makes the whole unhealthy.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from celery.beat import ScheduleEntry
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.beat import BEAT_TASK_ID_PREFIX, BeatScheduler
from app.core.celery_app import SEED_PERIODIC_TASKS
from app.core.config import BACKEND_DIR
from app.core.db import make_engine
from app.core.migrate import alembic_config, upgrade_database
from app.models.resilience import HealthCheckRecord
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker, broker_env
from tests.support.faults import RedisServer
from tests.support.programs import load_small_program

pytestmark = pytest.mark.redis

HEALTH_CHECK = "app.resilience.tasks.periodic_health_check"


def _health_check_sh(
    worker: CeleryWorkerProcess, **settings: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BACKEND_DIR.parent / "scripts" / "health-check.sh"), "--verbose"],
        env=worker.env | {"PYTHON": sys.executable} | settings,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if name in line)


@contextmanager
def _api_server(worker: CeleryWorkerProcess) -> Iterator[str]:
    """uvicorn serving app.main:app with the worker's settings on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=BACKEND_DIR, env=worker.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "uvicorn did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.fixture
def migrated_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'checked.db'}"
    upgrade_database(url)
    load_small_program(url)  # with no schedule, the health check stores no record
    return url


@pytest.fixture
def empty_url(tmp_path: Path) -> str:
    """Migrated, no program imported (an import that failed, say)."""
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade_database(url)
    return url


def _send_as_beat(worker: CeleryWorkerProcess, tmp_path: Path) -> str:
    """Send the health check through beat's scheduler, as beat does; its task id."""
    client = worker.client()
    scheduler = BeatScheduler(
        app=client, schedule_filename=str(tmp_path / "beat-schedule"), lazy=True
    )
    seed = next(p for p in SEED_PERIODIC_TASKS if p.task == HEALTH_CHECK)
    entry = ScheduleEntry(app=client, name=seed.entry, **seed.beat_entry())
    result = scheduler.apply_async(entry, advance=False)
    result.get(timeout=90)
    return str(result.id)


def test_beat_ok_when_beat_sent_health_check_recently(
    start_celery_worker: StartWorker, migrated_url: str, tmp_path: Path
) -> None:
    worker = start_celery_worker(migrated_url)
    task_id = _send_as_beat(worker, tmp_path)
    with _api_server(worker) as api_url:
        done = _health_check_sh(worker, API_URL=api_url)
    api_down = _health_check_sh(worker, API_URL=api_url)

    assert task_id.startswith(BEAT_TASK_ID_PREFIX)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _line(done.stdout, "Celery beat").startswith("[OK  ]")
    assert _line(done.stdout, "Backend API").startswith("[OK  ]")
    assert _line(done.stdout, "Dashboard").startswith("[OK  ]")
    assert done.stdout.rstrip().endswith("HEALTHY")
    # The API (and so the dashboard) down: degraded, not unhealthy.
    assert api_down.returncode == 1, api_down.stdout
    assert _line(api_down.stdout, "Backend API").startswith("[FAIL]")
    assert api_down.stdout.rstrip().endswith("DEGRADED")

    # Each core component down in turn makes the whole unhealthy (exit 2).
    no_redis = _health_check_sh(worker, CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    no_database = _health_check_sh(worker, DATABASE_URL="postgresql+psycopg://u:Xq9@127.0.0.1:1/x")
    worker.stop()
    no_worker = _health_check_sh(worker)

    assert no_redis.returncode == 2, no_redis.stdout
    assert _line(no_redis.stdout, "Broker").startswith("[FAIL]")
    assert no_database.returncode == 2, no_database.stdout
    assert _line(no_database.stdout, "Database").startswith("[FAIL]")
    assert no_worker.returncode == 2, no_worker.stdout
    assert _line(no_worker.stdout, "Celery worker").startswith("[FAIL]")


def test_beat_down_when_only_non_beat_health_checks_are_recorded(
    start_celery_worker: StartWorker, migrated_url: str
) -> None:
    worker = start_celery_worker(migrated_url)
    worker.client().send_task(HEALTH_CHECK, queue="resilience").get(timeout=90)

    done = _health_check_sh(worker)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "no health check sent by beat" in _line(done.stdout, "Celery beat")
    assert done.stdout.rstrip().endswith("DEGRADED")


def test_unhealthy_when_schema_is_behind_migrations(
    start_celery_worker: StartWorker, migrated_url: str, tmp_path: Path
) -> None:
    worker = start_celery_worker(migrated_url)
    _send_as_beat(worker, tmp_path)
    command.downgrade(alembic_config(migrated_url), "0001")

    done = _health_check_sh(worker)

    assert done.returncode == 2, done.stdout + done.stderr
    schema = _line(done.stdout, "Schema")
    assert schema.startswith("[FAIL]") and "schema out of date" in schema
    assert _line(done.stdout, "Celery worker").startswith("[OK  ]")
    assert done.stdout.rstrip().endswith("UNHEALTHY")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[str]:
    """A Redis of this test alone: beat's schedule there is new (celery-redbeat)."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    yield server.url
    server.stop()


def test_seed_beat_command_uses_tagging_scheduler(
    private_redis: str, tmp_path: Path, start_celery_worker: StartWorker
) -> None:
    # The seed's own command, no -S and no PID file: beat's banner names the scheduler.
    worker = start_celery_worker(extra_env=broker_env(private_redis))
    log = tmp_path / "beat.log"
    with log.open("wb") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "beat", "-l", "info"],
            cwd=BACKEND_DIR,
            env=worker.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while "Starting..." not in log.read_text() and time.monotonic() < deadline:
            assert beat.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(timeout=20)

    assert "app.core.beat_redis.RedisBeatScheduler" in log.read_text()


def test_fresh_beat_sends_a_health_check_at_once(
    private_redis: str, tmp_path: Path, start_celery_worker: StartWorker
) -> None:
    worker = start_celery_worker(extra_env=broker_env(private_redis))
    env = {**worker.env, "DATA_DIR": str(tmp_path / "beat-data")}
    log = tmp_path / "beat.log"
    with log.open("wb") as out:
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "beat", "-l", "info"],
            cwd=BACKEND_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 45
        while "periodic_health_check" not in log.read_text() and time.monotonic() < deadline:
            assert beat.poll() is None, log.read_text()
            time.sleep(0.2)
    finally:
        beat.terminate()
        beat.wait(timeout=20)
    # Let the worker take the check beat sent, so that no message is left on the shared test
    # broker for the next test's worker.
    deadline = time.monotonic() + 60
    while "succeeded in" not in worker.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    # Sent at start-up as a first start, not at the next quarter hour (which the window may
    # reach: that send does not say "first start").
    assert "Sending due task resilience-health-check (first start)" in log.read_text(), (
        log.read_text()
    )


def test_beat_fails_naming_the_cause_and_nothing_is_recorded_when_no_program_is_loaded(
    start_celery_worker: StartWorker, empty_url: str, tmp_path: Path
) -> None:
    worker = start_celery_worker(empty_url)
    task_id = _send_as_beat(worker, tmp_path)
    returned = worker.client().AsyncResult(task_id).get(timeout=30)
    done = _health_check_sh(worker)

    no_program = (
        "no program loaded: import one (residency-scheduler import FILE) or load the demo"
        " (demo-data)"
    )
    assert returned == {"status": "no_schedule", "reason": no_program}
    assert f"health check skipped: {no_program}" in worker.log()
    engine = make_engine(empty_url)
    try:
        with Session(engine) as session:
            assert session.scalar(select(func.count()).select_from(HealthCheckRecord)) == 0
    finally:
        engine.dispose()
    # Not OK: no verdict stands for the engine; the line says why.
    assert done.returncode == 1, done.stdout + done.stderr
    beat = _line(done.stdout, "Celery beat")
    assert beat.startswith("[FAIL]")
    assert f"no health check sent by beat recorded yet ({no_program})" in beat
    assert done.stdout.rstrip().endswith("DEGRADED")
