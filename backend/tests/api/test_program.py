"""The program file over HTTP: export and import, all or nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.core.db import get_engine, session_scope
from app.demo.generator import generate_demo_program
from app.models.user import Role
from app.programs.service import export_program
from tests.api.conftest import bearer


def test_export_then_import_is_unchanged(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    headers = bearer(tokens[Role.COORDINATOR])
    exported = client.get("/api/v1/program", headers=headers)
    assert exported.status_code == 200
    put = client.put("/api/v1/program", content=exported.content, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["changed"] is False
    assert put.json()["counts"]["people"] == len(demo_program["people"])


def test_bad_program_lists_problems_and_changes_nothing(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    with session_scope() as session:
        before = export_program(session)
    document = json.loads(json.dumps(demo_program))
    document["people"][0]["kind"] = "robot"
    document["assignments"][0]["person_id"] = "NOBODY"
    response = client.put(
        "/api/v1/program", content=json.dumps(document), headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 422
    wheres = [p["where"] for p in response.json()["problems"]]
    assert "people[0].kind" in wheres and "assignments[0].person_id" in wheres
    with session_scope() as session:
        assert export_program(session) == before


def test_syntax_error_names_line_and_column(client: TestClient, tokens: dict[Role, str]) -> None:
    response = client.put(
        "/api/v1/program", content=b'{"format": \n  oops}', headers=bearer(tokens[Role.ADMIN])
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["where"] == "line 2 column 3"


def test_export_without_program_is_not_found(client: TestClient, tokens: dict[Role, str]) -> None:
    assert client.get("/api/v1/program", headers=bearer(tokens[Role.ADMIN])).status_code == 404


def test_import_leaves_assignment_vacuumed_on_postgresql(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    engine = get_engine()
    if engine.dialect.name != "postgresql":
        pytest.skip("VACUUM and planner statistics: PostgreSQL only")
    query = text(
        "SELECT last_vacuum, last_analyze FROM pg_stat_user_tables WHERE relname = 'assignment'"
    )
    with engine.connect() as conn:
        before = conn.execute(query).one()
    document = generate_demo_program(seed=2, weeks=4)

    response = client.put(
        "/api/v1/program", content=json.dumps(document), headers=bearer(tokens[Role.ADMIN])
    )

    assert response.status_code == 200, response.text
    assert response.json()["changed"] is True
    with engine.connect() as conn:  # the background task ran before the client returned
        after = conn.execute(query).one()
    for was, now in zip(before, after, strict=True):
        assert now is not None and (was is None or now > was)
