"""The Celery application: broker, queues, routes, limits and the beat schedule.

Start a worker or beat from ``backend/``::

    celery -A app.core.celery_app worker -Q default,resilience,notifications
    celery -A app.core.celery_app beat

Everything comes from ``app.core.config.get_settings()``: Redis by default, or, with
``EMBEDDED_BROKER=true``, kombu's filesystem transport and SQLite results under ``DATA_DIR`` so
that the engine runs with no servers. Only the Redis broker redelivers a task whose worker was
killed mid-run (``task_acks_late`` with a visibility timeout); the filesystem transport removes a
message when it is read.

The beat schedule lists the seed's four periodic tasks but shows only those whose task is
registered (see ``RegisteredBeatSchedule``): a task that does not exist yet is never sent.

Metrics: the worker's main process serves Prometheus on ``METRICS_HOST:METRICS_PORT`` (loopback
by default; 0 turns it off).
Tasks run in prefork children, so prometheus_client runs in multiprocess mode with one folder
per worker under ``DATA_DIR/prometheus/<main pid>``; a scrape sums (or, for the gauges, takes the
latest of) the values every child wrote.
"""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
import os
import random
import shutil
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.exceptions
from celery import Celery, Task, signals
from celery.schedules import crontab
from kombu.entity import Exchange, Queue
from kombu.exceptions import OperationalError as BrokerOperationalError
from sqlalchemy.exc import OperationalError

from app.core.beat import BEAT_MAX_INTERVAL_S
from app.core.config import (
    TASK_SOFT_TIME_LIMIT_S,
    TASK_TIME_LIMIT_S,
    Settings,
    get_settings,
)
from app.core.db import make_private_folder, make_private_sqlite_file
from app.core.errors import TransientError
from app.core.logging import configure_logging
from app.core.observability import init_sentry

logger = logging.getLogger(__name__)

RESULT_EXPIRES_S = 3600
"""Plain task results (the seed's figure); chord state lives ``RESULT_CHORD_EXPIRES_S``."""
TASK_RETRY_BACKOFF_BASE_S = 2.0
"""First wait before a retry; it doubles each retry up to ``TASK_RETRY_BACKOFF_MAX_S``."""
BROKER_HEALTH_CHECK_INTERVAL_S = 25
RESTORE_SWEEP_THROTTLE = 10
"""kombu's: of every 10 restore timer ticks, one scans Redis (BROKER_RESTORE_SWEEP_S apart)."""
HEALTH_CHECK_INTERVAL_MIN = 15
"""Beat sends the health check this often (the seed's "every 15 minutes")."""

QUEUE_NAMES = ("default", "resilience", "notifications")

TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    BrokerOperationalError,
    TransientError,
    ConnectionError,
)
"""Errors worth a retry of any task: the database or broker was away for a moment."""
TASK_MODULES = ("app.resilience.tasks", "app.notifications.tasks")


@dataclass(frozen=True)
class PeriodicTask:
    """One beat entry of the seed: a task name, when it runs and the queue it goes to."""

    entry: str
    task: str
    schedule: crontab
    queue: str = "resilience"

    def beat_entry(self) -> dict[str, Any]:
        return {"task": self.task, "schedule": self.schedule, "options": {"queue": self.queue}}


SEED_PERIODIC_TASKS = (
    PeriodicTask(
        "resilience-health-check",
        "app.resilience.tasks.periodic_health_check",
        crontab(minute=f"*/{HEALTH_CHECK_INTERVAL_MIN}"),
    ),
    PeriodicTask(
        "resilience-contingency-analysis",
        "app.resilience.tasks.run_contingency_analysis",
        crontab(hour=2, minute=0),
    ),
    PeriodicTask(
        "resilience-fallback-precomputation",
        "app.resilience.tasks.precompute_fallback_schedules",
        crontab(hour=3, minute=0, day_of_week=0),  # Sunday
    ),
    PeriodicTask(
        "resilience-utilization-forecast",
        "app.resilience.tasks.generate_utilization_forecast",
        crontab(hour=6, minute=0),
    ),
)
PERIODIC_TASKS = (
    *SEED_PERIODIC_TASKS,
    # Not the seed's: records older than RETENTION_DAYS are deleted daily.
    PeriodicTask(
        "resilience-prune-old-records",
        "app.resilience.tasks.prune_old_records",
        crontab(hour=4, minute=30),
    ),
)
"""Every beat entry: the seed's, then the engine's own."""


