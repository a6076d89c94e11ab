"""The N-1 / N-2 contingency report as frozen data, with its JSON form and chunk merging.

Everything is kept in one canonical sorted order so that two analyses of the same schedule
compare equal, their JSON is byte-stable, and merging the results of disjoint date chunks gives
exactly the result of analysing the whole horizon at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.domain.coverage import Gap
from app.domain.schedule import Category, Half, HalfDay


def _halfday_from_json(d: Mapping[str, Any]) -> HalfDay:
    return HalfDay(date.fromisoformat(d["date"]), Half(d["half"]))


@dataclass(frozen=True, order=True)
class HalfDayAtSite:
    """One half-day at one site: the unit the analysis covers."""

    halfday: HalfDay
    site: str

    def to_json(self) -> dict[str, str]:
        return {**self.halfday.to_json(), "site": self.site}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> HalfDayAtSite:
        return cls(_halfday_from_json(d), d["site"])


@dataclass(frozen=True)
class Exposure:
    """A half-day at a site that a loss would leave uncovered.

    Attributes:
        qualifications: the demanded qualifications one of whose slots may then go unfilled
            (a slot that some maximum matching after the loss leaves empty), sorted.
        activity_ids: the activities demanding them, most protected first.
        residents: the residents of those activities in that half-day, sorted.
    """

    halfday: HalfDay
    site: str
    qualifications: tuple[str, ...]
    activity_ids: tuple[str, ...]
    residents: tuple[str, ...]

    @property
    def where(self) -> HalfDayAtSite:
        return HalfDayAtSite(self.halfday, self.site)

    def sort_key(self) -> tuple[date, str, str]:
        return (self.halfday.date, self.halfday.half, self.site)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.halfday.to_json(),
            "site": self.site,
            "qualifications": list(self.qualifications),
            "activity_ids": list(self.activity_ids),
            "residents": list(self.residents),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Exposure:
        return cls(
            _halfday_from_json(d),
            d["site"],
            tuple(d["qualifications"]),
            tuple(d["activity_ids"]),
            tuple(d["residents"]),
        )


def _half_day_count(exposures: Sequence[Exposure]) -> int:
    return len({e.halfday for e in exposures})


def _residents_affected(exposures: Sequence[Exposure]) -> int:
    """Distinct (resident, half-day) pairs put at risk."""
    return len({(r, e.halfday) for e in exposures for r in e.residents})


class _Exposed:
    """Counts shared by critical faculty and fatal pairs, from their ``exposures``."""

    exposures: tuple[Exposure, ...]

    @property
    def half_days(self) -> int:
        return _half_day_count(self.exposures)

    @property
    def residents_affected(self) -> int:
        return _residents_affected(self.exposures)


@dataclass(frozen=True)
class CriticalFaculty(_Exposed):
    """A faculty member who alone holds up at least one half-day (an N-1 failure there)."""

    person_id: str
    name: str | None
    exposures: tuple[Exposure, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "name": self.name,
            "half_days": self.half_days,
            "residents_affected": self.residents_affected,
            "exposures": [e.to_json() for e in self.exposures],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> CriticalFaculty:
        exposures = tuple(Exposure.from_json(e) for e in d["exposures"])
        return cls(d["person_id"], d["name"], exposures)


@dataclass(frozen=True)
class FatalPair(_Exposed):
    """Two faculty members whose joint loss uncovers half-days neither uncovers alone."""

    person_ids: tuple[str, str]
    names: tuple[str | None, str | None]
    exposures: tuple[Exposure, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "person_ids": list(self.person_ids),
            "names": list(self.names),
            "half_days": self.half_days,
            "residents_affected": self.residents_affected,
            "exposures": [e.to_json() for e in self.exposures],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FatalPair:
        a, b = d["person_ids"]
        name_a, name_b = d["names"]
        exposures = tuple(Exposure.from_json(e) for e in d["exposures"])
        return cls((a, b), (name_a, name_b), exposures)


@dataclass(frozen=True)
class SiteGaps:
    """An already-uncovered half-day at a site and its unfilled slots (the worst finding)."""

    halfday: HalfDay
    site: str
    gaps: tuple[Gap, ...]

    @property
    def missing(self) -> int:
        return sum(g.missing for g in self.gaps)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.halfday.to_json(),
            "site": self.site,
            "missing": self.missing,
            "gaps": [g.to_json() for g in self.gaps],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SiteGaps:
        gaps = tuple(
            Gap(
                _halfday_from_json(g),
                g["site"],
                g["activity_id"],
                Category(g["category"]),
                g["qualification"],
                g["missing"],
            )
            for g in d["gaps"]
        )
        return cls(_halfday_from_json(d), d["site"], gaps)


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


def _ranked(items: Sequence[CriticalFaculty | FatalPair], by_residents: bool) -> list[Ranked]:
    rows = [
        Ranked(
            (i.person_id,) if isinstance(i, CriticalFaculty) else i.person_ids,
            i.half_days,
            i.residents_affected,
        )
        for i in items
    ]
    if by_residents:
        rows.sort(key=lambda r: (-r.residents_affected, -r.half_days, r.person_ids))
    else:
        rows.sort(key=lambda r: (-r.half_days, -r.residents_affected, r.person_ids))
    return rows


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
        return {
            "site_half_days": len(self.analysed),
            "half_days": len(self.half_days),
            "gap_site_half_days": len(self.gaps),
            "gap_slots": sum(g.missing for g in self.gaps),
            "critical_faculty": len(self.critical_faculty),
            "n1_findings": sum(len(c.exposures) for c in self.critical_faculty),
            "fatal_pairs": len(self.fatal_pairs),
            "n2_findings": sum(len(p.exposures) for p in self.fatal_pairs),
        }

    def critical_ranking(self, by_residents: bool = False) -> list[Ranked]:
        """Critical faculty, most half-days (or most residents affected) first."""
        return _ranked(self.critical_faculty, by_residents)

    def pair_ranking(self, by_residents: bool = False) -> list[Ranked]:
        """Fatal pairs, most half-days (or most residents affected) first."""
        return _ranked(self.fatal_pairs, by_residents)

    def to_json(self, ranking_limit: int | None = 50) -> dict[str, Any]:
        """JSON-ready dict; rankings (derived, not read back) keep their top ``ranking_limit``."""

        def top(rows: list[Ranked]) -> list[dict[str, Any]]:
            return [r.to_json() for r in rows[:ranking_limit]]

        return {
            "n1_pass": self.n1_pass,
            "n2_pass": self.n2_pass,
            "counts": self.counts(),
            "analysed": [a.to_json() for a in self.analysed],
            "gaps": [g.to_json() for g in self.gaps],
            "critical_faculty": [c.to_json() for c in self.critical_faculty],
            "fatal_pairs": [p.to_json() for p in self.fatal_pairs],
            "rankings": {
                "critical_by_half_days": top(self.critical_ranking()),
                "critical_by_residents": top(self.critical_ranking(by_residents=True)),
                "pairs_by_half_days": top(self.pair_ranking()),
                "pairs_by_residents": top(self.pair_ranking(by_residents=True)),
            },
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ContingencyResult:
        """Rebuild a result from ``to_json`` output (e.g. after a Celery broker round trip)."""
        return cls(
            tuple(HalfDayAtSite.from_json(a) for a in d["analysed"]),
            tuple(SiteGaps.from_json(g) for g in d["gaps"]),
            tuple(CriticalFaculty.from_json(c) for c in d["critical_faculty"]),
            tuple(FatalPair.from_json(p) for p in d["fatal_pairs"]),
        )


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

    Raises:
        ValueError: two results analysed the same half-day at the same site.
    """
    analysed = [a for r in results for a in r.analysed]
    if len(set(analysed)) != len(analysed):
        raise ValueError("merged contingency results overlap")
    names: dict[str, str | None] = {}
    n1: dict[str, list[Exposure]] = {}
    n2: dict[tuple[str, str], list[Exposure]] = {}
    for r in results:
        for c in r.critical_faculty:
            names[c.person_id] = c.name
            n1.setdefault(c.person_id, []).extend(c.exposures)
        for p in r.fatal_pairs:
            names.update(zip(p.person_ids, p.names, strict=True))
            n2.setdefault(p.person_ids, []).extend(p.exposures)
    return assemble(analysed, [g for r in results for g in r.gaps], n1, n2, names.get)
