"""The crisis scenarios fallbacks are prepared for: data, one definition each.

A scenario names its loss model (who is gone for the whole horizon), its demand changes and
its shedding level (RESILIENCE_MODEL.md sections 5 and 6). Adding a scenario is adding one
entry to ``SCENARIOS``. ``apply_scenario`` turns a schedule into the re-roster problem of the
scenario: the losses become absences, demand changes are made, and the activities shed (or
at a closed site) are suspended.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from app.core.errors import InputError
from app.domain.schedule import Absence, Activity, Category, ScheduleSnapshot
from app.domain.shedding import SheddingLevel, suspend_activities
from app.scheduling.model import RosterProblem


class Loss(StrEnum):
    """Who a scenario takes away for its whole horizon."""

    NONE = "none"
    MOST_CRITICAL_FACULTY = "most_critical_faculty"
    """The first of the contingency ranking by half-days held up (N-1)."""
    MOST_CRITICAL_PAIR = "most_critical_pair"
    """The first fatal pair of that ranking (N-2)."""
    FACULTY_SHARE = "faculty_share"
    """``share`` of the active faculty: those leaving (PCS absence or active-to date in the
    horizon) first when ``leaving_first``, then in a fixed order drawn from the scenario name."""


@dataclass(frozen=True)
class Scenario:
    """One crisis scenario.

    Attributes:
        raise_minimum: activities of this category that have a faculty minimum need this many
            more faculty (an inpatient surge).
        every_day_holiday: every day is run on the holiday minimums (skeleton staffing).
        close_off_site: activities away from the program's main site are suspended.
    """

    name: str
    title: str
    loss: Loss = Loss.NONE
    share: float = 0.0
    leaving_first: bool = False
    shedding: SheddingLevel = SheddingLevel.NORMAL
    raise_minimum: tuple[Category, int] | None = None
    every_day_holiday: bool = False
    close_off_site: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "loss": self.loss.value,
            "share": self.share,
            "leaving_first": self.leaving_first,
            "shedding": self.shedding.value,
            "raise_minimum": None
            if self.raise_minimum is None
            else [self.raise_minimum[0].value, self.raise_minimum[1]],
            "every_day_holiday": self.every_day_holiday,
            "close_off_site": self.close_off_site,
        }


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "critical_faculty",
        "Loss of the most critical faculty member",
        loss=Loss.MOST_CRITICAL_FACULTY,
    ),
    Scenario("critical_pair", "Loss of the most critical fatal pair", loss=Loss.MOST_CRITICAL_PAIR),
    Scenario(
        "pcs_season",
        "PCS season: half of the faculty gone, those moving first",
        loss=Loss.FACULTY_SHARE,
        share=0.5,
        leaving_first=True,
        shedding=SheddingLevel.YELLOW,
    ),
    Scenario(
        "holiday_skeleton",
        "Holiday skeleton: a third of the faculty away, holiday minimums every day",
        loss=Loss.FACULTY_SHARE,
        share=1 / 3,
        every_day_holiday=True,
        shedding=SheddingLevel.RED,
    ),
    Scenario(
        "pandemic",
        "Pandemic: 30 % of the faculty out, essential services only",
        loss=Loss.FACULTY_SHARE,
        share=0.3,
        shedding=SheddingLevel.BLACK,
    ),
    Scenario(
        "mass_casualty",
        "Mass-casualty event: inpatient minimums +1, everything non-emergency shed",
        raise_minimum=(Category.PATIENT_SAFETY, 1),
        shedding=SheddingLevel.CRITICAL,
    ),
    Scenario(
        "weather_emergency",
        "Weather emergency: off-site sites closed",
        close_off_site=True,
        shedding=SheddingLevel.ORANGE,
    ),
)

SCENARIOS_BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}


def scenario_named(name: str) -> Scenario:
    """The scenario called ``name``; an ``InputError`` listing the known ones otherwise."""
    scenario = SCENARIOS_BY_NAME.get(name)
    if scenario is None:
        known = ", ".join(SCENARIOS_BY_NAME)
        raise InputError(f"unknown scenario {name!r}: one of {known}")
    return scenario


@dataclass(frozen=True)
class Ranking:
    """The contingency ranking the critical losses come from (empty: nobody is critical)."""

    critical: tuple[str, ...] = ()
    """Ids of the most critical faculty member (one) or nothing."""
    pair: tuple[str, ...] = ()
    """Ids of the most critical fatal pair (two) or nothing."""


def lost_faculty(
    snapshot: ScheduleSnapshot, scenario: Scenario, start: date, end: date, ranking: Ranking
) -> tuple[str, ...]:
    """The faculty ``scenario`` takes away over ``start``..``end``, sorted."""
    if scenario.loss is Loss.MOST_CRITICAL_FACULTY:
        return tuple(sorted(ranking.critical))
    if scenario.loss is Loss.MOST_CRITICAL_PAIR:
        return tuple(sorted(ranking.pair))
    if scenario.loss is Loss.NONE:
        return ()
    active = [
        p
        for p in snapshot.people
        if p.is_faculty
        and (p.active_from is None or p.active_from <= end)
        and (p.active_to is None or p.active_to >= start)
    ]
    leaving = set()
    if scenario.leaving_first:
        leaving = {p.id for p in active if p.active_to is not None and p.active_to <= end}
        leaving |= {
            a.person_id
            for a in snapshot.absences
            if a.type == "pcs" and a.start <= end and a.end >= start
        }

    def order(person_id: str) -> tuple[bool, str]:
        drawn = hashlib.sha256(f"{scenario.name}:{person_id}".encode()).hexdigest()
        return person_id not in leaving, drawn

    count = round(scenario.share * len(active))
    return tuple(sorted(sorted((p.id for p in active), key=order)[:count]))


def apply_scenario(
    snapshot: ScheduleSnapshot, scenario: Scenario, start: date, end: date, lost: tuple[str, ...]
) -> tuple[RosterProblem, frozenset[str]]:
    """The re-roster problem of ``scenario`` and the ids of the activities it suspends."""
    absences = tuple(
        Absence(f"scenario:{scenario.name}:{pid}", pid, start, end, "other") for pid in lost
    )
    holidays = snapshot.holidays
    if scenario.every_day_holiday:
        days = (end - start).days + 1
        holidays = holidays | {start + timedelta(days=i) for i in range(days)}
    activities = tuple(_raised(a, scenario) for a in snapshot.activities)
    main = snapshot.program.main_site
    suspended = frozenset(
        a.id
        for a in activities
        if a.category in scenario.shedding.shed_categories
        or (scenario.close_off_site and a.site != main)
    )
    changed = replace(
        snapshot,
        absences=(*snapshot.absences, *absences),
        holidays=holidays,
        activities=activities,
    )
    return RosterProblem(suspend_activities(changed, suspended), start, end), suspended


def _raised(activity: Activity, scenario: Scenario) -> Activity:
    if scenario.raise_minimum is None or activity.category is not scenario.raise_minimum[0]:
        return activity
    by = scenario.raise_minimum[1]
    rules = tuple(
        replace(r, min_faculty=r.min_faculty + by) if r.min_faculty else r
        for r in activity.min_faculty_rules
    )
    minimum = activity.min_faculty + by if activity.min_faculty else 0
    return replace(activity, min_faculty=minimum, min_faculty_rules=rules)
