"""Task trigger and status endpoints against a real worker on the test Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from app.models.user import Role
from tests.api.conftest import bearer
from tests.support.celery_fixtures import CeleryWorkerProcess, close_client

pytestmark = pytest.mark.redis


@pytest.fixture
def celery_database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def worker_client(celery_worker_proc: CeleryWorkerProcess, api_app: FastAPI) -> Iterator[Celery]:
    """The API sends to the worker's broker and reads its results."""
    celery = celery_worker_proc.client()
    api_app.state.celery = celery
    yield celery
    close_client(celery)


def _wait_done(client: TestClient, task_id: str, headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(f"/api/v1/tasks/{task_id}", headers=headers).json()
        if body["state"] in ("SUCCESS", "FAILURE"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} not done in 90 s: {body}")


def test_triggered_health_check_runs_and_reports_its_result(
    worker_client: Celery, client: TestClient, tokens: dict[Role, str], demo_program: Any
) -> None:
    sent = client.post("/api/v1/tasks/health-check", headers=bearer(tokens[Role.COORDINATOR]))
    assert sent.status_code == 202, sent.text
    task_id = sent.json()["task_id"]
    viewer = bearer(tokens[Role.VIEWER])
    done = _wait_done(client, task_id, viewer)
    assert done["state"] == "SUCCESS", done
    latest = client.get("/api/v1/health-checks/latest", headers=viewer).json()
    assert done["result"]["record_id"] == latest["summary"]["record_id"]
    assert done["result"]["defense_level"] == latest["summary"]["defense_level"]


def test_unknown_task_is_pending_and_bad_id_refused(
    worker_client: Celery, client: TestClient, tokens: dict[Role, str]
) -> None:
    viewer = bearer(tokens[Role.VIEWER])
    unknown = client.get("/api/v1/tasks/00000000-0000-0000-0000-000000000000", headers=viewer)
    assert unknown.json()["state"] == "PENDING"
    assert client.get("/api/v1/tasks/a%20b", headers=viewer).status_code == 422


@pytest.mark.parametrize(("days", "status"), [(1096, 202), (1097, 422), (3660, 422)])
def test_contingency_analysis_is_refused_when_longer_than_three_years(
    client: TestClient, tokens: dict[Role, str], days: int, status: int
) -> None:
    sent = client.post(
        "/api/v1/tasks/contingency-analysis",
        json={"days_ahead": days},
        headers=bearer(tokens[Role.COORDINATOR]),
    )
    assert sent.status_code == status, sent.text
