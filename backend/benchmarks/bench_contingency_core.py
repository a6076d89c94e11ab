"""Benchmark: the N-1 / N-2 contingency core against the brute-force reference.

Builds a large random but realistic program (seeded): by default 150 faculty over 52 weeks
(728 half-days), 1-3 sites per half-day, 20-60 pool members and about 10-40 slots over 1-6
of 30 qualifications per site-half-day. Times ``analyze_contingency`` (cold: shape memo
cleared; warm: memo kept), the cross-training what-if, and the brute-force reference on a
random sample of site-half-days, extrapolated to the whole horizon.

Run from backend/:  .venv/bin/python benchmarks/bench_contingency_core.py [--sample 6]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))  # for ``app`` and the reference in tests/resilience

from app.resilience.contingency import shape as contingency_shape  # noqa: E402
from app.resilience.contingency.core import analyze_contingency  # noqa: E402
from app.resilience.contingency.whatif import cross_training_candidates  # noqa: E402
from tests.resilience.factories import realistic_problems  # noqa: E402
from tests.resilience.reference import reference_analysis  # noqa: E402


def clear_memo() -> None:
    contingency_shape.analyse_shape.cache_clear()
    contingency_shape._analyse_component.cache_clear()


def best_of(runs: int, fn: Callable[[], object], cold: bool = True) -> float:
    """Best wall time of ``runs`` calls; ``cold`` clears the shape memo before each."""
    times = []
    for _ in range(runs):
        if cold:
            clear_memo()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=364)
    parser.add_argument("--faculty", type=int, default=150)
    parser.add_argument("--sample", type=int, default=20, help="site-half-days for the reference")
    args = parser.parse_args()

    t0 = time.perf_counter()
    problems = realistic_problems(random.Random(args.seed), days=args.days, n_faculty=args.faculty)
    build_s = time.perf_counter() - t0
    pools = [p.pool_size for p in problems]
    slots = [p.total_demand for p in problems]
    kinds = [len(p.demand_by_qualification()) for p in problems]
    print(f"program: {args.faculty} faculty, {args.days} days, seed {args.seed}")
    print(
        f"site-half-days: {len(problems)} over {len({p.halfday for p in problems})} half-days; "
        f"pool mean {statistics.mean(pools):.1f} (max {max(pools)}); "
        f"slots mean {statistics.mean(slots):.1f} (max {max(slots)}); "
        f"demanded qualifications mean {statistics.mean(kinds):.1f} (max {max(kinds)}); "
        f"generated in {build_s:.2f} s"
    )

    result = analyze_contingency(problems)
    print(f"findings: {result.counts()}  n1_pass={result.n1_pass} n2_pass={result.n2_pass}")
    cold = best_of(3, lambda: analyze_contingency(problems))
    warm = best_of(3, lambda: analyze_contingency(problems), cold=False)
    print(f"analyze_contingency (best of 3): {cold * 1000:.0f} ms cold, {warm * 1000:.0f} ms warm")

    t0 = time.perf_counter()
    options = cross_training_candidates(problems, result, limit=10)
    what_if_s = time.perf_counter() - t0
    best = (
        f"{options[0].person_id} + {options[0].qualification} removes {options[0].findings_removed}"
        if options
        else "none"
    )
    print(
        f"cross_training_candidates: {what_if_s:.2f} s; best option: {best}; "
        f"ratio to the cold analysis: {what_if_s / cold:.1f}"
    )

    sample = random.Random(args.seed + 1).sample(problems, min(args.sample, len(problems)))
    mine = analyze_contingency(sample)
    for detailed, what in (
        (False, "findings only"),
        (True, "findings + short qualifications, as the core reports"),
    ):
        t0 = time.perf_counter()
        ref = reference_analysis(sample, with_qualifications=detailed)
        ref_s = time.perf_counter() - t0
        n1 = {(p, (e.halfday, e.site)): e.qualifications for p, e in mine.n1_findings()}
        n2 = {(p, (e.halfday, e.site)): e.qualifications for p, e in mine.n2_findings()}
        if detailed:
            agree = n1 == ref.n1 and n2 == ref.n2
        else:
            agree = n1.keys() == ref.n1.keys() and n2.keys() == ref.n2.keys()
        extrapolated = ref_s / len(sample) * len(problems)
        print(
            f"brute-force reference ({what}): {ref_s:.2f} s on a random sample of "
            f"{len(sample)} site-half-days (agrees with the core: {agree}); EXTRAPOLATED "
            f"to all {len(problems)}: {extrapolated:.0f} s; "
            f"speed-up vs cold core: {extrapolated / cold:,.0f}x"
        )


if __name__ == "__main__":
    main()
