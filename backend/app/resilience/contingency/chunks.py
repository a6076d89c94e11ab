"""Splitting a horizon into date chunks and merging their analyses (pure: no database).

A chunk's analysis crosses the broker as JSON and holds everything the merge needs: its
findings and its part of every cross-training grant's effect (a grant's effect is a sum over
site-half-days, so the parts add up). Merging the chunks of a horizon gives the same result and
cross-training ranking as analysing it in one piece, without reading the schedule again. The
input fingerprint is not the chunks' business: it comes from the rows the parent read
(``reports.report_fingerprint``).
"""

from __future__ import annotations

import time as _time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from app.core.errors import InputError
from app.domain.coverage import SiteHalfDay, site_half_days_of_rows
from app.domain.schedule import ScheduleSnapshot
from app.domain.schedule_rows import ScheduleRows
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.crosstrain import (
    CrossTrainingOption,
    GrantEffect,
    grant_effects,
    rank_grant_json,
    rank_grants,
)
from app.resilience.contingency.report_json import StoredResult, report_of_wires
from app.resilience.contingency.result import ContingencyResult, merge
from app.resilience.health.report import ContingencySummary


def summarize_for_health(
    problems: Sequence[SiteHalfDay], start: date, end: date
) -> ContingencySummary:
    """N-1/N-2 of the health check's contingency window (RESILIENCE_MODEL.md section 4).

    Args:
        problems: the coverage problems of ``start``..``end``.
    """
    result = analyze_contingency(problems)
    return ContingencySummary(
        window_start=start,
        window_end=end,
        n1_halfdays=tuple(sorted({e.halfday for _, e in result.n1_findings()})),
        n2_halfdays=tuple(sorted({e.halfday for _, e in result.n2_findings()})),
        critical_faculty=len(result.critical_faculty),
        fatal_pairs=len(result.fatal_pairs),
        n1_pass=result.n1_pass,
        n2_pass=result.n2_pass,
    )


@dataclass(frozen=True)
class ChunkAnalysis:
    """The analysis of one date chunk, in the JSON form that crosses the broker."""

    start: date
    end: date
    result: ContingencyResult
    duration_s: float = 0.0
    grants: tuple[GrantEffect, ...] = ()
    """The chunk's part of each cross-training grant's effect (``grant_effects``)."""
    grants_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """``{"start", "end", "result" (``ContingencyResult.to_wire``), "duration_s",
        "grants" (GrantEffect lists), "grants_s"}``."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "result": self.result.to_wire(),
            "duration_s": self.duration_s,
            "grants": [g.to_json() for g in self.grants],
            "grants_s": self.grants_s,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ChunkAnalysis:
        return cls(
            date.fromisoformat(d["start"]),
            date.fromisoformat(d["end"]),
            # A result in the report's JSON ("format") came from a worker of the version
            # before the wire form (during a rolling upgrade): read it as it is.
            ContingencyResult.from_json(d["result"])
            if "format" in d["result"]
            else ContingencyResult.from_wire(d["result"]),
            float(d.get("duration_s", 0.0)),
            tuple(GrantEffect.from_json(g) for g in d.get("grants", ())),
            float(d.get("grants_s", 0.0)),
        )


def analyze_chunk(rows: ScheduleRows, start: date, end: date) -> ChunkAnalysis:
    """Analyse the dates ``start``..``end`` of ``rows``, with its part of cross-training."""
    t0 = _time.perf_counter()
    problems = site_half_days_of_rows(rows, start, end)
    part = _analyze_problems(problems, rows.base, start, end, t0)
    t1 = _time.perf_counter()
    grants = grant_effects(problems, part.result)
    return replace(part, grants=grants, grants_s=_time.perf_counter() - t1)


def _analyze_problems(
    problems: Sequence[SiteHalfDay],
    snapshot: ScheduleSnapshot,
    start: date,
    end: date,
    t0: float,
) -> ChunkAnalysis:
    result = analyze_contingency(problems, snapshot.people_by_id)
    return ChunkAnalysis(start, end, result, _time.perf_counter() - t0)


def chunk_dates(start: date, end: date, chunk_days: int) -> list[tuple[date, date]]:
    """Consecutive date ranges of at most ``chunk_days`` covering ``start``..``end``."""
    if chunk_days < 1:
        raise InputError("chunk size must be at least one day")
    out: list[tuple[date, date]] = []
    cur = start
    while cur <= end:
        # Compared as day counts: a window ending on date.max must not overflow.
        last = end if (end - cur).days < chunk_days else cur + timedelta(days=chunk_days - 1)
        out.append((cur, last))
        if last == end:
            break
        cur = last + timedelta(days=1)
    return out


def merge_chunks(parts: Sequence[ChunkAnalysis]) -> ContingencyResult:
    """Merge chunk analyses (in any order): equal to one single-process analysis."""
    return merge([c.result for c in sorted(parts, key=lambda c: c.start)])


def merge_cross_training(
    parts: Sequence[ChunkAnalysis], limit: int | None
) -> tuple[CrossTrainingOption, ...]:
    """The cross-training ranking of the whole horizon from its chunks' grant effects."""
    ordered = sorted(parts, key=lambda c: c.start)
    return rank_grants([c.grants for c in ordered], limit)


@dataclass(frozen=True)
class MergedChunks:
    """A horizon merged from its chunks' ``ChunkAnalysis`` JSON (``merge_chunk_json``)."""

    result: ContingencyResult | StoredResult
    """A ``StoredResult`` of the report's JSON written from the chunks' wire forms
    (``report_of_wires``), or, for chunks that are not in time order, the merged result."""
    cross_training: tuple[CrossTrainingOption, ...]
    duration_s: float
    """The chunks' analysis time, added up."""
    grants_s: float
    """The chunks' cross-training time, added up."""


def merge_chunk_json(chunks: Sequence[Mapping[str, Any]], limit: int | None) -> MergedChunks:
    """Merge chunk analyses as they come back from the workers (``ChunkAnalysis.to_json``).

    Equal to ``merge_chunks`` and ``merge_cross_training`` of the ``ChunkAnalysis.from_json``
    of each, without building any finding: the report's JSON is written from the chunks'
    wire forms (``report_of_wires``). ``limit``: how many cross-training options to rank.
    """
    if any("format" in c["result"] for c in chunks):  # a worker of the version before
        parts = [ChunkAnalysis.from_json(c) for c in chunks]
        return MergedChunks(
            merge_chunks(parts),
            merge_cross_training(parts, limit),
            sum(p.duration_s for p in parts),
            sum(p.grants_s for p in parts),
        )
    ordered = sorted(chunks, key=lambda c: str(c["start"]))
    wires = [c["result"] for c in ordered]
    report = report_of_wires(wires)
    return MergedChunks(
        merge([ContingencyResult.from_wire(w) for w in wires])
        if report is None
        else StoredResult(report),
        rank_grant_json([c.get("grants", ()) for c in ordered], limit),
        sum(float(c.get("duration_s", 0.0)) for c in ordered),
        sum(float(c.get("grants_s", 0.0)) for c in ordered),
    )
