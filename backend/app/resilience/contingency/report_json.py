"""The stored report's JSON written straight from the chunks' wire forms, and read as a view.

A merge of a year of a large program joins tens of thousands of findings. Building them as
objects (``chunks.merge_chunk_json`` did, through ``ContingencyResult``) and writing them out
again (``ContingencyResult.to_json``) was most of the merge task's time, on the chord's serial
path. Here the report's JSON (``REPORT_FORMAT``) is written from the chunks' ``to_wire`` forms
directly: their exposure tables are joined (date chunks in time order: the joined table is in
the report's order), positions are offset, each group of findings is counted once, and the
counts of a finding are its chunks' sums (no half-day is in two chunks).

``StoredResult`` is what a stored or merged report is read as: its passes and counts come from
the JSON, and its critical faculty (the alerts need them) are built only when read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from app.resilience.contingency.findings import (
    CriticalFaculty,
    Exposure,
    FatalPair,
    halfday_counts,
)
from app.resilience.contingency.result import REPORT_FORMAT, ContingencyResult, rank_counts

Finding = list[Any]
"""A finding being joined: ``[positions of its exposures, half-days, residents affected]``."""


def report_of_wires(
    wires: Sequence[Mapping[str, Any]], ranking_limit: int | None = 50
) -> dict[str, Any] | None:
    """``merge`` of the ``from_wire`` of ``wires``, as its ``to_json(ranking_limit)``.

    None when the parts are not date chunks in time order (a half-day in two parts, or parts
    out of order): then the caller merges them as results (``result.merge``). The names map is
    empty: wire forms carry none.
    """
    bounds: list[tuple[tuple[str, str], tuple[str, str]]] = []
    analysed: list[list[str]] = []
    for w in wires:
        part = w["analysed"]
        if part:
            bounds.append(((part[0][0], part[0][1]), (part[-1][0], part[-1][1])))
        analysed.extend(part)
    keys = [(day, half, site) for day, half, site in analysed]
    if any(x >= y for x, y in zip(keys, keys[1:], strict=False)) or any(
        a[1] >= b[0] for a, b in zip(bounds, bounds[1:], strict=False)
    ):
        return None
    exposures: list[dict[str, Any]] = []
    critical: dict[str, Finding] = {}
    pairs: dict[tuple[str, str], Finding] = {}
    gaps: list[Any] = []
    for w in wires:
        offset = len(exposures)
        table = w["exposures"]
        exposures.extend(
            {"date": d, "half": h, "site": s, "qualifications": q, "activity_ids": a,
             "residents": r}
            for d, h, s, q, a, r in table
        )  # fmt: skip
        gaps.extend(w["gaps"])
        for key, ids in w["critical"].items():
            _join(critical, ids.split(" "), key, table, offset)
        for key, ids in w["pairs"].items():
            flat = ids.split(" ")
            _join(pairs, list(zip(flat[::2], flat[1::2], strict=True)), key, table, offset)
    n1_pass = not gaps and not critical
    critical_ids = sorted(critical)
    pair_ids = sorted(pairs)
    ranked_critical = rank_counts(((k,), *critical[k][1:]) for k in critical_ids)
    ranked_pairs = rank_counts((k, *pairs[k][1:]) for k in pair_ids)

    def top(rank: Any, by_residents: bool) -> list[dict[str, Any]]:
        if ranking_limit == 0:
            return []
        return [r.to_json() for r in rank(by_residents, ranking_limit)]

    return {
        "format": REPORT_FORMAT,
        "n1_pass": n1_pass,
        "n2_pass": n1_pass and not pairs,
        "counts": {
            "site_half_days": len(analysed),
            "half_days": len({(a[0], a[1]) for a in analysed}),
            "gap_site_half_days": len(gaps),
            "gap_slots": sum(g["missing"] for g in gaps),
            "critical_faculty": len(critical),
            "n1_findings": sum(len(f[0]) for f in critical.values()),
            "fatal_pairs": len(pairs),
            "n2_findings": sum(len(f[0]) for f in pairs.values()),
        },
        "analysed": analysed,
        "gaps": gaps,
        "exposures": exposures,
        "critical_faculty": [
            {"person_id": k, "half_days": days, "residents_affected": residents,
             "exposures": positions}
            for k in critical_ids
            for positions, days, residents in (critical[k],)
        ],
        "fatal_pairs": [
            {"person_ids": list(k), "half_days": days, "residents_affected": residents,
             "exposures": positions}
            for k in pair_ids
            for positions, days, residents in (pairs[k],)
        ],
        "rankings": {
            "critical_by_half_days": top(ranked_critical, False),
            "critical_by_residents": top(ranked_critical, True),
            "pairs_by_half_days": top(ranked_pairs, False),
            "pairs_by_residents": top(ranked_pairs, True),
        },
        "names": {},
    }  # fmt: skip


def _join(
    found: dict[Any, Finding], keys: Sequence[Any], group: str, table: Sequence[Any], offset: int
) -> None:
    """Add one chunk's group of findings (``keys``, all with the exposures at ``group``'s
    positions in the chunk's ``table``) to ``found``: positions offset, counts summed."""
    local = [int(i) for i in group.split(" ")] if group else []
    # Wire exposures: [date, half, site, qualifications, activities, residents].
    days, residents = halfday_counts(((table[i][0], table[i][1]), table[i][5]) for i in local)
    positions = [offset + i for i in local]
    for k in keys:
        known = found.get(k)
        if known is None:
            found[k] = [positions.copy(), days, residents]
        else:
            known[0].extend(positions)
            known[1] += days
            known[2] += residents


