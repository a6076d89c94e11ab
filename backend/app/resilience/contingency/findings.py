"""The parts of a contingency report: where, what a loss exposes, who, and the gaps.

Frozen data shared by the analysis (``core``), the what-ifs and the report (``result``). A
finding's counts (half-days, residents affected) are computed once, when first read, in one
pass over its exposures.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from app.domain.coverage import Gap
from app.domain.schedule import Category, Half, HalfDay


def _halfday_from_json(d: Mapping[str, Any]) -> HalfDay:
    return halfday_of(d["date"], d["half"])


@lru_cache(maxsize=4096)
def halfday_of(day: str, half: str) -> HalfDay:
    """The ``HalfDay`` of an ISO date and ``AM``/``PM``: one object per half-day read back
    (a merge reads the same half-days tens of thousands of times)."""
    return HalfDay(date.fromisoformat(day), Half(half))


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


def exposure_counts(exposures: Iterable[Exposure]) -> tuple[int, int]:
    """Distinct half-days, and distinct (resident, half-day) pairs put at risk
    (``halfday_counts`` of each exposure's half-day and residents)."""
    return halfday_counts((e.halfday, e.residents) for e in exposures)


def halfday_counts(exposed: Iterable[tuple[Hashable, Sequence[str]]]) -> tuple[int, int]:
    """Distinct half-days, and distinct (resident, half-day) pairs, of ``(half-day, residents)``
    exposures: a finding's ``Exposure`` objects, or their wire form (``report_json``).

    One pass over exposures in time order (as every finding keeps them), where the exposures
    of one half-day are neighbours: a half-day's residents are counted by length unless
    several sites of it are exposed (then as a set, a resident being in one place at a time
    anyway).
    """
    half_days = residents = 0
    current: Hashable | None = None
    group: list[Sequence[str]] = []
    for halfday, exposed_residents in exposed:
        if halfday is current or halfday == current:
            group.append(exposed_residents)
            continue
        if group:
            residents += len(group[0]) if len(group) == 1 else len(set().union(*group))
        half_days += 1
        current, group = halfday, [exposed_residents]
    if group:
        residents += len(group[0]) if len(group) == 1 else len(set().union(*group))
    return half_days, residents


class _Exposed:
    """Counts shared by critical faculty and fatal pairs, computed once from ``exposures``."""

    exposures: tuple[Exposure, ...]

    def known_counts(self, counts: tuple[int, int]) -> None:
        """Record counts already known to be those of ``exposures`` (half-days, residents):
        a finding merged from date chunks, or one of many sharing the same exposures."""
        self.__dict__["_counts_memo"] = counts

    @property
    def _counts(self) -> tuple[int, int]:
        # Kept in the instance's dict by hand (the dataclasses are frozen): a report reads
        # tens of thousands of these, and functools.cached_property takes a lock per read.
        counts: tuple[int, int] | None = self.__dict__.get("_counts_memo")
        if counts is None:
            counts = self.__dict__["_counts_memo"] = exposure_counts(self.exposures)
        return counts

    @property
    def half_days(self) -> int:
        return self._counts[0]

    @property
    def residents_affected(self) -> int:
        return self._counts[1]


@dataclass(frozen=True)
class CriticalFaculty(_Exposed):
    """A faculty member who alone holds up at least one half-day (an N-1 failure there)."""

    person_id: str
    name: str | None
    exposures: tuple[Exposure, ...]


@dataclass(frozen=True)
class FatalPair(_Exposed):
    """Two faculty members whose joint loss uncovers half-days neither uncovers alone."""

    person_ids: tuple[str, str]
    names: tuple[str | None, str | None]
    exposures: tuple[Exposure, ...]


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
