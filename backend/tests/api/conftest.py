"""An API client on the test database, and a token for a user of every role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.auth.service import add_user, create_token
from app.core.celery_app import make_celery_app
from app.core.config import Settings, get_settings
from app.core.db import session_scope
from app.demo.generator import generate_demo_program
from app.main import create_app
from app.models.user import Role
from app.programs.service import import_program
from tests.support.celery_fixtures import close_client


@pytest.fixture
def api_app(
    configured_database: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[FastAPI]:
    """The application on the test database. It sends tasks to an embedded (filesystem)
    broker in tmp_path, never to the machine's Redis; no worker listens there: tests that
    need one set ``app.state.celery`` to their worker's client."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("METRICS_TOKEN", "")
    get_settings.cache_clear()
    app = create_app()
    embedded = Settings(EMBEDDED_BROKER=True, CELERY_BROKER_URL="", DATA_DIR=tmp_path)
    app.state.celery = make_celery_app(embedded, set_as_current=False)
    yield app
    close_client(app.state.celery)
    get_settings.cache_clear()


@pytest.fixture
def client(api_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture
def tokens(configured_database: Engine) -> dict[Role, str]:
    """A token of an enabled user of each role (user ``<role>``)."""
    out = {}
    with session_scope() as session:
        for role in Role:
            add_user(session, role.value.replace("_", "-"), role)
            _, out[role] = create_token(session, role.value.replace("_", "-"))
    return out


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def demo_program(configured_database: Engine) -> dict[str, Any]:
    """The demo program (4 weeks from Monday of this week) stored; returns its document."""
    document = generate_demo_program(seed=1, weeks=4)
    with session_scope() as session:
        import_program(session, document, source="demo", actor=None)
    return document


@pytest.fixture
def server(api_app: FastAPI) -> Iterator[str]:
    """The application served by uvicorn on a free 127.0.0.1 port, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(api_app, host="127.0.0.1", port=port, log_level="warning")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=30)
