"""Where a demo resident is in one half-day, from their rotation, PGY level and place.

Rotations last four weeks and cycle (``ROTATION_CYCLE``). On the inpatient rotation a
resident is on the service every weekday and every other weekend; everyone else has
Wednesday PM didactics, their own continuity clinic on a few weekday slots (more in later
years), and the sessions of their rotation: procedure, community and telehealth clinics on
outpatient, obstetrics clinic on obstetrics, one specialty clinic on the specialty rotation.
"""

from __future__ import annotations

from app.demo.catalog import (
    COMMUNITY_SESSIONS,
    OB_SESSIONS,
    PROCEDURE_SESSIONS,
    TELEHEALTH_SESSIONS,
    WEDNESDAY_PM,
    SpecialtyClinic,
)
from app.demo.people import ROTATION_CYCLE, ROTATION_DAYS, ResidentPlan

OWN_CLINIC = "continuity_clinic"

_OUTPATIENT_SESSIONS: tuple[tuple[str, tuple[int, ...], int, int], ...] = (
    # (activity, its session slots, which quarter of the places attends, lowest PGY level)
    ("procedure_clinic", PROCEDURE_SESSIONS, 0, 1),
    ("community_clinic", COMMUNITY_SESSIONS, 1, 2),
    ("telehealth_clinic", TELEHEALTH_SESSIONS, 2, 2),
)


def resident_activity(
    r: ResidentPlan,
    day: int,
    week: int,
    slot: int,
    off: bool,
    level: int,
    specialties: list[SpecialtyClinic],
) -> str | None:
    """The activity of resident ``r`` in one half-day, or None for time off.

    Args:
        r: the resident.
        day, week: day and week numbers from the start of the horizon.
        slot: weekday slot (Monday AM = 0 .. Friday PM = 9); ignored when ``off``.
        off: a weekend or holiday half-day.
        level: the resident's PGY level that day.
        specialties: the program's specialty clinics.
    """
    rotation = r.rotation(day)
    if off:
        weekend_duty = rotation == "inpatient" and (r.place + week) % 2 == 0
        return "inpatient" if weekend_duty else None
    if rotation == "inpatient":
        return "inpatient"
    if slot == WEDNESDAY_PM:
        return "didactics"
    own_clinic = slot in r.continuity_slots(level)
    place = r.place
    if rotation == "outpatient":
        for activity, sessions, residue, lowest_pgy in _OUTPATIENT_SESSIONS:
            attends = slot in sessions and (place + sessions.index(slot)) % 4 == residue
            if attends and level >= lowest_pgy:
                return activity
        return "research" if slot == (place * 3 + 1) % 10 else OWN_CLINIC
    if rotation == "obstetrics":
        if slot in OB_SESSIONS and (place + OB_SESSIONS.index(slot)) % 2 == 0:
            return "ob_clinic"
        return OWN_CLINIC if own_clinic else "labor_delivery"
    if rotation == "specialty" and specialties:
        # Which turn on the specialty rotation this is, so that every clinic gets residents.
        turn = (place + day // ROTATION_DAYS) // len(ROTATION_CYCLE) + place
        clinic = specialties[turn % len(specialties)]
        if slot in clinic.sessions:
            return clinic.activity_id
        return OWN_CLINIC if own_clinic else "research"
    return OWN_CLINIC if own_clinic else "off_service"
