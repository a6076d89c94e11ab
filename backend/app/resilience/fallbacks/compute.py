"""One fallback, computed and judged: pure, no database (safe to run in any worker).

The scenario is applied (``apply_scenario``), the faculty re-rostered by the CP-SAT solver and,
beside it, by the greedy baseline; both rosters are judged by the coverage and contingency
core, the same code that judges the schedule every 15 minutes: gaps per category, and the
fallback's own N-1/N-2 status (a fallback that is itself fragile says so).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.coverage import build_site_half_days, gaps_of
from app.domain.matching import filled_slots
from app.domain.schedule import CATEGORY_ORDER, ScheduleSnapshot
from app.domain.snapshot_json import snapshot_to_json
from app.resilience.contingency.core import analyze_contingency
from app.resilience.fallbacks.scenarios import Ranking, Scenario, apply_scenario, lost_faculty
from app.scheduling.explain import Move, apply_moves, displaced_residents
from app.scheduling.greedy import greedy_repair
from app.scheduling.model import SolverOptions, build_index
from app.scheduling.solve import solve_roster


def schedule_digest(snapshot: ScheduleSnapshot, start: date, end: date, *extra: Any) -> str:
    """A digest of the window's schedule (people, activities, holidays, assignments, absences)
    and of ``extra`` JSON data: what a fallback or a repair is computed from."""
    data = snapshot_to_json(snapshot, start, end)
    data["assignments"] = sorted(data["assignments"])
    data["absences"] = sorted(data["absences"], key=json.dumps)
    canonical = json.dumps(
        [*extra, start.isoformat(), end.isoformat(), data], sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def fallback_fingerprint(
    snapshot: ScheduleSnapshot, scenario: Scenario, start: date, end: date
) -> str:
    """The fingerprint of a fallback's input: the scenario's definition and the window's
    schedule."""
    return schedule_digest(snapshot, start, end, scenario.to_json())


@dataclass(frozen=True)
class Judgement:
    """A roster as the coverage and contingency core sees it."""

    coverage: dict[str, dict[str, int]]
    gaps: list[dict[str, object]]
    contingency: dict[str, Any]

    @property
    def uncovered_slots(self) -> int:
        return sum(int(g["missing"]) for g in self.gaps)  # type: ignore[call-overload]

    @property
    def filled_slots(self) -> int:
        return sum(c["filled"] for c in self.coverage.values())


def judge(
    snapshot: ScheduleSnapshot, start: date, end: date, *, n1_details: bool = False
) -> Judgement:
    """Coverage per category, gaps and N-1/N-2 status of ``snapshot`` over the window (with
    ``n1_details``, also every N-1 finding: who alone holds up which half-day)."""
    problems = build_site_half_days(snapshot, start, end)
    demand: dict[str, int] = defaultdict(int)
    filled: dict[str, int] = defaultdict(int)
    gaps: list[dict[str, object]] = []
    for problem in problems:
        counts = filled_slots(problem)
        for d in problem.demands:
            demand[d.category.value] += d.demand
            filled[d.category.value] += counts[d.activity_id]
        gaps.extend(g.to_json() for g in gaps_of(problem))
    coverage = {
        c.value: {"demand": demand[c.value], "filled": filled[c.value]}
        for c in CATEGORY_ORDER
        if demand[c.value]
    }
    result = analyze_contingency(problems)
    counts = result.counts()
    contingency: dict[str, Any] = {
        "n1_pass": result.n1_pass,
        "n2_pass": result.n2_pass,
        "critical_faculty": counts["critical_faculty"],
        "fatal_pairs": counts["fatal_pairs"],
    }
    if n1_details:
        contingency["n1"] = [
            {"person_id": pid, **exposure.to_json()} for pid, exposure in result.n1_findings()
        ]
    return Judgement(coverage, gaps, contingency)


def compute_fallback(
    snapshot: ScheduleSnapshot,
    scenario: Scenario,
    start: date,
    end: date,
    ranking: Ranking,
    options: SolverOptions,
) -> dict[str, Any]:
    """The fallback of ``scenario`` over ``start``..``end`` as JSON data (what is stored).

    Args:
        snapshot: the schedule now (at least the window's assignments and absences).
        ranking: the contingency ranking the critical-loss scenarios take their people from.
        options: the solver's time limit, workers and seed.
    """
    lost = lost_faculty(snapshot, scenario, start, end, ranking)
    problem, suspended = apply_scenario(snapshot, scenario, start, end, lost)
    index = build_index(problem)
    before = judge(problem.snapshot, start, end)
    t0 = time.perf_counter()
    solution = solve_roster(index, options)
    solve_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    greedy_moves = greedy_repair(index)
    greedy_s = time.perf_counter() - t0
    after = judge(apply_moves(problem.snapshot, solution.moves), start, end)
    greedy = judge(apply_moves(problem.snapshot, greedy_moves), start, end)
    return {
        "scenario": scenario.to_json(),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "lost": list(lost),
        "suspended_activities": sorted(suspended),
        "displaced_residents": [
            d.to_json() for d in displaced_residents(snapshot, suspended, start, end)
        ],
        "moves": [m.to_json() for m in solution.moves],
        "tiers": [t.to_json() for t in solution.tiers],
        "coverage": after.coverage,
        "uncovered_slots": after.uncovered_slots,
        "uncovered": after.gaps,
        "contingency": after.contingency,
        "without_repair": {"uncovered_slots": before.uncovered_slots},
        "greedy": {
            "moves": len(greedy_moves),
            "filled_slots": greedy.filled_slots,
            "uncovered_slots": greedy.uncovered_slots,
        },
        "solver": {"filled_slots": after.filled_slots, "seed": options.seed},
        "timings": {
            "solver_s": round(solve_s, 3),
            "tiers_s": [round(t.seconds, 3) for t in solution.tiers],
            "greedy_s": round(greedy_s, 3),
        },
    }


def moves_from(result: Mapping[str, Any]) -> tuple[Move, ...]:
    """The moves (change set) of a stored fallback's result."""
    return tuple(Move.from_json(m) for m in result["moves"])
