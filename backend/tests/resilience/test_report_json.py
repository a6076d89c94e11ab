"""The contingency report's JSON: round trip, counts, rankings and size linear in findings."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from app.domain.coverage import ActivityDemand, PoolMember, SiteHalfDay
from app.domain.schedule import Category, Half, HalfDay, Person, PersonKind
from app.resilience.contingency.chunks import ChunkAnalysis, merge_chunk_json
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.report_json import StoredResult, report_of_wires
from app.resilience.contingency.result import (
    REPORT_FORMAT,
    ContingencyResult,
    CriticalFaculty,
    Exposure,
    HalfDayAtSite,
    merge,
)
from tests.resilience.factories import START, random_problems


def _result(seed: int) -> ContingencyResult:
    rng = random.Random(seed)
    problems = random_problems(rng, days=5, sites=3, max_pool=7)
    people = {f"f{i}": Person(f"f{i}", f"Dr {i}", PersonKind.FACULTY) for i in range(0, 12, 2)}
    return analyze_contingency(problems, people)


def _recount(exposures: list[dict[str, Any]]) -> tuple[int, int]:
    """Half-days and distinct (resident, half-day) pairs, straight from exposure dicts."""
    halves = {(e["date"], e["half"]) for e in exposures}
    residents = {(r, e["date"], e["half"]) for e in exposures for r in e["residents"]}
    return len(halves), len(residents)


@pytest.mark.parametrize("seed", range(25))
def test_report_round_trips_through_json_when_encoded(seed: int) -> None:
    result = _result(seed)
    assert result.critical_faculty or result.fatal_pairs

    data = json.loads(json.dumps(result.to_json()))

    assert data["format"] == REPORT_FORMAT
    assert ContingencyResult.from_json(data) == result
    assert ContingencyResult.from_json(data).to_json() == data


@pytest.mark.parametrize("seed", range(25))
def test_wire_form_round_trips_without_names_when_a_chunk_sends_it(seed: int) -> None:
    result = _result(seed)
    assert result.critical_faculty or result.fatal_pairs  # never two empty results compared

    data = json.loads(json.dumps(result.to_wire()))
    back = ContingencyResult.from_wire(data)

    unnamed = ContingencyResult(
        result.analysed,
        result.gaps,
        tuple(replace(c, name=None) for c in result.critical_faculty),
        tuple(replace(p, names=(None, None)) for p in result.fatal_pairs),
    )
    assert back == unnamed
    # Every finding travels once: as many ids in the groups as findings (pairs: two each).
    assert sum(len(v.split(" ")) for v in data["pairs"].values()) == 2 * len(result.fatal_pairs)
    assert sum(len(v.split(" ")) for v in data["critical"].values()) == len(result.critical_faculty)


@pytest.mark.parametrize("seed", range(25))
def test_counts_and_rankings_equal_a_recount_from_the_findings(seed: int) -> None:
    data = json.loads(json.dumps(_result(seed).to_json(ranking_limit=None)))
    table = data["exposures"]
    recounted: dict[tuple[str, ...], tuple[int, int]] = {}
    for kind in ("critical_faculty", "fatal_pairs"):
        for f in data[kind]:
            ids = (f["person_id"],) if kind == "critical_faculty" else tuple(f["person_ids"])
            half_days, residents = _recount([table[i] for i in f["exposures"]])
            assert (f["half_days"], f["residents_affected"]) == (half_days, residents)
            recounted[ids] = (half_days, residents)
    counts = data["counts"]
    assert counts["n1_findings"] == sum(len(c["exposures"]) for c in data["critical_faculty"])
    assert counts["n2_findings"] == sum(len(p["exposures"]) for p in data["fatal_pairs"])
    assert counts["site_half_days"] == len(data["analysed"])
    for name, index in (("by_half_days", 0), ("by_residents", 1)):
        for kind, width in (("critical", 1), ("pairs", 2)):
            rows = data["rankings"][f"{kind}_{name}"]
            expected = sorted(
                (k for k in recounted if len(k) == width),
                key=lambda k: (-recounted[k][index], -recounted[k][1 - index], k),
            )
            assert [tuple(r["person_ids"]) for r in rows] == expected
            # A limited ranking is the head of the full one, not another order.
            limited = json.loads(json.dumps(_result(seed).to_json(ranking_limit=2)))
            head = [tuple(r["person_ids"]) for r in limited["rankings"][f"{kind}_{name}"]]
            assert head == expected[:2]


def test_residents_counted_once_when_two_sites_of_a_half_day_share_them() -> None:
    hd = HalfDay(START, Half.AM)
    at_a = Exposure(hd, "a", ("q",), ("x",), ("r1", "r2"))
    at_b = Exposure(hd, "b", ("q",), ("y",), ("r2", "r3"))
    later = Exposure(HalfDay(START, Half.PM), "a", ("q",), ("x",), ("r1",))

    finding = CriticalFaculty("f", None, (at_a, at_b, later))

    assert (finding.half_days, finding.residents_affected) == (2, 4)


def _one_tight_half_day(holders: int, residents: int) -> SiteHalfDay:
    """``holders`` faculty for ``holders - 1`` slots: every pair of them is fatal."""
    demand = ActivityDemand(
        "clinic",
        Category.PATIENT_SAFETY,
        "q",
        holders - 1,
        tuple(f"R{i:03d}" for i in range(residents)),
    )
    pool = tuple(PoolMember(f"F{i:03d}", frozenset({"q"})) for i in range(holders))
    return SiteHalfDay(HalfDay(START, Half.AM), "main", (demand,), pool)


def test_report_size_grows_by_findings_not_by_their_residents_when_pairs_share_exposures() -> None:
    sizes = {}
    for holders in (10, 20, 40):
        result = analyze_contingency([_one_tight_half_day(holders, residents=50)])
        data = result.to_json(ranking_limit=0)
        assert result.counts()["n2_findings"] == holders * (holders - 1) // 2
        assert len(data["exposures"]) == 1  # 50 residents written once for every pair
        text = json.dumps(data, separators=(",", ":"))
        assert text.count('"R000"') == 1
        sizes[holders] = (len(text), result.counts()["n2_findings"])
    # Each further pair costs its ids, counts and one index (about 85 bytes): well under the
    # 50 residents that writing its exposure whole would cost again.
    residents = len(json.dumps([f"R{i:03d}" for i in range(50)], separators=(",", ":")))
    (s10, n10), (s20, n20), (s40, n40) = sizes[10], sizes[20], sizes[40]
    per_finding = (s40 - s10) / (n40 - n10)
    assert per_finding < 100 < residents
    assert (s20 - s10) / (n20 - n10) == pytest.approx(per_finding, rel=0.1)  # linear


def test_report_of_another_format_is_refused_when_read() -> None:
    data = _result(1).to_json()
    for older in ({**data, "format": 1}, {k: v for k, v in data.items() if k != "format"}):
        with pytest.raises(ValueError, match="format"):
            ContingencyResult.from_json(older)


@pytest.mark.parametrize("seed", range(10))
def test_merge_equals_whole_in_any_order_when_split_by_date(seed: int) -> None:
    rng = random.Random(seed)
    problems = random_problems(rng, days=6, max_pool=6)
    whole = analyze_contingency(problems)
    cut = START + timedelta(days=rng.randint(1, 4))
    parts = [
        analyze_contingency([p for p in problems if p.halfday.date < cut]),
        analyze_contingency([p for p in problems if p.halfday.date >= cut]),
    ]

    assert merge(parts) == whole == merge(parts[::-1])
    # Counts carried over from the parts (summed in time order) are the recount's.
    for merged in (merge(parts), merge(parts[::-1])):
        for found in (*merged.critical_faculty, *merged.fatal_pairs):
            recount = _recount([e.to_json() for e in found.exposures])
            assert (found.half_days, found.residents_affected) == recount
    # Through the chunks' wire form too (counts set once per group of findings).
    wired = [ContingencyResult.from_wire(json.loads(json.dumps(p.to_wire()))) for p in parts]
    for found in (*merge(wired).critical_faculty, *merge(wired).fatal_pairs):
        recount = _recount([e.to_json() for e in found.exposures])
        assert (found.half_days, found.residents_affected) == recount
    with pytest.raises(ValueError, match="overlap"):
        merge([whole, parts[0]])


def test_merge_counts_residents_once_when_two_parts_share_a_half_day() -> None:
    hd = HalfDay(START, Half.AM)
    at_a = Exposure(hd, "a", ("q",), ("x",), ("r1", "r2"))
    at_b = Exposure(hd, "b", ("q",), ("y",), ("r2", "r3"))
    site = {"a": HalfDayAtSite(hd, "a"), "b": HalfDayAtSite(hd, "b")}
    parts = [
        ContingencyResult((site[e.site],), (), (CriticalFaculty("f1", None, (e,)),), ())
        for e in (at_a, at_b)
    ]
    for part in parts:
        assert part.critical_faculty[0].residents_affected == 2  # counted before the merge

    (merged,) = merge(parts).critical_faculty

    # One half-day, three residents: not 2 + 2 summed from the parts.
    assert (merged.half_days, merged.residents_affected) == (1, 3)


def _unnamed(result: ContingencyResult) -> ContingencyResult:
    return ContingencyResult(
        result.analysed,
        result.gaps,
        tuple(replace(c, name=None) for c in result.critical_faculty),
        tuple(replace(p, names=(None, None)) for p in result.fatal_pairs),
    )


def _counts(result: ContingencyResult) -> list[tuple[int, int]]:
    findings = (*result.critical_faculty, *result.fatal_pairs)
    return [(f.half_days, f.residents_affected) for f in findings]


@pytest.mark.parametrize("seed", range(25))
def test_report_written_from_chunks_wire_forms_equals_the_whole_analysis_json(seed: int) -> None:
    """The merge task writes the report's JSON from the chunks' wire forms, building no
    finding: it must be the whole analysis's JSON, key order, counts and rankings included."""
    rng = random.Random(seed)
    problems = random_problems(rng, days=9, sites=2, max_pool=7)
    whole = analyze_contingency(problems)
    assert whole.critical_faculty or whole.fatal_pairs
    cuts = sorted(rng.sample(range(1, 9), 3))
    edges = [START + timedelta(days=d) for d in (0, *cuts, 9)]
    wires = [
        json.loads(json.dumps(analyze_contingency(
            [p for p in problems if a <= p.halfday.date < b]
        ).to_wire()))
        for a, b in zip(edges, edges[1:], strict=False)
    ]  # fmt: skip
    expected = _unnamed(whole).to_json(ranking_limit=3)

    report = report_of_wires(wires, ranking_limit=3)

    assert json.dumps(report) == json.dumps(expected)
    stored = StoredResult(json.loads(json.dumps(report)))
    assert (stored.n1_pass, stored.n2_pass) == (whole.n1_pass, whole.n2_pass)
    assert stored.counts() == whole.counts()
    assert stored.critical_faculty == _unnamed(whole).critical_faculty
    assert _counts(stored.whole) == _counts(whole)
    # Chunks out of order, or one given twice, are not joined as they come.
    assert report_of_wires(wires[::-1]) is None
    assert report_of_wires([*wires, wires[0]]) is None


@pytest.mark.parametrize("seed", range(10))
def test_chunk_merge_equals_the_whole_analysis_in_any_order_of_arrival(seed: int) -> None:
    rng = random.Random(seed)
    problems = random_problems(rng, days=6, sites=2, max_pool=6)
    whole = analyze_contingency(problems)
    edges = [START + timedelta(days=d) for d in (0, 2, 4, 6)]
    chunks = [
        json.loads(json.dumps(ChunkAnalysis(a, b - timedelta(days=1), analyze_contingency(
            [p for p in problems if a <= p.halfday.date < b]
        )).to_json()))
        for a, b in zip(edges, edges[1:], strict=False)
    ]  # fmt: skip
    rng.shuffle(chunks)

    merged = merge_chunk_json(chunks, limit=5).result

    assert merged.to_json() == _unnamed(whole).to_json()
    with pytest.raises(ValueError, match="overlap"):
        merge_chunk_json([*chunks, chunks[0]], limit=5)
