"""Fallbacks (with their downloads), alerts with their deliveries and acknowledgement, the
crisis response and the what-if's repair over the API, on both databases."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.config import Settings, get_settings
from app.core.db import session_scope
from app.models.alert import Alert
from app.models.audit import AuditRecord
from app.models.crisis import CrisisEvent
from app.models.delivery import AlertDelivery
from app.models.user import Role
from app.notifications.service import raise_alert
from app.resilience.fallbacks.scenarios import scenario_named
from app.resilience.fallbacks.service import (
    prepare_fallbacks,
    solver_options,
    store_scenario_fallback,
)
from tests.api.conftest import bearer
from tests.notifications.test_dispatch import unreachable_broker

__all__ = ["unreachable_broker"]

OPTIONS = solver_options(Settings(FALLBACK_SOLVER_WORKERS=1, FALLBACK_SOLVER_TIME_LIMIT_S=20))
HOOK = "https://hooks.example.org:8443/services/T0/secret-path?token=abc123"
ALERT_SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    WEBHOOK_URLS=HOOK,
    WEBHOOK_SECRET="whsec_" + base64.b64encode(b"k" * 32).decode(),
)


def store_fallback(demo_program: dict[str, Any], scenario: str = "pcs_season") -> int:
    """One scenario's fallback over the demo program's first two weeks; its id."""
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    last = first + timedelta(days=13)
    with session_scope() as session:
        snapshot, ranking = prepare_fallbacks(session, first, last)
        row, _ = store_scenario_fallback(
            session, scenario_named(scenario), snapshot, first, last, ranking, OPTIONS
        )
        return row.id


def test_fallbacks_list_show_and_downloads(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    viewer = bearer(tokens[Role.VIEWER])
    assert client.get("/api/v1/fallbacks", headers=viewer).json() == {"data": [], "count": 0}
    fallback_id = store_fallback(demo_program)
    listed = client.get("/api/v1/fallbacks", headers=viewer).json()
    assert listed["count"] == 1
    assert (listed["data"][0]["id"], listed["data"][0]["stale"]) == (fallback_id, False)
    view = client.get(f"/api/v1/fallbacks/{fallback_id}", headers=viewer).json()
    moves = view["result"]["moves"]
    people = sorted({m["person_id"] for m in moves})
    assert view["calendars"] == [f"/api/v1/fallbacks/{fallback_id}/{p}.ics" for p in people]
    table = client.get(f"/api/v1/fallbacks/{fallback_id}/changes.csv", headers=viewer)
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.reader(io.StringIO(table.text)))) == len(moves) + 1  # header + a row each
    for person in people:
        ics = client.get(f"/api/v1/fallbacks/{fallback_id}/{person}.ics", headers=viewer)
        assert ics.headers["content-type"].startswith("text/calendar")
        mine = sum(m["person_id"] == person for m in moves)
        assert ics.text.startswith("BEGIN:VCALENDAR") and ics.text.count("BEGIN:VEVENT") == mine
    nobody = client.get(f"/api/v1/fallbacks/{fallback_id}/NOBODY.ics", headers=viewer)
    assert nobody.status_code == 404
    assert client.get("/api/v1/fallbacks/999999", headers=viewer).status_code == 404


def test_a_fallback_turns_stale_when_its_absences_change(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    fallback_id = store_fallback(demo_program)
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    day = demo_program["assignments"][0]["date"]
    absence = {"person_id": person, "start": day, "end": day, "type": "vacation"}
    added = client.post("/api/v1/absences", json=absence, headers=bearer(tokens[Role.COORDINATOR]))
    assert added.status_code == 201
    view = client.get(f"/api/v1/fallbacks/{fallback_id}", headers=bearer(tokens[Role.VIEWER]))
    assert view.json()["stale"] is True


def _alert_with_a_webhook_delivery() -> int:
    with session_scope() as session:
        outcome = raise_alert(
            session, "critical", "Inpatient gap", {"dedup_key": "gap"}, settings=ALERT_SETTINGS
        )
        return outcome.alert_id


def test_alerts_show_deliveries_by_host_only(client: TestClient, tokens: dict[Role, str]) -> None:
    alert_id = _alert_with_a_webhook_delivery()
    with session_scope() as session:  # as the delivery worker leaves a failed one
        hook = session.scalars(
            select(AlertDelivery).where(AlertDelivery.channel == "webhook")
        ).one()
        hook.status, hook.attempts, hook.last_error = "failed", 3, "HTTP 500"
    response = client.get("/api/v1/alerts", headers=bearer(tokens[Role.VIEWER]))
    body = response.json()
    assert body["count"] == 1 and body["data"][0]["id"] == alert_id
    deliveries = body["data"][0]["deliveries"]
    hooks = [d for d in deliveries if d["channel"] == "webhook"]
    assert [d["target"] for d in hooks] == ["https://hooks.example.org:8443/..."]
    assert [(d["status"], d["attempts"], d["last_error"]) for d in hooks] == [
        ("failed", 3, "HTTP 500")
    ]
    assert [d["outcome"] for d in hooks] == ["failed, 3 attempt(s) (HTTP 500)"]
    in_app = [d for d in deliveries if d["channel"] == "in_app"]
    assert [(d["status"], d["outcome"]) for d in in_app] == [("delivered", "delivered in app")]
    updated_at = datetime.fromisoformat(body["data"][0]["updated_at"])
    assert updated_at.tzinfo is not None and updated_at.utcoffset() == timedelta(0)
    for secret in ("secret-path", "abc123", "whsec_"):
        assert secret not in response.text


def test_acknowledging_an_alert_records_the_caller(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    alert_id = _alert_with_a_webhook_delivery()
    url = f"/api/v1/alerts/{alert_id}/acknowledge"
    assert client.post(url, headers=bearer(tokens[Role.VIEWER])).status_code == 403
    with session_scope() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None and (alert.status, alert.acknowledged_by) == ("active", None)
    done = client.post(url, headers=bearer(tokens[Role.COORDINATOR]))
    assert done.status_code == 200
    assert done.json() == {
        "id": alert_id,
        "status": "acknowledged",
        "acknowledged_by": "coordinator",
    }
    shown = client.get("/api/v1/alerts", headers=bearer(tokens[Role.VIEWER])).json()["data"][0]
    assert shown["acknowledged_by"] == "coordinator"
    missing = client.post("/api/v1/alerts/999999/acknowledge", headers=bearer(tokens[Role.ADMIN]))
    assert missing.status_code == 404


def _crisis_rows() -> tuple[int, int]:
    with session_scope() as session:
        crises = session.scalar(select(func.count()).select_from(CrisisEvent)) or 0
        audits = session.scalar(select(func.count()).select_from(AuditRecord)) or 0
        return crises, audits


def test_crisis_activate_and_deactivate_record_the_caller(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    viewer, director = bearer(tokens[Role.VIEWER]), bearer(tokens[Role.PROGRAM_DIRECTOR])
    assert client.get("/api/v1/crisis", headers=viewer).json() == {"active": False, "crisis": None}
    body = {"severity": "severe", "reason": "flu outbreak"}
    before = _crisis_rows()
    for refused, headers, extra in (
        (403, viewer, {}),
        (403, bearer(tokens[Role.COORDINATOR]), {}),
        (422, director, {"approved_by": "someone-else"}),
        (422, director, {"severity": "apocalyptic"}),
        (422, director, {"reason": "  "}),
    ):
        response = client.post("/api/v1/crisis/activate", json=body | extra, headers=headers)
        assert response.status_code == refused, response.text
        assert _crisis_rows() == before  # a refused request writes nothing
    activated = client.post("/api/v1/crisis/activate", json=body, headers=director)
    assert activated.status_code == 200, activated.text
    crisis = activated.json()
    assert (crisis["approved_by"], crisis["severity"], crisis["changed"]) == (
        "program-director",
        "severe",
        True,
    )
    assert crisis["shedding_level"] == "RED"
    status = client.get("/api/v1/crisis", headers=viewer).json()
    assert status["active"] is True and status["crisis"]["id"] == crisis["id"]
    activated_at = datetime.fromisoformat(status["crisis"]["activated_at"])
    assert activated_at.tzinfo is not None and activated_at.utcoffset() == timedelta(0)
    state = client.get("/health/resilience", headers=viewer).json()["crisis"]
    assert (state["status"], state["severity"], state["approved_by"]) == (
        "active",
        "severe",
        "program-director",
    )
    again = client.post("/api/v1/crisis/activate", json=body, headers=director).json()
    assert (again["id"], again["changed"]) == (crisis["id"], False)
    ended = client.post(
        "/api/v1/crisis/deactivate", json={"reason": "over"}, headers=bearer(tokens[Role.ADMIN])
    )
    assert ended.status_code == 200 and ended.json()["ended_by"] == "admin"
    assert client.get("/health/resilience", headers=viewer).json()["crisis"] == {"status": "none"}
    none_left = client.post("/api/v1/crisis/deactivate", json={"reason": "x"}, headers=director)
    assert none_left.status_code == 404


def test_what_if_repair_for_coordinators(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    busiest: dict[str, int] = {}
    for a in demo_program["assignments"]:
        if a["date"] == first.isoformat():
            busiest[a["person_id"]] = busiest.get(a["person_id"], 0) + 1
    faculty = {p["id"] for p in demo_program["people"] if p["kind"] == "faculty"}
    person = max(sorted(faculty & set(busiest)), key=lambda p: busiest[p])
    body = {"person_id": person, "start": first.isoformat(), "end": first.isoformat()}
    url = "/api/v1/absences/what-if"
    plain = client.post(url, json=body, headers=bearer(tokens[Role.VIEWER]))
    assert plain.status_code == 200 and "repair" not in plain.json()
    refused = client.post(url, json=body | {"repair": True}, headers=bearer(tokens[Role.VIEWER]))
    assert refused.status_code == 403
    asked = client.post(url, json=body | {"repair": True}, headers=bearer(tokens[Role.COORDINATOR]))
    assert asked.status_code == 200, asked.text
    repair = asked.json()["repair"]
    assert set(repair) == {"proposal", "moves", "gaps_opened", "gaps_left", "n1_left", "tiers"}
    for move in repair["moves"]:  # only the days away, never the absent person
        assert move["date"] == first.isoformat() and move["person_id"] != person
    assert repair["gaps_left"] >= 0


def test_crisis_alert_deliveries_are_sent_after_the_commit(
    client: TestClient,
    tokens: dict[Role, str],
    demo_program: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    unreachable_broker: None,
) -> None:
    """With a webhook configured, activating plans a delivery and queues it once committed:
    the broker is away, so the queueing marks the committed row failed (a row not yet
    committed could not be found and marked)."""
    monkeypatch.setenv("WEBHOOK_URLS", HOOK)
    monkeypatch.setenv("WEBHOOK_SECRET", ALERT_SETTINGS.WEBHOOK_SECRET.get_secret_value())
    get_settings.cache_clear()
    body = {"severity": "minor", "reason": "drill"}
    director = bearer(tokens[Role.PROGRAM_DIRECTOR])
    assert client.post("/api/v1/crisis/activate", json=body, headers=director).status_code == 200
    with session_scope() as session:
        hooks = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "webhook"))
        shown = [(d.status, d.last_error or "") for d in hooks]
    assert len(shown) == 1 and shown[0][0] == "failed" and "broker unavailable" in shown[0][1]
