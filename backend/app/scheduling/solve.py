"""Solving a faculty re-roster with CP-SAT, tier by tier (RESILIENCE_MODEL.md section 6).

1. Fill demand in sacrifice order: patient-safety slots first, then ACGME, and so on.
2. Change as few current assignments as possible (moves).
3. Spread the extra load fairly: the smallest *peak*, the most clinical half-days any one
   person gains over the horizon.

Each tier keeps the optimum of the earlier ones. The rules make filling slots a flow problem
(slot -> person in a half-day -> person's week -> ...), whose sets of fillable slots form a
matroid (a gammoid). So a roster is lexicographically best by category exactly when it
maximises the sum of category weights 7 (patient safety) .. 1 (optional education): any
maximum-weight roster fills, for every k, as many slots of the k most protected categories
as possible. Tiers 1 and 2 are therefore one solve of ``W * weight - moves`` with ``W`` larger
than any number of moves (lexicographic, the tier-1 optimum fixed); no hard rule spans two ISO
weeks, so that solve is made week by week and the weekly optima add up to the optimum. Tier 3
adds a cap ``P`` on every person's gain over the whole horizon, which keeps the flow structure,
and bisects for the smallest ``P`` at which that optimum is still reached (each probe starts
from the best roster so far). Every solve is a network flow in disguise, so CP-SAT's linear
relaxation (``linearization_level`` 2) proves its optimum quickly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from app.scheduling.constraints import add_hard_constraints
from app.scheduling.explain import Move, moves_of
from app.scheduling.model import RosterIndex, SolverOptions, Week, week_of

TIER_NAMES = {1: "fill demand in sacrifice order", 2: "fewest changes", 3: "fair extra load"}


def category_weight(protection: int) -> int:
    """Weight of a slot of the category with ``protection`` (0 patient safety .. 6)."""
    return 7 - protection


@dataclass(frozen=True)
class TierResult:
    """How one tier ended: CP-SAT's status, its objective, best bound and relative gap.

    Tier 1's objective is the sacrifice-weighted number of filled slots, tier 2's the number
    of moves, tier 3's the peak gain of one person.
    """

    tier: int
    status: str
    objective: int
    bound: int
    seconds: float

    @property
    def gap(self) -> float:
        return abs(self.bound - self.objective) / max(1, abs(self.objective))

    def to_json(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "name": TIER_NAMES[self.tier],
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "gap": round(self.gap, 6),
        }


@dataclass(frozen=True)
class RosterSolution:
    """The moves of a re-roster, how each tier ended, and the slots it fills."""

    moves: tuple[Move, ...]
    tiers: tuple[TierResult, ...]
    filled: int


@dataclass(frozen=True)
class _Solve:
    status: str
    values: dict[int, int]
    objective: int
    bound: int


def _solve(
    index: RosterIndex,
    options: SolverOptions,
    subset: list[int],
    peak: int | None = None,
    hint: dict[int, int] | None = None,
) -> _Solve:
    """One solve of ``W * weight - moves`` over the options ``subset``, every person's gain
    capped at ``peak``, starting from ``hint``."""
    # Imported here: ortools (and numpy with it) is most of a second that every command
    # line would otherwise pay at start.
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    x = {i: model.new_bool_var(f"x{i}") for i in subset}
    add_hard_constraints(model, index, x)
    if peak is not None:
        gained: dict[str, list[cp_model.IntVar]] = {}
        for i, var in x.items():
            if index.options[i].adds_clinical:
                gained.setdefault(index.options[i].person_id, []).append(var)
        for group in gained.values():
            if len(group) > peak:
                model.add(sum(group) <= peak)
    for i, value in (hint or {}).items():
        model.add_hint(x[i], value)
    big = 1 + sum(index.options[i].move for i in subset)
    model.maximize(sum(_coefficient(index, i, big) * var for i, var in x.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = options.time_limit_s
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.linearization_level = 2
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Solve(name, dict.fromkeys(subset, 0), 0, round(solver.best_objective_bound))
    values = {i: int(solver.value(v)) for i, v in x.items()}
    return _Solve(name, values, round(solver.objective_value), round(solver.best_objective_bound))


def _coefficient(index: RosterIndex, i: int, big: int) -> int:
    opt = index.options[i]
    return big * category_weight(index.slots[opt.slot].category.protection) - opt.move


def _by_week(index: RosterIndex) -> list[list[int]]:
    """Option indices per ISO week: tiers 1 and 2 have no rule across weeks."""
    weeks: dict[Week, list[int]] = {}
    for i, opt in enumerate(index.options):
        weeks.setdefault(week_of(index.slots[opt.slot].halfday.date), []).append(i)
    return [weeks[w] for w in sorted(weeks)]


def solve_roster(
    index: RosterIndex, options: SolverOptions, *, fair: bool = True
) -> RosterSolution:
    """The tiered optimum of a re-roster (see the module docstring).

    Tiers 1 and 2 are solved week by week (no hard rule spans two weeks, so the sum of the
    weekly optima is the optimum); tier 3 couples the weeks and is solved whole.

    Args:
        index: the slots and options (``build_index``).
        options: time limit per solve, workers and seed.
        fair: solve tier 3 too (False: tiers 1-2 only, as a leave repair does).
    """
    t0 = time.perf_counter()
    values: dict[int, int] = {}
    statuses, weight, moves, weight_bound, moves_bound = [], 0, 0, 0, 0
    for week in _by_week(index):
        part = _solve(index, options, week)
        values |= part.values
        big = 1 + sum(index.options[i].move for i in week)
        w = sum(
            category_weight(index.slots[index.options[i].slot].category.protection)
            for i in week
            if part.values[i]
        )
        m = sum(index.options[i].move for i in week if part.values[i])
        statuses.append(part.status)
        weight, moves = weight + w, moves + m
        # W * weight - moves <= bound with moves < W gives weight <= ceil(bound / W).
        weight_bound += -(-part.bound // big)
        moves_bound += max(0, big * w - part.bound)
    seconds = time.perf_counter() - t0
    status = max(statuses, key=STATUS_RANK.__getitem__, default="OPTIMAL")
    tiers = [
        TierResult(1, status, weight, weight_bound, seconds),
        TierResult(2, status, moves, moves_bound, seconds),
    ]
    if fair:
        t0 = time.perf_counter()
        values, tier3 = _fairest(index, options, values, tiers[:2])
        tiers.append(TierResult(3, tier3[0], tier3[1], tier3[2], time.perf_counter() - t0))
    chosen = [i for i, value in values.items() if value]
    return RosterSolution(moves_of(index, sorted(chosen)), tuple(tiers), len(chosen))


STATUS_RANK = {"OPTIMAL": 0, "FEASIBLE": 1, "UNKNOWN": 2, "MODEL_INVALID": 3, "INFEASIBLE": 3}


def _fairest(
    index: RosterIndex, options: SolverOptions, best: dict[int, int], earlier: list[TierResult]
) -> tuple[dict[int, int], tuple[str, int, int]]:
    """Bisect the smallest peak gain at which tiers 1-2 keep their value.

    Returns:
        The roster found and (status, peak, proven lower bound). The status is OPTIMAL when
        every probe was solved to optimality, FEASIBLE otherwise.
    """
    everything = list(range(len(index.options)))
    big = 1 + sum(o.move for o in index.options)
    target = sum(_coefficient(index, i, big) for i, v in best.items() if v)
    gained: dict[str, int] = {}
    for i, v in best.items():
        if v and index.options[i].adds_clinical:
            person = index.options[i].person_id
            gained[person] = gained.get(person, 0) + 1
    high = max(gained.values(), default=0)
    values, low, proven = best, 0, all(t.status == "OPTIMAL" for t in earlier)
    while low < high:
        middle = (low + high) // 2
        probe = _solve(index, options, everything, middle, hint=values)
        if probe.status in ("OPTIMAL", "FEASIBLE") and probe.objective == target:
            values, high = probe.values, middle
        elif probe.status == "OPTIMAL" or probe.bound < target:
            low = middle + 1  # proven: the earlier optimum is out of reach with this cap
        else:
            proven = False  # not decided in time: keep the cap found so far
            break
    return values, ("OPTIMAL" if proven and low == high else "FEASIBLE", high, low)