class StoredResult:
    """A contingency result read from its report's JSON (``ContingencyResult.to_json``).

    Passes and counts are the JSON's own; the critical faculty (the alerts read them) are
    built when first read, and the fatal pairs (tens of thousands on a large program) only by
    ``whole``. ``to_json`` gives the JSON back as it is. ``names`` (person id to name) names
    the findings; by default, the report's own ``names`` map.
    """

    def __init__(
        self, report: Mapping[str, Any], names: Mapping[str, str | None] | None = None
    ) -> None:
        if report.get("format") != REPORT_FORMAT:
            raise ValueError(
                f"contingency report format {report.get('format')!r} is not {REPORT_FORMAT}"
            )
        self.report = report
        self.names: Mapping[str, str | None] = (
            names if names is not None else report.get("names") or {}
        )

    @property
    def n1_pass(self) -> bool:
        return bool(self.report["n1_pass"])

    @property
    def n2_pass(self) -> bool:
        return bool(self.report["n2_pass"])

    def counts(self) -> dict[str, int]:
        return dict(self.report["counts"])

    def to_json(self) -> dict[str, Any]:
        """The report's JSON (the rankings it was written with)."""
        return dict(self.report)

    @cached_property
    def critical_faculty(self) -> tuple[CriticalFaculty, ...]:
        """Sorted by person id, each with its exposures in time order and its counts."""
        table = self.report["exposures"]
        built: dict[int, Exposure] = {}
        names = self.names
        out = []
        for c in self.report["critical_faculty"]:
            exposures = tuple(
                built.get(i) or built.setdefault(i, Exposure.from_json(table[i]))
                for i in c["exposures"]
            )
            finding = CriticalFaculty(c["person_id"], names.get(c["person_id"]), exposures)
            finding.known_counts((c["half_days"], c["residents_affected"]))
            out.append(finding)
        return tuple(out)

    @property
    def fatal_pairs(self) -> tuple[FatalPair, ...]:
        return self.whole.fatal_pairs

    @cached_property
    def whole(self) -> ContingencyResult:
        """The whole result, every finding built."""
        return ContingencyResult.from_json({**self.report, "names": self.names})
