"""Beat's schedulers: the seed's schedule, sent once, with task ids that say beat sent them.

* ``RedisBeatScheduler`` (every Redis broker; in ``app.core.beat_redis``, so that importing this
  module does not import redbeat, whose beat-start signal handler expects its own scheduler):
  celery-redbeat keeps the schedule and a lock in
  Redis. A beat process takes the lock before it sends anything and renews it each tick, so a
  second beat (a scaled container, a failover started too early) waits instead of sending
  every task twice; when the holder dies, the lock expires (setting ``BEAT_LOCK_TIMEOUT_S``) and the
  waiting beat takes over where the schedule in Redis says.
* ``BeatScheduler`` (the embedded default, no Redis): the seed's file scheduler
  (``DATA_DIR/celerybeat-schedule``). It has no lock: run one beat only. At every tick (at
  most ``BEAT_MAX_INTERVAL_S`` apart) it writes a heartbeat, its pid, host and the time, to
  ``DATA_DIR/celerybeat-heartbeat`` (the ``beat_heartbeat_filename`` setting), and removes it
  when it stops: ``python -m app.core.probe beat`` sees a stopped beat at once (no heartbeat, or
  its pid gone) and a hung one within ``BEAT_HEARTBEAT_STALE_S``.

Both tag their messages: ``scripts/health-check.sh`` judges beat by what it did, not by a PID
file only one start script writes: the newest health-check record whose task id starts with
``BEAT_TASK_ID_PREFIX`` (``python -m app.core.probe beat``). ``celery -A app.core.celery_app
beat`` picks the right class through the ``beat_scheduler`` setting.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

logger = logging.getLogger(__name__)

BEAT_TASK_ID_PREFIX = "beat-"
HEALTH_CHECK_ENTRY = "resilience-health-check"
"""The beat entry of the 15-minute health check (``app.core.celery_app``)."""
BEAT_MAX_INTERVAL_S = 5
"""Longest sleep between two ticks; the lock (``BEAT_LOCK_TIMEOUT_S``, at least 15 s) is
renewed at every tick; the embedded beat's heartbeat is written at every tick."""
BEAT_HEARTBEAT_STALE_S = 60
"""A heartbeat older than this (twelve ticks) means beat no longer ticks, even if its process
is still there (hung, or on another host where its pid cannot be checked)."""


def beat_task_id() -> str:
    """A new task id for a message beat sends."""
    return f"{BEAT_TASK_ID_PREFIX}{uuid.uuid4()}"


class TaggingMixin:
    """Tags each message with a ``beat-`` task id; sends the health check at a first start.

    A beat whose schedule has never run the health check (a new schedule file, a new Redis)
    sends it at once, so that a freshly started engine has a verdict, and ``health-check.sh``
    evidence that beat ticks, within seconds rather than at the next quarter hour. A beat
    restarted after an outage needs nothing extra: its overdue entry is due at the first tick.
    """

    _first_tick_done = False

    def _stored_entry(self, name: str) -> ScheduleEntry | None:
        return self.schedule.get(name)  # type: ignore[attr-defined]

    def tick(self, *args: Any, **kwargs: Any) -> Any:
        if not self._first_tick_done:
            self._first_tick_done = True
            entry = self._stored_entry(HEALTH_CHECK_ENTRY)
            if entry is not None and entry.total_run_count == 0:
                # Advanced (run count and time stored), so a beat that takes over, or
                # restarts, does not send it again as a first start.
                logger.info("Scheduler: Sending due task %s (first start)", entry.name)
                self.apply_async(entry, producer=self.producer)  # type: ignore[attr-defined]
        return super().tick(*args, **kwargs)  # type: ignore[misc]

    def apply_async(
        self,
        entry: ScheduleEntry,
        producer: Any = None,
        advance: bool = True,
        **kwargs: Any,
    ) -> Any:
        entry = self.reserve(entry) if advance else entry  # type: ignore[attr-defined]
        # A copy: the stored entry keeps its options; each message gets its own id. (Not
        # copy.copy: RedBeat's entry cannot be rebuilt from ScheduleEntry's __reduce__.)
        tagged = object.__new__(type(entry))
        tagged.__dict__.update(entry.__dict__)
        tagged.options = {**entry.options, "task_id": beat_task_id()}
        return super().apply_async(  # type: ignore[misc]
            tagged, producer=producer, advance=False, **kwargs
        )


@dataclass(frozen=True)
class Heartbeat:
    """What the embedded beat last wrote: who it is and when it ticked."""

    pid: int
    host: str
    at: float
    """Unix time of the tick."""


def write_heartbeat(path: Path) -> None:
    """Replace ``path`` with this process's heartbeat (atomic: a reader never sees half)."""
    data = {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(data))
    os.replace(partial, path)


def read_heartbeat(path: Path) -> Heartbeat | None:
    """The heartbeat in ``path``; None when there is none (beat never ran, or stopped)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return Heartbeat(pid=int(data["pid"]), host=str(data["host"]), at=float(data["at"]))


class BeatScheduler(TaggingMixin, PersistentScheduler):  # type: ignore[misc]
    """The embedded default's scheduler: the seed's schedule file, no lock (one beat only), and
    a heartbeat file written at every tick."""

    def _heartbeat_path(self) -> Path | None:
        name = self.app.conf.get("beat_heartbeat_filename")
        return Path(name) if name else None

    def tick(self, *args: Any, **kwargs: Any) -> Any:
        interval = super().tick(*args, **kwargs)
        path = self._heartbeat_path()
        if path is not None:
            try:
                write_heartbeat(path)
            except OSError as exc:  # a full disk must not stop the schedule
                logger.warning("beat: cannot write its heartbeat %s: %s", path, exc)
        return interval

    def close(self) -> None:
        super().close()
        path = self._heartbeat_path()
        if path is None:
            return
        heartbeat = read_heartbeat(path)
        # Only our own: a second beat started by mistake must not erase the running one's.
        if heartbeat is not None and heartbeat.pid == os.getpid():
            path.unlink(missing_ok=True)
