"""The program's clock: when its half-days start and end, in its own time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from app.domain.schedule import Half, HalfDay


@dataclass(frozen=True)
class HalfDayClock:
    """Wall-clock times of the program's half-days, for "within 48 hours" questions."""

    timezone: str = "America/New_York"
    am_start: time = time(8, 0)
    am_end: time = time(12, 0)
    pm_start: time = time(13, 0)
    pm_end: time = time(17, 0)

    def start_of(self, halfday: HalfDay) -> datetime:
        t = self.am_start if halfday.half is Half.AM else self.pm_start
        return datetime.combine(halfday.date, t, tzinfo=ZoneInfo(self.timezone))

    def end_of(self, halfday: HalfDay) -> datetime:
        t = self.am_end if halfday.half is Half.AM else self.pm_end
        return datetime.combine(halfday.date, t, tzinfo=ZoneInfo(self.timezone))

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()
