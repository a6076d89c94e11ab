"""celery-redbeat's scheduler with the engine's tagging (see ``app.core.beat``).

Its own module: importing ``redbeat`` connects a beat-start handler that takes redbeat's lock
and fails on any other scheduler, so only a beat that uses this class imports it.
"""

from __future__ import annotations

from celery.beat import ScheduleEntry
from redbeat import RedBeatScheduler  # type: ignore[import-untyped]

from app.core.beat import TaggingMixin


class RedisBeatScheduler(TaggingMixin, RedBeatScheduler):  # type: ignore[misc]
    """celery-redbeat's scheduler: schedule and single-beat lock in Redis."""

    def _stored_entry(self, name: str) -> ScheduleEntry | None:
        # RedBeat's ``schedule`` holds only the entries due now; read this one by its key.
        try:
            return self.Entry.from_key(self.Entry.generate_key(self.app, name), app=self.app)
        except KeyError:
            return None
