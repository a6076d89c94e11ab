"""The N-1 / N-2 contingency report as frozen data, with its JSON form and chunk merging.

Everything is kept in one canonical sorted order so that two analyses of the same schedule
compare equal, their JSON is byte-stable, and merging the results of disjoint date chunks gives
exactly the result of analysing the whole horizon at once.

Its size is linear in its findings. Many findings share one exposure (every fatal pair of a
half-day at a site that leaves the same qualifications short): in memory they share the object,
and in JSON (``REPORT_FORMAT`` 2, docs/resilience.md) each distinct exposure, with its
residents, is written once in an ``exposures`` table that findings point into by position.
The counts of each finding (half-days, residents affected) are computed once, when first read,
and the rankings sort those counts.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from app.domain.schedule import HalfDay
from app.resilience.contingency.findings import (
    CriticalFaculty,
    Exposure,
    FatalPair,
    HalfDayAtSite,
    SiteGaps,
    exposure_counts,
    halfday_of,
)

__all__ = [
    "REPORT_FORMAT",
    "ContingencyResult",
    "CriticalFaculty",
    "Exposure",
    "FatalPair",
    "HalfDayAtSite",
    "Ranked",
    "SiteGaps",
    "assemble",
    "merge",
    "rank_counts",
]


REPORT_FORMAT = 2
"""Version of the JSON layout of ``ContingencyResult.to_json`` (1: every finding carried its
exposures whole; 2: an exposure table, findings point into it, names in one map)."""


@dataclass(frozen=True)
class Ranked:
    """One line of a ranking: a person (one id) or a pair (two ids)."""

    person_ids: tuple[str, ...]
    half_days: int
    residents_affected: int

    def to_json(self) -> dict[str, Any]:
        return {
            "person_ids": list(self.person_ids),
            "half_days": self.half_days,
            "residents_affected": self.residents_affected,
        }


def _ranked(
    items: Sequence[CriticalFaculty | FatalPair], by_residents: bool, limit: int | None = None
) -> list[Ranked]:
    """The ranking of ``items``, its first ``limit`` lines (None: all), from their counts."""
    return rank_counts(
        (
            ((i.person_id,) if isinstance(i, CriticalFaculty) else i.person_ids),
            i.half_days,
            i.residents_affected,
        )
        for i in items
    )(by_residents, limit)


def rank_counts(
    counted: Iterable[tuple[tuple[str, ...], int, int]],
) -> Callable[[bool, int | None], list[Ranked]]:
    """Rankings of findings given as ``(ids, half-days, residents affected)``: a function of
    ``by_residents`` and ``limit`` (the first ``limit`` lines; None: all).

    Sorted on plain tuples (negated counts first, then the ids), compared without a key
    function: a ranking of a large program reads tens of thousands of findings.
    """
    by_days = [(-days, -residents, ids) for ids, days, residents in counted]

    def rank(by_residents: bool, limit: int | None) -> list[Ranked]:
        rows = [(r, d, ids) for d, r, ids in by_days] if by_residents else by_days
        top = sorted(rows) if limit is None else heapq.nsmallest(limit, rows)
        if by_residents:
            return [Ranked(ids, -days, -residents) for residents, days, ids in top]
        return [Ranked(ids, -days, -residents) for days, residents, ids in top]

    return rank


@dataclass(frozen=True)
class ContingencyResult:
    """The N-1 / N-2 report of a set of site-half-days (RESILIENCE_MODEL.md section 3).

    Attributes:
        analysed: every half-day and site analysed, sorted.
        gaps: the uncovered ones with their gaps; no N-1/N-2 findings are computed there.
        critical_faculty: sorted by person id, each with its exposures in time order.
        fatal_pairs: sorted by the (ordered) id pair, each with its exposures in time order.
    """

    analysed: tuple[HalfDayAtSite, ...]
    gaps: tuple[SiteGaps, ...]
    critical_faculty: tuple[CriticalFaculty, ...]
    fatal_pairs: tuple[FatalPair, ...]

    @property
    def n1_pass(self) -> bool:
        return not self.gaps and not self.critical_faculty

    @property
    def n2_pass(self) -> bool:
        return self.n1_pass and not self.fatal_pairs

    @property
    def half_days(self) -> tuple[HalfDay, ...]:
        return tuple(sorted({a.halfday for a in self.analysed}))

    def n1_findings(self) -> Iterator[tuple[str, Exposure]]:
        """Every (person id, exposure): one finding per person, half-day and site."""
        for c in self.critical_faculty:
            for e in c.exposures:
                yield c.person_id, e

    def n2_findings(self) -> Iterator[tuple[tuple[str, str], Exposure]]:
        """Every (pair of ids, exposure): one finding per pair, half-day and site."""
        for p in self.fatal_pairs:
            for e in p.exposures:
                yield p.person_ids, e

    def counts(self) -> dict[str, int]:
        return dict(self._counts)

    @cached_property
    def _counts(self) -> dict[str, int]:
        return {
            "site_half_days": len(self.analysed),
            "half_days": len({a.halfday for a in self.analysed}),
            "gap_site_half_days": len(self.gaps),
            "gap_slots": sum(g.missing for g in self.gaps),
            "critical_faculty": len(self.critical_faculty),
            "n1_findings": sum(len(c.exposures) for c in self.critical_faculty),
            "fatal_pairs": len(self.fatal_pairs),
            "n2_findings": sum(len(p.exposures) for p in self.fatal_pairs),
        }

    def critical_ranking(
        self, by_residents: bool = False, limit: int | None = None
    ) -> list[Ranked]:
        """Critical faculty, most half-days (or most residents affected) first; the first
        ``limit`` (None: all)."""
        return _ranked(self.critical_faculty, by_residents, limit)

    def pair_ranking(self, by_residents: bool = False, limit: int | None = None) -> list[Ranked]:
        """Fatal pairs, most half-days (or most residents affected) first; the first ``limit``
        (None: all)."""
        return _ranked(self.fatal_pairs, by_residents, limit)

    def to_json(self, ranking_limit: int | None = 50) -> dict[str, Any]:
        """JSON-ready dict (``REPORT_FORMAT``); rankings (derived, not read back) keep their
        top ``ranking_limit`` (0: none computed). Each distinct exposure is written once, in
        time order, in ``exposures``; findings list the positions of theirs there."""
        table, position = _exposure_table(
            e for f in (*self.critical_faculty, *self.fatal_pairs) for e in f.exposures
        )

        def top(rank: Callable[..., list[Ranked]], by_residents: bool) -> list[dict[str, Any]]:
            if ranking_limit == 0:
                return []
            return [r.to_json() for r in rank(by_residents, ranking_limit)]

        def finding(f: CriticalFaculty | FatalPair) -> dict[str, Any]:
            return {
                "half_days": f.half_days,
                "residents_affected": f.residents_affected,
                "exposures": [position[id(e)] for e in f.exposures],
            }

        names = {c.person_id: c.name for c in self.critical_faculty}
        for p in self.fatal_pairs:
            names.update(zip(p.person_ids, p.names, strict=True))
        return {
            "format": REPORT_FORMAT,
            "n1_pass": self.n1_pass,
            "n2_pass": self.n2_pass,
            "counts": self.counts(),
            "analysed": [[*a.halfday.to_json().values(), a.site] for a in self.analysed],
            "gaps": [g.to_json() for g in self.gaps],
            "exposures": [e.to_json() for e in table],
            "critical_faculty": [
                {"person_id": c.person_id, **finding(c)} for c in self.critical_faculty
            ],
            "fatal_pairs": [
                {"person_ids": list(p.person_ids), **finding(p)} for p in self.fatal_pairs
            ],
            "rankings": {
                "critical_by_half_days": top(self.critical_ranking, False),
                "critical_by_residents": top(self.critical_ranking, True),
                "pairs_by_half_days": top(self.pair_ranking, False),
                "pairs_by_residents": top(self.pair_ranking, True),
            },
            "names": {pid: name for pid, name in sorted(names.items()) if name is not None},
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ContingencyResult:
        """Rebuild a result from ``to_json`` output (e.g. after a Celery broker round trip).

        Raises:
            ValueError: ``d`` is of another ``REPORT_FORMAT`` (a report stored by an older
                version: it is not read, the next run recomputes it).
        """
        if d.get("format") != REPORT_FORMAT:
            raise ValueError(
                f"contingency report format {d.get('format')!r} is not {REPORT_FORMAT}"
            )
        table = [Exposure.from_json(e) for e in d["exposures"]]
        names: Mapping[str, str | None] = d.get("names") or {}
        return cls(
            tuple(
                HalfDayAtSite(halfday_of(day, half), site) for day, half, site in d["analysed"]
            ),  # fmt: skip
            tuple(SiteGaps.from_json(g) for g in d["gaps"]),
            tuple(
                CriticalFaculty(
                    c["person_id"],
                    names.get(c["person_id"]),
                    tuple(map(table.__getitem__, c["exposures"])),
                )
                for c in d["critical_faculty"]
            ),
            tuple(
                FatalPair(
                    (p["person_ids"][0], p["person_ids"][1]),
                    (names.get(p["person_ids"][0]), names.get(p["person_ids"][1])),
                    tuple(map(table.__getitem__, p["exposures"])),
                )
                for p in d["fatal_pairs"]
            ),
        )

    def to_wire(self) -> dict[str, Any]:
        """The compact JSON form a chunk's result crosses the broker in (not a report).

        Findings with the same exposures are grouped, their ids joined by spaces (ids never
        contain one), so a chunk's tens of thousands of fatal pairs decode as a few hundred
        strings; exposures and half-days are short lists. No names, counts or rankings: the
        merge names people from the parent task's rows (passed to it) and ``from_wire``
        counts each group of findings once.

            {"analysed": [[date, half, site], ...], "gaps": [SiteGaps JSON, ...],
             "exposures": [[date, half, site, [qualification], [activity], [resident]], ...],
             "critical": {"0 3 7": "F001 F002", ...},
             "pairs": {"0 3": "F001 F004 F001 F006", ...}}

        keys of ``critical`` and ``pairs``: positions in ``exposures``; values: the people
        (a pair is two consecutive ids) whose findings are exactly those exposures.
        """
        table, position = _exposure_table(
            e for f in (*self.critical_faculty, *self.fatal_pairs) for e in f.exposures
        )

        def grouped(
            findings: Iterable[tuple[Iterable[str], tuple[Exposure, ...]]],
        ) -> dict[str, str]:
            out: dict[str, list[str]] = {}
            for ids, exposures in findings:
                key = " ".join([str(position[id(e)]) for e in exposures])
                out.setdefault(key, []).extend(ids)
            return {k: " ".join(v) for k, v in out.items()}

        return {
            "analysed": [[a.halfday.date.isoformat(), a.halfday.half.value, a.site]
                         for a in self.analysed],
            "gaps": [g.to_json() for g in self.gaps],
            "exposures": [
                [e.halfday.date.isoformat(), e.halfday.half.value, e.site,
                 list(e.qualifications), list(e.activity_ids), list(e.residents)]
                for e in table
            ],
            "critical": grouped(((c.person_id,), c.exposures) for c in self.critical_faculty),
            "pairs": grouped((p.person_ids, p.exposures) for p in self.fatal_pairs),
        }  # fmt: skip

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> ContingencyResult:
        """The result ``to_wire`` wrote, without names (equal to the original otherwise)."""
        table = [
            Exposure(halfday_of(day, half), site, tuple(q), tuple(a), tuple(r))
            for day, half, site, q, a, r in d["exposures"]
        ]

        def exposures_of(key: str) -> tuple[Exposure, ...]:
            return tuple(table[int(i)] for i in key.split(" ")) if key else ()

        # The findings of a group share their exposures, so they share their counts too:
        # counted once per group.
        critical: list[CriticalFaculty] = []
        for key, ids in d["critical"].items():
            exposures = exposures_of(key)
            counts = exposure_counts(exposures)
            for pid in ids.split(" "):
                critical.append(CriticalFaculty(pid, None, exposures))
                critical[-1].known_counts(counts)
        pairs: list[FatalPair] = []
        for key, ids in d["pairs"].items():
            exposures = exposures_of(key)
            counts = exposure_counts(exposures)
            flat = ids.split(" ")
            for a, b in zip(flat[::2], flat[1::2], strict=True):
                pairs.append(FatalPair((a, b), (None, None), exposures))
                pairs[-1].known_counts(counts)
        critical.sort(key=lambda c: c.person_id)
        pairs.sort(key=lambda p: p.person_ids)
        return cls(
            tuple(HalfDayAtSite(halfday_of(day, half), site) for day, half, site in d["analysed"]),
            tuple(SiteGaps.from_json(g) for g in d["gaps"]),
            tuple(critical),
            tuple(pairs),
        )


def _exposure_table(exposures: Iterable[Exposure]) -> tuple[list[Exposure], dict[int, int]]:
    """The distinct exposures in time order, and each object's position there (by ``id``).

    Findings share exposure objects, so most lookups hit by identity; equal objects that are
    not the same (from different chunks) still get one entry.
    """
    by_id: dict[int, Exposure] = {}
    for e in exposures:
        if id(e) not in by_id:
            by_id[id(e)] = e
    distinct = sorted(set(by_id.values()), key=_table_key)
    index = {e: i for i, e in enumerate(distinct)}
    return distinct, {k: index[e] for k, e in by_id.items()}


def _table_key(e: Exposure) -> tuple[Any, ...]:
    return (*e.sort_key(), e.qualifications, e.activity_ids, e.residents)


def assemble(
    analysed: list[HalfDayAtSite],
    gaps: list[SiteGaps],
    n1: Mapping[str, list[Exposure]],
    n2: Mapping[tuple[str, str], list[Exposure]],
    name_of: Callable[[str], str | None],
    presorted: bool = False,
) -> ContingencyResult:
    """Put collected findings in canonical order (``presorted``: exposures already are)."""

    def ordered(exposures: list[Exposure]) -> tuple[Exposure, ...]:
        return tuple(exposures if presorted else sorted(exposures, key=Exposure.sort_key))

    return ContingencyResult(
        tuple(analysed if presorted else sorted(analysed)),
        tuple(sorted(gaps, key=lambda g: (g.halfday, g.site))),
        tuple(
            CriticalFaculty(pid, name_of(pid), ordered(exps)) for pid, exps in sorted(n1.items())
        ),
        tuple(
            FatalPair(ids, (name_of(ids[0]), name_of(ids[1])), ordered(exps))
            for ids, exps in sorted(n2.items())
        ),
    )


def merge(results: Sequence[ContingencyResult]) -> ContingencyResult:
    """Combine results of disjoint sets of site-half-days (e.g. date chunks of the horizon).

    Given in time order (each result's site-half-days before the next one's, as date chunks
    are), nothing needs sorting again: the merge is linear in the findings. When, moreover, no
    half-day is in two results (date chunks), a merged finding's counts are the sums of its
    parts' (half-days and resident-half-days are then disjoint), so none is counted again.

    Raises:
        ValueError: two results analysed the same half-day at the same site.
    """
    analysed = [a for r in results for a in r.analysed]
    in_order = all(x < y for x, y in zip(analysed, analysed[1:], strict=False))
    if not in_order and len(set(analysed)) != len(analysed):
        raise ValueError("merged contingency results overlap")
    parts = [r for r in results if r.analysed]
    additive = in_order and all(
        a.analysed[-1].halfday < b.analysed[0].halfday
        for a, b in zip(parts, parts[1:], strict=False)
    )
    names: dict[str, str | None] = {}
    n1: dict[str, list[Exposure]] = {}
    n2: dict[tuple[str, str], list[Exposure]] = {}
    counts: dict[str | tuple[str, str], tuple[int, int]] = {}
    for r in results:
        for c in r.critical_faculty:
            names[c.person_id] = c.name
            n1.setdefault(c.person_id, []).extend(c.exposures)
            if additive:
                days, residents = counts.get(c.person_id, (0, 0))
                counts[c.person_id] = (days + c.half_days, residents + c.residents_affected)
        for p in r.fatal_pairs:
            names.update(zip(p.person_ids, p.names, strict=True))
            n2.setdefault(p.person_ids, []).extend(p.exposures)
            if additive:
                days, residents = counts.get(p.person_ids, (0, 0))
                counts[p.person_ids] = (days + p.half_days, residents + p.residents_affected)
    gaps = [g for r in results for g in r.gaps]
    merged = assemble(analysed, gaps, n1, n2, names.get, presorted=in_order)
    if additive:
        for c in merged.critical_faculty:
            c.known_counts(counts[c.person_id])
        for p in merged.fatal_pairs:
            p.known_counts(counts[p.person_ids])
    return merged
