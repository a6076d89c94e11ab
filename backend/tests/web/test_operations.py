"""The dashboard's fallbacks, alerts and crisis pages over HTTP: readiness and downloads,
delivery status and acknowledgement, crisis controls for those allowed (CSRF and role checked
on every form; a refused form writes nothing), and the leave preview's repair."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.db import session_scope
from app.models.alert import Alert
from app.models.crisis import CrisisEvent
from app.models.user import Role
from app.programs.absences import AbsenceEntry, add_absence
from tests.api.test_operations import _alert_with_a_webhook_delivery, store_fallback
from tests.web.conftest import csrf_of, sign_in


def _row(html: str, row_id: str) -> str:
    start = html.index(f'id="{row_id}"')
    return html[start : html.index("</tr>", start)]


def test_fallbacks_page_shows_readiness_and_downloads(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    fallback_id = store_fallback(demo_program, "pcs_season")
    sign_in(client, tokens[Role.VIEWER])
    page = client.get("/fallbacks").text
    ready = _row(page, "scenario-pcs_season")
    assert '<td class="state">ready</td>' in ready
    assert f'href="/fallbacks/{fallback_id}/changes.csv"' in ready
    assert '<td class="state">missing</td>' in _row(page, "scenario-weather_emergency")
    download = client.get(f"/fallbacks/{fallback_id}/changes.csv")
    assert download.status_code == 200 and download.headers["content-type"].startswith("text/csv")
    calendar = page.split(f'href="/fallbacks/{fallback_id}/', 2)[2].split('"')[0]
    assert client.get(f"/fallbacks/{fallback_id}/{calendar}").text.startswith("BEGIN:VCALENDAR")
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    day = demo_program["assignments"][0]["date"]
    with session_scope() as session:
        entry = AbsenceEntry(person, date.fromisoformat(day), date.fromisoformat(day), "vacation")
        add_absence(session, entry, actor="test")
    stale = _row(client.get("/fallbacks").text, "scenario-pcs_season")
    assert '<td class="state">stale</td>' in stale


def _alert(alert_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        return alert.status, alert.acknowledged_by


def test_alerts_page_shows_deliveries_and_coordinators_acknowledge(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    alert_id = _alert_with_a_webhook_delivery()
    sign_in(client, tokens[Role.VIEWER])
    page = client.get("/alerts").text
    assert "webhook https://hooks.example.org:8443/...: pending, 0 attempt(s)" in page
    assert "raised in_app app: delivered in app</li>" in page  # stored, never sent
    assert "in_app app: delivered, 0 attempt(s)" not in page
    shown = re.search(r'<time datetime="([^"]+)">(\d{4}-\d\d-\d\d \d\d:\d\d) UTC</time>', page)
    assert shown is not None
    moment = datetime.fromisoformat(shown[1])
    assert moment.utcoffset() == timedelta(0) and f"{moment:%Y-%m-%d %H:%M}" == shown[2]
    assert "secret-path" not in page and f'id="ack-{alert_id}"' not in page
    refused = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and _alert(alert_id) == ("active", None)
    client.cookies.clear()
    sign_in(client, tokens[Role.COORDINATOR])
    page = client.get("/alerts").text
    assert f'id="ack-{alert_id}"' in page
    no_csrf = client.post(f"/alerts/{alert_id}/acknowledge", data={"csrf_token": "x"})
    assert no_csrf.status_code == 403 and _alert(alert_id) == ("active", None)
    done = client.post(
        f"/alerts/{alert_id}/acknowledge",
        data={"csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and _alert(alert_id) == ("acknowledged", "coordinator")
    assert "acknowledged by coordinator" in client.get("/alerts").text


def _crises() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(CrisisEvent)) or 0


def test_crisis_controls_only_for_directors(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    form = {"severity": "moderate", "reason": "half the clinic has flu"}
    sign_in(client, tokens[Role.COORDINATOR])
    page = client.get("/crisis").text
    assert "No crisis is active." in page and 'id="activate-form"' not in page
    refused = client.post("/crisis/activate", data=form | {"csrf_token": csrf_of(page)})
    assert refused.status_code == 403 and _crises() == 0
    client.cookies.clear()
    sign_in(client, tokens[Role.PROGRAM_DIRECTOR])
    page = client.get("/crisis").text
    assert 'id="activate-form"' in page
    assert client.post("/crisis/activate", data=form).status_code == 403 and _crises() == 0
    bad = client.post(
        "/crisis/activate", data=form | {"severity": "x", "csrf_token": csrf_of(page)}
    )
    assert bad.status_code == 422 and "unknown severity" in bad.text and _crises() == 0
    done = client.post(
        "/crisis/activate", data=form | {"csrf_token": csrf_of(page)}, follow_redirects=False
    )
    assert done.status_code == 303 and _crises() == 1
    page = client.get("/crisis").text
    assert "Crisis ACTIVE: moderate (shedding ORANGE)" in page
    assert "Approved by program-director" in page and 'id="deactivate-form"' in page
    overview = client.get("/").text
    assert 'id="crisis-banner"' in overview and "Crisis active: moderate" in overview
    ended = client.post(
        "/crisis/deactivate",
        data={"reason": "recovered", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert ended.status_code == 303
    assert "by program-director: recovered" in client.get("/crisis").text
    assert 'id="crisis-banner"' not in client.get("/").text


def test_leave_preview_shows_the_repair_when_asked(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    sign_in(client, tokens[Role.COORDINATOR])
    page = client.get("/leave").text
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    day = demo_program["assignments"][0]["date"]
    form = {"person_id": person, "start": day, "end": day, "csrf_token": csrf_of(page)}
    plain = client.post("/leave/preview", data=form)
    assert plain.status_code == 200 and 'id="repair-proposal"' not in plain.text
    asked = client.post("/leave/preview", data=form | {"repair": "true"})
    assert asked.status_code == 200 and 'id="repair-proposal"' in asked.text
    assert f"--person {person} --from {day} --to {day}" in asked.text
