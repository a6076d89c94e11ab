"""Brute-force N-1 / N-2 references: re-solve every removal from scratch.

Independent of the product's code path on purpose: each slot is its own vertex, the matching
is plain Kuhn's algorithm (iterative), and the definitions of RESILIENCE_MODEL.md section 3 are
applied literally (full pool, every single removal, every pair removal). Slow: O(pool^2)
matchings per site-half-day.

``pruned_reference_analysis`` gives the same answers with the obvious pruning a brute force
would use (the benchmarks' baseline): a member left unmatched by one maximum matching ``M`` of
the whole pool is no N-1 failure (``M`` survives its loss), and two members both unmatched by
``M`` are no fatal pair (``M`` survives losing both); every other removal is re-solved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations

from app.domain.coverage import SiteHalfDay

Where = tuple[object, str]  # (HalfDay, site)


def max_matching(
    problem: SiteHalfDay, removed: frozenset[str], less: str | None = None
) -> dict[str, int]:
    """A maximum matching of pool members to slots (``less``: one slot fewer of it).

    Returns:
        person id -> slot index, for every matched member.
    """
    slots: list[str] = []
    for d in problem.demands:
        slots.extend([d.qualification] * d.demand)
    if less is not None:
        slots.remove(less)
    members = [m for m in problem.pool if m.person_id not in removed]
    options = [[s for s, q in enumerate(slots) if q in m.qualifications] for m in members]
    owner: list[int] = [-1] * len(slots)  # slot -> member index
    for i in range(len(members)):
        # Kuhn's depth-first search for an augmenting path from member i, with an explicit stack.
        seen = [False] * len(slots)
        stack: list[tuple[int, int]] = [(i, 0)]  # (member, next option to try)
        path: list[int] = []  # the slot taken at each level
        while stack:
            member, at = stack[-1]
            choices = options[member]
            while at < len(choices) and seen[choices[at]]:
                at += 1
            if at == len(choices):
                stack.pop()
                if path:
                    path.pop()
                continue
            slot = choices[at]
            stack[-1] = (member, at + 1)
            seen[slot] = True
            path.append(slot)
            if owner[slot] == -1:
                for (m, _), s in zip(stack, path, strict=True):
                    owner[s] = m
                break
            stack.append((owner[slot], 0))
    return {members[i].person_id: s for s, i in enumerate(owner) if i != -1}


def matching_size(problem: SiteHalfDay, removed: frozenset[str], less: str | None = None) -> int:
    return len(max_matching(problem, removed, less))


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
    return _analysis(problems, with_qualifications, pruned=False)


def pruned_reference_analysis(
    problems: Sequence[SiteHalfDay], with_qualifications: bool = True
) -> ReferenceResult:
    """As ``reference_analysis``, skipping the removals one maximum matching survives."""
    return _analysis(problems, with_qualifications, pruned=True)


def _analysis(
    problems: Sequence[SiteHalfDay], with_qualifications: bool, pruned: bool
) -> ReferenceResult:
    out = ReferenceResult()
    for p in problems:
        where: Where = (p.halfday, p.site)
        total = slot_count(p)
        whole = max_matching(p, frozenset())
        missing = total - len(whole)
        if missing:
            out.missing[where] = missing
            continue
        ids = [m.person_id for m in p.pool]
        spare = {f for f in ids if f not in whole} if pruned else set()
        alone_fails = set()
        for f in ids:
            if f not in spare and matching_size(p, frozenset({f})) < total:
                alone_fails.add(f)
                quals = short_qualifications(p, frozenset({f})) if with_qualifications else ()
                out.n1[(f, where)] = quals
        for f, g in combinations(sorted(ids), 2):
            if f in alone_fails or g in alone_fails or (f in spare and g in spare):
                continue
            if matching_size(p, frozenset({f, g})) < total:
                quals = short_qualifications(p, frozenset({f, g})) if with_qualifications else ()
                out.n2[((f, g), where)] = quals
    return out


def warm_reference_analysis(problems: Sequence[SiteHalfDay]) -> ReferenceResult:
    """As ``pruned_reference_analysis``, each removal re-solved from one maximum matching.

    Fast enough for wide half-days (60+ members): after a removal the matching of the whole
    pool, less the lost members, is completed by augmenting paths from each empty slot (Kuhn
    from the slot side: by Berge's theorem the result is maximum). Slot-level, no types.
    """
    out = ReferenceResult()
    for p in problems:
        where: Where = (p.halfday, p.site)
        warm = _WarmMatcher(p)
        missing = len(warm.slots) - warm.size
        if missing:
            out.missing[where] = missing
            continue
        ids = [m.person_id for m in p.pool]
        spare = {i for i, s in enumerate(warm.slot_of) if s < 0}
        alone_fails = set()
        for i, f in enumerate(ids):
            if i not in spare and warm.resolve({i}) < len(warm.slots):
                alone_fails.add(i)
                out.n1[(f, where)] = warm.short({i})
        order = sorted(range(len(ids)), key=lambda i: ids[i])
        for i, j in combinations(order, 2):
            if i in alone_fails or j in alone_fails or (i in spare and j in spare):
                continue
            if warm.resolve({i, j}) < len(warm.slots):
                out.n2[((ids[i], ids[j]), where)] = warm.short({i, j})
    return out


class _WarmMatcher:
    """One maximum matching of a site-half-day's members to its slots, re-solved per removal."""

    def __init__(self, problem: SiteHalfDay) -> None:
        self.slots: list[str] = []
        for d in problem.demands:
            self.slots.extend([d.qualification] * d.demand)
        self.holders = [
            [i for i, m in enumerate(problem.pool) if q in m.qualifications] for q in self.slots
        ]
        self.owner = [-1] * len(self.slots)
        self.slot_of = [-1] * len(problem.pool)
        self.size = self._complete(self.owner, self.slot_of, set())

    def _complete(self, owner: list[int], slot_of: list[int], gone: set[int]) -> int:
        """Augment from every empty slot once; return the matching's size."""
        for s in range(len(owner)):
            if owner[s] == -1 and s not in gone:
                self._augment(s, owner, slot_of)
        return sum(1 for s, i in enumerate(owner) if i >= 0 and s not in gone)

    def _augment(self, start: int, owner: list[int], slot_of: list[int]) -> bool:
        """Depth first from an empty slot to a free member; flip the path if found."""
        seen: set[int] = set()
        stack: list[tuple[int, int]] = [(start, 0)]  # (slot, next holder to try)
        path: list[int] = []  # the member taken at each level
        while stack:
            slot, at = stack[-1]
            holders = self.holders[slot]
            while at < len(holders) and (holders[at] in seen or slot_of[holders[at]] == -2):
                at += 1
            if at == len(holders):
                stack.pop()
                if path:
                    path.pop()
                continue
            member = holders[at]
            stack[-1] = (slot, at + 1)
            seen.add(member)
            path.append(member)
            if slot_of[member] == -1:
                for (s, _), m in zip(stack, path, strict=True):
                    owner[s] = m
                    slot_of[m] = s
                return True
            stack.append((slot_of[member], 0))
        return False

    def _without(self, removed: set[int]) -> tuple[list[int], list[int]]:
        owner, slot_of = self.owner[:], self.slot_of[:]
        for i in removed:
            if slot_of[i] >= 0:
                owner[slot_of[i]] = -1
            slot_of[i] = -2  # gone
        return owner, slot_of

    def resolve(self, removed: set[int]) -> int:
        owner, slot_of = self._without(removed)
        return self._complete(owner, slot_of, set())

    def short(self, removed: set[int]) -> tuple[str, ...]:
        """Qualifications one of whose slots some maximum matching after ``removed`` leaves
        empty: those whose dropping one slot leaves the maximum matching's size unchanged."""
        owner, slot_of = self._without(removed)
        size = self._complete(owner, slot_of, set())
        out = []
        for q in sorted(set(self.slots)):
            empty = [s for s, qs in enumerate(self.slots) if qs == q and owner[s] == -1]
            drop = empty[0] if empty else self.slots.index(q)
            o, so = owner[:], slot_of[:]
            if o[drop] >= 0:
                so[o[drop]] = -1
                o[drop] = -1
            if self._complete(o, so, {drop}) == size:
                out.append(q)
        return tuple(out)
