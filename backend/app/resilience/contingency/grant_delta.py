"""One site-half-day with a gap or finding, and the exact effect of a grant there.

Used by ``crosstrain``: a grant moves one pool member from type ``m`` to ``m | q`` (see
``contingency_shape``); everyone else keeps their type, so the change in findings and in
unfilled slots is counted on types, without enumerating people or pairs, and members of one
type share one answer.
"""

from __future__ import annotations

from app.domain.coverage import SiteHalfDay
from app.resilience.contingency.core import MaskCache, ProblemShape, problem_shape
from app.resilience.contingency.shape import ShapeOutcome, analyse_shape, shape_deficit

Delta = tuple[int, int, int, int, int]
"""N-1 removed, N-2 removed, N-1 added, N-2 added, gap slots filled."""


class GrantSite:
    """One site-half-day with a gap or finding, prepared for many grants."""

    def __init__(self, problem: SiteHalfDay, hall_max_quals: int, cache: MaskCache) -> None:
        self.problem = problem
        self.hall_max_quals = hall_max_quals
        self.shape: ProblemShape = problem_shape(problem, cache)
        self.bit = {q: 1 << i for i, q in enumerate(self.shape.quals)}
        self.mask_of = {pid: m for m, ids in self.shape.members_of.items() for pid in ids}
        self.counts = dict(self.shape.types)
        self.outcome: ShapeOutcome = analyse_shape(
            self.shape.demands, self.shape.types, hall_max_quals
        )
        self._missing: int | None = None
        self._n1 = {m for m, _ in self.outcome.n1}
        self._n2 = {(a, b) for a, b, _ in self.outcome.n2}
        # Members of one type are interchangeable: a grant's effect depends on the type only.
        self._by_type: dict[tuple[int, str], Delta] = {}

    def delta(self, person_id: str, qual: str) -> Delta:
        """Exact change in findings if ``person_id`` (in this pool) gained ``qual``."""
        old = self.mask_of.get(person_id, 0)
        key = (old, qual)
        if key not in self._by_type:
            new = old | self.bit[qual]
            if self.outcome.covered:
                self._by_type[key] = self._delta_covered(old, new)
            else:
                self._by_type[key] = self._delta_uncovered(old, new)
        return self._by_type[key]

    def _moved(self, old: int, new: int) -> dict[int, int]:
        """Type counts once one member of type ``old`` (0: no demanded one) becomes ``new``."""
        counts = dict(self.counts)
        if old:
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
        counts[new] = counts.get(new, 0) + 1
        return counts

    def _delta_covered(self, old: int, new: int) -> Delta:
        counts = self._moved(old, new)
        after = analyse_shape(
            self.shape.demands, tuple(sorted(counts.items())), self.hall_max_quals
        )
        # Everyone but the grantee keeps their type: ``others[t]`` of them have type t.
        others = dict(self.counts)
        if old:
            others[old] -= 1
        n1_before = self._n1
        n1_after = {m for m, _ in after.n1}
        n1_removed = sum(others.get(t, 0) for t in n1_before - n1_after)
        n1_added = sum(others.get(t, 0) for t in n1_after - n1_before)
        n1_removed += old in n1_before and new not in n1_after
        n1_added += old not in n1_before and new in n1_after

        def pairs_of(types: tuple[int, int]) -> int:
            a, b = types
            return (
                others.get(a, 0)
                * (others.get(b, 0) if a != b else others.get(a, 0) - 1)
                // (1 if a != b else 2)
            )

        p_before = self._n2
        p_after = {(a, b) for a, b, _ in after.n2}
        n2_removed = sum(pairs_of(p) for p in p_before - p_after)
        n2_added = sum(pairs_of(p) for p in p_after - p_before)
        for partner in others.keys() | {new}:
            fatal_before = bool(old) and _ordered(old, partner) in p_before
            fatal_after = _ordered(new, partner) in p_after
            if fatal_before != fatal_after:
                if fatal_before:
                    n2_removed += others.get(partner, 0)
                else:
                    n2_added += others.get(partner, 0)
        return (n1_removed, n2_removed, int(n1_added), n2_added, 0)

    def _delta_uncovered(self, old: int, new: int) -> Delta:
        # Counted on types, as ``analyze_problem`` and ``gaps_of`` would count them on the
        # granted half-day: findings come whole types at a time, and the unfilled slots are
        # the deficit of every maximum matching (``shape_deficit``).
        counts = self._moved(old, new)
        types = tuple(sorted(counts.items()))
        demands = self.shape.demands
        if self._missing is None:
            self._missing = shape_deficit(demands, self.shape.types)
        after = analyse_shape(demands, types, self.hall_max_quals)
        if not after.covered:
            return (0, 0, 0, 0, self._missing - shape_deficit(demands, types))
        n1_added = sum(counts[m] for m, _ in after.n1)
        n2_added = sum(
            counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]
            for a, b, _ in after.n2
        )
        return (0, 0, n1_added, n2_added, self._missing)


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)
