"""Benchmark: the N-1 / N-2 contingency core against the PRUNED brute force, on three programs.

Programs (``demo-data --seed 1 --weeks 52`` as generated, in memory, a year of half-days):
the benchmark program (150 faculty, 30 qualifications), a large one (600 faculty) and a
cross-trained one (120 faculty, 18 qualifications, ``--cross-trained 0.5``).

Per program, each round measures in one run: the core's N-1 + N-2 analysis of the year (shape
memo cleared), the cross-training what-if on its result, a two-week absence what-if of its
most critical member (rebuilding the window's problems included), and the baseline: the pruned
brute force of tests/resilience/reference.py (re-solve every removal but those one maximum
matching survives; findings only, without the short qualifications the core also reports, so
the baseline is the cheaper side). The baseline runs on a stratified sample of site-half-days
(strata: pool-size quartiles), and on a half-day with more removals to test than
``--budget`` it times a random ``--budget`` of them and scales by the count; it is
EXTRAPOLATED to the whole year by strata, with one standard error. Rounds repeat 3 times; the
median is printed.

Run from backend/:  .venv/bin/python benchmarks/bench_contingency_core.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import TypeVar

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))  # for ``app`` and the reference in tests/resilience

from app.demo.generator import generate_demo_program  # noqa: E402
from app.domain.coverage import SiteHalfDay, build_site_half_days  # noqa: E402
from app.domain.schedule import Absence, ScheduleSnapshot  # noqa: E402
from app.programs.convert import snapshot_from_document  # noqa: E402
from app.resilience.contingency import shape as contingency_shape  # noqa: E402
from app.resilience.contingency.core import ContingencyResult, analyze_contingency  # noqa: E402
from app.resilience.contingency.whatif import (  # noqa: E402
    absence_impact,
    cross_training_candidates,
)
from tests.resilience.reference import matching_size, max_matching  # noqa: E402

T = TypeVar("T")
START = date(2026, 11, 30)
PROGRAMS: dict[str, dict[str, float]] = {
    "benchmark 150 fac / 30 qual": {"faculty": 150, "qualifications": 30},
    "large 600 fac / 30 qual": {"faculty": 600, "qualifications": 30},
    "cross-trained 120 fac / 18 qual x0.5": {
        "faculty": 120,
        "qualifications": 18,
        "cross_trained": 0.5,
    },
}


def timed(fn: Callable[[], T]) -> tuple[T, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def clear_memo() -> None:
    contingency_shape.analyse_shape.cache_clear()
    contingency_shape._analyse_component.cache_clear()


def best_of(runs: int, fn: Callable[[], object], cold: bool = True) -> float:
    """Best wall time of ``runs`` calls; ``cold`` clears the shape memo before each."""
    times = []
    for _ in range(runs):
        if cold:
            clear_memo()
        times.append(timed(fn)[1])
    return min(times)


def brute_force_seconds(
    problem: SiteHalfDay, critical: set[str], budget: int, rng: random.Random
) -> float:
    """Time of ``pruned_reference_analysis([problem], with_qualifications=False)``.

    The same re-solves in the same way (``matching_size`` of the reference); past ``budget``
    removals of one kind, a random ``budget`` of them is timed and scaled by the count. Which
    members are N-1 failures (and so skip the pair loop) is taken from the core's result,
    which the tests check equal to the reference's.
    """
    whole, t_whole = timed(lambda: max_matching(problem, frozenset()))
    if len(whole) < sum(d.demand for d in problem.demands):
        return t_whole
    ids = sorted(m.person_id for m in problem.pool)
    spare = {f for f in ids if f not in whole}
    singles = [frozenset({f}) for f in ids if f not in spare]
    pairs = [
        frozenset(pair)
        for pair in combinations(ids, 2)
        if not (pair[0] in critical or pair[1] in critical or set(pair) <= spare)
    ]
    total = t_whole
    for removals in (singles, pairs):
        tried = removals if len(removals) <= budget else rng.sample(removals, budget)
        _, t = timed(lambda tried=tried: [matching_size(problem, r) for r in tried])
        total += t * len(removals) / max(1, len(tried))
    return total


def stratified_brute_force(
    problems: Sequence[SiteHalfDay],
    result: ContingencyResult,
    per_stratum: int,
    budget: int,
    rng: random.Random,
) -> tuple[float, float, int]:
    """Extrapolated brute-force seconds for all ``problems``, its standard error, sample size."""
    critical: dict[tuple[object, str], set[str]] = {}
    for pid, e in result.n1_findings():
        critical.setdefault((e.halfday, e.site), set()).add(pid)
    demanding = sorted((p for p in problems if p.demands), key=lambda p: p.pool_size)
    strata = [demanding[i * len(demanding) // 4 : (i + 1) * len(demanding) // 4] for i in range(4)]
    estimate = variance = 0.0
    sampled = 0
    for stratum in strata:
        chosen = rng.sample(stratum, min(per_stratum, len(stratum)))
        times = [
            brute_force_seconds(p, critical.get((p.halfday, p.site), set()), budget, rng)
            for p in chosen
        ]
        sampled += len(chosen)
        estimate += statistics.mean(times) * len(stratum)
        if len(times) > 1:
            variance += len(stratum) ** 2 * statistics.variance(times) / len(times)
    return estimate, variance**0.5, sampled


def absence_what_if(
    snapshot: ScheduleSnapshot, before: list[SiteHalfDay], person_id: str
) -> tuple[int, float]:
    """A two-week absence of ``person_id`` from the second week: findings changed, seconds."""
    first, last = START + timedelta(days=7), START + timedelta(days=20)
    window = [p for p in before if first <= p.halfday.date <= last]

    def run() -> int:
        absence = Absence("bench", person_id, first, last, "vacation")
        after_snapshot = replace(snapshot, absences=(*snapshot.absences, absence))
        after = build_site_half_days(after_snapshot, first, last)
        impact = absence_impact(window, after)
        return len(impact.n1_added) + len(impact.n2_added) + len(impact.gaps_added)

    return timed(run)


def measure(
    name: str, knobs: dict[str, float], args: argparse.Namespace
) -> list[tuple[float, ...]]:
    """The rounds of one program: core, cross-training, absence, brute force, its error, ratio."""
    doc, gen_s = timed(lambda: generate_demo_program(seed=1, weeks=52, start=START, **knobs))  # type: ignore[arg-type]
    snapshot = snapshot_from_document(doc)
    problems, build_s = timed(
        lambda: build_site_half_days(snapshot, START, START + timedelta(days=363))
    )
    pools = [p.pool_size for p in problems]
    print(
        f"\n{name}: {len(problems)} site-half-days, pool mean {statistics.mean(pools):.0f} "
        f"max {max(pools)}; generated in {gen_s:.1f} s, problems built in {build_s:.1f} s"
    )
    rounds = []
    for r in range(args.rounds):
        clear_memo()
        result, core_s = timed(lambda: analyze_contingency(problems))
        _, cross_s = timed(lambda r=result: cross_training_candidates(problems, r, limit=5))
        ranking = result.critical_ranking()
        most = ranking[0].person_ids[0] if ranking else problems[0].pool[0].person_id
        absent_s = absence_what_if(snapshot, problems, most)[1]
        brute, error, sampled = stratified_brute_force(
            problems, result, args.per_stratum, args.budget, random.Random(r)
        )
        rounds.append((core_s, cross_s, absent_s, brute, error, brute / core_s))
        print(
            f"  round {r + 1}: core {core_s:.2f} s; cross-training {cross_s:.2f} s; "
            f"two-week absence {absent_s:.2f} s; pruned brute force EXTRAPOLATED from "
            f"{sampled} site-half-days: {brute:,.0f} s +- {error:,.0f} s (1 s.e.); "
            f"ratio {brute / core_s:,.0f}x"
        )
    print(f"  findings: {result.counts()}")
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-stratum", type=int, default=2, help="sampled site-half-days")
    parser.add_argument("--budget", type=int, default=40, help="timed removals per kind")
    parser.add_argument("--only", default=None, help="run the programs whose name has this")
    args = parser.parse_args()
    print("N-1 + N-2 core vs the pruned brute force (the machine is shared: absolute times are")
    print("noisy, ratios are taken within one round; the median of the rounds is printed)")
    rows = [
        (name, measure(name, knobs, args))
        for name, knobs in PROGRAMS.items()
        if not args.only or args.only in name
    ]
    print(
        f"\n{'program':<38} {'core s':>7} {'cross s':>8} {'absence s':>9} "
        f"{'brute s (extrap.) +- 1 s.e.':>30} {'ratio (min-max)':>28}"
    )
    for name, rounds in rows:
        core_s, cross_s, absent_s, brute, error, ratio = (
            statistics.median(col) for col in zip(*rounds, strict=True)
        )
        ratios = [x[-1] for x in rounds]
        spread = f"{ratio:,.0f}x ({min(ratios):,.0f}-{max(ratios):,.0f})"
        print(
            f"{name:<38} {core_s:>7.2f} {cross_s:>8.2f} {absent_s:>9.2f} "
            f"{brute:>15,.0f} +- {error:<12,.0f} {spread:>28}"
        )
    print("target: ratio >= 1000x on every program")


if __name__ == "__main__":
    main()
