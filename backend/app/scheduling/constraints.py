"""The hard rules of a faculty re-roster as CP-SAT constraints.

Qualifications, presence (absences, scenario losses, active dates) and off-duty half-days are
already in ``RosterIndex``: an option exists only where they allow it. What is left is added
here: one place per person per half-day, no slot filled beyond its demand, and the weekly cap
of clinical half-days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING

from app.domain.schedule import HalfDay
from app.scheduling.model import RosterIndex, Week, week_of

if TYPE_CHECKING:  # ortools is imported by the solve that builds the model
    from ortools.sat.python import cp_model


def add_hard_constraints(
    model: cp_model.CpModel, index: RosterIndex, x: Mapping[int, cp_model.IntVar]
) -> None:
    """Add the hard rules over ``x`` (option index -> its 0/1 variable, for the options of
    ``index`` being solved)."""
    per_place: dict[tuple[str, HalfDay], list[cp_model.IntVar]] = defaultdict(list)
    per_slot: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    per_week: dict[tuple[str, Week], list[cp_model.IntVar]] = defaultdict(list)
    for i, var in x.items():
        opt = index.options[i]
        halfday = index.slots[opt.slot].halfday
        per_place[opt.person_id, halfday].append(var)
        per_slot[opt.slot].append(var)
        if opt.adds_clinical:
            per_week[opt.person_id, week_of(halfday.date)].append(var)
    for group in per_place.values():
        if len(group) > 1:
            model.add_at_most_one(group)
    for slot, group in per_slot.items():
        demand = index.slots[slot].demand
        if len(group) > demand:
            model.add(sum(group) <= demand)
    for key, group in per_week.items():
        room = index.room.get(key)
        if room is not None and len(group) > room:
            model.add(sum(group) <= room)
