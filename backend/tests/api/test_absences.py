"""Absences over HTTP: add, list, remove, what-if; bad input changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import session_scope
from app.models.audit import AuditRecord
from app.models.schedule import Absence
from app.models.user import Role
from tests.api.conftest import bearer


def _faculty(document: dict[str, Any]) -> list[str]:
    return [p["id"] for p in document["people"] if p["kind"] == "faculty"]


def _absence_count() -> int:
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(Absence)) or 0)


def test_add_list_remove_absence_as_coordinator(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    headers = bearer(tokens[Role.COORDINATOR])
    person = _faculty(demo_program)[0]
    body = {"person_id": person, "start": "2030-01-07", "end": "2030-01-08", "type": "vacation",
            "reason": "family trip"}  # fmt: skip
    added = client.post("/api/v1/absences", json=body, headers=headers)
    assert added.status_code == 201, added.text
    absence = added.json()["absence"]
    assert (absence["person_id"], absence["type"], absence["reason"]) == (
        person, "vacation", "family trip")  # fmt: skip
    again = client.post("/api/v1/absences", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["created"] is False
    listed = client.get(
        "/api/v1/absences",
        params={"person_id": person, "start": "2030-01-01", "end": "2030-01-31"},
        headers=headers,
    ).json()
    assert listed["count"] == 1 and listed["data"][0]["id"] == absence["id"]
    gone = client.delete(f"/api/v1/absences/{absence['id']}", headers=headers)
    assert gone.status_code == 204
    assert client.delete(f"/api/v1/absences/{absence['id']}", headers=headers).status_code == 404


def test_bad_absence_lists_problems_and_writes_nothing(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    before = _absence_count()
    with session_scope() as session:
        audits = session.scalar(select(func.count()).select_from(AuditRecord))
    body = {"person_id": _faculty(demo_program)[0], "start": "2030-01-09", "end": "2030-01-08",
            "type": "holiday-ish"}  # fmt: skip
    response = client.post("/api/v1/absences", json=body, headers=bearer(tokens[Role.ADMIN]))
    assert response.status_code == 422
    problems = {(p["where"], p["reason"].split(" ")[0]) for p in response.json()["problems"]}
    assert problems == {("end", "is"), ("type", "unknown")}
    assert _absence_count() == before
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(AuditRecord)) == audits


def test_schema_error_is_a_located_problem(client: TestClient, tokens: dict[Role, str]) -> None:
    response = client.post(
        "/api/v1/absences",
        json={"person_id": "F1", "start": "not-a-date", "end": "2030-01-01", "type": "vacation"},
        headers=bearer(tokens[Role.COORDINATOR]),
    )
    assert response.status_code == 422
    assert [p["where"] for p in response.json()["problems"]] == ["body.start"]


def test_unknown_person_is_not_found(client: TestClient, tokens: dict[Role, str]) -> None:
    response = client.post(
        "/api/v1/absences/what-if",
        json={"person_id": "NOPE", "start": "2030-01-01", "end": "2030-01-01"},
        headers=bearer(tokens[Role.VIEWER]),
    )
    assert response.status_code == 404
    assert response.json()["detail"] == "no person with id 'NOPE'"


def test_what_if_reports_the_gaps_an_absence_would_open(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    """Removing every faculty member of a day opens gaps for every demand of that day: the
    what-if of the last one away (all others already away) must add gaps, and store
    nothing."""
    headers = bearer(tokens[Role.COORDINATOR])
    day = date.fromisoformat(demo_program["assignments"][0]["date"]) + timedelta(days=1)
    faculty = _faculty(demo_program)
    for person in faculty[1:]:
        body = {"person_id": person, "start": day.isoformat(), "end": day.isoformat(),
                "type": "vacation"}  # fmt: skip
        assert client.post("/api/v1/absences", json=body, headers=headers).status_code == 201
    before = _absence_count()
    query = {"person_id": faculty[0], "start": day.isoformat(), "end": day.isoformat()}
    impact = client.post("/api/v1/absences/what-if", json=query, headers=headers).json()
    assert impact["changes_nothing"] is False
    assert impact["gaps_added"] and all(g["date"] == day.isoformat() for g in impact["gaps_added"])
    assert _absence_count() == before
