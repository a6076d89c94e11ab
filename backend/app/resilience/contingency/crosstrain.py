"""What-if: which (faculty, qualification) grants remove the most contingency findings.

Exact: on every site-half-day where a candidate can change anything, the findings (a person or
a pair, a half-day, a site) after the grant are read off that half-day's maximum matchings,
prepared once for all grants (``grant_delta``), and compared with those before.

Only half-days that already have a gap or a finding can change. A grant only adds members to
the neighbourhoods of qualification sets, so no Hall surplus falls. Without a gap or an N-1
failure no set has surplus 0; without a fatal pair no set of surplus 1 is met by two members;
after the grant a new fatal pair would need a set of surplus 1 met by two members, which
(surpluses having not fallen) it already had.

The comparison is done on types (see ``shape`` and ``grant_delta``): the grant
moves one member from type ``m`` to ``m | q``; everyone else keeps their type, so counting
changed findings and unfilled slots needs no enumeration of people or pairs.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.coverage import SiteHalfDay
from app.resilience.contingency.core import (
    ContingencyResult,
    HalfDayAtSite,
    MaskCache,
    problem_shape,
)
from app.resilience.contingency.findings import halfday_of
from app.resilience.contingency.grant_delta import Delta, GrantSite, shape_key


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
        return _rank_key(
            (self.person_id, self.qualification),
            (self.n1_removed, self.n2_removed, self.n1_added, self.n2_added,
             self.gap_slots_filled),
        )  # fmt: skip

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
        """Compact: ``[person, qualification, candidate, *delta, [[date, half, site], ...]]``."""
        return [
            self.person_id,
            self.qualification,
            self.candidate,
            *self.delta,
            [[h.halfday.date.isoformat(), h.halfday.half.value, h.site] for h in self.half_days],
        ]

    @classmethod
    def from_json(cls, d: Sequence[Any]) -> GrantEffect:
        person_id, qual, candidate, a, b, c, e, f, where = d
        return cls(
            person_id,
            qual,
            bool(candidate),
            (a, b, c, e, f),
            tuple(_at_site(h) for h in where),
        )


def _at_site(h: Any) -> HalfDayAtSite:
    """A ``GrantEffect.to_json`` half-day: ``[date, half, site]``, or the form before the short
    lists, ``HalfDayAtSite.to_json`` (a chunk of a worker of that version: rolling upgrade)."""
    if isinstance(h, dict):
        return HalfDayAtSite.from_json(h)
    return HalfDayAtSite(halfday_of(h[0], h[1]), h[2])


def grant_effects(
    problems: Sequence[SiteHalfDay],
    result: ContingencyResult,
    *,
    candidates_only: bool = False,
) -> tuple[GrantEffect, ...]:
    """The effect of every grant that is a candidate here or changes something here.

    Args:
        problems: site-half-days (e.g. one date chunk of the horizon).
        result: ``analyze_contingency(problems)``.
        candidates_only: only the candidates' effects; enough when ``problems`` are the whole
            horizon (``rank_grants`` ranks candidates only), not for one chunk of it.

    Returns:
        One effect per (person, qualification) that could matter, sorted by both; a grant
        that is a candidate only in another chunk still gets its effect here.
    """
    by_where = {HalfDayAtSite(p.halfday, p.site): p for p in problems}
    short = _short_qualifications(result)
    cache = MaskCache()
    totals: dict[tuple[str, str], list[int]] = {}
    changed: dict[tuple[str, str], list[HalfDayAtSite]] = {}
    candidates: set[tuple[str, str]] = set()
    sites: dict[tuple[object, ...], GrantSite] = {}  # one per shape: weeks repeat
    for where in sorted(short):  # in time order: each grant's half-days come out sorted
        problem = by_where[where]
        shape = problem_shape(problem, cache)
        key = shape_key(shape)
        site = sites.get(key) or sites.setdefault(key, GrantSite(shape))
        groups: list[tuple[int | None, list[str]]] = [
            (site.type_index[m], ids) for m, ids in shape.members_of.items()
        ]
        typed = site.member_types(shape)
        idle = [m.person_id for m in problem.pool if m.person_id not in typed]
        if idle:
            groups.append((None, idle))
        for t, ids in groups:
            held = 0 if t is None else site.masks[t]
            for i, qual in enumerate(site.quals):
                if held >> i & 1:
                    continue
                candidate = qual in short[where]
                delta = site.effect(t, qual)  # members of one type share it
                if not candidate and not any(delta):
                    continue
                for pid in ids:
                    key = (pid, qual)
                    if candidate:
                        candidates.add(key)
                    if any(delta):
                        total = totals.setdefault(key, [0, 0, 0, 0, 0])
                        for x, d in enumerate(delta):
                            total[x] += d
                        changed.setdefault(key, []).append(where)

    effects: list[GrantEffect] = []
    for key in sorted(candidates if candidates_only else candidates | totals.keys()):
        n1r, n2r, n1a, n2a, filled = totals.get(key, (0, 0, 0, 0, 0))
        effects.append(
            GrantEffect(
                key[0],
                key[1],
                key in candidates,
                (n1r, n2r, n1a, n2a, filled),
                tuple(changed.get(key, ())),
            )
        )
    return tuple(effects)


def _short_qualifications(result: ContingencyResult) -> dict[HalfDayAtSite, set[str]]:
    """Per site-half-day with a gap or finding, the qualifications that go short there."""
    short: dict[HalfDayAtSite, set[str]] = {}
    for g in result.gaps:
        short.setdefault(HalfDayAtSite(g.halfday, g.site), set()).update(
            x.qualification for x in g.gaps
        )
    seen: set[int] = set()  # exposures are shared by the findings of one type (or type pair)
    for _, e in [*result.n1_findings(), *result.n2_findings()]:
        if id(e) not in seen:
            seen.add(id(e))
            short.setdefault(e.where, set()).update(e.qualifications)
    return short


def rank_grants(
    parts: Sequence[Sequence[GrantEffect]], limit: int | None = 20
) -> tuple[CrossTrainingOption, ...]:
    """Add up the grant effects of disjoint parts (in time order) and rank the candidates.

    Returns:
        Options that are a candidate in some part and remove at least one finding or fill a
        gap slot in all, most removed first, then gaps before N-1, fewest findings added,
        person id, qualification.
    """
    effects = (
        (e.person_id, e.qualification, e.candidate, e.delta, e.half_days)
        for part in parts
        for e in part
    )
    return _rank(effects, limit, lambda found: tuple(h for where in found for h in where))


def rank_grant_json(
    parts: Sequence[Sequence[Sequence[Any]]], limit: int | None = 20
) -> tuple[CrossTrainingOption, ...]:
    """``rank_grants`` of the ``GrantEffect.from_json`` of each, building only the ranked
    options' half-days (a merge reads tens of thousands of effects and keeps a few)."""
    effects = (
        (person_id, qualification, bool(candidate), (a, b, c, d, e), where)
        for part in parts
        for person_id, qualification, candidate, a, b, c, d, e, where in part
    )
    return _rank(effects, limit, lambda found: tuple(_at_site(h) for w in found for h in w))


