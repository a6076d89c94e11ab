"""``python -m app.core.probe api``: where it looks for the HTTP API."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from app.core.config import BACKEND_DIR


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass


@pytest.fixture
def health_port() -> Iterator[int]:
    """A real HTTP server on a free loopback port that answers ``/health`` with 200."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_api_probe_looks_on_api_port_when_api_url_is_not_set(health_port: int) -> None:
    env = os.environ | {"API_PORT": str(health_port), "API_URL": ""}  # "": as if not set

    done = subprocess.run(
        [sys.executable, "-m", "app.core.probe", "api"],
        cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"http://localhost:{health_port}/health answered HTTP 200"