def retry_countdown_s(retries: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Seconds to wait before retry number ``retries + 1`` of a task.

    Exponential backoff (2, 4, 8 ... s, capped at ``TASK_RETRY_BACKOFF_MAX_S``) with "equal"
    jitter: between half the step and the whole step. Unlike Celery's full jitter, which can
    draw 0 s for every retry, this bounds the window from below too: with the defaults
    (``TASK_RETRY_MAX`` 8, cap 60 s) the retries span 121 to 242 s, longer than a typical
    database or Redis failover, and a task that keeps failing fails within about 4 minutes.
    """
    step = min(settings.TASK_RETRY_BACKOFF_MAX_S, TASK_RETRY_BACKOFF_BASE_S * 2.0**retries)
    return step / 2 + (rng or random).uniform(0, step / 2)


class BackoffTask(Task):  # type: ignore[misc]
    """Base of the engine's tasks: retries wait ``retry_countdown_s`` (backoff, jitter)."""

    def retry(self, *args: Any, countdown: float | None = None, **kwargs: Any) -> Any:
        # autoretry_for calls retry() without a countdown (retry_backoff is off): the
        # engine's bounded backoff replaces Celery's full jitter, which may wait 0 s each time.
        if countdown is None and kwargs.get("eta") is None:
            countdown = retry_countdown_s(self.request.retries, get_settings())
        return super().retry(*args, countdown=countdown, **kwargs)


def existing_task_modules() -> list[str]:
    """The modules of ``TASK_MODULES`` present in this checkout (an error inside one still
    surfaces when it is imported)."""
    return [name for name in TASK_MODULES if importlib.util.find_spec(name) is not None]


class RegisteredBeatSchedule(Mapping[str, dict[str, Any]]):
    """The beat schedule, limited to entries whose task the app has registered.

    Evaluated each time it is read, after importing the task modules, so it is right in a beat
    process, in a worker started with ``-B`` and in a plain import, whatever the import order.
    """

    def __init__(self, app: Celery, periodic_tasks: tuple[PeriodicTask, ...]) -> None:
        self._app = app
        self._periodic_tasks = periodic_tasks

    def _entries(self) -> dict[str, dict[str, Any]]:
        for module in existing_task_modules():
            importlib.import_module(module)
        registered = self._app.tasks
        return {p.entry: p.beat_entry() for p in self._periodic_tasks if p.task in registered}

    def __getitem__(self, key: str) -> dict[str, Any]:
        return self._entries()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries())

    def __len__(self) -> int:
        return len(self._entries())

    def __repr__(self) -> str:
        return f"RegisteredBeatSchedule({self._entries()!r})"


def _broker_transport_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith("filesystem://"):
        folder = settings.DATA_DIR / "broker"
        for sub in ("queue", "processed", "control"):
            make_private_folder(folder / sub)
        return {
            # One folder for writing and reading: producers and consumers share it.
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            # The exchange tables live here; fanout (inspect, ping, broadcast) needs them.
            "control_folder": str(folder / "control"),
        }
    return {
        # Redis redelivers an unacknowledged task after this long. Keep it above the longest
        # retry countdown plus the hard time limit, or a slow or waiting task runs twice.
        "visibility_timeout": settings.BROKER_VISIBILITY_TIMEOUT_S,
        # ...which a worker notices at its restore sweeps: every interval x throttle seconds.
        "unacked_restore_interval": settings.BROKER_RESTORE_SWEEP_S / RESTORE_SWEEP_THROTTLE,
        "unacked_restore_throttle": RESTORE_SWEEP_THROTTLE,
        # Notice a dead connection (a restarted Redis, a dropped NAT entry) within seconds.
        "socket_keepalive": True,
        "health_check_interval": BROKER_HEALTH_CHECK_INTERVAL_S,
    }


def _beat_settings(settings: Settings) -> dict[str, Any]:
    if not settings.broker_url.startswith(("redis://", "rediss://")):
        return {
            "beat_scheduler": "app.core.beat:BeatScheduler",
            # A tick, and so a heartbeat, at least every BEAT_MAX_INTERVAL_S (Celery's default
            # is 5 min): health-check.sh sees a hung beat within BEAT_HEARTBEAT_STALE_S.
            "beat_max_loop_interval": BEAT_MAX_INTERVAL_S,
            "beat_heartbeat_filename": str(settings.DATA_DIR / "celerybeat-heartbeat"),
        }
    return {
        "beat_scheduler": "app.core.beat_redis:RedisBeatScheduler",
        "beat_max_loop_interval": BEAT_MAX_INTERVAL_S,
        "redbeat_redis_url": settings.broker_url,
        # Retry a lost Redis for ever, as the worker does (-1: no deadline).
        "redbeat_redis_options": {"retry_period": -1},
        "redbeat_key_prefix": "redbeat:",
        "redbeat_lock_timeout": settings.BEAT_LOCK_TIMEOUT_S,
    }


