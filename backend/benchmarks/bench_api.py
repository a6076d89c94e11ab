"""Benchmark: the API under 20 concurrent clients, against ``/health`` as the floor.

The benchmark program (``demo-data --seed 1 --faculty 150 --weeks 52 --qualifications 30``;
``--faculty/--weeks/--qualifications`` for another size) is imported into a fresh SQLite
database in a temporary folder, with a health check and the daily 90-day contingency report
stored. uvicorn serves ``app.main:app`` on 127.0.0.1 in a subprocess (one process, as
``make run`` starts it). A bounded load generator (``--clients`` threads, each with its own
keep-alive connection, for ``--seconds`` per route, at most ``MAX_REQUESTS`` requests) then
requests, one route after the other:

* ``/health`` (open, no database): the floor;
* ``/health/resilience`` with a viewer's bearer token;
* ``/`` (the dashboard's overview) with a signed-in viewer's session cookie.

Printed per route: requests, throughput, p50 and p99 latency, errors, and the ratios of p50
and p99 to the floor's, measured in the same run.

Run from backend/:  .venv/bin/python benchmarks/bench_api.py [--seconds 30] [--clients 20]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))

MAX_REQUESTS = 200_000
"""Upper bound of requests per route, whatever the duration."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def prepare(folder: Path, size: dict[str, int]) -> tuple[str, float]:
    """Migrate, import the program, store a health check and the 90-day report; a viewer's
    token. Returns the token and the seconds the report took."""
    from app.auth.service import add_user, create_token
    from app.core.config import get_settings
    from app.core.db import session_scope
    from app.core.migrate import upgrade_database
    from app.demo.generator import generate_demo_program
    from app.models.base import utcnow
    from app.programs.service import import_program
    from app.resilience.contingency.service import run_contingency_report
    from app.resilience.health.service import program_clock, run_health_check

    upgrade_database(get_settings().database_url)
    with session_scope() as session:
        import_program(session, generate_demo_program(seed=1, **size), source="bench", actor=None)
    with session_scope() as session:
        today = program_clock(session, get_settings()).today(utcnow())
    t0 = time.perf_counter()
    with session_scope() as session:
        run_contingency_report(session, start=today, days_ahead=get_settings().CONTINGENCY_DAYS)
    report_s = time.perf_counter() - t0
    with session_scope() as session:
        run_health_check(session)
    with session_scope() as session:
        add_user(session, "bench", "viewer")
        _, token = create_token(session, "bench")

    return token, report_s


def sign_in(port: int, token: str) -> str:
    """The session cookie of a real sign-in through the form (with its CSRF token)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/signin")
    response = conn.getresponse()
    page = response.read().decode()
    presession = re.search(r"rs_presession=([^;]+)", response.getheader("set-cookie") or "")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert presession and csrf, "no sign-in form"
    body = f"token={token}&csrf_token={csrf.group(1)}"
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": f"rs_presession={presession.group(1)}"}  # fmt: skip
    conn.request("POST", "/signin", body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    conn.close()
    found = re.search(r"rs_session=([^;]+)", response.getheader("set-cookie") or "")
    assert response.status == 303 and found, f"sign-in failed: {response.status}"
    return found.group(1)


def load(
    port: int, path: str, headers: dict[str, str], clients: int, seconds: float
) -> dict[str, float]:
    """``clients`` threads requesting ``path`` for ``seconds``: latencies and errors."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds
    budget = [MAX_REQUESTS]

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop_at:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            mine.append(time.perf_counter() - t0)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cuts = statistics.quantiles(latencies, n=100)
    return {"requests": len(latencies), "rps": len(latencies) / wall, "p50": cuts[49],
            "p99": cuts[98], "errors": errors[0]}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--faculty", type=int, default=150)
    parser.add_argument("--weeks", type=int, default=52)
    parser.add_argument("--qualifications", type=int, default=30)
    args = parser.parse_args()
    size = {"faculty": args.faculty, "weeks": args.weeks, "qualifications": args.qualifications}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
        env |= {"DATA_DIR": str(folder), "EMBEDDED_BROKER": "true", "CELERY_BROKER_URL": "",
                "SESSION_SECRET": "bench-" + "x" * 40, "METRICS_PORT": "0",
                "LOG_LEVEL": "WARNING"}  # fmt: skip
        os.environ.update(env)
        t0 = time.perf_counter()
        token, report_s = prepare(folder, size)
        print(
            f"program: {size['faculty']} faculty, {size['weeks']} weeks, "
            f"{size['qualifications']} qualifications on SQLite; prepared in "
            f"{time.perf_counter() - t0:.1f} s (90-day report {report_s:.1f} s)"
        )
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(port), "--log-level", "warning", "--no-access-log"],
            cwd=BACKEND, env=env,
        )  # fmt: skip
        try:
            _wait_up(port)
            cookie = sign_in(port, token)
            routes = [
                ("/health (floor)", "/health", {}),
                ("/health/resilience", "/health/resilience", {"Authorization": f"Bearer {token}"}),
                ("/ dashboard", "/", {"Cookie": f"rs_session={cookie}"}),
            ]
            print(f"{args.clients} concurrent clients, {args.seconds:.0f} s per route, 127.0.0.1")
            floor: dict[str, float] = {}
            for label, path, headers in routes:
                load(port, path, headers, args.clients, min(3.0, args.seconds))  # warm-up
                got = load(port, path, headers, args.clients, args.seconds)
                floor = floor or got
                print(
                    f"  {label:<20} {got['requests']:>7.0f} req {got['rps']:>8.1f} req/s"
                    f"  p50 {got['p50'] * 1000:>8.1f} ms  p99 {got['p99'] * 1000:>8.1f} ms"
                    f"  errors {got['errors']:.0f}"
                    f"  (x{got['p50'] / floor['p50']:.1f} p50, x{got['p99'] / floor['p99']:.1f} p99"
                    " of the floor)"
                )
        finally:
            server.terminate()
            server.wait(timeout=30)


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("uvicorn did not start")


if __name__ == "__main__":
    main()
