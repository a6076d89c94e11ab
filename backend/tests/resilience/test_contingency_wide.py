"""The N-1 / N-2 core, cross-training and the absence what-if on WIDE half-days, against the
brute-force references (tests/resilience/reference.py).

Wide: many linked qualifications (members hold several of up to 18), pools of 60+ members,
demand up to the pool size, members sharing profiles (types with counts > 1), some half-days
left with gaps. ``hall_max_quals=0`` forces the matching method everywhere; the default picks
the Hall enumeration for small components.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.coverage import ActivityDemand, PoolMember, SiteHalfDay, gaps_of
from app.domain.schedule import Category, Half, HalfDay
from app.resilience.contingency.core import MaskCache, analyze_contingency, problem_shape
from app.resilience.contingency.grant_delta import GrantSite
from app.resilience.contingency.whatif import absence_impact
from tests.resilience.factories import START, random_problems
from tests.resilience.reference import (
    ReferenceResult,
    pruned_reference_analysis,
    reference_analysis,
    warm_reference_analysis,
)


def wide_site_half_day(
    rng: random.Random,
    members: int,
    n_quals: int,
    share: float,
    halfday: HalfDay | None = None,
    site: str = "main",
    keep_gaps: bool | None = None,
) -> SiteHalfDay:
    """A pool where each member holds about ``share`` of the qualifications, half of them on
    a few shared profiles; demand near the pool size, trimmed to coverage, then
    (``keep_gaps``, default one time in six) raised a slot at a time until one goes unfilled."""
    quals = [f"q{i:02d}" for i in range(n_quals)]

    def draw() -> frozenset[str]:
        return frozenset(q for q in quals if rng.random() < share) or frozenset({quals[0]})

    profiles = [draw() for _ in range(max(1, members // 6))]
    pool = tuple(
        PoolMember(f"f{i:03d}", rng.choice(profiles) if rng.random() < 0.5 else draw())
        for i in range(members)
    )
    per_qual = [0] * n_quals
    for _ in range(rng.randint(members // 2, members)):
        per_qual[min(rng.randrange(n_quals), rng.randrange(n_quals))] += 1  # skewed
    demands = tuple(
        sorted(
            (
                ActivityDemand(f"a_{q}", rng.choice(list(Category)), q, d, (f"r_{q}_{d}",))
                for q, d in zip(quals, per_qual, strict=True)
                if d
            ),
            key=lambda d: (d.category.protection, d.activity_id),
        )
    )
    problem = SiteHalfDay(halfday or HalfDay(START, Half.AM), site, demands, pool)
    while missing := gaps_of(problem):
        short = {g.activity_id: g.missing for g in missing}
        problem = replace(
            problem,
            demands=tuple(
                replace(d, demand=d.demand - short.get(d.activity_id, 0))
                for d in problem.demands
                if d.demand > short.get(d.activity_id, 0)
            ),
        )
    if keep_gaps is None:
        keep_gaps = rng.random() < 1 / 6
    for _ in range(0 if keep_gaps else rng.randint(0, 3)):  # a little slack: fatal pairs
        if problem.demands:
            less = rng.randrange(len(problem.demands))
            problem = replace(
                problem,
                demands=tuple(
                    replace(d, demand=d.demand - (i == less))
                    for i, d in enumerate(problem.demands)
                    if d.demand - (i == less)
                ),
            )
    while keep_gaps and problem.demands and not gaps_of(problem):
        more = rng.randrange(len(problem.demands))  # one slot more until one goes unfilled
        problem = replace(
            problem,
            demands=tuple(
                replace(d, demand=d.demand + (i == more)) for i, d in enumerate(problem.demands)
            ),
        )
    return problem


def findings_of(result: object) -> ReferenceResult:
    """The product's result in the reference's terms."""
    from app.resilience.contingency.core import ContingencyResult

    assert isinstance(result, ContingencyResult)
    return ReferenceResult(
        {(g.halfday, g.site): sum(x.missing for x in g.gaps) for g in result.gaps},
        {(pid, (e.halfday, e.site)): e.qualifications for pid, e in result.n1_findings()},
        {(ids, (e.halfday, e.site)): e.qualifications for ids, e in result.n2_findings()},
    )


def test_references_agree_when_random_problems() -> None:
    """The pruned and the warm-started brute force give the plain brute force's answers."""
    rng = random.Random(99)
    findings = 0
    for _ in range(40):
        problems = random_problems(
            rng, days=2, sites=2, n_quals=rng.randint(1, 6), max_pool=rng.randint(3, 10)
        )
        plain = reference_analysis(problems)
        assert pruned_reference_analysis(problems) == plain
        assert warm_reference_analysis(problems) == plain
        findings += len(plain.n1) + len(plain.n2)
    for _ in range(6):
        problems = [wide_site_half_day(rng, rng.randint(12, 18), rng.randint(4, 8), 0.4)]
        plain = reference_analysis(problems)
        assert pruned_reference_analysis(problems) == plain
        assert warm_reference_analysis(problems) == plain
        findings += len(plain.n1) + len(plain.n2)
    assert findings > 100


