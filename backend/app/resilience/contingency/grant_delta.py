"""One site-half-day with a gap or finding, and the exact effect of a grant there.

Used by ``crosstrain``. A grant gives qualification ``q`` to one pool member ``g`` of type
``m`` (``None``: holding nothing demanded). Everything is read off one maximum matching of the
half-day and, per type ``a`` that is not an N-1 failure, one matching without a member of ``a``
(see ``typeflow``: ``C`` is the set of qualifications no even alternating path from a free
member reaches; a member is an N-1 failure iff its mask meets ``C``; ``{a, b}`` is fatal iff
``b`` meets ``C_a``, the ``C`` of the half-day without ``a``).

A grant only adds an edge, so no matching stops being one, and it changes a ``C`` only through
the grantee: if the grantee is reached (its mask misses ``C``) and ``q`` is in ``C``, the
grantee now holds ``q`` and ``C`` loses what alternating paths reach from ``q``:
``C' = complement(close(reach | q))``; otherwise ``C' = C`` (an unreached grantee stays
unreached). The same holds for each ``C_a``. Then, after the grant:

- a member of type ``t`` is an N-1 failure iff ``t`` meets ``C'`` (the grantee: iff ``m | q``
  does);
- ``{x, y}`` (types ``a``, ``b``, neither an N-1 failure after) is fatal iff ``b`` meets
  ``C'_a`` when ``a`` was no N-1 failure before (or ``a`` meets ``C'_b``); if both were N-1
  failures before, the grant raised ``C``'s Hall surplus from 0 to 1 and both meet ``C``, so
  losing both uncovers it: fatal;
- pairs with the grantee: the half-day without the grantee is the half-day without a member
  of ``m`` before the grant, so ``{g, y}`` is fatal iff ``y`` meets ``C_m`` (``C`` if ``m`` is
  None).

Only types whose status or ``C_a`` changes are paired again: O(types) per grant plus
O(changed x types). On a half-day with unfilled slots a grant fills one iff ``q`` is a
qualification some maximum matching leaves short and the grantee can be freed (its type is
reached from a free member): no augmenting search per grant; a grant that covers the half-day
is analysed from the matching, re-augmented once.
"""

from __future__ import annotations

from app.resilience.contingency.core import ProblemShape
from app.resilience.contingency.shape import findings
from app.resilience.contingency.typeflow import Pending, TypeFlow, close

Delta = tuple[int, int, int, int, int]
"""N-1 removed, N-2 removed, N-1 added, N-2 added, gap slots filled."""

NOTHING: Delta = (0, 0, 0, 0, 0)


def shape_key(shape: ProblemShape) -> tuple[object, ...]:
    """What a ``GrantSite`` depends on: every site-half-day with this key shares one."""
    return shape.quals, shape.demands, shape.types


