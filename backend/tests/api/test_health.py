"""Open health routes and the resilience status."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.models.user import Role
from tests.api.conftest import bearer


def test_health_answers_without_token(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_when_database_and_broker_answer(client: TestClient) -> None:
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


def test_resilience_needs_a_token(client: TestClient) -> None:
    response = client.get("/health/resilience")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_resilience_before_any_check_says_not_yet_analysed(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    response = client.get("/health/resilience", headers=bearer(tokens[Role.VIEWER]))
    assert response.status_code == 200
    assert response.json()["status"] == "not yet analysed"
