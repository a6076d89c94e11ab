"""Benchmark: the 90-day utilization forecast of the benchmark program, against a naive baseline.

The program is ``demo-data --seed 1 --faculty 150 --weeks 52 --qualifications 30``, imported
into a fresh database (SQLite in a temporary folder, or ``--database-url``). Measured in one
run, side by side:

* the forecast as the daily task runs it (``run_forecast``: load, demand and pool, rates,
  Monte Carlo with FORECAST_SAMPLES samples per day, store), and its Monte Carlo part alone;
* the early warning's share of a health check, with 120 days of checks stored (every 15 min);
* the naive baseline: for each sample and each site-half-day, re-solve the coverage matching
  (``coverage.is_covered`` with the sample's absentees excluded). It is timed on a SUBSET
  (``--baseline-days`` days x ``--baseline-samples`` samples) and EXTRAPOLATED to all
  site-half-days of the horizon x the forecast's samples. On that subset both methods decide
  the same samples, and their answers are compared one by one.

Run from backend/:  .venv/bin/python benchmarks/bench_forecast.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from itertools import groupby
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

import numpy as np  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.core.celery_app import HEALTH_CHECK_INTERVAL_MIN  # noqa: E402
from app.core.config import TASK_SOFT_TIME_LIMIT_S, get_settings  # noqa: E402
from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade_database  # noqa: E402
from app.demo.generator import generate_demo_program  # noqa: E402
from app.domain.coverage import is_covered  # noqa: E402
from app.domain.snapshot import load_snapshot  # noqa: E402
from app.models.resilience import HealthCheckRecord  # noqa: E402
from app.programs.service import import_program  # noqa: E402
from app.resilience.contingency.core import problem_shape  # noqa: E402
from app.resilience.forecast.demand import forecast_problems  # noqa: E402
from app.resilience.forecast.margins import (  # noqa: E402
    EARLY_WARNING_LOOKBACK_DAYS,
    early_warning_now,
)
from app.resilience.forecast.montecarlo import (  # noqa: E402
    hall_sets,
    shortfall_by_day,
    uncovered_by_losses,
)
from app.resilience.forecast.rates import AbsenceRates  # noqa: E402
from app.resilience.forecast.service import run_forecast  # noqa: E402
from app.resilience.health.service import run_health_check  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--days-ahead", type=int, default=90)
    parser.add_argument("--baseline-days", type=int, default=2)
    parser.add_argument("--baseline-samples", type=int, default=200)
    args = parser.parse_args()
    settings = get_settings()

    tmp = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    start = date(2026, 11, 30)
    doc = generate_demo_program(seed=1, faculty=150, weeks=52, qualifications=30, start=start)
    with Session(engine) as session:
        import_program(session, doc, source="bench", actor="bench")
        session.commit()
    print(
        "benchmark program: demo-data --seed 1 --faculty 150 --weeks 52 --qualifications 30"
        f" on {engine.url.get_backend_name()}: {len(doc['people'])} people,"
        f" {len(doc['assignments'])} assignments"
    )

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    with Session(engine) as session:
        t0 = time.perf_counter()
        outcome = run_forecast(session, days_ahead=args.days_ahead, now=now)
        session.commit()
        total_s = time.perf_counter() - t0
    s = outcome.summary()
    print(
        f"forecast {s['start']}..{s['end']} ({args.days_ahead} days, {s['samples']} samples/day,"
        f" error <= +/-{s['error_bound']}): worst level {s['worst_level']}, max P(shortfall)"
        f" {s['max_shortfall_probability']}, {s['high_risk_days']} high-risk day(s) in"
        f" {s['high_risk_periods']} period(s); rates: {outcome.result['rates']['source']}"
    )
    print(f"  run_forecast (load + problems + Monte Carlo + store): {total_s:8.2f} s")
    print(f"  task soft time limit: {TASK_SOFT_TIME_LIMIT_S} s")

    end = start + timedelta(days=args.days_ahead - 1)
    with Session(engine) as session:
        snapshot = load_snapshot(session, start=start - timedelta(weeks=5), end=end)
    problems, _ = forecast_problems(snapshot, start, end)
    rate = settings.UNPLANNED_ABSENCE_DEFAULT_RATE
    rates = AbsenceRates((rate,) * 7, "default", 0, 0.0)
    samples = settings.FORECAST_SAMPLES
    hall_sets.cache_clear()
    t0 = time.perf_counter()
    shortfall_by_day(problems, rates, samples, seed=1)
    mc_s = time.perf_counter() - t0
    with_demand = [p for p in problems if p.demands]
    print(
        f"  Monte Carlo alone ({len(with_demand)} site-half-days with demand x {samples}"
        f" samples, cold shape cache): {mc_s:8.2f} s"
    )

    # Naive baseline on a subset, and agreement with the vectorised decision there.
    rng = np.random.default_rng(2)
    subset = [p for p in with_demand if p.halfday.date < start + timedelta(days=args.baseline_days)]
    n = args.baseline_samples
    naive_s = 0.0
    vector_s = 0.0
    checked = disagree = 0
    for _, group in groupby(subset, key=lambda p: p.halfday.date):
        day_problems = list(group)
        people = sorted({m.person_id for p in day_problems for m in p.pool})
        absent = rng.random((n, len(people))) < rate
        for problem in day_problems:
            shape = problem_shape(problem)
            t0 = time.perf_counter()
            naive = [
                not is_covered(
                    problem, frozenset(pid for pid, out in zip(people, row, strict=True) if out)
                )
                for row in absent
            ]
            naive_s += time.perf_counter() - t0
            column = {pid: i for i, pid in enumerate(people)}
            t0 = time.perf_counter()
            losses = np.stack(
                [
                    absent[:, [column[pid] for pid in shape.members_of[mask]]].sum(axis=1)
                    for mask, _ in shape.types
                ],
                axis=1,
            ).astype(np.int32)
            fast = uncovered_by_losses(shape, problem, losses)
            vector_s += time.perf_counter() - t0
            checked += n
            disagree += int(sum(a != b for a, b in zip(naive, fast.tolist(), strict=True)))
    per_decision = naive_s / checked
    extrapolated = per_decision * len(with_demand) * samples
    print(
        f"naive baseline (one matching per sample and site-half-day): {naive_s:.2f} s on a"
        f" SUBSET of {len(subset)} site-half-days x {n} samples ({checked} decisions,"
        f" {per_decision * 1e6:.0f} us each); disagreements with the vectorised check:"
        f" {disagree}"
    )
    print(
        f"  EXTRAPOLATED to {len(with_demand)} site-half-days x {samples} samples:"
        f" {extrapolated:,.0f} s"
    )
    print(
        f"  speed-up of the Monte Carlo: {extrapolated / mc_s:,.0f}x;"
        f" of the whole run_forecast: {extrapolated / total_s:,.0f}x (target >= 100x)"
    )
    early_warning_cost(engine, now)
    print("  (machine shared with other jobs: figures are indicative)")


def early_warning_cost(engine: Engine, now: datetime) -> None:
    """The health check with and without its early warning, over 120 days of stored checks."""
    settings = get_settings()
    today = date(2026, 11, 30)
    rng = np.random.default_rng(3)
    with Session(engine) as session:
        for day in range(EARLY_WARNING_LOOKBACK_DAYS):
            d = today - timedelta(days=EARLY_WARNING_LOOKBACK_DAYS - day)
            for _ in range(24 * 60 // HEALTH_CHECK_INTERVAL_MIN):
                at = datetime(d.year, d.month, d.day, tzinfo=UTC)
                session.add(
                    HealthCheckRecord(
                        started_at=at, finished_at=at, duration_s=0.1, window_start=d,
                        window_end=d, utilization=float(rng.uniform(0.4, 0.6)),
                        utilization_level="GREEN", defense_level="GREEN", gap_count=0,
                        n1_status="pass", n2_status="pass", result={},
                    )
                )  # fmt: skip
        session.commit()
    checks = []
    for _ in range(3):
        with Session(engine) as session:
            t0 = time.perf_counter()
            run_health_check(session, now=now)
            checks.append(time.perf_counter() - t0)
            session.rollback()
    warnings = []
    for _ in range(3):
        with Session(engine) as session:
            t0 = time.perf_counter()
            early_warning_now(session, today, settings)
            warnings.append(time.perf_counter() - t0)
    check_s, warning_s = min(checks), min(warnings)
    print(
        f"health check with 120 days x {24 * 60 // HEALTH_CHECK_INTERVAL_MIN} stored checks:"
        f" {check_s:.3f} s, of which the early warning {warning_s:.3f} s"
        f" ({warning_s / check_s:.0%}; best of 3)"
    )


if __name__ == "__main__":
    main()
