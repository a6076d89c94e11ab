"""Pytest plugin: a real Celery worker in a subprocess, and a client on the same broker.

Register it in ``tests/conftest.py`` with ``pytest_plugins = ["tests.support.celery_fixtures"]``.

The worker runs the seed's command (``celery -A app.core.celery_app worker -Q ...``) with its
settings in the environment: broker and results on Redis databases ``BROKER_DB`` and
``RESULTS_DB`` of a private throwaway Redis (so another test session on this machine cannot take
its tasks; ``TEST_REDIS_URL`` or the local Redis when ``redis-server`` is not installed), the
database the test supplies, metrics off. No database of a live worker is ever flushed.

Fixtures:

* ``celery_redis_url`` (session): base URL of the Redis the workers use.
* ``celery_database_url``: the worker's DATABASE_URL; override it in a test module (for
  example to return the URL of the ``engine`` fixture). Default: an empty SQLite file.
* ``start_celery_worker``: factory ``(database_url=None, *, embedded=False, queues=...)``
  returning a started ``CeleryWorkerProcess``; every worker is stopped after the test.
* ``celery_worker_proc``: one worker on the test Redis and ``celery_database_url``.
* ``celery_client``: a Celery app on the same broker and results as ``celery_worker_proc``;
  send work with ``celery_client.send_task("app.resilience.tasks.periodic_health_check")``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from celery import Celery

from app.core.celery_app import QUEUE_NAMES, make_celery_app
from app.core.config import BACKEND_DIR, Settings
from tests.support.services import ensure_redis, redis_server_binary_available, start_redis_server

# The application's tasks, written by hand: what a worker must list as registered.
APP_TASK_NAMES = frozenset(
    {
        "app.resilience.tasks.periodic_health_check",
        "app.resilience.tasks.run_contingency_analysis",
        "app.resilience.tasks.analyze_contingency_chunk",
        "app.resilience.tasks.merge_contingency_chunks",
        "app.resilience.tasks.contingency_chord_failed",
        "app.resilience.tasks.send_resilience_alert",
        "app.notifications.tasks.deliver_alert_notification",
        "app.notifications.tasks.send_email",
        "app.notifications.tasks.send_webhook",
        "app.resilience.tasks.precompute_fallback_schedules",
        "app.resilience.tasks.compute_scenario_fallback",
        "app.resilience.tasks.summarize_fallbacks",
        "app.resilience.tasks.activate_crisis_response",
        "app.resilience.tasks.generate_utilization_forecast",
        "app.resilience.tasks.prune_old_records",
    }
)

BROKER_DB = 14
RESULTS_DB = 15
WORKER_START_TIMEOUT_S = 60.0
WORKER_STOP_TIMEOUT_S = 20.0

# The settings a worker gets from the test, never from backend/.env or the caller's shell.
WORKER_SETTINGS = (
    "ENVIRONMENT",
    "DATA_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "EMBEDDED_BROKER",
    "METRICS_PORT",
    "CELERY_WORKER_CONCURRENCY",
)


def broker_env(redis_url: str) -> dict[str, str]:
    """The Celery settings that put broker and results on ``redis_url``'s test databases."""
    return {
        "REDIS_URL": f"{redis_url}/{BROKER_DB}",
        "CELERY_BROKER_URL": f"{redis_url}/{BROKER_DB}",
        "CELERY_RESULT_BACKEND": f"{redis_url}/{RESULTS_DB}",
        "EMBEDDED_BROKER": "false",
    }


def embedded_env() -> dict[str, str]:
    """The Celery settings of the embedded mode (filesystem broker, SQLite results)."""
    return {"CELERY_BROKER_URL": "", "CELERY_RESULT_BACKEND": "", "EMBEDDED_BROKER": "true"}


def worker_env(data_dir: Path, database_url: str, celery_env: dict[str, str]) -> dict[str, str]:
    """A worker's environment: the caller's, with the test's settings on top.

    Args:
        data_dir: the worker's DATA_DIR (embedded broker and results go there).
        database_url: the worker's DATABASE_URL.
        celery_env: ``broker_env(...)`` or ``embedded_env()``.
    """
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        ENVIRONMENT="test",
        DATA_DIR=str(data_dir),
        DATABASE_URL=database_url,
        METRICS_PORT="0",
        CELERY_WORKER_CONCURRENCY="1",
    )
    env.update(celery_env)
    return env


