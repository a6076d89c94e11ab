"""SENTRY_DSN: a task that fails on a real worker sends an error event to the DSN's endpoint
(a local HTTP server standing in for Sentry's ingestion, receiving the real envelope)."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.core.migrate import upgrade_database
from tests.support.celery_fixtures import StartWorker

pytestmark = pytest.mark.redis

DSN_KEY = "0123456789abcdef0123456789abcdef"


class FakeSentry(ThreadingHTTPServer):
    """Keeps every envelope posted to it, decompressed."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.envelopes: list[bytes] = []
        self.paths: list[str] = []

    @property
    def dsn(self) -> str:
        return f"http://{DSN_KEY}@127.0.0.1:{self.server_address[1]}/42"


class _Handler(BaseHTTPRequestHandler):
    server: FakeSentry

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.paths.append(self.path)
        self.server.envelopes.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    server = FakeSentry()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def _events(server: FakeSentry) -> list[dict[str, object]]:
    """The error events in the envelopes received (one JSON header line, then items)."""
    events = []
    for envelope in server.envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(payload))
    return events


def test_failed_task_reaches_sentry_when_dsn_is_set(
    fake_sentry: FakeSentry, start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sentry.db'}"
    upgrade_database(url)
    worker = start_celery_worker(url, extra_env={"SENTRY_DSN": fake_sentry.dsn})

    failed = worker.client().send_task("app.resilience.tasks.analyze_contingency_chunk", args=[])
    with pytest.raises(TypeError):
        failed.get(timeout=90)
    deadline = time.monotonic() + 30
    while not _events(fake_sentry) and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.stop()

    events = _events(fake_sentry)
    assert events, worker.log()
    assert all(path == "/api/42/envelope/" for path in fake_sentry.paths)
    event = events[0]
    exception = event["exception"]["values"][-1]  # type: ignore[index]
    assert exception["type"] == "TypeError"
    assert event["tags"]["component"] == "worker"  # type: ignore[index]
    assert event["tags"]["celery_task_id"] == failed.id  # type: ignore[index]
    assert DSN_KEY not in worker.log()


def test_nothing_is_sent_when_no_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.config import get_settings
    from app.core.observability import init_sentry

    monkeypatch.setenv("SENTRY_DSN", "")
    get_settings.cache_clear()
    try:
        assert init_sentry("cli") is False
    finally:
        get_settings.cache_clear()
