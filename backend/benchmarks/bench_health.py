"""Benchmark: the health check with a stored 90-day daily report, against the same without one.

With a fresh daily report the health check also loads and builds that report's whole window
(to check that it is not stale) besides its own windows; this measures what that costs. For
the default demo program and the benchmark program (``demo-data --seed 1 --faculty 150
--weeks 52 --qualifications 30``), each imported into a fresh database (SQLite in a temporary
folder, or ``--database-url``), the daily report of ``CONTINGENCY_DAYS`` is stored, then
``run_health_check`` is timed in turns, best of ``--runs``:

* baseline: no report (the report rows are deleted inside the transaction, rolled back after);
* with the stored report, which the check finds fresh and uses.

Every run is rolled back, so no record or alert stays behind. The figure that matters is the
ratio, measured in the same run on the same machine.

Run from backend/:  .venv/bin/python benchmarks/bench_health.py [--runs 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

from sqlalchemy import delete  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.core.config import Settings  # noqa: E402
from app.core.db import make_engine  # noqa: E402
from app.core.migrate import upgrade_database  # noqa: E402
from app.demo.generator import generate_demo_program  # noqa: E402
from app.models.resilience import ContingencyReport  # noqa: E402
from app.programs.service import import_program  # noqa: E402
from app.resilience.contingency.service import run_contingency_report  # noqa: E402
from app.resilience.health.service import run_health_check  # noqa: E402

START = date(2026, 11, 30)  # a fixed Monday, so that runs compare
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # Tuesday 09:00 in New York
SIZES: dict[str, dict[str, int]] = {
    "default": {"seed": 0, "faculty": 22, "weeks": 52, "qualifications": 8},
    "benchmark": {"seed": 1, "faculty": 150, "weeks": 52, "qualifications": 30},
}


def health_once(session: Session, settings: Settings, *, without_report: bool) -> tuple[float, str]:
    """One health check in its own transaction, rolled back; seconds and the report's status."""
    try:
        if without_report:
            session.execute(delete(ContingencyReport))
        t0 = time.perf_counter()
        outcome = run_health_check(session, now=NOW, settings=settings)
        seconds = time.perf_counter() - t0
        assert outcome.report is not None
        status = str(outcome.report.later.source["status"])
        return seconds, status
    finally:
        session.rollback()


def bench(label: str, size: dict[str, int], url: str, runs: int) -> None:
    upgrade_database(url)
    engine = make_engine(url)
    settings = Settings(DATABASE_URL=url)
    doc = generate_demo_program(start=START, **size)
    with Session(engine) as session:
        import_program(session, doc, source="bench", actor="bench")
        session.commit()
    with Session(engine) as session:
        t0 = time.perf_counter()
        run_contingency_report(session, start=NOW.date(), days_ahead=settings.CONTINGENCY_DAYS)
        report_s = time.perf_counter() - t0
        session.commit()
    times: dict[bool, list[float]] = {True: [], False: []}
    statuses: dict[bool, set[str]] = {True: set(), False: set()}
    with Session(engine) as session:
        health_once(session, settings, without_report=False)  # warm-up (imports, shape memo)
        for _ in range(runs):
            for without in (True, False):
                seconds, status = health_once(session, settings, without_report=without)
                times[without].append(seconds)
                statuses[without].add(status)
    engine.dispose()
    base, with_report = min(times[True]), min(times[False])
    print(
        f"{label}: {size['faculty']} faculty, {size['weeks']} weeks, "
        f"{size['qualifications']} qualifications on {engine.url.get_backend_name()}; "
        f"daily report of {settings.CONTINGENCY_DAYS} days stored in {report_s:.2f} s"
    )
    print(f"  health check without a report (baseline), best of {runs}: {base:8.3f} s")
    print(
        f"  health check with the stored report ({', '.join(sorted(statuses[False]))}), "
        f"best of {runs}: {with_report:8.3f} s"
    )
    print(f"    ratio with report / without: {with_report / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default=None, help="an empty database per size")
    parser.add_argument("--sizes", default="default,benchmark", help="comma-separated")
    args = parser.parse_args()
    for label in args.sizes.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            bench(label, SIZES[label], url, args.runs)


if __name__ == "__main__":
    main()
