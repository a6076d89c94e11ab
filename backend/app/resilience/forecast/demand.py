"""Demand and pool of every forecast day (RESILIENCE_MODEL.md sections 2 and 7).

Within the published schedule the coverage problems are the schedule's own
(``build_site_half_days``: demand from the residents assigned and present, pool after the
known blocking absences). After the schedule's end, the program's *typical week* is repeated:
each later day takes the assignments of its template day, the latest scheduled day with the
same weekday that is not a holiday (within the schedule's last ``TYPICAL_WEEK_LOOKBACK_WEEKS``
weeks; a holiday when no other day of that weekday is there). The copied schedule then goes
through the same coverage rules on its own date: known absences, people leaving or arriving,
holidays and date-bound minimum rules all apply to the real day. Those days are reported as
extrapolated.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from app.domain.coverage import SiteHalfDay, build_site_half_days
from app.domain.schedule import Assignment, HalfDay, ScheduleSnapshot

TYPICAL_WEEK_LOOKBACK_WEEKS = 5
"""How far back from the schedule's end the typical week's days are looked for."""


def template_days(snapshot: ScheduleSnapshot) -> dict[int, date]:
    """Weekday (0 Monday) -> the scheduled day whose assignments later such days repeat."""
    end = snapshot.schedule_end
    if end is None:
        return {}
    latest: dict[int, date] = {}
    not_holiday: dict[int, date] = {}
    for back in range(7 * TYPICAL_WEEK_LOOKBACK_WEEKS):
        day = end - timedelta(days=back)
        latest.setdefault(day.weekday(), day)
        if day not in snapshot.holidays:
            not_holiday.setdefault(day.weekday(), day)
    return latest | not_holiday


def extended_snapshot(snapshot: ScheduleSnapshot, end: date) -> tuple[ScheduleSnapshot, list[date]]:
    """``snapshot`` with the typical week repeated from its schedule's end up to ``end``.

    Args:
        snapshot: the schedule, loaded with at least the template days
            (``TYPICAL_WEEK_LOOKBACK_WEEKS`` weeks before its end) when ``end`` lies after it.
        end: the last day wanted.

    Returns:
        The snapshot (unchanged when nothing is extrapolated) and the extrapolated days.
    """
    schedule_end = snapshot.schedule_end
    if schedule_end is None or schedule_end >= end:
        return snapshot, []
    templates = template_days(snapshot)
    by_day: dict[date, list[Assignment]] = {}
    wanted = set(templates.values())
    for a in snapshot.assignments:
        if a.halfday.date in wanted:
            by_day.setdefault(a.halfday.date, []).append(a)
    extra: list[Assignment] = []
    days: list[date] = []
    day = schedule_end + timedelta(days=1)
    while day <= end:
        days.append(day)
        for a in by_day.get(templates[day.weekday()], ()):
            extra.append(replace(a, halfday=HalfDay(day, a.halfday.half)))
        day += timedelta(days=1)
    program = replace(snapshot.program, schedule_end=end)
    extended = replace(snapshot, program=program, assignments=snapshot.assignments + tuple(extra))
    return extended, days


def forecast_problems(
    snapshot: ScheduleSnapshot, start: date, end: date
) -> tuple[list[SiteHalfDay], list[date]]:
    """The coverage problems of ``start``..``end`` and the days among them extrapolated."""
    extended, extrapolated = extended_snapshot(snapshot, end)
    return build_site_half_days(extended, start, end), [d for d in extrapolated if d >= start]
