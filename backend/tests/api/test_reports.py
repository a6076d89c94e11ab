"""Stored health checks and contingency reports over HTTP: every finding, ETags, pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.core.db import session_scope
from app.models.base import utcnow
from app.models.resilience import HealthCheckRecord
from app.models.user import Role
from app.programs.absences import AbsenceEntry, add_absence, remove_absence
from app.resilience.clock import program_clock
from app.resilience.contingency.service import run_contingency_report
from app.resilience.health.service import run_health_check
from tests.api.conftest import bearer


def test_latest_health_check_and_resilience_status(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    headers = bearer(tokens[Role.VIEWER])
    assert client.get("/api/v1/health-checks/latest", headers=headers).status_code == 404
    with session_scope() as session:
        outcome = run_health_check(session)
    assert outcome.report is not None
    latest = client.get("/api/v1/health-checks/latest", headers=headers)
    assert latest.status_code == 200
    body = latest.json()
    assert body["summary"]["record_id"] == outcome.record_id
    assert body["result"]["defense"]["level"] == outcome.report.defense.level.value
    status = client.get("/health/resilience", headers=headers).json()
    assert status["defense_level"] == outcome.report.defense.level.value
    assert status["reasons"] == list(outcome.report.defense.reasons)
    assert status["n1_status"] == outcome.report.n1_status
    tag = latest.headers["etag"]
    same = client.get(
        f"/api/v1/health-checks/{outcome.record_id}", headers=headers | {"If-None-Match": tag}
    )
    assert same.status_code == 304 and same.content == b""


def test_resilience_timestamps_carry_utc_offset_when_stored_in_another_zone(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    headers = bearer(tokens[Role.VIEWER])
    with session_scope() as session:
        record_id = run_health_check(session).record_id
        record = session.get(HealthCheckRecord, record_id)
        assert record is not None
        record.finished_at = datetime(2026, 12, 2, 6, 45, tzinfo=timezone(timedelta(hours=-5)))

    checked_at = client.get("/health/resilience", headers=headers).json()["checked_at"]
    finished_at = client.get("/api/v1/health-checks/latest", headers=headers).json()["finished_at"]

    assert checked_at == finished_at == "2026-12-02T11:45:00+00:00"
    moment = datetime.fromisoformat(checked_at)
    assert moment.utcoffset() == timedelta(0)
    assert moment == datetime(2026, 12, 2, 11, 45, tzinfo=UTC)


def test_contingency_report_has_every_finding(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    with session_scope() as session:
        outcome = run_contingency_report(session, start=first, days_ahead=14)
    headers = bearer(tokens[Role.VIEWER])
    body = client.get(f"/api/v1/contingency-reports/{outcome.report_id}", headers=headers).json()
    report = body["report"]
    assert len(report["critical_faculty"]) == len(outcome.report["critical_faculty"])
    assert len(report["fatal_pairs"]) == len(outcome.report["fatal_pairs"])
    names = {p["id"]: p["name"] for p in demo_program["people"]}
    assert report["exposures"] == outcome.report["exposures"]
    assert all(report["names"][c["person_id"]] == names[c["person_id"]]
               for c in report["critical_faculty"])  # fmt: skip
    listed = client.get("/api/v1/contingency-reports", headers=headers).json()
    assert listed["count"] == 1 and listed["data"][0]["report_id"] == outcome.report_id
    assert client.get("/api/v1/contingency-reports/999999", headers=headers).status_code == 404


def test_lists_come_in_pages_with_the_total_count(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    with session_scope() as session:
        ids = [run_health_check(session).record_id for _ in range(3)]
    headers = bearer(tokens[Role.VIEWER])
    page = client.get("/api/v1/health-checks?offset=1&limit=1", headers=headers).json()
    assert page["count"] == 3
    assert [r["record_id"] for r in page["data"]] == [ids[1]]
    bad = client.get("/api/v1/health-checks?limit=0", headers=headers)
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "query.limit"


def test_latest_contingency_report_is_the_one_the_health_check_reads(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    headers = bearer(tokens[Role.VIEWER])
    assert client.get("/api/v1/contingency-reports/latest", headers=headers).status_code == 404
    faculty = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    with session_scope() as session:
        today = program_clock(session, get_settings()).today(utcnow())
        daily = run_contingency_report(session, start=today, days_ahead=28)
    with session_scope() as session:
        entry = AbsenceEntry(faculty, today + timedelta(days=7), today + timedelta(days=9), "sick")
        absence_id = add_absence(session, entry, actor="test").row.id
    with session_scope() as session:
        changed = run_contingency_report(session, start=today, days_ahead=28)
    with session_scope() as session:
        remove_absence(session, absence_id, actor="test")
    with session_scope() as session:
        # A shorter one-off run, the newest report of all, and the re-run of the undone change.
        short = run_contingency_report(session, start=today, days_ahead=3)
        again = run_contingency_report(session, start=today, days_ahead=28)
        health = run_health_check(session)
    assert changed.created and short.created and not again.created
    assert health.report is not None
    assert health.report.later.source["id"] == daily.report_id

    latest = client.get("/api/v1/contingency-reports/latest", headers=headers).json()
    assert (latest["summary"]["report_id"], latest["current"]) == (daily.report_id, True)
    assert latest["report"]["window"] == {
        "start": today.isoformat(),
        "end": (today + timedelta(days=27)).isoformat(),
    }
    # Another change: no report describes the schedule; the newest of the window is stale.
    with session_scope() as session:
        add_absence(session, AbsenceEntry(faculty, today, today, "sick"), actor="test")
    latest = client.get("/api/v1/contingency-reports/latest", headers=headers).json()
    assert (latest["summary"]["report_id"], latest["current"]) == (changed.report_id, False)