class GrantSite:
    """A shape of site-half-day with a gap or finding, prepared for many grants.

    Everything here depends on the shape only (``shape_key``), not on who the members are:
    the site-half-days of one shape (a weekly pattern repeats through the year) share one,
    and each effect is computed once (``effect``). ``type_index`` maps a member's mask, a key
    of its site-half-day's ``members_of``, to its type.
    """

    def __init__(self, shape: ProblemShape) -> None:
        self.quals = shape.quals
        self.bit = {q: 1 << i for i, q in enumerate(shape.quals)}
        self.masks = [m for m, _ in shape.types]
        self.counts = [c for _, c in shape.types]
        self.type_index = {m: t for t, m in enumerate(self.masks)}
        self._effects: dict[tuple[int | None, str], Delta] = {}
        self.flow = TypeFlow(shape.demands, shape.types)
        self.reach, self.pending = self.flow.reachable()
        self.tight = self.flow.full & ~self.reach
        self.critical = [bool(m & self.tight) for m in self.masks]
        # Per type a that is not an N-1 failure: the reach and unreached types without one a.
        self.near: dict[int, tuple[int, Pending]] = {}
        self.near_tight: dict[int, int] = {}
        self.deficit = self.flow.deficit()
        if self.deficit:
            self.short = 0  # qualifications some maximum matching leaves a slot of empty
            for q, missing in enumerate(self.flow.unfilled):
                if missing:
                    self.short |= self.flow.up_reach(q)
            return
        for a, crit in enumerate(self.critical):
            if not crit:
                changes = self.flow.remove_one(a)
                assert changes is not None
                self.near[a] = self.flow.reachable()
                self.near_tight[a] = self.flow.full & ~self.near[a][0]
                self.flow.undo(changes)
        self.touchable = self.tight
        self.near_with: dict[int, list[int]] = {}  # qualification bit -> types a whose C_a has it
        for a, tight_a in self.near_tight.items():
            self.touchable |= tight_a
            while tight_a:
                low = tight_a & -tight_a
                self.near_with.setdefault(low, []).append(a)
                tight_a ^= low

    def member_types(self, shape: ProblemShape) -> dict[str, int]:
        """The type of each member of a site-half-day of this shape (``members_of``)."""
        return {pid: self.type_index[m] for m, ids in shape.members_of.items() for pid in ids}

    def effect(self, m: int | None, qual: str) -> Delta:
        """Exact change in findings if one member of type ``m`` (None: a pool member holding
        nothing demanded here) gained ``qual`` (demanded here, not held)."""
        known = self._effects.get((m, qual))
        if known is None:
            q = self.bit[qual]
            known = self._covered(m, q) if not self.deficit else self._uncovered(m, q)
            self._effects[m, qual] = known
        return known

    def _covered(self, m: int | None, q: int) -> Delta:
        if not q & self.touchable:
            return NOTHING  # q is in no set of Hall surplus 0 or 1: nothing can change
        masks, critical, full = self.masks, self.critical, self.flow.full
        grantee_mask = 0 if m is None else masks[m]
        tight_after = self.tight
        if q & self.tight and not grantee_mask & self.tight:
            tight_after = full & ~close(self.reach | q, self.pending)
        near_changed: dict[int, int] = {}
        for a in self.near_with.get(q, ()):
            if not grantee_mask & self.near_tight[a]:
                reach_a, pending_a = self.near[a]
                tight_a = full & ~close(reach_a | q, pending_a)
                if tight_a != self.near_tight[a]:
                    near_changed[a] = tight_a
        if tight_after == self.tight and not near_changed:
            return NOTHING  # no N-1 status and no C_a changes, so no pair does either
        near_after = {**self.near_tight, **near_changed}
        critical_after = [bool(mask & tight_after) for mask in masks]
        others = self.counts[:]
        if m is not None:
            others[m] -= 1

        n1_removed = n1_added = n2_removed = n2_added = 0
        for t, before in enumerate(critical):
            if before != critical_after[t]:
                if before:
                    n1_removed += others[t]
                else:
                    n1_added += others[t]
        grantee_before = m is not None and critical[m]
        grantee_after = bool((grantee_mask | q) & tight_after)
        n1_removed += grantee_before and not grantee_after
        n1_added += grantee_after and not grantee_before

        def fatal_before(a: int, b: int) -> bool:
            return not critical[a] and not critical[b] and bool(masks[b] & self.near_tight[a])

        def fatal_after(a: int, b: int) -> bool:
            if critical_after[a] or critical_after[b]:
                return False
            if not critical[a]:
                return bool(masks[b] & near_after[a])
            if not critical[b]:
                return bool(masks[a] & near_after[b])
            return True  # both held up C alone; C now has surplus 1 and both meet it

        changed = [
            t
            for t, before in enumerate(critical)
            if before != critical_after[t] or (not before and near_after[t] != self.near_tight[t])
        ]
        is_changed = set(changed)
        for a in changed:
            for b in range(len(masks)):
                if b in is_changed and b < a:
                    continue  # counted from b
                pairs = others[a] * (others[a] - 1) // 2 if a == b else others[a] * others[b]
                if pairs and fatal_before(a, b) != fatal_after(a, b):
                    if fatal_before(a, b):
                        n2_removed += pairs
                    else:
                        n2_added += pairs
        # Pairs with the grantee: the half-day without it is the one without a member of m.
        without_grantee = self.tight if m is None else self.near_tight.get(m, 0)
        for b, mask in enumerate(masks):
            if not others[b]:
                continue
            before = not grantee_before and not critical[b] and bool(mask & without_grantee)
            before = before and m is not None
            after = not grantee_after and not critical_after[b] and bool(mask & without_grantee)
            if before != after:
                if before:
                    n2_removed += others[b]
                else:
                    n2_added += others[b]
        return (n1_removed, n2_removed, n1_added, n2_added, 0)

    def _uncovered(self, m: int | None, q: int) -> Delta:
        # An augmenting path must use the new edge: reach q from an empty slot, then free the
        # grantee (a free member, or one filling a slot that an alternating path can refill).
        if not q & self.short:
            return NOTHING
        if m is not None and self.critical[m]:
            return NOTHING  # its type is not reached from a free member
        if self.deficit > 1:
            return (0, 0, 0, 0, 1)
        flow, types = self.flow.moved(m, q | (0 if m is None else self.masks[m]))
        after = findings(flow)
        counts = dict(types)
        n1_added = sum(counts[mask] for mask, _ in after.n1)
        n2_added = sum(
            counts[a] * (counts[a] - 1) // 2 if a == b else counts[a] * counts[b]
            for a, b, _ in after.n2
        )
        return (0, 0, n1_added, n2_added, 1)
