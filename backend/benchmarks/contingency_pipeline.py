"""Whole-process figures of the contingency pipeline, for ``bench_contingency.py --pipeline``.

Every figure is a ratio of two things timed in turns in the same run (A B A B ...), each
pair giving one ratio; ``repeats`` pairs, the median printed with the spread. Times are of
whole processes (start-up included), taken by ``os.wait4`` with the child's own peak memory.

* ``analyze contingency --days-ahead 364 --json`` on the benchmark program against a raw
  ``sqlite3`` read of its input (every row the analysis reads, in a fresh process);
* the same command on 600 faculty against 150 faculty, with the 600-faculty peak memory;
* the Celery path (``run_contingency_analysis``, a chord of 30-day chunks) on 600 faculty,
  with one worker against two, on a private ``redis-server``: the day's first run (no report
  of the window stored) and a re-run after the schedule changed (one of other input stored).

Before each analysis the stored reports are deleted (or, for the Celery path's re-run, made
stale), so that every run analyses (a re-run on unchanged input would only read the rows and
return the stored report; timed apart).
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
Figures = tuple[float, float, int]
"""One run: wall seconds, CPU seconds, peak memory (MB)."""
PY = sys.executable

RAW_READ = """
import sqlite3, sys
db, start, end = sys.argv[1:4]
c = sqlite3.connect(db)
rows = c.execute("SELECT person_id, date, half, activity_id, role FROM assignment"
                 " WHERE date >= ? AND date <= ?", (start, end)).fetchall()
for t in ("program", "person", "person_qualification", "activity", "min_faculty_rule",
          "holiday", "absence"):
    rows += c.execute(f"SELECT * FROM {t}").fetchall()
print(len(rows))
"""

START_UP = """
from sqlalchemy import text
import app.cli.main, app.cli.analyze  # the command line and all the command imports
from app.core.db import session_scope
with session_scope() as session:  # settings read, schema checked, one query
    print(session.execute(text("SELECT count(*) FROM program")).scalar_one())
