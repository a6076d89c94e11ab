"""Unfilled slots of a type-level maximum matching (``TypeFlow``, what cross-training and the
N-1/N-2 core start from) against the sacrifice-order fill of the same site-half-day."""

from __future__ import annotations

import random

from app.domain.coverage import gaps_of
from app.resilience.contingency.core import problem_shape
from app.resilience.contingency.typeflow import TypeFlow
from tests.resilience.factories import random_problems


def test_type_flow_deficit_equals_unfilled_slots_of_gaps_of_on_random_problems() -> None:
    uncovered = 0
    for seed in range(8):
        problems = random_problems(random.Random(seed), days=3, sites=2, n_quals=4, max_pool=7)
        for p in problems:
            if not p.demands:
                continue
            _, demands, types, _ = problem_shape(p)
            missing = sum(g.missing for g in gaps_of(p))
            assert TypeFlow(demands, types).deficit() == missing, p
            uncovered += missing > 0
    assert uncovered > 10  # the property was tested where it matters
