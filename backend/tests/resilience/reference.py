"""Brute-force N-1 / N-2 reference: re-solve every removal from scratch.

Independent of the product's code path on purpose: each slot is its own vertex, the matching
is plain Kuhn's algorithm, and the definitions of RESILIENCE_MODEL.md section 3 are applied
literally (full pool, every single removal, every pair removal). Slow: O(pool^2) matchings per
site-half-day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from app.domain.coverage import SiteHalfDay

Where = tuple[object, str]  # (HalfDay, site)


def matching_size(problem: SiteHalfDay, removed: frozenset[str], less: str | None = None) -> int:
    """Size of a maximum matching of pool members to slots (``less``: one slot fewer of it)."""
    slots: list[str] = []
    for d in problem.demands:
        slots.extend([d.qualification] * d.demand)
    if less is not None:
        slots.remove(less)
    members = [m for m in problem.pool if m.person_id not in removed]
    owner: list[int] = [-1] * len(slots)  # slot -> member index

    def try_member(i: int, seen: list[bool]) -> bool:
        for s, qual in enumerate(slots):
            if seen[s] or qual not in members[i].qualifications:
                continue
            seen[s] = True
            if owner[s] == -1 or try_member(owner[s], seen):
                owner[s] = i
                return True
        return False

    return sum(try_member(i, [False] * len(slots)) for i in range(len(members)))


def slot_count(problem: SiteHalfDay) -> int:
    return sum(d.demand for d in problem.demands)


def short_qualifications(problem: SiteHalfDay, removed: frozenset[str]) -> tuple[str, ...]:
    """Qualifications one of whose slots some maximum matching after ``removed`` leaves empty."""
    size = matching_size(problem, removed)
    quals = sorted({d.qualification for d in problem.demands})
    return tuple(q for q in quals if matching_size(problem, removed, less=q) == size)


@dataclass
class ReferenceResult:
    missing: dict[Where, int] = field(default_factory=dict)
    n1: dict[tuple[str, Where], tuple[str, ...]] = field(default_factory=dict)
    n2: dict[tuple[tuple[str, str], Where], tuple[str, ...]] = field(default_factory=dict)

    @property
    def n1_pass(self) -> bool:
        return not self.missing and not self.n1

    @property
    def n2_pass(self) -> bool:
        return self.n1_pass and not self.n2


def reference_analysis(
    problems: Sequence[SiteHalfDay], with_qualifications: bool = True
) -> ReferenceResult:
    """Gaps (missing slots), N-1 and N-2 findings with their short qualifications."""
    out = ReferenceResult()
    for p in problems:
        where: Where = (p.halfday, p.site)
        total = slot_count(p)
        missing = total - matching_size(p, frozenset())
        if missing:
            out.missing[where] = missing
            continue
        ids = [m.person_id for m in p.pool]
        alone_fails = set()
        for f in ids:
            if matching_size(p, frozenset({f})) < total:
                alone_fails.add(f)
                quals = short_qualifications(p, frozenset({f})) if with_qualifications else ()
                out.n1[(f, where)] = quals
        for f, g in combinations(sorted(ids), 2):
            if f in alone_fails or g in alone_fails:
                continue
            if matching_size(p, frozenset({f, g})) < total:
                quals = short_qualifications(p, frozenset({f, g})) if with_qualifications else ()
                out.n2[((f, g), where)] = quals
    return out
