"""A maximum matching of faculty *types* to qualification slots, and what it tells.

Members of one type (same demanded qualifications) are interchangeable, so a matching is kept
as counts: ``flow[t][q]`` members of type ``t`` fill slots of qualification ``q``, ``free[t]``
members of ``t`` fill none, ``unfilled[q]`` slots of ``q`` stay empty. Qualification sets are
bit masks over the shape's demanded qualifications.

**Which members every maximum matching uses** (Dulmage-Mendelsohn). Let the matching fill every
slot. A qualification is *reachable* when an even alternating path leads to it from a free
member: start at a member filling nothing, step to any qualification it holds (a slot of it),
step back to a member filling that qualification, step to any qualification *that* member
holds, and so on. On types: ``reach`` starts as the masks of types with a free member and grows
by the mask of every type filling a reachable qualification (``close``). Let ``C`` be the
qualifications never reached (``tight``). Then a member is matched in every maximum matching
(its loss uncovers the half-day: an N-1 failure) iff its mask meets ``C``:

- a type meeting ``C`` has no free member and fills only ``C`` (a type with a free member or
  filling a reachable qualification is reached, and adds its whole mask to the reach). So the
  members holding anything in ``C`` are exactly the members filling ``C``: their number is the
  demand of ``C``, Hall's surplus of ``C`` is 0 and losing any one of them uncovers ``C``;
- a member whose mask misses ``C`` is free or fills a reachable qualification ``q``; then the
  alternating path from a free member to ``q`` shifts every member on it one slot along and
  frees a slot of ``q`` that this member can leave: a maximum matching without it that fills
  every slot, so its loss uncovers nothing.

**Fatal pairs** follow from the same test once a member is gone: when ``a`` is not an N-1
failure, removing it (leaving its slot, if any, and refilling it by one augmenting path, which
exists because ``a``'s loss uncovers nothing) gives a matching of the pool without ``a`` that
fills every slot, and ``{a, b}`` is fatal iff ``b``'s mask meets that matching's ``C``.

**Which qualifications may go unfilled** after a loss that uncovers the half-day: the matching
minus the lost member leaves one slot of some ``q`` empty and is maximum (one loss removes at
most one slot from a maximum matching). A slot is empty in some maximum matching iff an even
alternating path leads to it from an empty slot: from a qualification to a member holding it,
then to the qualification that member fills (``up_reach``). A member met that way is never
free, or the path would augment.

Every search here is iterative, on types, with qualification sets as integers: an augmenting
path costs O(types x qualifications), ``tight`` the same.
"""

from __future__ import annotations

Pending = list[tuple[int, int]]
"""``(filled qualifications, mask)`` of the types that ``close`` has not reached yet."""


def close(reach: int, pending: Pending) -> int:
    """Grow ``reach`` by the masks of pending types filling something in it, to a fixpoint."""
    while pending:
        rest: Pending = []
        for filled, mask in pending:
            if filled & reach:
                reach |= mask
            else:
                rest.append((filled, mask))
        if len(rest) == len(pending):
            break
        pending = rest
    return reach


