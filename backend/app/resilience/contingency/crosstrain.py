"""What-if: which (faculty, qualification) grants remove the most contingency findings.

Exact: each candidate is re-analysed on every site-half-day where it can change anything,
and findings (a person or a pair, a half-day, a site) are compared before and after.

Only half-days that already have a gap or a finding can change. A grant only adds members to
the neighbourhoods of qualification sets, so no Hall surplus falls. Without a gap or an N-1
failure no set has surplus 0; without a fatal pair no set of surplus 1 is met by two members;
after the grant a new fatal pair would need a set of surplus 1 met by two members, which
(surpluses having not fallen) it already had.

On covered half-days the comparison is done on types (see ``contingency_shape``): the grant
moves one member from type ``m`` to ``m | q``; everyone else keeps their type, so counting
changed findings needs no enumeration of people or pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.domain.coverage import SiteHalfDay, gaps_of
from app.resilience.contingency.core import (
    ContingencyResult,
    HalfDayAtSite,
    MaskCache,
    ProblemShape,
    analyze_problem,
    problem_shape,
)
from app.resilience.contingency.shape import HALL_MAX_QUALS, ShapeOutcome, analyse_shape

Delta = tuple[int, int, int, int, int]
"""N-1 removed, N-2 removed, N-1 added, N-2 added, gap slots filled."""


@dataclass(frozen=True)
class CrossTrainingOption:
    """What granting ``qualification`` to ``person_id`` would change.

    ``n1_added`` is always 0 (a grant never makes anyone newly irreplaceable); ``n2_added``
    can be positive: someone who stops being an N-1 failure may still be in a fatal pair.
    """

    person_id: str
    qualification: str
    n1_removed: int
    n2_removed: int
    n1_added: int
    n2_added: int
    gap_slots_filled: int
    half_days: tuple[HalfDayAtSite, ...]
    """The half-days (and sites) where the grant changes findings or gaps."""

    @property
    def findings_removed(self) -> int:
        """N-1 and N-2 findings removed plus gap slots filled (a gap is the worst finding)."""
        return self.n1_removed + self.n2_removed + self.gap_slots_filled

    def sort_key(self) -> tuple[int, int, int, int, str, str]:
        return (
            -self.findings_removed,
            -self.gap_slots_filled,
            -self.n1_removed,
            self.n1_added + self.n2_added,
            self.person_id,
            self.qualification,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "qualification": self.qualification,
            "findings_removed": self.findings_removed,
            "n1_removed": self.n1_removed,
            "n2_removed": self.n2_removed,
            "n1_added": self.n1_added,
            "n2_added": self.n2_added,
            "gap_slots_filled": self.gap_slots_filled,
            "half_days": [h.to_json() for h in self.half_days],
        }


class _HalfDay:
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

    def missing(self) -> int:
        if self._missing is None:
            self._missing = sum(g.missing for g in gaps_of(self.problem))
        return self._missing

    def delta(self, person_id: str, qual: str) -> Delta:
        """Exact change in findings if ``person_id`` (in this pool) gained ``qual``."""
        if not self.outcome.covered:
            return self._delta_uncovered(person_id, qual)
        old = self.mask_of.get(person_id, 0)
        key = (old, qual)
        if key not in self._by_type:
            self._by_type[key] = self._delta_covered(old, old | self.bit[qual])
        return self._by_type[key]

    def _delta_covered(self, old: int, new: int) -> Delta:
        counts = dict(self.counts)
        if old:
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
        counts[new] = counts.get(new, 0) + 1
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

    def _delta_uncovered(self, person_id: str, qual: str) -> Delta:
        pool = tuple(
            replace(m, qualifications=m.qualifications | {qual}) if m.person_id == person_id else m
            for m in self.problem.pool
        )
        granted = replace(self.problem, pool=pool)
        found = analyze_problem(granted, self.hall_max_quals)
        missing_after = 0 if found.covered else sum(g.missing for g in gaps_of(granted))
        return (0, 0, len(found.n1), len(found.n2), self.missing() - missing_after)


def _ordered(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


@dataclass(frozen=True)
class GrantEffect:
    """What granting ``qualification`` to ``person_id`` changes in one set of site-half-days.

    A grant's effect on the whole horizon is the sum of its effects on each site-half-day
    (each is re-analysed on its own), so effects of disjoint date chunks add up to the
    whole-horizon answer; ``rank_grants`` does that.

    Attributes:
        candidate: the grant is drawn from a finding here (its qualification goes short in a
            half-day with a gap or finding where the person is in the pool).
        delta: N-1 removed, N-2 removed, N-1 added, N-2 added, gap slots filled.
        half_days: where it changes findings or gaps, in time order.
    """

    person_id: str
    qualification: str
    candidate: bool
    delta: Delta
    half_days: tuple[HalfDayAtSite, ...]

    def to_json(self) -> list[Any]:
        """Compact: ``[person, qualification, candidate, *delta, [half-day at site, ...]]``."""
        return [
            self.person_id,
            self.qualification,
            self.candidate,
            *self.delta,
            [h.to_json() for h in self.half_days],
        ]

    @classmethod
    def from_json(cls, d: Sequence[Any]) -> GrantEffect:
        person_id, qual, candidate, a, b, c, e, f, where = d
        return cls(
            person_id,
            qual,
            bool(candidate),
            (a, b, c, e, f),
            tuple(HalfDayAtSite.from_json(h) for h in where),
        )


def grant_effects(
    problems: Sequence[SiteHalfDay],
    result: ContingencyResult,
    hall_max_quals: int = HALL_MAX_QUALS,
) -> tuple[GrantEffect, ...]:
    """The effect of every grant that is a candidate here or changes something here.

    Args:
        problems: site-half-days (e.g. one date chunk of the horizon).
        result: ``analyze_contingency(problems)``.
        hall_max_quals: see ``analyze_problem``.

    Returns:
        One effect per (person, qualification) that could matter, sorted by both; a grant
        that is a candidate only in another chunk still gets its effect here.
    """
    by_where = {HalfDayAtSite(p.halfday, p.site): p for p in problems}
    short: dict[HalfDayAtSite, set[str]] = {}
    for g in result.gaps:
        short.setdefault(HalfDayAtSite(g.halfday, g.site), set()).update(
            x.qualification for x in g.gaps
        )
    for _, e in [*result.n1_findings(), *result.n2_findings()]:
        short.setdefault(e.where, set()).update(e.qualifications)

    cache = MaskCache()
    hot = {w: _HalfDay(by_where[w], hall_max_quals, cache) for w in sorted(short)}
    # Where each person could use each qualification: in its pool, demanded, not yet held.
    reach: dict[tuple[str, str], list[HalfDayAtSite]] = {}
    candidates: set[tuple[str, str]] = set()
    for where, half_day in hot.items():
        for member in half_day.problem.pool:
            for q in half_day.shape.quals:
                if q not in member.qualifications:
                    reach.setdefault((member.person_id, q), []).append(where)
                    if q in short[where]:
                        candidates.add((member.person_id, q))

    effects: list[GrantEffect] = []
    for person_id, qual in sorted(reach):
        total = [0, 0, 0, 0, 0]
        changed: list[HalfDayAtSite] = []
        for where in reach[(person_id, qual)]:
            delta = hot[where].delta(person_id, qual)
            if any(delta):
                changed.append(where)
                total = [t + d for t, d in zip(total, delta, strict=True)]
        candidate = (person_id, qual) in candidates
        if candidate or changed:
            n1r, n2r, n1a, n2a, filled = total
            effects.append(
                GrantEffect(
                    person_id, qual, candidate, (n1r, n2r, n1a, n2a, filled), tuple(changed)
                )
            )
    return tuple(effects)


def rank_grants(
    parts: Sequence[Sequence[GrantEffect]], limit: int | None = 20
) -> tuple[CrossTrainingOption, ...]:
    """Add up the grant effects of disjoint parts (in time order) and rank the candidates.

    Returns:
        Options that are a candidate in some part and remove at least one finding or fill a
        gap slot in all, most removed first, then gaps before N-1, fewest findings added,
        person id, qualification.
    """
    totals: dict[tuple[str, str], list[int]] = {}
    where: dict[tuple[str, str], list[HalfDayAtSite]] = {}
    candidates: set[tuple[str, str]] = set()
    for part in parts:
        for e in part:
            key = (e.person_id, e.qualification)
            if e.candidate:
                candidates.add(key)
            total = totals.setdefault(key, [0, 0, 0, 0, 0])
            for i, d in enumerate(e.delta):
                total[i] += d
            where.setdefault(key, []).extend(e.half_days)
    options: list[CrossTrainingOption] = []
    for key in sorted(candidates):
        n1_removed, n2_removed, n1_added, n2_added, filled = totals[key]
        if n1_removed or n2_removed or filled:
            options.append(
                CrossTrainingOption(
                    key[0],
                    key[1],
                    n1_removed,
                    n2_removed,
                    n1_added,
                    n2_added,
                    filled,
                    tuple(where[key]),
                )
            )
    options.sort(key=CrossTrainingOption.sort_key)
    return tuple(options if limit is None else options[:limit])


def cross_training_candidates(
    problems: Sequence[SiteHalfDay],
    result: ContingencyResult,
    limit: int | None = 20,
    hall_max_quals: int = HALL_MAX_QUALS,
) -> tuple[CrossTrainingOption, ...]:
    """Rank (faculty, qualification) grants by the findings they remove.

    Candidates come from the findings: in each half-day with a gap, N-1 or N-2 finding, every
    pool member lacking a qualification that would go short there.

    Args:
        problems: the site-half-days ``result`` was computed from.
        result: ``analyze_contingency(problems)``.
        limit: how many options to return (None: all that remove something).
        hall_max_quals: see ``analyze_problem``.

    Returns:
        As ``rank_grants``.
    """
    return rank_grants([grant_effects(problems, result, hall_max_quals)], limit)
