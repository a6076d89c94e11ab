"""Who may call what: every route against every role, from a table written by hand.

``ALLOWED`` means the route did its work (any status but 401, 403 and 429); the table is the
rule of issue 13: reading needs viewer; editing absences, importing, exporting (the file holds
absence reasons), acknowledging alerts and triggering tasks need coordinator; activating and
deactivating a crisis need program director or admin. A route missing from the table fails
the test, so a new route has to be placed in it.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.core.db import session_scope
from app.models.user import Role
from app.notifications.service import raise_alert
from app.resilience.contingency.service import run_contingency_report
from app.resilience.forecast.service import run_forecast
from app.resilience.health.service import run_health_check
from tests.api.conftest import bearer
from tests.api.test_operations import store_fallback

ALLOWED = "allowed"
V, C, P, A = Role.VIEWER, Role.COORDINATOR, Role.PROGRAM_DIRECTOR, Role.ADMIN
NONE = "no token"
OPEN = {NONE: ALLOWED, V: ALLOWED, C: ALLOWED, P: ALLOWED, A: ALLOWED}
READ = {NONE: 401, V: ALLOWED, C: ALLOWED, P: ALLOWED, A: ALLOWED}
EDIT = {NONE: 401, V: 403, C: ALLOWED, P: ALLOWED, A: ALLOWED}
DIRECT = {NONE: 401, V: 403, C: 403, P: ALLOWED, A: ALLOWED}

# (method, path template): expected outcome per caller
TABLE: dict[tuple[str, str], dict[Any, Any]] = {
    ("GET", "/health"): OPEN,
    ("GET", "/health/ready"): OPEN,
    ("GET", "/metrics"): OPEN,  # METRICS_TOKEN unset; see test_access.py
    ("GET", "/health/resilience"): READ,
    ("GET", "/api/v1/health-checks"): READ,
    ("GET", "/api/v1/health-checks/latest"): READ,
    ("GET", "/api/v1/health-checks/{record_id}"): READ,
    ("GET", "/api/v1/contingency-reports"): READ,
    ("GET", "/api/v1/contingency-reports/latest"): READ,
    ("GET", "/api/v1/contingency-reports/{report_id}"): READ,
    ("GET", "/api/v1/forecasts"): READ,
    ("GET", "/api/v1/forecasts/latest"): READ,
    ("GET", "/api/v1/absences"): READ,
    ("POST", "/api/v1/absences"): EDIT,
    ("DELETE", "/api/v1/absences/{absence_id}"): EDIT,
    ("POST", "/api/v1/absences/what-if"): READ,
    ("POST", "/api/v1/absences/what-if#repair"): EDIT,  # the same route with "repair": true
    ("GET", "/api/v1/fallbacks"): READ,
    ("GET", "/api/v1/fallbacks/{fallback_id}"): READ,
    ("GET", "/api/v1/fallbacks/{fallback_id}/changes.csv"): READ,
    ("GET", "/api/v1/fallbacks/{fallback_id}/{person_id}.ics"): READ,
    ("GET", "/api/v1/alerts"): READ,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): EDIT,
    ("GET", "/api/v1/crisis"): READ,
    ("POST", "/api/v1/crisis/activate"): DIRECT,
    ("POST", "/api/v1/crisis/deactivate"): DIRECT,
    ("GET", "/api/v1/program"): EDIT,
    ("PUT", "/api/v1/program"): EDIT,
    ("POST", "/api/v1/tasks/health-check"): EDIT,
    ("POST", "/api/v1/tasks/contingency-analysis"): EDIT,
    ("GET", "/api/v1/tasks/{task_id}"): READ,
}


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """Every route of the OpenAPI schema (the dashboard's pages are not in it)."""
    paths = app.openapi()["paths"]
    return {(method.upper(), path) for path, item in paths.items() for method in item}


def test_every_route_is_in_the_table(api_app: FastAPI) -> None:
    assert api_routes(api_app) == {(method, path.split("#")[0]) for method, path in TABLE}


@pytest.fixture
def request_for(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid request of each route that needs more than its path."""
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    with session_scope() as session:
        record_id = run_health_check(session).record_id
        report_id = run_contingency_report(session, start=first, days_ahead=7).report_id
        run_forecast(session, days_ahead=7)
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    day = (first + timedelta(days=2)).isoformat()
    absence = {"person_id": person, "start": day, "end": day, "type": "vacation"}
    program = client.get("/api/v1/program", headers=bearer(tokens[A])).content
    fallback_id = store_fallback(demo_program)
    moved = client.get(f"/api/v1/fallbacks/{fallback_id}", headers=bearer(tokens[A])).json()
    with session_scope() as session:
        alert_id = raise_alert(session, "warning", "Clinic short", {"dedup_key": "a"}).alert_id
    what_if = {k: absence[k] for k in ("person_id", "start", "end")}
    return {
        ("GET", "/api/v1/health-checks/{record_id}"): {"url": f"/api/v1/health-checks/{record_id}"},
        ("GET", "/api/v1/contingency-reports/{report_id}"): {
            "url": f"/api/v1/contingency-reports/{report_id}"
        },
        ("POST", "/api/v1/absences"): {"json": absence},
        ("POST", "/api/v1/absences/what-if"): {"json": what_if},
        ("POST", "/api/v1/absences/what-if#repair"): {
            "url": "/api/v1/absences/what-if",
            "json": what_if | {"repair": True},
        },
        ("GET", "/api/v1/fallbacks/{fallback_id}"): {"url": f"/api/v1/fallbacks/{fallback_id}"},
        ("GET", "/api/v1/fallbacks/{fallback_id}/changes.csv"): {
            "url": f"/api/v1/fallbacks/{fallback_id}/changes.csv"
        },
        ("GET", "/api/v1/fallbacks/{fallback_id}/{person_id}.ics"): {"url": moved["calendars"][0]},
        ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): {
            "url": f"/api/v1/alerts/{alert_id}/acknowledge"
        },
        ("POST", "/api/v1/crisis/activate"): {
            "json": {"severity": "minor", "reason": "authorization table"}
        },
        ("POST", "/api/v1/crisis/deactivate"): {"json": {"reason": "authorization table"}},
        ("PUT", "/api/v1/program"): {"content": program},
        ("POST", "/api/v1/tasks/contingency-analysis"): {"json": {"days_ahead": 7}},
        ("GET", "/api/v1/tasks/{task_id}"): {"url": "/api/v1/tasks/no-such-task"},
    }


def test_every_route_and_role(
    client: TestClient,
    tokens: dict[Role, str],
    request_for: dict[tuple[str, str], dict[str, Any]],
) -> None:
    absence = request_for[("POST", "/api/v1/absences")]["json"]
    for (method, path), expected in TABLE.items():
        for caller, want in expected.items():
            extra = dict(request_for.get((method, path), {}))
            url = extra.pop("url", path)
            if path == "/api/v1/absences/{absence_id}":  # one to delete, each time
                added = client.post("/api/v1/absences", json=absence, headers=bearer(tokens[A]))
                url = f"/api/v1/absences/{added.json()['absence']['id']}"
            headers = {} if caller == NONE else bearer(tokens[caller])
            status = client.request(method, url, headers=headers, **extra).status_code
            got = ALLOWED if status not in (401, 403, 429) else status
            assert got == want, f"{method} {path} as {caller}: {status}, expected {want}"


SECRET_REASON = "chemotherapy-7f3a"
"""An absence reason no route may show a viewer (nor any other word of it)."""


def test_no_route_shows_absence_type_or_reason_to_a_viewer(
    client: TestClient, tokens: dict[Role, str], request_for: dict[tuple[str, str], dict[str, Any]]
) -> None:
    body = dict(request_for[("POST", "/api/v1/absences")]["json"])
    body |= {"type": "medical", "reason": SECRET_REASON}
    added = client.post("/api/v1/absences", json=body, headers=bearer(tokens[C]))
    assert added.status_code == 201, added.text
    assert added.json()["absence"]["reason"] == SECRET_REASON  # a coordinator sees it
    viewer = bearer(tokens[V])
    shown = 0
    for (method, path), expected in TABLE.items():
        if expected[V] != ALLOWED:
            continue
        extra = dict(request_for.get((method, path), {}))
        url = extra.pop("url", path)
        response = client.request(method, url, headers=viewer, **extra)
        assert SECRET_REASON not in response.text, f"{method} {path}"
        assert "medical" not in response.text, f"{method} {path}"
        shown += response.status_code == 200
    listed = client.get("/api/v1/absences", headers=viewer).json()["data"]
    assert listed and all(set(a) == {"id", "person_id", "start", "end", "half"} for a in listed)
    assert shown == sum(expected[V] == ALLOWED for expected in TABLE.values())  # all answered