def _queue(name: str) -> Queue:
    return Queue(name, Exchange(name), routing_key=name)  # type: ignore[no-untyped-call]


def make_celery_app(settings: Settings, *, set_as_current: bool = True) -> Celery:
    """A Celery application configured from ``settings``.

    Args:
        settings: where the broker, results and data folder are.
        set_as_current: make it Celery's current app; clients that tests build pass False.
    """
    # The data folder (beat's schedule file, metrics; in the embedded default the database
    # with private absence reasons) must exist before beat starts: owner only, and so are the
    # embedded results database and the broker's message folders.
    make_private_folder(settings.DATA_DIR)
    if settings.EMBEDDED_BROKER and settings.result_backend.startswith("db+sqlite:///"):
        make_private_sqlite_file(settings.result_backend.removeprefix("db+"))
    celery = Celery(
        "residency_scheduler",
        broker=settings.broker_url,
        backend=settings.result_backend,
        include=existing_task_modules(),
        set_as_current=set_as_current,
    )
    celery.conf.update(
        # JSON only: a broker message can never make the worker unpickle arbitrary objects.
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        task_time_limit=TASK_TIME_LIMIT_S,
        task_soft_time_limit=TASK_SOFT_TIME_LIMIT_S,
        result_expires=RESULT_EXPIRES_S,
        # A chord's finished parts must still be there when a part whose worker died comes
        # back after the visibility timeout, or the merge never runs (checked in Settings).
        result_chord_expires=settings.RESULT_CHORD_EXPIRES_S,
        worker_concurrency=settings.CELERY_WORKER_CONCURRENCY,
        worker_max_tasks_per_child=settings.CELERY_MAX_TASKS_PER_CHILD,
        # Long analyses: a child takes one task at a time so others are not stuck behind it.
        worker_prefetch_multiplier=1,
        task_queues=[_queue(name) for name in QUEUE_NAMES],
        task_default_queue="default",
        task_default_routing_key="default",
        task_routes={
            "app.resilience.tasks.*": {"queue": "resilience"},
            "app.notifications.tasks.*": {"queue": "notifications"},
        },
        beat_schedule=RegisteredBeatSchedule(celery, PERIODIC_TASKS),
        beat_schedule_filename=str(settings.DATA_DIR / "celerybeat-schedule"),
        # Beat's messages get "beat-" task ids: health-check.sh sees beat tick in the records.
        # On Redis, schedule and a single-beat lock live there (celery-redbeat): a second
        # beat waits for the lock instead of sending everything twice (app.core.beat).
        **_beat_settings(settings),
        # Acknowledge after the task ran, so a worker killed mid-task does not lose it
        # (tasks are idempotent, CONVENTIONS.md rule 2)...
        task_acks_late=True,
        # ...and requeue it when its child process dies (OOM kill, segfault) rather than fail.
        task_reject_on_worker_lost=True,
        # A running task survives a lost broker connection: cancelling it would lose it, as
        # the worker cannot hand it back while Redis is down and, once reconnected, marks the
        # cancelled task REVOKED and acknowledges it. Left running, it acknowledges when done
        # (or, if Redis is still away then, Redis redelivers it after the visibility timeout:
        # tasks are idempotent).
        worker_cancel_long_running_tasks_on_connection_loss=False,
        broker_transport_options=_broker_transport_options(settings),
        # A worker that starts before Redis, or loses it, keeps trying instead of exiting
        # (Celery's default gives up after 100 attempts, about 47 minutes); the waits between
        # attempts grow to BROKER_RECONNECT_INTERVAL_MAX_S (app.core.consumer).
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        worker_consumer="app.core.consumer:ReconnectingConsumer",
        # Same keepalive and health check for the result backend's connections.
        redis_socket_keepalive=True,
        redis_backend_health_check_interval=BROKER_HEALTH_CHECK_INTERVAL_S,
        redis_retry_on_timeout=True,
        # Bound how long storing a result may retry before the task reports the failure.
        result_backend_transport_options={"retry_policy": {"timeout": 5.0}},
        # STARTED state and task events let `celery events` or Flower show work in progress.
        task_track_started=True,
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    return celery


celery_app = make_celery_app(get_settings())
app = celery_app
"""Alias so that ``celery -A app.core.celery_app`` finds the application."""


# --- process hooks (worker and beat of the module-level app only) -----------------------------


def _setup_logging(loglevel: int | str | None = None, **_: Any) -> None:
    """Worker and beat log through the engine's one handler (format, task ids, masked
    secrets) instead of Celery's own: a receiver of this signal replaces Celery's setup."""
    level = logging.getLevelName(loglevel) if isinstance(loglevel, int) else loglevel
    configure_logging(level)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _connect_task_metrics(sender: Any = None, **_: Any) -> None:
    """Feed the task metrics from this app's task signals (its worker runs the tasks)."""
    if sender is celery_app:
        from app.core.metrics import connect_task_signals

        connect_task_signals()


def _prepare_multiprocess_metrics(sender: Any = None, **_: Any) -> None:
    """Before the task modules (and so the metrics) are imported, pick this process's folder."""
    settings = get_settings()
    # PROMETHEUS_MULTIPROC_DIR is prometheus_client's own switch, not one of our settings.
    if sender is not celery_app or settings.METRICS_PORT <= 0:
        return
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        return
    if "app.core.metrics" in sys.modules:
        logger.warning("app.core.metrics imported early: child processes' metrics not served")
        return
    root = settings.DATA_DIR / "prometheus"
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        # Folders of processes that have stopped (their prefork children died with them).
        if old.is_dir() and old.name.isdigit() and not _pid_alive(int(old.name)):
            shutil.rmtree(old, ignore_errors=True)
    folder = root / str(os.getpid())
    folder.mkdir(exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    # prometheus_client picks its value class when it is imported, and another package may have
    # imported it already (Flower's `celery flower` command, which Celery's command line loads
    # before the app): pick again now that the folder is set. The engine's own metrics are
    # created after this, when the task modules import app.core.metrics.
    values = sys.modules.get("prometheus_client.values")
    if values is not None:
        values.ValueClass = values.get_value_class()  # type: ignore[attr-defined]


def _serve_metrics(sender: Any = None, **_: Any) -> None:
    """Serve Prometheus from the worker's main process on METRICS_PORT."""
    settings = get_settings()
    port = settings.METRICS_PORT
    if getattr(sender, "app", None) is not celery_app or port <= 0:
        return
    from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    if settings.broker_url.startswith(("redis://", "rediss://")):
        from app.core.metrics import QueueLengthCollector

        registry.register(QueueLengthCollector(settings.broker_url, list(QUEUE_NAMES)))
    # Crisis state from the database, whichever process (CLI, API, task) changed it.
    from app.resilience.crisis.metrics import CrisisStateCollector

    registry.register(CrisisStateCollector())
    try:
        start_http_server(port, addr=settings.METRICS_HOST, registry=registry)
    except OSError as exc:
        logger.error("metrics not served: %s:%s: %s", settings.METRICS_HOST, port, exc)
        return
    logger.info("metrics served on %s:%s", settings.METRICS_HOST, port)


def _sentry_in_worker(**_: Any) -> None:
    init_sentry("worker")


def _sentry_in_beat(**_: Any) -> None:
    init_sentry("beat")


def _forget_inherited_engine(**_: Any) -> None:
    """A forked child must not share the parent's database connections."""
    from app.core import db

    if db.get_engine.cache_info().currsize:
        # close=False: leave the parent's sockets alone, only drop them from this pool.
        db.get_engine().dispose(close=False)
    db.reset_engine()


def _freeze_inherited_objects(**_: Any) -> None:
    """Move what a forked child inherits (every imported module, the app) out of the cyclic
    collector's reach: a full collection then walks only what the task itself made, not the
    whole heap, again and again while a large payload is decoded."""
    gc.freeze()


def _forget_child_metrics(pid: int | None = None, **_: Any) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder and pid is not None and Path(folder).is_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, folder)  # type: ignore[no-untyped-call]


# Connected by call rather than decorator: Celery ships no type information.
signals.setup_logging.connect(_setup_logging)
signals.celeryd_init.connect(_sentry_in_worker)
signals.beat_init.connect(_sentry_in_beat)
signals.import_modules.connect(_prepare_multiprocess_metrics)
signals.import_modules.connect(_connect_task_metrics)  # after the folder is picked
signals.worker_init.connect(_serve_metrics)
signals.worker_process_init.connect(_forget_inherited_engine)
signals.worker_process_init.connect(_freeze_inherited_objects)
signals.worker_process_shutdown.connect(_forget_child_metrics)
