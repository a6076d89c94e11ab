"""Beat's scheduler: the seed's persistent scheduler, with task ids that say beat sent them.

``scripts/health-check.sh`` judges beat by what it did, not by a PID file only one start
script writes: the newest health-check record whose task id starts with ``BEAT_TASK_ID_PREFIX``
(``python -m app.core.probe beat``). ``celery -A app.core.celery_app beat`` uses this class
through the ``beat_scheduler`` setting.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

BEAT_TASK_ID_PREFIX = "beat-"
HEALTH_CHECK_ENTRY = "resilience-health-check"
"""The beat entry of the 15-minute health check (``app.core.celery_app``)."""


def beat_task_id() -> str:
    """A new task id for a message beat sends."""
    return f"{BEAT_TASK_ID_PREFIX}{uuid.uuid4()}"


class BeatScheduler(PersistentScheduler):  # type: ignore[misc]
    """``PersistentScheduler`` whose messages carry a ``beat-`` task id.

    A beat with a new schedule file (a first start) also sends the health check at once, so
    that a freshly started engine has a verdict, and ``health-check.sh`` evidence that beat
    ticks, within seconds rather than at the next quarter hour. A beat restarted after an
    outage needs nothing extra: its overdue entry is due at the first tick anyway.
    """

    _first_tick_done = False

    def tick(self, *args: Any, **kwargs: Any) -> Any:
        if not self._first_tick_done:
            self._first_tick_done = True
            entry = self.schedule.get(HEALTH_CHECK_ENTRY)
            if entry is not None and entry.total_run_count == 0:
                self.apply_entry(entry, producer=self.producer)
        return super().tick(*args, **kwargs)

    def apply_async(
        self,
        entry: ScheduleEntry,
        producer: Any = None,
        advance: bool = True,
        **kwargs: Any,
    ) -> Any:
        entry = self.reserve(entry) if advance else entry
        # A copy: the stored entry keeps its options; each message gets its own id.
        tagged = copy.copy(entry)
        tagged.app = entry.app
        tagged.options = {**entry.options, "task_id": beat_task_id()}
        return super().apply_async(tagged, producer=producer, advance=False, **kwargs)
