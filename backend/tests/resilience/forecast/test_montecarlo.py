"""The Monte Carlo shortfall probability: exact per sample, and right on average.

The references are written here, independently of the code under test: a slot-by-slot
bipartite matching (Kuhn's augmenting paths) decides coverage, and the exact probability of a
small day sums every absence pattern's probability.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from datetime import date

import numpy as np
import pytest

import app.resilience.forecast.montecarlo as montecarlo
from app.domain.coverage import ActivityDemand, PoolMember, SiteHalfDay
from app.domain.schedule import Category, Half, HalfDay
from app.resilience.contingency.core import problem_shape
from app.resilience.forecast.montecarlo import day_shortfall, error_bound, uncovered_by_losses
from app.resilience.forecast.rates import AbsenceRates
from tests.resilience.factories import random_site_half_day

DAY = date(2025, 7, 7)  # a Monday


def covers(problem: SiteHalfDay, away: set[str]) -> bool:
    """Reference: every slot filled by a maximum matching of present members to slots."""
    slots = [d.qualification for d in problem.demands for _ in range(d.demand)]
    members = [m for m in problem.pool if m.person_id not in away]
    owner: dict[int, int] = {}  # slot -> member index

    def augment(i: int, seen: set[int]) -> bool:
        for s, q in enumerate(slots):
            if q in members[i].qualifications and s not in seen:
                seen.add(s)
                if s not in owner or augment(owner[s], seen):
                    owner[s] = i
                    return True
        return False

    for i in range(len(members)):
        augment(i, set())
    return len(owner) == len(slots)


def _losses_for(problem: SiteHalfDay, away: Sequence[set[str]]) -> np.ndarray:
    shape = problem_shape(problem)
    return np.array(
        [[sum(1 for pid in shape.members_of[m] if pid in a) for m, _ in shape.types] for a in away],
        dtype=np.int32,
    ).reshape(len(away), len(shape.types))


def _check_random_cases(seed: int, cases: int) -> None:
    rng = random.Random(seed)
    for _ in range(cases):
        problem = random_site_half_day(rng, n_quals=rng.randint(1, 4), max_pool=7)
        if not problem.demands or not problem_shape(problem).types:
            continue
        ids = [m.person_id for m in problem.pool]
        away = [{pid for pid in ids if rng.random() < 0.3} for _ in range(40)]
        got = uncovered_by_losses(problem_shape(problem), problem, _losses_for(problem, away))
        want = [not covers(problem, a) for a in away]
        assert got.tolist() == want, problem


@pytest.mark.parametrize("seed", range(6))
def test_hall_check_matches_brute_force_matching_on_random_shapes(seed: int) -> None:
    montecarlo.hall_sets.cache_clear()
    _check_random_cases(seed, 150)


def test_large_component_falls_back_to_exact_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(montecarlo, "HALL_MAX_QUALS", 1)
    montecarlo.hall_sets.cache_clear()
    try:
        _check_random_cases(99, 150)
    finally:
        montecarlo.hall_sets.cache_clear()


def _demand(act: str, qual: str, n: int) -> ActivityDemand:
    return ActivityDemand(act, Category.PATIENT_SAFETY, qual, n, ())


def _member(pid: str, *quals: str) -> PoolMember:
    return PoolMember(pid, frozenset(quals))


def exact_probability(problems: Sequence[SiteHalfDay], rate: dict[str, float]) -> float:
    """Reference: the sum over every absence pattern of its chance, when it uncovers."""
    people = sorted({m.person_id for p in problems for m in p.pool})
    total = 0.0
    for pattern in itertools.product((False, True), repeat=len(people)):
        away = {pid for pid, out in zip(people, pattern, strict=True) if out}
        chance = math.prod(rate[p] if p in away else 1 - rate[p] for p in people)
        if any(not covers(p, away) for p in problems):
            total += chance
    return total


def _random_day(rng: random.Random) -> tuple[list[SiteHalfDay], dict[str, float]]:
    people = [f"f{i}" for i in range(rng.randint(3, 8))]
    quals = ("a", "b", "c")
    problems = []
    for half in (Half.AM, Half.PM):
        pool = tuple(
            _member(p, *[q for q in quals if rng.random() < 0.5] or ["a"])
            for p in people
            if rng.random() < 0.8
        )
        demands = tuple(
            _demand(f"act_{q}", q, rng.randint(1, 2)) for q in quals if rng.random() < 0.6
        )
        problems.append(SiteHalfDay(HalfDay(DAY, half), "main", demands, pool))
    rate = {p: rng.choice((0.02, 0.05, 0.1, 0.2, 0.3)) for p in people}
    return problems, rate


def _rates(rate: dict[str, float]) -> AbsenceRates:
    return AbsenceRates((0.0,) * 7, "history", 365, 0.0, {p: (r,) * 7 for p, r in rate.items()})


@pytest.mark.parametrize("seed", range(10))
def test_monte_carlo_is_within_its_stated_error_of_exact_enumeration(seed: int) -> None:
    rng = random.Random(1000 + seed)
    problems, rate = _random_day(rng)
    exact = exact_probability(problems, rate)
    estimate = day_shortfall(problems, _rates(rate), 10_000, np.random.default_rng(seed))
    assert estimate.samples == 10_000
    assert abs(estimate.probability - exact) <= error_bound(10_000), (exact, estimate)


def test_one_irreplaceable_person_fails_the_day_at_their_rate() -> None:
    # One slot, one holder away with chance 0.3, a second member who cannot fill it: P = 0.3.
    problem = SiteHalfDay(
        HalfDay(DAY, Half.AM),
        "main",
        (_demand("clinic", "a", 1),),
        (_member("f1", "a"), _member("f2", "b")),
    )
    rates = _rates({"f1": 0.3, "f2": 0.9})
    estimate = day_shortfall([problem], rates, 10_000, np.random.default_rng(5))
    assert abs(estimate.probability - 0.3) <= error_bound(10_000)
    assert estimate.covered_as_planned


def test_a_day_uncovered_as_planned_is_short_in_every_sample() -> None:
    problem = SiteHalfDay(
        HalfDay(DAY, Half.PM), "main", (_demand("clinic", "a", 2),), (_member("f1", "a"),)
    )
    estimate = day_shortfall([problem], _rates({"f1": 0.0}), 500, np.random.default_rng(1))
    assert estimate.probability == 1.0
    assert not estimate.covered_as_planned


def test_nobody_absent_means_no_shortfall() -> None:
    problem = SiteHalfDay(
        HalfDay(DAY, Half.AM), "main", (_demand("clinic", "a", 1),), (_member("f1", "a"),)
    )
    estimate = day_shortfall([problem], _rates({"f1": 0.0}), 1000, np.random.default_rng(1))
    assert estimate.probability == 0.0
    assert estimate.standard_error == 0.0


def test_error_bound_of_ten_thousand_samples_is_about_one_percent() -> None:
    # 95 % normal interval at the worst case p = 1/2: 1.96 * 0.5 / sqrt(n).
    assert error_bound(10_000) == pytest.approx(0.0098)
    assert error_bound(2_500) == pytest.approx(0.0196)


@pytest.mark.parametrize(("types", "count"), [(4, 3), (30, 10)])  # 4^4 keys; 11^30 > 2^62
def test_distinct_loss_rows_rebuild_every_row(types: int, count: int) -> None:
    rng = np.random.default_rng(types)
    losses = rng.integers(0, 2, size=(500, types), dtype=np.int32) * rng.integers(
        0, count + 1, size=(500, types), dtype=np.int32
    )
    distinct, inverse = montecarlo._distinct_rows(losses, [count] * types)
    assert (distinct[inverse] == losses).all()
    assert len({tuple(r) for r in distinct.tolist()}) == len(distinct)
    assert len(distinct) == len({tuple(r) for r in losses.tolist()})
