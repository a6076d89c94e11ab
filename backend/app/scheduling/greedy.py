"""The baseline a fallback is compared with: a greedy repair, as a coordinator would do it.

Half-day by half-day, each gap (most protected first, as ``gaps_of`` orders them) is filled
with the first free qualified faculty member (by id) who may be moved there: present, not off
duty, not filling a slot anywhere in that half-day, not moved already, within the weekly cap.
It respects the same hard rules as the solver, so the solver's tier 1 fills at least as many
slots.
"""

from __future__ import annotations

from collections import defaultdict

from app.domain.coverage import gaps_of
from app.domain.matching import fill_in_sacrifice_order
from app.domain.schedule import HalfDay
from app.scheduling.explain import Move, moves_of
from app.scheduling.model import RosterIndex, Week, week_of


def greedy_repair(index: RosterIndex) -> tuple[Move, ...]:
    """The moves of the greedy repair of ``index``'s gaps."""
    slot_of = {(s.halfday, s.site, s.activity_id): i for i, s in enumerate(index.slots)}
    movers: dict[int, list[int]] = defaultdict(list)  # slot -> options that move someone
    for i, opt in enumerate(index.options):
        if opt.move:
            movers[opt.slot].append(i)
    for group in movers.values():
        group.sort(key=lambda i: index.options[i].person_id)
    busy: dict[HalfDay, set[str]] = defaultdict(set)
    for problem in index.problems:
        busy[problem.halfday].update(fill_in_sacrifice_order(problem))
    used: dict[tuple[str, Week], int] = defaultdict(int)
    chosen: list[int] = []
    for problem in index.problems:
        taken = busy[problem.halfday]
        for gap in gaps_of(problem):
            slot = slot_of[problem.halfday, problem.site, gap.activity_id]
            for _ in range(gap.missing):
                pick = next((i for i in movers[slot] if _free(index, i, taken, used)), None)
                if pick is None:
                    break
                opt = index.options[pick]
                taken.add(opt.person_id)
                if opt.adds_clinical:
                    used[opt.person_id, week_of(problem.halfday.date)] += 1
                chosen.append(pick)
    return moves_of(index, chosen)


def _free(index: RosterIndex, i: int, taken: set[str], used: dict[tuple[str, Week], int]) -> bool:
    opt = index.options[i]
    if opt.person_id in taken:
        return False
    if not opt.adds_clinical:
        return True
    key = (opt.person_id, week_of(index.slots[opt.slot].halfday.date))
    room = index.room.get(key)
    return room is None or used[key] < room