class TypeFlow:
    """A maximum matching of type members to qualification slots, kept as counts."""

    __slots__ = ("filled", "flow", "free", "full", "holders", "k", "masks", "unfilled")

    def __init__(self, demands: tuple[int, ...], types: tuple[tuple[int, int], ...]) -> None:
        k = len(demands)
        self.k = k
        self.full = (1 << k) - 1
        self.masks = [m for m, _ in types]
        self.holders = [[t for t, m in enumerate(self.masks) if m >> q & 1] for q in range(k)]
        self.free = [c for _, c in types]
        self.flow = [[0] * k for _ in types]
        self.filled = [0] * len(types)
        """Per type: the qualifications it fills (``flow[t][q] > 0``) as a mask."""
        self.unfilled = list(demands)
        for q in range(k):  # a greedy start, then augmenting paths fill the rest
            for t in self.holders[q]:
                take = min(self.unfilled[q], self.free[t])
                if take:
                    self.free[t] -= take
                    self.flow[t][q] += take
                    self.filled[t] |= 1 << q
                    self.unfilled[q] -= take
        for q in range(k):
            # A slot with no augmenting path now never gets one later (Berge), so one pass.
            while self.unfilled[q] and self.augment(q) is not None:
                self.unfilled[q] -= 1

    def deficit(self) -> int:
        return sum(self.unfilled)

    def _move(self, t: int, q: int, by: int) -> None:
        row = self.flow[t]
        row[q] += by
        if row[q]:
            self.filled[t] |= 1 << q
        else:
            self.filled[t] &= ~(1 << q)

    def augment(self, start: int) -> list[tuple[int, int, int]] | None:
        """Fill one more slot of ``start`` along an alternating path (breadth first).

        Returns:
            The changes made, ``(type, qualification, +1 or -1)`` with ``(type, -1, -1)`` for
            the free member used, for ``undo``; None when no path exists (nothing changed).
        """
        flow, free, k = self.flow, self.free, self.k
        fills = [-1] * len(self.masks)  # type -> the qualification it would move into
        vacated_by = [-1] * k  # qualification -> the type that would leave it
        seen = 1 << start
        frontier = [start]
        while frontier:
            nxt: list[int] = []
            for q in frontier:
                for t in self.holders[q]:
                    if fills[t] >= 0:
                        continue
                    fills[t] = q
                    if free[t]:
                        free[t] -= 1
                        changes = [(t, -1, -1)]
                        while True:
                            q_in = fills[t]
                            self._move(t, q_in, 1)
                            changes.append((t, q_in, 1))
                            if q_in == start:
                                return changes
                            t = vacated_by[q_in]
                            self._move(t, q_in, -1)
                            changes.append((t, q_in, -1))
                    row = flow[t]
                    for q2 in range(k):
                        if row[q2] and not seen >> q2 & 1:
                            seen |= 1 << q2
                            vacated_by[q2] = t
                            nxt.append(q2)
            frontier = nxt
        return None

    def undo(self, changes: list[tuple[int, int, int]]) -> None:
        for t, q, by in reversed(changes):
            if q < 0:
                self.free[t] -= by
            else:
                self._move(t, q, -by)

    def remove_one(self, t: int) -> list[tuple[int, int, int]] | None:
        """Take one member of type ``t`` out and refill its slot, if it had one.

        Returns:
            The changes, for ``undo``; None when its slot cannot be refilled (nothing changed).
        """
        if self.free[t]:
            self.free[t] -= 1
            return [(t, -1, -1)]
        q = (self.filled[t] & -self.filled[t]).bit_length() - 1
        self._move(t, q, -1)
        refill = self.augment(q)
        if refill is None:
            self._move(t, q, 1)
            return None
        return [(t, q, -1), *refill]

    def reachable(self) -> tuple[int, Pending]:
        """The reachable qualifications and the (filled, mask) of the types not reached."""
        reach = 0
        rest: Pending = []
        for free, filled, mask in zip(self.free, self.filled, self.masks, strict=True):
            if free:
                reach |= mask
            else:
                rest.append((filled, mask))
        reach = close(reach, rest)
        return reach, [(f, m) for f, m in rest if not f & reach]

    def tight(self) -> int:
        """``C``: the qualifications no even alternating path from a free member reaches."""
        reach = 0
        rest: Pending = []
        for free, filled, mask in zip(self.free, self.filled, self.masks, strict=True):
            if free:
                reach |= mask
            else:
                rest.append((filled, mask))
        return self.full & ~close(reach, rest)

    def up_reach(self, start: int) -> int:
        """Qualifications reached from ``start`` by holder, then the slot it fills, repeated."""
        reach = 1 << start
        stack = [start]
        while stack:
            q = stack.pop()
            for t in self.holders[q]:
                new = self.filled[t] & ~reach
                while new:
                    low = new & -new
                    reach |= low
                    stack.append(low.bit_length() - 1)
                    new ^= low
        return reach

    def slot_of(self, t: int) -> int:
        """A qualification a member of ``t`` fills (``t`` must fill one)."""
        return (self.filled[t] & -self.filled[t]).bit_length() - 1

    def moved(self, old: int | None, new_mask: int) -> tuple[TypeFlow, tuple[tuple[int, int], ...]]:
        """This matching with one member of type ``old`` (None: one holding nothing demanded)
        given the mask ``new_mask``, re-augmented: a maximum matching of the new shape.

        Returns:
            The new matching and the new shape's types.
        """
        counts: dict[int, int] = {}
        for t, mask in enumerate(self.masks):
            counts[mask] = self.free[t] + sum(self.flow[t])
        if old is not None:
            counts[self.masks[old]] -= 1
        counts[new_mask] = counts.get(new_mask, 0) + 1
        types = tuple(sorted((m, c) for m, c in counts.items() if c))
        out = TypeFlow.__new__(TypeFlow)
        out.k, out.full, out.unfilled = self.k, self.full, self.unfilled[:]
        out.masks = [m for m, _ in types]
        index = {m: i for i, m in enumerate(out.masks)}
        out.holders = [[t for t, m in enumerate(out.masks) if m >> q & 1] for q in range(self.k)]
        out.free = [0] * len(types)
        out.flow = [[0] * self.k for _ in types]
        out.filled = [0] * len(types)
        for t, mask in enumerate(self.masks):
            i = index.get(mask)
            if i is not None:
                out.free[i] = self.free[t]
                out.flow[i] = self.flow[t][:]
                out.filled[i] = self.filled[t]
        grantee = index[new_mask]
        if old is None:
            out.free[grantee] += 1
        else:
            was = index.get(self.masks[old])
            if self.free[old]:
                if was is not None:
                    out.free[was] -= 1
                out.free[grantee] += 1
            else:
                q = self.slot_of(old)
                if was is not None:
                    out._move(was, q, -1)
                out._move(grantee, q, 1)
        for q in range(self.k):
            while out.unfilled[q] and out.augment(q) is not None:
                out.unfilled[q] -= 1
        return out, types
