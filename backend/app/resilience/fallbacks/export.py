"""A fallback's change set as iCalendar (one calendar per person) and as CSV.

iCalendar (RFC 5545, written with the ``icalendar`` library): each changed half-day is an event
in the program's time zone at its half-day clock times (with the VTIMEZONE it refers to). Its
UID is made of the scenario, window, person and half-day, so a re-computed fallback of the
same scenario and window updates the events a calendar app already holds instead of
duplicating them.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from icalendar import Calendar, Event

from app.domain.clock import HalfDayClock
from app.resilience.fallbacks.compute import moves_from
from app.scheduling.explain import Move

CSV_COLUMNS = ("date", "half", "person_id", "person_name", "activity_id", "previous")
UID_DOMAIN = "residency-scheduler"


def event_uid(scenario: str, start: str, end: str, move: Move) -> str:
    """The stable UID of one changed half-day of a fallback."""
    day, half = move.halfday.date.isoformat(), move.halfday.half.value
    return f"fallback-{scenario}-{start}-{end}-{move.person_id}-{day}-{half}@{UID_DOMAIN}"


def fallback_calendars(
    result: Mapping[str, Any],
    clock: HalfDayClock,
    names: Mapping[str, str],
    activity_names: Mapping[str, str],
    stamp: datetime,
) -> dict[str, bytes]:
    """One iCalendar file per person with a changed half-day: person id -> file content.

    Args:
        result: the stored fallback's result.
        clock: the program's half-day clock (time zone and clock times).
        names, activity_names: people's and activities' names, for the text.
        stamp: DTSTAMP of every event (when the calendar is written).
    """
    scenario = result["scenario"]
    by_person: dict[str, list[Move]] = defaultdict(list)
    for move in moves_from(result):
        by_person[move.person_id].append(move)
    out = {}
    for person_id, moves in sorted(by_person.items()):
        cal = Calendar()
        cal.add("prodid", f"-//{UID_DOMAIN}//fallback//EN")
        cal.add("version", "2.0")
        cal.add("calscale", "GREGORIAN")
        cal.add("x-wr-calname", f"{names.get(person_id, person_id)}: {scenario['title']}")
        for move in moves:
            event = Event()
            event.add("uid", event_uid(scenario["name"], result["start"], result["end"], move))
            event.add("dtstamp", stamp)
            event.add("dtstart", clock.start_of(move.halfday))
            event.add("dtend", clock.end_of(move.halfday))
            event.add("summary", activity_names.get(move.activity_id, move.activity_id))
            was = "nothing" if move.previous is None else activity_names.get(move.previous)
            event.add(
                "description",
                f"Fallback schedule '{scenario['title']}': {move.activity_id}"
                f" instead of {was or move.previous}.",
            )
            cal.add_component(event)
        cal.add_missing_timezones()
        out[person_id] = cal.to_ical()
    return out


def fallback_csv(result: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """The change set as CSV, one row per changed half-day (``CSV_COLUMNS``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for m in moves_from(result):
        writer.writerow(
            [
                m.halfday.date.isoformat(),
                m.halfday.half.value,
                m.person_id,
                names.get(m.person_id, ""),
                m.activity_id,
                m.previous or "",
            ]
        )
    return buffer.getvalue()
