"""N-1 / N-2 contingency core against the brute-force reference (tests/resilience/reference.py).

Every comparison is of the full result: the set of (faculty, half-day, site) N-1 findings and
(pair, half-day, site) fatal findings with the qualifications that go short, the missing slots
per uncovered site-half-day, and n1_pass / n2_pass. ``hall_max_quals=0`` forces the matching
method, so both exact methods are checked.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.coverage import ActivityDemand, PoolMember, SiteHalfDay, build_site_half_days
from app.domain.schedule import Absence, Category, Half, HalfDay
from app.resilience.contingency.core import ContingencyResult, analyze_contingency, merge
from app.resilience.contingency.whatif import absence_impact, cross_training_candidates
from tests.resilience.factories import (
    START,
    random_problems,
    random_site_half_day,
    random_snapshot,
)
from tests.resilience.reference import ReferenceResult, reference_analysis

METHODS = [pytest.param(10, id="hall"), pytest.param(0, id="matching")]
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_matches_reference(problems: Sequence[SiteHalfDay], hall_max_quals: int = 10) -> None:
    result = analyze_contingency(problems, hall_max_quals=hall_max_quals)
    ref = reference_analysis(problems)
    assert {(g.halfday, g.site): g.missing for g in result.gaps} == ref.missing
    n1 = {(pid, (e.halfday, e.site)): e.qualifications for pid, e in result.n1_findings()}
    n2 = {(ids, (e.halfday, e.site)): e.qualifications for ids, e in result.n2_findings()}
    assert n1 == ref.n1
    assert n2 == ref.n2
    assert (result.n1_pass, result.n2_pass) == (ref.n1_pass, ref.n2_pass)
    assert {(a.halfday, a.site) for a in result.analysed} == {(p.halfday, p.site) for p in problems}
    by_where = {(p.halfday, p.site): p for p in problems}
    for _, e in [*result.n1_findings(), *result.n2_findings()]:
        demands = [
            d for d in by_where[(e.halfday, e.site)].demands if d.qualification in e.qualifications
        ]
        assert e.activity_ids == tuple(d.activity_id for d in demands)
        assert e.residents == tuple(sorted({r for d in demands for r in d.residents}))


@st.composite
def site_half_days(draw: st.DrawFn) -> SiteHalfDay:
    """A small site-half-day whose structure hypothesis can shrink."""
    n_quals = draw(st.integers(1, 5))
    quals = [f"q{i}" for i in range(n_quals)]
    demands = [
        ActivityDemand(
            f"act{a}",
            draw(st.sampled_from(list(Category))),
            draw(st.sampled_from(quals)),
            draw(st.integers(1, 3)),
            tuple(f"r{a}_{i}" for i in range(draw(st.integers(0, 2)))),
        )
        for a in range(draw(st.integers(0, 4)))
    ]
    demands.sort(key=lambda d: (d.category.protection, d.activity_id))
    held = draw(st.lists(st.sets(st.sampled_from(quals)), max_size=9))
    pool = tuple(PoolMember(f"f{i}", frozenset(h)) for i, h in enumerate(held))
    return SiteHalfDay(HalfDay(START, Half.AM), "main", tuple(demands), pool)


@pytest.mark.parametrize("hall_max_quals", METHODS)
@SETTINGS
@given(problem=site_half_days())
def test_analysis_matches_reference_when_random_site_half_day(
    hall_max_quals: int, problem: SiteHalfDay
) -> None:
    assert_matches_reference([problem], hall_max_quals)


@pytest.mark.parametrize("hall_max_quals", METHODS)
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32), faculty=st.integers(6, 14), quals=st.integers(1, 4))
def test_analysis_matches_reference_when_random_snapshot(
    hall_max_quals: int, seed: int, faculty: int, quals: int
) -> None:
    snapshot = random_snapshot(random.Random(seed), n_faculty=faculty, n_quals=quals)
    problems = build_site_half_days(snapshot, START, START + timedelta(days=2))
    assert_matches_reference(problems, hall_max_quals)


@pytest.mark.parametrize("hall_max_quals", METHODS)
def test_analysis_matches_reference_when_bulk_seeded(hall_max_quals: int) -> None:
    rng = random.Random(20250707)
    for _ in range(300):
        problems = random_problems(
            rng, days=5, sites=2, n_quals=rng.randint(1, 6), max_pool=rng.randint(3, 10)
        )
        assert_matches_reference(problems, hall_max_quals)


def test_analysis_matches_reference_when_component_is_wide() -> None:
    """Eleven qualifications bridged into one component take the matching method by default."""
    rng = random.Random(11)
    quals = tuple(f"q{i}" for i in range(11))
    for _ in range(40):
        problem = random_site_half_day(
            rng, max_pool=6, max_activities=11, max_demand=1, qual_names=quals
        )
        demands = tuple(
            ActivityDemand(f"act_{q}", Category.CONTINUITY_OF_CARE, q, 1, (f"r_{q}",))
            for q in quals
        )
        chain = tuple(
            PoolMember(f"c{i:02d}", frozenset({quals[i], quals[i + 1]}))
            for i in range(len(quals) - 1)
        )
        wide = replace(problem, demands=demands, pool=chain + problem.pool)
        assert_matches_reference([wide])


def test_analysis_is_deterministic_when_problem_order_changes() -> None:
    problems = random_problems(random.Random(3), days=6, sites=3, n_quals=4, max_pool=9)
    shuffled = problems[:]
    random.Random(4).shuffle(shuffled)
    a, b = analyze_contingency(problems), analyze_contingency(shuffled)
    assert a == b
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())


def round_trip(result: ContingencyResult) -> ContingencyResult:
    return ContingencyResult.from_json(json.loads(json.dumps(result.to_json())))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), cuts=st.lists(st.integers(1, 13), max_size=4))
def test_merge_equals_whole_when_split_into_chunks(seed: int, cuts: list[int]) -> None:
    problems = random_problems(random.Random(seed), days=7, sites=2, n_quals=4, max_pool=9)
    whole = analyze_contingency(problems)
    bounds = [0, *sorted({2 * c for c in cuts}), len(problems)]
    parts = [analyze_contingency(problems[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    assert merge(parts) == whole
    assert merge([round_trip(p) for p in reversed(parts)]) == whole
    assert round_trip(whole) == whole


def test_merge_rejects_overlap_when_chunks_share_a_half_day() -> None:
    problems = random_problems(random.Random(5), days=2, sites=1)
    part = analyze_contingency(problems)
    with pytest.raises(ValueError):
        merge([part, part])


def test_rankings_match_reference_when_counted_by_brute_force() -> None:
    problems = random_problems(random.Random(8), days=14, sites=2, n_quals=4, max_pool=9)
    result = analyze_contingency(problems)
    ref = reference_analysis(problems)
    residents_of = {
        (p.halfday, p.site, q): {r for d in p.demands if d.qualification == q for r in d.residents}
        for p in problems
        for q in {d.qualification for d in p.demands}
    }

    def tally(findings: dict) -> dict:  # type: ignore[type-arg]
        out: dict = {}  # type: ignore[type-arg]
        for (who, (hd, site)), quals in findings.items():
            days, residents = out.setdefault(
                who if isinstance(who, tuple) else (who,), (set(), set())
            )
            days.add(hd)
            residents.update((r, hd) for q in quals for r in residents_of[(hd, site, q)])
        return {k: (len(d), len(r)) for k, (d, r) in out.items()}

    assert ref.n1 and ref.n2  # both rankings have rows to compare
    for ranking, expected in (
        (result.critical_ranking(), tally(ref.n1)),
        (result.pair_ranking(), tally(ref.n2)),
    ):
        assert {r.person_ids: (r.half_days, r.residents_affected) for r in ranking} == expected
        keys = [(-r.half_days, -r.residents_affected, r.person_ids) for r in ranking]
        assert keys == sorted(keys)
    by_res = result.critical_ranking(by_residents=True)
    keys = [(-r.residents_affected, -r.half_days, r.person_ids) for r in by_res]
    assert keys == sorted(keys)


def grant_everywhere(problems: Sequence[SiteHalfDay], pid: str, qual: str) -> list[SiteHalfDay]:
    return [
        replace(
            p,
            pool=tuple(
                replace(m, qualifications=m.qualifications | {qual}) if m.person_id == pid else m
                for m in p.pool
            ),
        )
        for p in problems
    ]


def finding_delta(before: ReferenceResult, after: ReferenceResult) -> tuple[int, ...]:
    return (
        len(before.n1.keys() - after.n1.keys()),
        len(before.n2.keys() - after.n2.keys()),
        len(after.n1.keys() - before.n1.keys()),
        len(after.n2.keys() - before.n2.keys()),
        sum(before.missing.values()) - sum(after.missing.values()),
    )


@pytest.mark.parametrize("seed", range(6))
def test_cross_training_counts_match_reference_when_granted(seed: int) -> None:
    problems = random_problems(random.Random(seed), days=3, sites=2, n_quals=4, max_pool=7)
    result = analyze_contingency(problems)
    options = cross_training_candidates(problems, result, limit=None)
    before = reference_analysis(problems, with_qualifications=False)
    assert options, "the random program should have something to cross-train"
    for opt in options:
        after = reference_analysis(
            grant_everywhere(problems, opt.person_id, opt.qualification), with_qualifications=False
        )
        counts = (opt.n1_removed, opt.n2_removed, opt.n1_added, opt.n2_added, opt.gap_slots_filled)
        assert counts == finding_delta(before, after)
    assert [o.sort_key() for o in options] == sorted(o.sort_key() for o in options)
    assert cross_training_candidates(problems, result, limit=3) == options[:3]


@pytest.mark.parametrize("seed", range(10))
def test_absence_impact_matches_reference_when_absence_added(seed: int) -> None:
    rng = random.Random(seed)
    snapshot = random_snapshot(rng)
    end = START + timedelta(days=2)
    faculty = [p for p in snapshot.people if p.is_faculty]
    absence = Absence("new", rng.choice(faculty).id, START, START + timedelta(days=1), "sick")
    after_snapshot = replace(snapshot, absences=(*snapshot.absences, absence))
    before = build_site_half_days(snapshot, START, end)
    after = build_site_half_days(after_snapshot, START, end)
    impact = absence_impact(before, after)
    ref_before, ref_after = reference_analysis(before), reference_analysis(after)
    assert {(p, (e.halfday, e.site)) for p, e in impact.n1_added} == (
        ref_after.n1.keys() - ref_before.n1.keys()
    )
    assert {(p, (e.halfday, e.site)) for p, e in impact.n1_removed} == (
        ref_before.n1.keys() - ref_after.n1.keys()
    )
    assert {(p, (e.halfday, e.site)) for p, e in impact.n2_added} == (
        ref_after.n2.keys() - ref_before.n2.keys()
    )
    assert {(p, (e.halfday, e.site)) for p, e in impact.n2_removed} == (
        ref_before.n2.keys() - ref_after.n2.keys()
    )
    whole_before, whole_after = analyze_contingency(before), analyze_contingency(after)
    gaps_before = {g for s in whole_before.gaps for g in s.gaps}
    gaps_after = {g for s in whole_after.gaps for g in s.gaps}
    assert set(impact.gaps_added) == gaps_after - gaps_before
    assert set(impact.gaps_removed) == gaps_before - gaps_after
    changed_missing = {
        w
        for w in ref_before.missing.keys() | ref_after.missing.keys()
        if ref_before.missing.get(w) != ref_after.missing.get(w)
    }
    assert {(g.halfday, g.site) for g in impact.gaps_added + impact.gaps_removed} >= changed_missing
    assert absence_impact(before, before).changes_nothing


def test_result_names_people_when_given_and_survive_json() -> None:
    snapshot = random_snapshot(random.Random(3), n_faculty=10)
    problems = build_site_half_days(snapshot, START, START + timedelta(days=2))
    result = analyze_contingency(problems, snapshot.people_by_id)
    assert result.critical_faculty and result.fatal_pairs  # both loops below have rows (seed 3)
    for c in result.critical_faculty:
        assert c.name == snapshot.people_by_id[c.person_id].name
    for p in result.fatal_pairs:
        assert p.names == tuple(snapshot.people_by_id[i].name for i in p.person_ids)
    assert round_trip(result) == result
    assert result.to_json()["counts"] == result.counts()
