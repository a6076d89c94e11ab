"""Filling one site-half-day's slots in sacrifice order (RESILIENCE_MODEL.md section 2).

Pool members fill slots (one each) of the activities whose qualification they hold; slots are
added most protected activity first, each by an augmenting path, so the slots left empty (the
gaps, ``coverage.gaps_of``) are the least protected ones.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.domain.coverage import SiteHalfDay


def fill_in_sacrifice_order(
    problem: SiteHalfDay, exclude: frozenset[str] = frozenset()
) -> dict[str, str]:
    """A maximum matching of pool members to slots, filled in sacrifice order.

    Activities are taken most protected first (category protection, then activity id); each
    of an activity's slots is added by an augmenting path from that slot, so slots filled
    earlier stay filled. The sets of slots that can be filled together form a (transversal)
    matroid, so this greedy order still fills a maximum number of slots; it only decides
    which slots stay empty: the least protected ones, whatever the qualification ids are
    called (RESILIENCE_MODEL.md section 2).

    Args:
        problem: the half-day at a site.
        exclude: person ids taken out of the pool (a loss to test).

    Returns:
        person id -> activity id of the slot it fills, for every matched pool member.
    """
    return _fill(problem, exclude, free_first=False)


def filled_slots(problem: SiteHalfDay, exclude: frozenset[str] = frozenset()) -> dict[str, int]:
    """Slots filled per activity, as many as ``fill_in_sacrifice_order`` fills in each.

    Whether a slot is added depends only on whether some augmenting path exists (the
    matroid), not on which one is taken, so this takes a free holder first when there is one:
    who fills what may differ, the counts do not.
    """
    filled: dict[str, int] = defaultdict(int)
    for act in _fill(problem, exclude, free_first=True).values():
        filled[act] += 1
    return filled


def _fill(problem: SiteHalfDay, exclude: frozenset[str], *, free_first: bool) -> dict[str, str]:
    holders: dict[str, list[str]] = defaultdict(list)
    for m in problem.pool:
        if m.person_id not in exclude:
            for q in m.qualifications:
                holders[q].append(m.person_id)
    for people in holders.values():
        people.sort()  # deterministic, whatever the order of a frozenset
    qualification = {d.activity_id: d.qualification for d in problem.demands}
    filling: dict[str, str] = {}  # person -> activity
    unscanned = dict.fromkeys(holders, 0)  # holders[q][:i] are all matched (they stay so)

    def augment(activity: str, seen: set[str]) -> bool:
        # An alternating path: a member qualified for ``activity`` who is free, or whose own
        # slot can move to another member.
        people = holders.get(qualification[activity], ())
        if free_first and people:
            q, i = qualification[activity], unscanned[qualification[activity]]
            while i < len(people) and people[i] in filling:
                i += 1
            unscanned[q] = i
            if i < len(people):
                filling[people[i]] = activity
                return True
        for person in people:
            if person in seen:
                continue
            seen.add(person)
            current = filling.get(person)
            if current is None or augment(current, seen):
                filling[person] = activity
                return True
        return False

    # No path for a slot now means none later for any slot of that qualification (same
    # holders; the matched set only grows), so the rest of it is skipped.
    failed: set[str] = set()
    for d in sorted(problem.demands, key=lambda d: (d.category.protection, d.activity_id)):
        if d.qualification in failed:
            continue
        for _ in range(d.demand):
            if not augment(d.activity_id, set()):
                failed.add(d.qualification)
                break
    return filling