def test_analysis_matches_reference_when_wide() -> None:
    """Both methods: the Hall enumeration (small components) and the matching method."""
    rng = random.Random(20261202)
    seen = {"n1": 0, "n2": 0, "gaps": 0}
    for n in range(8):
        problem = wide_site_half_day(
            rng,
            rng.randint(60, 72),
            rng.randint(10, 18),
            rng.choice([0.2, 0.35, 0.5]),
            keep_gaps=n % 4 == 3,
        )
        problem = replace(problem, site=f"s{n}")
        expected = warm_reference_analysis([problem])
        for hall_max_quals in (10, 0):
            result = analyze_contingency([problem], hall_max_quals=hall_max_quals)
            assert findings_of(result) == expected
        seen["n1"] += len(expected.n1)
        seen["n2"] += len(expected.n2)
        seen["gaps"] += len(expected.missing)
    assert seen["n1"] >= 10 and seen["n2"] >= 20 and seen["gaps"], seen  # every kind compared


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    members=st.integers(8, 40),
    n_quals=st.integers(2, 14),
    share=st.sampled_from([0.15, 0.3, 0.5, 0.7]),
)
def test_analysis_matches_reference_when_random_wide(
    seed: int, members: int, n_quals: int, share: float
) -> None:
    problem = wide_site_half_day(random.Random(seed), members, n_quals, share)
    expected = warm_reference_analysis([problem])
    assert findings_of(analyze_contingency([problem], hall_max_quals=0)) == expected
    assert findings_of(analyze_contingency([problem])) == expected


def granted(problem: SiteHalfDay, pid: str, qual: str) -> SiteHalfDay:
    pool = tuple(
        replace(m, qualifications=m.qualifications | {qual}) if m.person_id == pid else m
        for m in problem.pool
    )
    return replace(problem, pool=pool)


def delta(before: ReferenceResult, after: ReferenceResult) -> tuple[int, ...]:
    return (
        len(before.n1.keys() - after.n1.keys()),
        len(before.n2.keys() - after.n2.keys()),
        len(after.n1.keys() - before.n1.keys()),
        len(after.n2.keys() - before.n2.keys()),
        sum(before.missing.values()) - sum(after.missing.values()),
    )


def test_grant_delta_matches_reference_when_wide() -> None:
    """Grants on wide half-days, with and without gaps, against re-solving after the grant."""
    rng = random.Random(7)
    checked = changed = uncovered = filled = 0
    while checked < 160 or uncovered < 3:
        problem = wide_site_half_day(
            rng, rng.randint(14, 36), rng.randint(3, 12), rng.choice([0.2, 0.4, 0.6])
        )
        before = warm_reference_analysis([problem])
        if not (before.n1 or before.n2 or before.missing):
            continue
        uncovered += bool(before.missing)
        shape = problem_shape(problem, MaskCache())
        site = GrantSite(shape)
        type_of = site.member_types(shape)
        grants = [
            (m.person_id, q) for m in problem.pool for q in site.quals if q not in m.qualifications
        ]
        for pid, qual in rng.sample(grants, min(len(grants), 16)):
            after = warm_reference_analysis([granted(problem, pid, qual)])
            assert site.effect(type_of.get(pid), qual) == delta(before, after), (pid, qual)
            checked += 1
            changed += any(delta(before, after))
            filled += delta(before, after)[4] > 0
    assert changed > 20 and filled > 0


def test_absence_impact_matches_reference_when_wide() -> None:
    rng = random.Random(11)
    for _ in range(3):
        before = [
            wide_site_half_day(
                rng,
                rng.randint(20, 64),
                rng.randint(6, 18),
                0.4,
                HalfDay(START + timedelta(d), h),
                "main",
            )
            for d in range(2)
            for h in Half
        ]
        lost = rng.choice(before[0].pool).person_id
        after = [
            replace(p, pool=tuple(m for m in p.pool if m.person_id != lost)) if i < 3 else p
            for i, p in enumerate(before)
        ]
        impact = absence_impact(before, after)
        ref_a, ref_b = warm_reference_analysis(before), warm_reference_analysis(after)
        assert {
            (p, (e.halfday, e.site)) for p, e in impact.n1_added
        } == ref_b.n1.keys() - ref_a.n1.keys()
        assert {
            (p, (e.halfday, e.site)) for p, e in impact.n1_removed
        } == ref_a.n1.keys() - ref_b.n1.keys()
        assert {
            (p, (e.halfday, e.site)) for p, e in impact.n2_added
        } == ref_b.n2.keys() - ref_a.n2.keys()
        assert {
            (p, (e.halfday, e.site)) for p, e in impact.n2_removed
        } == ref_a.n2.keys() - ref_b.n2.keys()
        for p, e in impact.n1_added:
            assert e.qualifications == ref_b.n1[(p, (e.halfday, e.site))]
        for ids, e in impact.n2_added:
            assert e.qualifications == ref_b.n2[(ids, (e.halfday, e.site))]