import gc
gc.freeze()  # as the command line ends: no collection of every module at exit
"""
"""The fixed part of the command: its process, imports and first query, nothing analysed."""


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds and peak memory (MB) of one whole process; it must succeed."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=BACKEND, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss // 1024


def program_db(folder: Path, faculty: int) -> Path:
    """``demo-data --seed 1 --faculty N --weeks 52 --qualifications 30`` in SQLite (kept)."""
    db = folder / f"demo-{faculty}.db"
    env = db_env(db)
    # Every time: a program kept from an earlier run gets this version's schema (indexes).
    subprocess.run([PY, "-m", "app.cli", "migrate"], cwd=BACKEND, env=env, check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    if not (folder / f"demo-{faculty}.done").exists():
        for args in (
            [
                "demo-data",
                "--replace",
                "--seed",
                "1",
                "--faculty",
                str(faculty),
                "--weeks",
                "52",
                "--qualifications",
                "30",
            ],
        ):
            subprocess.run([PY, "-m", "app.cli", *args], cwd=BACKEND, env=env, check=True,
                           stdout=subprocess.DEVNULL)  # fmt: skip
        (folder / f"demo-{faculty}.done").touch()
    return db


def db_env(db: Path) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{db}", EMBEDDED_BROKER="true")
    env["DATA_DIR"] = str(db.parent / "var")
    return env


def window(db: Path) -> tuple[str, str]:
    with sqlite3.connect(db) as c:
        first, last = c.execute("SELECT min(date), max(date) FROM assignment").fetchone()
    return str(first), str(last)


def forget_reports(db: Path) -> None:
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM contingency_report")


def stale_reports(db: Path) -> None:
    """Keep only the newest report, as if made from other input: the window has a report, but
    not of this input (the day's re-run after the schedule changed)."""
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM contingency_report WHERE id <> (SELECT max(id) FROM"
                  " contingency_report)")  # fmt: skip
        c.execute("UPDATE contingency_report SET fingerprint = 'stale-' || id")


def analyze_argv(start: str) -> list[str]:
    args = ["analyze", "contingency", "--start", start, "--days-ahead", "364", "--json"]
    return [PY, "-m", "app.cli", *args]


def paired(
    a: Callable[[], tuple[float, float, int]],
    b: Callable[[], tuple[float, float, int]],
    repeats: int,
) -> tuple[list[tuple[float, float, int]], list[tuple[float, float, int]]]:
    runs_a, runs_b = [], []
    for _ in range(repeats):
        runs_a.append(a())
        runs_b.append(b())
    return runs_a, runs_b


def ratio_line(label: str, a: list[tuple[float, float, int]], b: list[tuple[float, float, int]],
               target: str) -> None:  # fmt: skip
    walls = [x[0] / y[0] for x, y in zip(a, b, strict=True)]
    cpus = [x[1] / y[1] for x, y in zip(a, b, strict=True)]
    print(
        f"  {label}: wall ratio median {statistics.median(walls):.2f} "
        f"(min {min(walls):.2f}, max {max(walls):.2f}), CPU ratio median "
        f"{statistics.median(cpus):.2f}  [{target}]"
    )


def seconds(runs: list[tuple[float, float, int]]) -> str:
    return (
        f"wall median {statistics.median(r[0] for r in runs):.2f} s, CPU median "
        f"{statistics.median(r[1] for r in runs):.2f} s, peak {max(r[2] for r in runs)} MB"
    )


def whole_process(folder: Path, small: int, large: int, repeats: int) -> None:
    dbs = {n: program_db(folder, n) for n in (small, large)}
    # As installed (the Docker image compiles app/ at build time): bytecode present, so that
    # a PYTHONDONTWRITEBYTECODE environment does not time compiling the app's sources.
    subprocess.run([PY, "-m", "compileall", "-q", "app"], cwd=BACKEND, check=True)
    print(f"whole process, SQLite, {repeats} pairs each (A B A B ...), medians, app/ compiled:")
    db = dbs[small]
    start, end = window(db)

    def analysis(n: int) -> Callable[[], tuple[float, float, int]]:
        def go() -> tuple[float, float, int]:
            forget_reports(dbs[n])
            return run(analyze_argv(window(dbs[n])[0]), db_env(dbs[n]))

        return go

    def raw() -> tuple[float, float, int]:
        return run([PY, "-c", RAW_READ, str(db), start, end], dict(os.environ))

    a, b = paired(analysis(small), raw, repeats)
    print(f"  analyze contingency --days-ahead 364 --json, {small} faculty: {seconds(a)}")
    print(f"  raw sqlite3 read of its input (fresh process): {seconds(b)}")
    ratio_line("analysis / raw read", a, b, "target <= 3")

    def start_up() -> tuple[float, float, int]:
        return run([PY, "-c", START_UP], db_env(db))

    a, b = paired(start_up, raw, repeats)
    print(f"  start-up of the command (imports, settings, one query; nothing read): {seconds(a)}")
    ratio_line("start-up / raw read", a, b, "no target: the fixed part of the 3x")

    def rerun() -> tuple[float, float, int]:  # unchanged input: the stored report
        return run(analyze_argv(start), db_env(db))

    a, b = paired(rerun, raw, repeats)
    print(f"  re-run on unchanged input (stored report, no analysis): {seconds(a)}")
    ratio_line("re-run / raw read", a, b, "no target")

    a, b = paired(analysis(large), analysis(small), repeats)
    print(f"  {large} faculty: {seconds(a)}")
    ratio_line(f"{large} / {small} faculty", a, b, "target <= 5 (linear: 4), peak < 1024 MB")


CONSUMER_SETTLE_S = 2.0


def celery_workers(folder: Path, faculty: int, repeats: int) -> None:
    """One worker against two on the Celery path, on a private redis-server, twice: with no
    report of the window stored (the day's first run: the chord is sent before the schedule is
    read, ``contingency.stream``), and with one of other input stored (a re-run after the
    schedule changed: the parent reads the whole window and its fingerprint first)."""
    sys.path.insert(0, str(BACKEND))
    from tests.support.celery_fixtures import broker_env, start_worker, worker_env
    from tests.support.services import start_redis_server

    db = program_db(folder, faculty)
    start, _ = window(db)
    redis_url = start_redis_server()
    tmp = Path(tempfile.mkdtemp(prefix="bench-workers-", dir=folder))
    env = worker_env(tmp, f"sqlite:///{db}", broker_env(redis_url))
    workers = [start_worker(env, tmp / f"worker{i}.log") for i in range(2)]
    client = workers[0].client()
    try:

        def timed(two: bool, before: Callable[[Path], None]) -> Callable[[], Figures]:
            def go() -> Figures:
                other = workers[1].nodename
                if two:
                    client.control.add_consumer("resilience", destination=[other], reply=True)
                else:
                    client.control.cancel_consumer("resilience", destination=[other], reply=True)
                # A worker takes up a queue it was told to consume only when its current
                # blocking read of the others ends (kombu's Redis transport: up to 1 s), and
                # a cancelled one may still hold a read of it: let both settle before timing.
                time.sleep(CONSUMER_SETTLE_S)
                before(db)
                t0 = time.perf_counter()
                result = client.send_task(
                    "app.resilience.tasks.run_contingency_analysis",
                    kwargs={"days_ahead": 364, "start": start},
                    queue="resilience",
                )
                summary = result.get(timeout=3000)
                assert summary["created"], summary
                return time.perf_counter() - t0, 0.0, 0

            return go

        paths = [
            ("no report of the window (first run of the day; chord sent first)", forget_reports),
            ("a report of other input stored (re-run; whole read first)", stale_reports),
        ]
        print(f"Celery path, {faculty} faculty, 364 days in 30-day chunks, private Redis:")
        for label, before in paths:
            one, two = paired(timed(False, before), timed(True, before), repeats)
            print(f"  {label}:")
            print(f"    one worker: wall median {statistics.median(r[0] for r in one):.2f} s")
            print(f"    two workers: wall median {statistics.median(r[0] for r in two):.2f} s")
            speedups = [x[0] / y[0] for x, y in zip(one, two, strict=True)]
            print("    pairs (one / two, s): " + ", ".join(
                f"{x[0]:.2f}/{y[0]:.2f}" for x, y in zip(one, two, strict=True)))  # fmt: skip
            print(
                f"    speed-up two / one worker: median {statistics.median(speedups):.2f} "
                f"(min {min(speedups):.2f}, max {max(speedups):.2f})  [target >= 1.5]"
            )
    finally:
        for w in workers:
            w.stop()
