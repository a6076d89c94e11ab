"""Which slots stay empty: the sacrifice order, checked against the matroid greedy property.

Filling slots greedily, most protected activity first, on a transversal matroid fills, for the
i-th activity in that order, exactly rank(first i activities) - rank(first i - 1) slots, where
rank is the size of a maximum matching. The rank here comes from an exhaustive search that
shares nothing with the product's augmenting paths.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from functools import cache

from app.domain.coverage import ActivityDemand, PoolMember, SiteHalfDay, gaps_of, is_covered
from app.domain.matching import fill_in_sacrifice_order, filled_slots
from app.domain.schedule import Category, Half, HalfDay

AM = HalfDay(date(2026, 12, 2), Half.AM)


def exhaustive_rank(demands: list[ActivityDemand], pool: list[PoolMember]) -> int:
    """Most slots of ``demands`` that ``pool`` can fill, one slot per member, by trying all."""

    @cache
    def best(member: int, left: tuple[int, ...]) -> int:
        if member == len(pool):
            return 0
        options = [best(member + 1, left)]  # this member fills nothing
        for k, d in enumerate(demands):
            if left[k] and d.qualification in pool[member].qualifications:
                rest = left[:k] + (left[k] - 1,) + left[k + 1 :]
                options.append(1 + best(member + 1, rest))
        return max(options)

    return best(0, tuple(d.demand for d in demands))


def random_problem(rng: random.Random) -> SiteHalfDay:
    quals = ["a", "b", "c"][: rng.randint(1, 3)]
    ids = rng.sample(["ward", "clinic", "ob", "proc", "call"], rng.randint(1, 4))
    demands = [
        ActivityDemand(i, rng.choice(list(Category)), rng.choice(quals), rng.randint(1, 3), ())
        for i in ids
    ]
    pool = [
        PoolMember(f"f{i}", frozenset(rng.sample(quals, rng.randint(0, len(quals)))))
        for i in range(rng.randint(0, 6))
    ]
    rng.shuffle(demands)  # the product must not rely on the order it is given
    return SiteHalfDay(AM, "main", tuple(demands), tuple(pool))


def test_gaps_of_fills_each_activity_its_greedy_rank_increment_on_random_cases() -> None:
    rng = random.Random(2026)
    short_cases = 0
    for _ in range(400):
        problem = random_problem(rng)
        order = sorted(problem.demands, key=lambda d: (d.category.protection, d.activity_id))
        missing = {g.activity_id: g.missing for g in gaps_of(problem)}
        previous = 0
        for i, d in enumerate(order, 1):
            rank = exhaustive_rank(order[:i], list(problem.pool))
            assert d.demand - missing.get(d.activity_id, 0) == rank - previous, (problem, d)
            previous = rank
        total = sum(d.demand for d in order)
        assert is_covered(problem) == (previous == total)
        short_cases += previous < total
    assert short_cases > 50  # the property was tested where it matters


def test_gaps_of_is_the_same_when_qualifications_are_renamed_on_random_cases() -> None:
    rng = random.Random(7)
    for _ in range(200):
        problem = random_problem(rng)
        rename = dict(zip(["a", "b", "c"], rng.sample(["zz", "mm", "aa"], 3), strict=True))
        renamed = SiteHalfDay(
            AM,
            "main",
            tuple(
                ActivityDemand(d.activity_id, d.category, rename[d.qualification], d.demand, ())
                for d in problem.demands
            ),
            tuple(
                PoolMember(m.person_id, frozenset(rename[q] for q in m.qualifications))
                for m in problem.pool
            ),
        )
        before = [(g.activity_id, g.missing) for g in gaps_of(problem)]
        after = [(g.activity_id, g.missing) for g in gaps_of(renamed)]
        assert sorted(before) == sorted(after)


def test_filled_slots_counts_what_the_sacrifice_order_fills_when_members_are_lost() -> None:
    rng = random.Random(7)
    for _ in range(400):
        problem = random_problem(rng)
        ids = [m.person_id for m in problem.pool]
        lost = frozenset(rng.sample(ids, rng.randint(0, len(ids))))
        counted = Counter(fill_in_sacrifice_order(problem, lost).values())
        assert filled_slots(problem, lost) == counted, (problem, lost)
        rank = exhaustive_rank(
            list(problem.demands), [m for m in problem.pool if m.person_id not in lost]
        )
        assert sum(filled_slots(problem, lost).values()) == rank
