"""N-1 / N-2 contingency analysis of a schedule's half-days (RESILIENCE_MODEL.md section 3).

Pure and exact: the answers equal re-solving the coverage matching for every single and every
pair removal, but each site-half-day is reduced to its *shape* (demand per demanded
qualification, and faculty types with identical demanded qualifications counted together) and
analysed in ``shape`` (Hall's condition, or one maximum matching for wide components); shapes
repeat, so they are memoised.

- ``f`` is an N-1 failure in ``h`` if ``h`` is covered but not once ``f`` leaves the pool.
- ``{f, g}`` is fatal in ``h`` if ``h`` is covered, neither alone is an N-1 failure in ``h``,
  and losing both uncovers ``h``. Only members of one pool can be fatal together.
- An uncovered ``h`` is reported as gaps and gets no N-1/N-2 findings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import NamedTuple

from app.domain.coverage import SiteHalfDay, gaps_of
from app.domain.schedule import Person
from app.resilience.contingency.result import (
    ContingencyResult,
    CriticalFaculty,
    Exposure,
    FatalPair,
    HalfDayAtSite,
    SiteGaps,
    assemble,
    merge,
)
from app.resilience.contingency.shape import HALL_MAX_QUALS, ShapeOutcome, Types, analyse_shape

__all__ = [
    "ContingencyResult",
    "CriticalFaculty",
    "Exposure",
    "FatalPair",
    "MaskCache",
    "HalfDayAtSite",
    "ProblemFindings",
    "ProblemShape",
    "SiteGaps",
    "analyze_contingency",
    "analyze_problem",
    "problem_shape",
    "merge",
]


class MaskCache:
    """Program-wide bit per qualification and mask per qualification set, grown on demand."""

    def __init__(self) -> None:
        self.bit: dict[str, int] = {}
        self.masks: dict[frozenset[str], int] = {}

    def mask_of(self, quals: frozenset[str]) -> int:
        mask = self.masks.get(quals)
        if mask is None:
            mask = 0
            for q in quals:
                if q not in self.bit:
                    self.bit[q] = 1 << len(self.bit)
                mask |= self.bit[q]
            self.masks[quals] = mask
        return mask


class ProblemFindings:
    """The findings of one site-half-day, by person id and by ordered id pair."""

    __slots__ = ("covered", "n1", "n2")

    def __init__(
        self,
        covered: bool,
        n1: dict[str, Exposure],
        n2: dict[tuple[str, str], Exposure],
    ) -> None:
        self.covered = covered
        self.n1 = n1
        self.n2 = n2


class ProblemShape(NamedTuple):
    """A site-half-day as a shape: see ``shape``."""

    quals: tuple[str, ...]
    """The demanded qualifications, sorted; the ``i``-th is bit ``i``."""
    demands: tuple[int, ...]
    types: Types
    members_of: dict[int, list[str]]
    """Type mask -> its pool members' ids, in pool order."""


def problem_shape(problem: SiteHalfDay, mask_cache: MaskCache | None = None) -> ProblemShape:
    """Reduce a site-half-day to demanded qualifications, demands and faculty types."""
    demand_by_qual = problem.demand_by_qualification()
    quals = tuple(sorted(demand_by_qual))
    cache = mask_cache if mask_cache is not None else MaskCache()
    # Program-wide bits per qualification set first (one dict hit per member), then the few
    # distinct restricted masks are renumbered to the half-day's own bits.
    demanded = cache.mask_of(frozenset(quals))
    known = cache.masks
    by_wide: dict[int, list[str]] = {}
    for member in problem.pool:
        wide = known.get(member.qualifications)
        if wide is None:
            wide = cache.mask_of(member.qualifications)
        wide &= demanded
        if wide:
            if wide in by_wide:
                by_wide[wide].append(member.person_id)
            else:
                by_wide[wide] = [member.person_id]
    local_bit = {cache.bit[q]: 1 << i for i, q in enumerate(quals)}
    members_of: dict[int, list[str]] = {}
    for wide, ids in by_wide.items():
        local = 0
        while wide:
            low = wide & -wide
            local |= local_bit[low]
            wide ^= low
        members_of[local] = ids
    types = tuple(sorted((m, len(ids)) for m, ids in members_of.items()))
    return ProblemShape(quals, tuple(demand_by_qual[q] for q in quals), types, members_of)


def analyze_problem(
    problem: SiteHalfDay,
    hall_max_quals: int = HALL_MAX_QUALS,
    mask_cache: MaskCache | None = None,
) -> ProblemFindings:
    """Exact N-1 failures and fatal pairs of one site-half-day.

    Args:
        problem: the half-day at a site.
        hall_max_quals: see ``shape.HALL_MAX_QUALS`` (tests lower it to exercise the
            matching method).
        mask_cache: reused across calls of one analysis to turn qualification sets into masks.

    Returns:
        Whether it is covered and, if so, its N-1 and N-2 findings.
    """
    if not problem.demands:
        return ProblemFindings(True, {}, {})
    quals, demands, types, members_of = problem_shape(problem, mask_cache)
    outcome: ShapeOutcome = analyse_shape(demands, types, hall_max_quals)
    if not outcome.covered:
        return ProblemFindings(False, {}, {})

    n1_groups, n2_groups = _finding_groups(problem, quals, members_of, outcome)
    n1 = {pid: exp for ids, exp in n1_groups for pid in ids}
    n2: dict[tuple[str, str], Exposure] = {}
    for ids_a, ids_b, exp in n2_groups:
        for a, b in _pairs(ids_a, ids_b):
            n2[(a, b) if a < b else (b, a)] = exp
    return ProblemFindings(True, n1, n2)


