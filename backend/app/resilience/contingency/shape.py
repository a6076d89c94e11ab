"""Exact N-1 / N-2 analysis of one coverage *shape* (RESILIENCE_MODEL.md section 3).

A site-half-day reduces to a shape: the demand of each demanded qualification (bit ``q`` of a
mask stands for the ``q``-th qualification) and the faculty *types*: ``(mask, count)`` pairs,
where ``mask`` is the set of demanded qualifications a member holds. Members of one type are
interchangeable, so a type is tested once for N-1 and once per type pair for N-2.

Hall's theorem makes the test exact. For a set ``S`` of demanded qualifications let
``surplus(S) = |members holding something in S| - demand(S)``. The half-day is covered iff
every surplus is >= 0. Removing a member of mask ``m`` lowers ``surplus(S)`` by one exactly for
the sets ``S`` that ``m`` meets, so:

- a member is an N-1 failure iff ``m`` meets a *tight* set (surplus 0), i.e. meets their union;
- two members that are not N-1 failures are a fatal pair iff both meet one set of surplus 1;
- the qualifications that may go unfilled after the loss (a slot some maximum matching leaves
  empty) are those in every set the loss drives below zero, i.e. the intersection of the
  tight (resp. surplus-1) sets the lost members meet.

With up to ``HALL_MAX_QUALS`` demanded qualifications per connected component the 2^k subset
sums are enumerated. Above that (widely cross-trained faculty) ``findings`` works from one
maximum matching instead (``typeflow``: Dulmage-Mendelsohn reachability for N-1, one
re-augmentation per type for N-2), whose cost grows with types^2 x qualifications, not 2^k.
On the demo programs the enumeration is the faster of the two for small components
(``bench_contingency_core``), and both are exact. Qualifications split into connected
components (no member bridges them) are analysed apart, which keeps k small and lets the memo
(keyed by the component's shape) hit often.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

from app.resilience.contingency.typeflow import TypeFlow

HALL_MAX_QUALS = 10
"""Largest component (in demanded qualifications) analysed by subset enumeration."""

Types = tuple[tuple[int, int], ...]
"""Faculty types ``(mask, count)``: distinct non-zero masks, sorted by mask, counts >= 1."""


@dataclass(frozen=True)
class ShapeOutcome:
    """What losses break a shape, in terms of type masks and qualification masks.

    Attributes:
        covered: every slot can be filled with the whole pool.
        n1: ``(mask, unfilled)`` for each type whose single loss uncovers the shape, with the
            mask of qualifications one of whose slots may then go unfilled.
        n2: ``(mask_a, mask_b, unfilled)`` with ``mask_a <= mask_b`` for each fatal type pair
            (``mask_a == mask_b``: two members of the same type).
    """

    covered: bool
    n1: tuple[tuple[int, int], ...] = ()
    n2: tuple[tuple[int, int, int], ...] = ()


@lru_cache(maxsize=65536)
def analyse_shape(
    demands: tuple[int, ...], types: Types, hall_max_quals: int = HALL_MAX_QUALS
) -> ShapeOutcome:
    """Exact coverage, N-1 failures and fatal pairs of one shape.

    Args:
        demands: slots per demanded qualification (all > 0); bit ``q`` is ``demands[q]``.
        types: faculty types over those bits (see ``Types``).
        hall_max_quals: component size above which the matching method is used.

    Returns:
        The shape's outcome with masks over the same bits as the input.
    """
    if len(demands) == 1:  # the common single-qualification half-day, without the machinery
        return _single(demands[0], types)
    components = _components(len(demands), types)
    if len(components) == 1:
        return _analyse_component(demands, types, hall_max_quals)
    covered = True
    n1: list[tuple[int, int]] = []
    n2: list[tuple[int, int, int]] = []
    for bits in components:
        local_demands = tuple(demands[b] for b in bits)
        # Each type's mask lies inside exactly one component.
        local_types = tuple(sorted((_pack(m, bits), c) for m, c in types if _pack(m, bits)))
        part = _analyse_component(local_demands, local_types, hall_max_quals)
        covered = covered and part.covered
        n1.extend((_unpack(m, bits), _unpack(u, bits)) for m, u in part.n1)
        n2.extend((_unpack(a, bits), _unpack(b, bits), _unpack(u, bits)) for a, b, u in part.n2)
    if not covered:
        return ShapeOutcome(False)
    # A pair split across components never fails together unless one of them fails alone.
    return ShapeOutcome(True, tuple(sorted(n1)), tuple(sorted(n2)))


def _single(demand: int, types: Types) -> ShapeOutcome:
    holders = types[0][1] if types else 0  # with one qualification the only mask is 1
    surplus = holders - demand
    if surplus < 0:
        return ShapeOutcome(False)
    if surplus == 0:
        return ShapeOutcome(True, n1=((1, 1),))
    if surplus == 1 and holders >= 2:
        return ShapeOutcome(True, n2=((1, 1, 1),))
    return ShapeOutcome(True)


def component_masks(k: int, masks: Iterable[int]) -> list[int]:
    """The ``k`` demanded qualifications grouped by the member masks that bridge them, as bit
    masks (connected components; qualifications no mask holds stand alone)."""
    groups: list[int] = [1 << b for b in range(k)]
    for mask in masks:
        merged = mask
        rest = []
        for g in groups:
            if g & mask:
                merged |= g
            else:
                rest.append(g)
        groups = [*rest, merged]
    return groups


def _components(k: int, types: Types) -> list[list[int]]:
    """Bits grouped by the members that bridge them, each list ascending."""
    groups = component_masks(k, (mask for mask, _ in types))
    return sorted([b for b in range(k) if g >> b & 1] for g in groups)


def _pack(mask: int, bits: list[int]) -> int:
    return sum(1 << i for i, b in enumerate(bits) if mask >> b & 1)


def _unpack(local: int, bits: list[int]) -> int:
    return sum(1 << b for i, b in enumerate(bits) if local >> i & 1)


@lru_cache(maxsize=65536)
def _analyse_component(demands: tuple[int, ...], types: Types, hall_max_quals: int) -> ShapeOutcome:
    if len(demands) <= hall_max_quals:
        return _by_hall(demands, types)
    return _by_matching(demands, types)


def _by_hall(demands: tuple[int, ...], types: Types) -> ShapeOutcome:
    k = len(demands)
    size = 1 << k
    full = size - 1
    # within[t]: members whose mask lies inside t (zeta transform over subsets).
    within = [0] * size
    for mask, count in types:
        within[mask] += count
    for bit, holding in _subsets_with_bit(k):
        for t in holding:
            within[t] += within[t ^ bit]
    members = within[full]
    demand_of = [0] * size
    for s, rest, b in _lowest_bit(k):
        demand_of[s] = demand_of[rest] + demands[b]
    surplus = [members - within[full ^ s] - demand_of[s] for s in range(size)]
    if min(surplus[1:], default=0) < 0:
        return ShapeOutcome(False)
    tight = [s for s in range(1, size) if surplus[s] == 0]
    near = [s for s in range(1, size) if surplus[s] == 1]

    n1: list[tuple[int, int]] = []
    safe: list[tuple[int, int]] = []
    for mask, count in types:
        met = [s for s in tight if s & mask]
        if met:
            n1.append((mask, _intersection(met)))
        else:
            safe.append((mask, count))
    if not near:
        return ShapeOutcome(True, tuple(n1))
    hits = [sum(1 << i for i, s in enumerate(near) if s & mask) for mask, _ in safe]
    n2: list[tuple[int, int, int]] = []
    for i, (mask_a, count_a) in enumerate(safe):
        if not hits[i]:
            continue
        for j in range(i, len(safe)):
            common = hits[i] & hits[j]
            if common and (j != i or count_a >= 2):
                met = [near[x] for x in range(len(near)) if common >> x & 1]
                n2.append((mask_a, safe[j][0], _intersection(met)))
    return ShapeOutcome(True, tuple(n1), tuple(n2))


@cache
def _subsets_with_bit(k: int) -> tuple[tuple[int, tuple[int, ...]], ...]:
    """Per bit of ``k``: the bit and the subsets of ``range(k)`` holding it."""
    return tuple((1 << b, tuple(t for t in range(1 << k) if t >> b & 1)) for b in range(k))


@cache
def _lowest_bit(k: int) -> tuple[tuple[int, int, int], ...]:
    """Per non-empty subset ``s`` of ``range(k)``: ``s`` without its lowest bit, and that bit."""
    return tuple((s, s & (s - 1), (s & -s).bit_length() - 1) for s in range(1, 1 << k))


def _intersection(masks: list[int]) -> int:
    out = masks[0]
    for m in masks[1:]:
        out &= m
    return out


def _by_matching(demands: tuple[int, ...], types: Types) -> ShapeOutcome:
    """One maximum matching, then one re-augmentation per member that is not an N-1 failure."""
    return findings(TypeFlow(demands, types))


def findings(flow: TypeFlow) -> ShapeOutcome:
    """N-1 failures and fatal pairs from a maximum matching (see ``typeflow``).

    Costs one ``tight`` for the N-1 failures, then per type that is not one an augmenting path
    and a ``tight``: O(types^2 x qualifications), whatever the number of linked qualifications.
    The matching is left as it was given.
    """
    if flow.deficit():
        return ShapeOutcome(False)
    masks = flow.masks
    tight = flow.tight()
    n1: list[tuple[int, int]] = []
    safe: list[int] = []
    unfilled: dict[int, int] = {}  # the slot left -> what may go unfilled (one matching)
    for t, mask in enumerate(masks):
        if mask & tight:
            q = flow.slot_of(t)
            if q not in unfilled:
                unfilled[q] = flow.up_reach(q)
            n1.append((mask, unfilled[q]))
        else:
            safe.append(t)
    n2: list[tuple[int, int, int]] = []
    for x, a in enumerate(safe):
        changes = flow.remove_one(a)
        assert changes is not None  # a is not an N-1 failure
        tight_a = flow.tight()
        if tight_a:
            unfilled.clear()
            for b in safe[x:]:
                # b == a: another member of a's type, if one is left.
                if masks[b] & tight_a and (b != a or flow.free[a] or flow.filled[a]):
                    q = flow.slot_of(b)
                    if q not in unfilled:
                        unfilled[q] = flow.up_reach(q)
                    n2.append((masks[a], masks[b], unfilled[q]))
        flow.undo(changes)
    return ShapeOutcome(True, tuple(n1), tuple(n2))
