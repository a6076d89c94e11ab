"""Benchmark: generating the demo program and turning it into a snapshot.

For the default program (22 faculty, 52 weeks, 8 qualifications) and the large one (150
faculty, 52 weeks, 30 qualifications, residents scaled), prints the document's size, the
seconds to generate it (best of ``--runs``), to validate it as an import would, and to convert
it into a schedule snapshot, and what coverage makes of it (site-half-days, gaps, utilization).

Run from backend/:  .venv/bin/python benchmarks/bench_demo.py [--runs 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from app.demo.generator import generate_demo_program  # noqa: E402
from app.domain.coverage import build_site_half_days, gaps_of  # noqa: E402
from app.programs.convert import snapshot_from_document  # noqa: E402
from app.programs.document import validate_program  # noqa: E402

START = date(2026, 1, 5)  # a fixed Monday, so that runs compare
SIZES: dict[str, dict[str, int]] = {
    "default": {"faculty": 22, "weeks": 52, "qualifications": 8},
    "large": {"faculty": 150, "weeks": 52, "qualifications": 30},
}


def best_of(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    for label, size in SIZES.items():
        make = partial(generate_demo_program, seed=args.seed, start=START, **size)
        generate_s, doc = best_of(args.runs, make)
        people = doc["people"]
        faculty = sum(1 for p in people if p["kind"] == "faculty")
        megabytes = len(json.dumps(doc)) / 1e6
        print(
            f"{label}: {faculty} faculty, {len(people) - faculty} residents, "
            f"{len(doc['qualifications'])} qualifications, {len(doc['activities'])} activities, "
            f"{len(doc['assignments'])} assignments, {len(doc['absences'])} absences, "
            f"{megabytes:.1f} MB of JSON"
        )
        validate_s, _ = best_of(1, partial(validate_program, doc, source="demo"))
        convert_s, snapshot = best_of(args.runs, partial(snapshot_from_document, doc))
        # Baseline, same run: a JSON round trip of the same document (what reading the
        # program file costs before anything is checked or built).
        json_s, _ = best_of(args.runs, lambda doc=doc: json.loads(json.dumps(doc)))
        print(
            f"  generate {generate_s:.2f} s (best of {args.runs}); validate {validate_s:.2f} s; "
            f"convert {convert_s:.2f} s (best of {args.runs}); JSON round trip {json_s:.2f} s"
        )
        print(
            f"    ratios to the JSON round trip: generate {generate_s / json_s:.1f}, "
            f"validate {validate_s / json_s:.1f}, convert {convert_s / json_s:.1f}"
        )
        days = sorted({a.halfday.date for a in snapshot.assignments})
        build_s, problems = best_of(
            args.runs, partial(build_site_half_days, snapshot, days[0], days[-1])
        )
        gaps_s, gaps = best_of(args.runs, lambda ps=problems: [g for p in ps for g in gaps_of(p)])
        demand = sum(p.total_demand for p in problems)
        pool = sum(p.pool_size for p in problems)
        print(
            f"  coverage: {len(problems)} site-half-days, {len(gaps)} gaps, "
            f"utilization {demand / pool:.2f}; problems built in {build_s:.2f} s, gaps found in "
            f"{gaps_s:.2f} s (ratio {gaps_s / build_s:.2f})"
        )


if __name__ == "__main__":
    main()
