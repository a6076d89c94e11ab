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
than any number of moves (lexicographic, the tier-1 optimum fixed). Tier 3 adds a cap ``P`` on
every person's gain, which keeps the flow structure, and bisects for the smallest ``P`` at which
that optimum is still reached. Every solve is a network flow in disguise, so CP-SAT's linear
relaxation (``linearization_level`` 2) proves its optimum in about a second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ortools.sat.python import cp_model

from app.scheduling.constraints import add_hard_constraints
from app.scheduling.explain import Move, moves_of
from app.scheduling.model import RosterIndex, SolverOptions

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
    values: tuple[int, ...]
    objective: int
    bound: int


def _solve(index: RosterIndex, options: SolverOptions, peak: int | None) -> _Solve:
    """One solve of ``W * weight - moves``, every person's gain capped at ``peak``."""
    model = cp_model.CpModel()
    x = [model.new_bool_var(f"x{i}") for i in range(len(index.options))]
    add_hard_constraints(model, index, x)
    if peak is not None:
        gained: dict[str, list[cp_model.IntVar]] = {}
        for var, opt in zip(x, index.options, strict=True):
            if opt.adds_clinical:
                gained.setdefault(opt.person_id, []).append(var)
        for group in gained.values():
            if len(group) > peak:
                model.add(sum(group) <= peak)
    big = 1 + sum(o.move for o in index.options)
    model.maximize(
        sum(
            (big * category_weight(index.slots[o.slot].category.protection) - o.move) * var
            for var, o in zip(x, index.options, strict=True)
        )
    )
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = options.time_limit_s
    solver.parameters.num_workers = options.workers
    solver.parameters.random_seed = options.seed
    solver.parameters.linearization_level = 2
    status = solver.solve(model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _Solve(name, (0,) * len(x), 0, round(solver.best_objective_bound))
    values = tuple(int(solver.value(v)) for v in x)
    return _Solve(name, values, round(solver.objective_value), round(solver.best_objective_bound))


def solve_roster(index: RosterIndex, options: SolverOptions) -> RosterSolution:
    """The tiered optimum of a re-roster (see the module docstring).

    Args:
        index: the slots and options (``build_index``).
        options: time limit per solve, workers and seed.
    """
    big = 1 + sum(o.move for o in index.options)
    t0 = time.perf_counter()
    best = _solve(index, options, None)
    weight = sum(
        category_weight(index.slots[o.slot].category.protection)
        for v, o in zip(best.values, index.options, strict=True)
        if v
    )
    moves = sum(o.move for v, o in zip(best.values, index.options, strict=True) if v)
    seconds = time.perf_counter() - t0
    status = best.status
    tiers = [
        # W * weight - moves <= bound with moves < W gives weight <= ceil(bound / W).
        TierResult(1, status, weight, -(-best.bound // big), seconds),
        TierResult(2, status, moves, max(0, big * weight - best.bound), seconds),
    ]
    t0 = time.perf_counter()
    chosen_values, tier3 = _fairest(index, options, best, tiers[:2])
    tiers.append(TierResult(3, tier3[0], tier3[1], tier3[2], time.perf_counter() - t0))
    chosen = [i for i, value in enumerate(chosen_values) if value]
    return RosterSolution(moves_of(index, chosen), tuple(tiers), len(chosen))


def _fairest(
    index: RosterIndex, options: SolverOptions, best: _Solve, earlier: list[TierResult]
) -> tuple[tuple[int, ...], tuple[str, int, int]]:
    """Bisect the smallest peak gain at which tiers 1-2 keep their value.

    Returns:
        The roster found and (status, peak, proven lower bound). The status is OPTIMAL when
        every probe was solved to optimality, FEASIBLE otherwise.
    """
    gained: dict[str, int] = {}
    for v, o in zip(best.values, index.options, strict=True):
        if v and o.adds_clinical:
            gained[o.person_id] = gained.get(o.person_id, 0) + 1
    high = max(gained.values(), default=0)
    values, low, proven = best.values, 0, all(t.status == "OPTIMAL" for t in earlier)
    while low < high:
        middle = (low + high) // 2
        probe = _solve(index, options, middle)
        if probe.status in ("OPTIMAL", "FEASIBLE") and probe.objective == best.objective:
            values, high = probe.values, middle
        elif probe.status == "OPTIMAL" or probe.bound < best.objective:
            low = middle + 1  # proven: the earlier optimum is out of reach with this cap
        else:
            proven = False  # not decided in time: keep the cap found so far
            break
    return values, ("OPTIMAL" if proven and low == high else "FEASIBLE", high, low)
