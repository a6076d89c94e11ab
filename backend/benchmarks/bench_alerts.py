"""Benchmark: alert fan-out through a real worker to a local webhook receiver.

A private ``redis-server`` (broker and results), a worker running the seed's command
(``celery -A app.core.celery_app worker -Q default,resilience,notifications``), a fresh
migrated database (SQLite in a temporary folder, or ``--database-url``) and a local HTTP
receiver that verifies each signature and applies each webhook's effect once per
``webhook-id`` (the idempotency key). ``--alerts`` alerts with distinct dedup keys are sent as
``send_resilience_alert`` tasks; each stores its alert and queues one webhook delivery after its
commit. ``--fail-rate`` of the receiver's answers are 503, so some deliveries are retried
(backoff from the worker's settings, ``TASK_RETRY_BACKOFF_MAX_S`` 1 s here).

Printed: throughput (alerts per second, from the first send to the last effect), p50/p99
end-to-end latency (send to first accepted delivery), requests, retried answers, duplicate
deliveries of an accepted id, and alerts whose effect was applied other than exactly once.
Baseline in the same run: the same number of signed webhooks posted one after the other from
this process (no broker, no database), so the ratio shows what the queue, the database and the
retries cost per alert.

Run from backend/:  .venv/bin/python benchmarks/bench_alerts.py [--alerts 1000] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BACKEND))  # for ``app`` and the receivers in tests/support

from app.core.celery_app import make_celery_app  # noqa: E402
from app.core.config import Settings  # noqa: E402
from app.core.migrate import upgrade_database  # noqa: E402
from app.notifications.messages import WebhookMessage  # noqa: E402
from app.notifications.webhook import WebhookSender  # noqa: E402
from tests.notifications.test_webhook import verify  # noqa: E402
from tests.support.celery_fixtures import broker_env, close_client, worker_env  # noqa: E402
from tests.support.receivers import Received, WebhookReceiver  # noqa: E402
from tests.support.services import start_redis_server  # noqa: E402

KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(KEY).decode()


class Effects:
    """What the receiver did: the first accepted arrival per alert, and every request."""

    def __init__(self, fail_rate: float, seed: int = 1) -> None:
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.accepted_ids: set[str] = set()
        self.effects: dict[str, int] = {}
        self.first_at: dict[str, float] = {}
        self.requests = 0
        self.rejected = 0
        self.duplicates = 0
        self.bad_signatures = 0
        self.done = threading.Event()
        self.expected = 0

    def respond(self, got: Received, _seen: list[Received]) -> int:
        if got.path == "/baseline":
            return 200
        self.requests += 1
        if not verify(got.headers, got.body, KEY):
            self.bad_signatures += 1
            return 401
        if self.rng.random() < self.fail_rate:
            self.rejected += 1
            return 503
        webhook_id = got.headers["webhook-id"]
        if webhook_id in self.accepted_ids:
            self.duplicates += 1  # seen before: acknowledged, effect not applied again
            return 200
        self.accepted_ids.add(webhook_id)
        alert = got.json()["data"]["dedup_key"]
        self.effects[alert] = self.effects.get(alert, 0) + 1
        self.first_at.setdefault(alert, time.time())
        if len(self.first_at) >= self.expected:
            self.done.set()
        return 200


def baseline(receiver: WebhookReceiver, count: int) -> float:
    """Seconds to post ``count`` signed webhooks one after the other from this process."""
    settings = Settings(_env_file=None, WEBHOOK_SECRET=SECRET, WEBHOOK_ALLOW_PRIVATE=True)  # type: ignore[call-arg]
    sender = WebhookSender(settings)
    t0 = time.perf_counter()
    for n in range(count):
        sender.send(WebhookMessage(receiver.url(path="/baseline"), {"n": n}, f"msg_b{n}"))
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alerts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--fail-rate", type=float, default=0.05)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    database = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    upgrade_database(database)
    redis_url = start_redis_server()
    effects = Effects(args.fail_rate)
    effects.expected = args.alerts
    with WebhookReceiver(respond=effects.respond) as receiver:
        env = worker_env(folder / "var", database, broker_env(redis_url))
        env.update(
            CELERY_WORKER_CONCURRENCY=str(args.concurrency),
            WEBHOOK_URLS=receiver.url(),
            WEBHOOK_SECRET=SECRET,
            WEBHOOK_ALLOW_PRIVATE="true",
            TASK_RETRY_BACKOFF_MAX_S="1",
        )
        argv = [sys.executable, "-m", "celery", "-A", "app.core.celery_app", "worker", "-Q",
                "default,resilience,notifications", "-c", str(args.concurrency), "-n",
                f"bench-{uuid.uuid4().hex[:6]}@localhost", "-l", "warning",
                "--without-heartbeat", "--without-gossip", "--without-mingle"]  # fmt: skip
        log = (folder / "worker.log").open("wb")
        worker = subprocess.Popen(argv, cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT)
        client = make_celery_app(
            Settings(_env_file=None, **{k: env[k] for k in broker_env(redis_url)}),  # type: ignore[arg-type]
            set_as_current=False,
        )
        try:
            deadline = time.monotonic() + 60
            while not client.control.ping(timeout=1.0):
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit(f"worker did not start; see {folder / 'worker.log'}")
            sent_at: dict[str, float] = {}
            t0 = time.time()
            for n in range(args.alerts):
                key = f"bench:{n}"
                sent_at[key] = time.time()
                client.send_task(
                    "app.resilience.tasks.send_resilience_alert",
                    kwargs={"level": "warning", "message": f"Bench alert {n}",
                            "details": {"dedup_key": key}},
                )  # fmt: skip
            if not effects.done.wait(args.timeout):
                print(f"timed out: {len(effects.first_at)} of {args.alerts} alerts arrived")
            elapsed = max(effects.first_at.values(), default=t0) - t0
            time.sleep(2)  # late duplicates, if any, arrive now
            base_s = baseline(receiver, args.alerts)
        finally:
            close_client(client)
            worker.terminate()
            worker.wait(30)
            log.close()

    latencies = sorted(effects.first_at[k] - sent_at[k] for k in effects.first_at)
    not_once = sum(1 for k in sent_at if effects.effects.get(k, 0) != 1)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else 0.0
    rate = len(effects.first_at) / elapsed if elapsed > 0 else float("inf")
    backend = database.split(":")[0]
    print(f"alerts: {args.alerts}, worker concurrency {args.concurrency}, database {backend}")
    print(f"delivered (effect applied): {len(effects.first_at)}  not exactly once: {not_once}")
    print(f"throughput: {rate:.1f} alerts/s end to end ({elapsed:.1f} s)")
    print(f"latency: p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    print(
        f"receiver: {effects.requests} requests, {effects.rejected} answered 503 (retried),"
        f" {effects.duplicates} duplicate deliveries, {effects.bad_signatures} bad signatures"
    )
    base_rate = args.alerts / base_s
    print(f"baseline (direct signed POSTs, no queue/db): {base_rate:.1f} webhooks/s")
    print(f"ratio: pipeline / baseline throughput = {rate / base_rate:.3f}")


if __name__ == "__main__":
    main()