@dataclass
class CeleryWorkerProcess:
    """A worker subprocess, its environment and its log file."""

    process: subprocess.Popen[bytes]
    env: dict[str, str]
    nodename: str
    log_path: Path
    _clients: list[Celery] = field(default_factory=list)

    def log(self) -> str:
        """Everything the worker wrote so far."""
        return self.log_path.read_text(errors="replace")

    def settings(self) -> Settings:
        """The worker's settings, as the test process sees them."""
        values = {key: self.env[key] for key in WORKER_SETTINGS if key in self.env}
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    def client(self) -> Celery:
        """A Celery app on the worker's broker and results (closed when the worker stops)."""
        client = make_celery_app(self.settings(), set_as_current=False)
        self._clients.append(client)
        return client

    def celery(self, *args: str, timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
        """Run ``celery -A app.core.celery_app ARGS`` with the worker's environment."""
        return subprocess.run(
            [sys.executable, "-m", "celery", "-A", "app.core.celery_app", *args],
            cwd=BACKEND_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def wait_ready(self, timeout_s: float = WORKER_START_TIMEOUT_S) -> None:
        """Wait until the worker answers a ping; raise with its log if it does not."""
        client = self.client()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited ({self.process.returncode}):\n{self.log()}")
            if client.control.ping(destination=[self.nodename], timeout=1.0):
                return
        raise RuntimeError(f"worker did not answer a ping in {timeout_s:.0f} s:\n{self.log()}")

    def stop(self) -> None:
        """Warm shutdown (SIGTERM), then SIGKILL of its process group if it hangs."""
        for client in self._clients:
            close_client(client)
        self._clients.clear()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=WORKER_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def close_client(client: Celery) -> None:
    """Close a client app with its result backend's Redis connections (``Celery.close`` keeps
    them, and an unclosed socket fails the run under ``filterwarnings = error``)."""
    backend = getattr(getattr(client, "_local", None), "backend", None)
    if backend is not None:
        consumer = getattr(backend, "result_consumer", None)
        pubsub = getattr(consumer, "_pubsub", None)
        if pubsub is not None:
            pubsub.close()
        redis_client = getattr(backend, "client", None)
        if redis_client is not None and hasattr(redis_client, "connection_pool"):
            redis_client.connection_pool.disconnect()
    client.close()


def start_worker(
    env: dict[str, str],
    log_path: Path,
    queues: tuple[str, ...] = QUEUE_NAMES,
    *,
    python: str = sys.executable,
    cwd: Path = BACKEND_DIR,
    nodename: str | None = None,
) -> CeleryWorkerProcess:
    """Start the seed's worker command with ``env`` and wait until it answers a ping.

    Args:
        python: the interpreter (another virtual environment's, say) that runs the worker.
        cwd: its working folder; away from ``backend/`` it imports ``app`` as installed.
        nodename: the worker's name (default: a new ``test-...@localhost``).
    """
    nodename = nodename or f"test-{uuid.uuid4().hex[:8]}@localhost"
    argv = [python, "-m", "celery", "-A", "app.core.celery_app", "worker"]
    argv += ["-Q", ",".join(queues), "-P", "prefork", "-c", "1", "-n", nodename, "-l", "info"]
    argv += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    with log_path.open("wb") as log:
        # Its own session, so a hung worker and its children can be killed as a group.
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = CeleryWorkerProcess(process, env, nodename, log_path)
    try:
        worker.wait_ready()
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture(scope="session")
def celery_redis_url() -> str:
    """Base URL of the Redis the test workers use (a private server when possible)."""
    if os.environ.get("TEST_REDIS_URL") or not redis_server_binary_available():
        return ensure_redis()
    return start_redis_server()


@pytest.fixture
def celery_database_url(tmp_path: Path) -> str:
    """The worker's DATABASE_URL (override it to hand the worker a migrated database)."""
    return f"sqlite:///{tmp_path / 'worker.db'}"


StartWorker = Callable[..., CeleryWorkerProcess]


@pytest.fixture
def start_celery_worker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StartWorker]:
    """Factory of started workers; each one is stopped when the test ends."""
    workers: list[CeleryWorkerProcess] = []

    def start(
        database_url: str | None = None,
        *,
        embedded: bool = False,
        queues: tuple[str, ...] = QUEUE_NAMES,
        extra_env: dict[str, str] | None = None,
        nodename: str | None = None,
    ) -> CeleryWorkerProcess:
        folder = tmp_path / f"worker-{len(workers)}"
        folder.mkdir()
        if embedded:
            celery_env = embedded_env()
        else:  # asked for only now, so that embedded-only tests need no Redis
            celery_env = broker_env(request.getfixturevalue("celery_redis_url"))
        database = database_url or f"sqlite:///{folder / 'worker.db'}"
        env = worker_env(folder / "var", database, celery_env | (extra_env or {}))
        worker = start_worker(env, folder / "worker.log", queues, nodename=nodename)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def celery_worker_proc(
    start_celery_worker: StartWorker, celery_database_url: str
) -> CeleryWorkerProcess:
    """A worker on the test Redis, listening on the seed's three queues."""
    return start_celery_worker(celery_database_url)


@pytest.fixture
def celery_client(celery_worker_proc: CeleryWorkerProcess) -> Celery:
    """A Celery app that sends to, and reads results from, ``celery_worker_proc``'s broker."""
    return celery_worker_proc.client()