_N1Groups = list[tuple[list[str], Exposure]]
_N2Groups = list[tuple[list[str], list[str] | None, Exposure]]


def _finding_groups(
    problem: SiteHalfDay,
    quals: tuple[str, ...],
    members_of: dict[int, list[str]],
    outcome: ShapeOutcome,
) -> tuple[_N1Groups, _N2Groups]:
    """Findings by type: (members, exposure) and (members, other members or None, exposure)."""
    exposures: dict[int, Exposure] = {}

    def exposure(unfilled: int) -> Exposure:
        if unfilled not in exposures:
            exposures[unfilled] = _exposure(problem, quals, unfilled)
        return exposures[unfilled]

    n1 = [(members_of[mask], exposure(unfilled)) for mask, unfilled in outcome.n1]
    n2 = [
        (members_of[a], None if a == b else members_of[b], exposure(unfilled))
        for a, b, unfilled in outcome.n2
    ]
    return n1, n2


def _pairs(ids_a: list[str], ids_b: list[str] | None) -> Iterator[tuple[str, str]]:
    """Every pair across two types, or within one type when ``ids_b`` is None."""
    if ids_b is None:
        for i, a in enumerate(ids_a):
            for b in ids_a[i + 1 :]:
                yield a, b
    else:
        for a in ids_a:
            for b in ids_b:
                yield a, b


def _exposure(problem: SiteHalfDay, quals: tuple[str, ...], unfilled: int) -> Exposure:
    short = tuple(q for i, q in enumerate(quals) if unfilled >> i & 1)  # quals are sorted
    hit = [d for d in problem.demands if d.qualification in short]  # most protected first
    residents = hit[0].residents if len(hit) == 1 else [r for d in hit for r in d.residents]
    return Exposure(
        problem.halfday,
        problem.site,
        short,
        tuple(d.activity_id for d in hit),
        tuple(sorted(set(residents))),
    )


def analyze_contingency(
    problems: Sequence[SiteHalfDay],
    people: Mapping[str, Person] | None = None,
    hall_max_quals: int = HALL_MAX_QUALS,
    on_day: Callable[[date], None] | None = None,
) -> ContingencyResult:
    """N-1 and N-2 contingency analysis of a set of site-half-days.

    Args:
        problems: from ``coverage.build_site_half_days``; at most one per half-day and site.
        people: optional, to put names beside ids in the report.
        hall_max_quals: see ``analyze_problem``.
        on_day: called with a problem's date before it is analysed, whenever that date
            differs from the last problem's (progress, for problems in time order).

    Returns:
        Gaps, critical faculty, fatal pairs and the site-half-days analysed, in canonical
        order (two runs compare equal; chunk results ``merge`` to the whole).
    """
    people = people or {}

    def name(pid: str) -> str | None:
        person = people.get(pid)
        return person.name if person is not None else None

    mask_cache = MaskCache()
    analysed: list[HalfDayAtSite] = []
    gaps: list[SiteGaps] = []
    n1: dict[str, list[Exposure]] = {}
    n2: dict[tuple[str, str], list[Exposure]] = {}
    day: date | None = None
    for problem in problems:
        if on_day is not None and problem.halfday.date != day:
            day = problem.halfday.date
            on_day(day)
        analysed.append(HalfDayAtSite(problem.halfday, problem.site))
        if not problem.demands:
            continue
        quals, demands, types, members_of = problem_shape(problem, mask_cache)
        outcome = analyse_shape(demands, types, hall_max_quals)
        if not outcome.covered:
            gaps.append(SiteGaps(problem.halfday, problem.site, tuple(gaps_of(problem))))
            continue
        if not outcome.n1 and not outcome.n2:
            continue
        n1_groups, n2_groups = _finding_groups(problem, quals, members_of, outcome)
        for ids, exp in n1_groups:
            for pid in ids:
                if pid in n1:
                    n1[pid].append(exp)
                else:
                    n1[pid] = [exp]
        for ids_a, ids_b, exp in n2_groups:
            for a, b in _pairs(ids_a, ids_b):
                key = (a, b) if a < b else (b, a)
                if key in n2:
                    n2[key].append(exp)
                else:
                    n2[key] = [exp]
    if len(set(analysed)) != len(analysed):
        raise ValueError("two problems for the same half-day and site")
    # Findings were collected in input order: already canonical when the input is sorted.
    presorted = all(x < y for x, y in zip(analysed, analysed[1:], strict=False))
    return assemble(analysed, gaps, n1, n2, name, presorted)
