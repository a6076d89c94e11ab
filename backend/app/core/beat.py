"""Beat's schedulers: the seed's schedule, sent once, with task ids that say beat sent them.

* ``RedisBeatScheduler`` (every Redis broker; in ``app.core.beat_redis``, so that importing this
  module does not import redbeat, whose beat-start signal handler expects its own scheduler):
  celery-redbeat keeps the schedule and a lock in
  Redis. A beat process takes the lock before it sends anything and renews it each tick, so a
  second beat (a scaled container, a failover started too early) waits instead of sending
  every task twice; when the holder dies, the lock expires (setting ``BEAT_LOCK_TIMEOUT_S``) and the
  waiting beat takes over where the schedule in Redis says.
* ``BeatScheduler`` (the embedded default, no Redis): the seed's file scheduler
  (``DATA_DIR/celerybeat-schedule``). It has no lock: run one beat only.

Both tag their messages: ``scripts/health-check.sh`` judges beat by what it did, not by a PID
file only one start script writes: the newest health-check record whose task id starts with
``BEAT_TASK_ID_PREFIX`` (``python -m app.core.probe beat``). ``celery -A app.core.celery_app
beat`` picks the right class through the ``beat_scheduler`` setting.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

logger = logging.getLogger(__name__)

BEAT_TASK_ID_PREFIX = "beat-"
HEALTH_CHECK_ENTRY = "resilience-health-check"
"""The beat entry of the 15-minute health check (``app.core.celery_app``)."""
BEAT_MAX_INTERVAL_S = 5
"""Longest sleep between two ticks; the lock (``BEAT_LOCK_TIMEOUT_S``, at least 15 s) is
renewed at every tick."""


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


class BeatScheduler(TaggingMixin, PersistentScheduler):  # type: ignore[misc]
    """The embedded default's scheduler: the seed's schedule file, no lock (one beat only)."""