def _rank(
    effects: Iterable[tuple[str, str, bool, Sequence[int], Sequence[Any]]],
    limit: int | None,
    half_days: Callable[[list[Sequence[Any]]], tuple[HalfDayAtSite, ...]],
) -> tuple[CrossTrainingOption, ...]:
    """The ranking of ``rank_grants``; ``half_days`` turns an option's parts' half-days (in
    time order) into its own, for the options kept only."""
    totals: dict[tuple[str, str], list[int]] = {}
    where: dict[tuple[str, str], list[Sequence[Any]]] = {}
    candidates: set[tuple[str, str]] = set()
    for person_id, qualification, candidate, delta, part_where in effects:
        key = (person_id, qualification)
        if candidate:
            candidates.add(key)
        total = totals.get(key)
        if total is None:
            totals[key] = list(delta)
            where[key] = [part_where]
        else:
            a, b, c, d, e = delta
            total[0] += a
            total[1] += b
            total[2] += c
            total[3] += d
            total[4] += e
            where[key].append(part_where)
    # Ranked as plain tuples (``CrossTrainingOption.sort_key``, unique per grant); options are
    # made for the kept ones only.
    ranked = [
        _rank_key(key, totals[key])
        for key in candidates
        if totals[key][0] or totals[key][1] or totals[key][4]
    ]
    kept = sorted(ranked) if limit is None else heapq.nsmallest(limit, ranked)
    options = []
    for *_, person_id, qualification in kept:
        n1_removed, n2_removed, n1_added, n2_added, filled = totals[person_id, qualification]
        where_kept = half_days(where[person_id, qualification])
        options.append(
            CrossTrainingOption(
                person_id, qualification, n1_removed, n2_removed, n1_added, n2_added, filled,
                where_kept,
            )
        )  # fmt: skip
    return tuple(options)


def _rank_key(key: tuple[str, str], delta: Sequence[int]) -> tuple[int, int, int, int, str, str]:
    """The order of options: most findings removed (gap slots filled included), then most gap
    slots filled, most N-1 removed, fewest findings added, then person and qualification.
    ``delta``: N-1 removed, N-2 removed, N-1 added, N-2 added, gap slots filled."""
    n1_removed, n2_removed, n1_added, n2_added, filled = delta
    return (-(n1_removed + n2_removed + filled), -filled, -n1_removed, n1_added + n2_added, *key)


def cross_training_candidates(
    problems: Sequence[SiteHalfDay],
    result: ContingencyResult,
    limit: int | None = 20,
) -> tuple[CrossTrainingOption, ...]:
    """Rank (faculty, qualification) grants by the findings they remove.

    Candidates come from the findings: in each half-day with a gap, N-1 or N-2 finding, every
    pool member lacking a qualification that would go short there.

    Args:
        problems: the site-half-days ``result`` was computed from.
        result: ``analyze_contingency(problems)``.
        limit: how many options to return (None: all that remove something).

    Returns:
        As ``rank_grants``.
    """
    effects = grant_effects(problems, result, candidates_only=True)
    return rank_grants([effects], limit)
