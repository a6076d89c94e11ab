"""Dashboard pages over HTTP (the real browser test is test_browser.py): sign-in, CSRF,
headers, roles, and what each page says before and after the analyses ran."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from app.core.config import get_settings
from app.core.db import session_scope
from app.models.base import utcnow
from app.models.resilience import ContingencyReport
from app.models.user import Role
from app.programs.absences import AbsenceEntry, add_absence, list_absences
from app.resilience.clock import program_clock
from app.resilience.contingency.service import run_contingency_report
from app.resilience.forecast.service import run_forecast
from app.resilience.health.service import run_health_check
from app.web.deps import CSP
from tests.api.conftest import bearer
from tests.web.conftest import csrf_of, sign_in

PAGES = ["/", "/findings", "/alerts", "/fallbacks", "/crisis"]


def test_pages_need_sign_in(client: TestClient) -> None:
    for page in [*PAGES, "/leave"]:
        response = client.get(page, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/signin"), page


def test_sign_in_sets_a_strict_http_only_cookie(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    form = client.get("/signin")
    assert form.headers["content-security-policy"] == CSP
    response = client.post(
        "/signin",
        data={"token": tokens[Role.VIEWER], "csrf_token": csrf_of(form.text)},
        follow_redirects=False,
    )
    cookie = response.headers["set-cookie"]
    assert "rs_session=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert tokens[Role.VIEWER] not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "viewer" in page.text


def test_sign_in_without_csrf_or_with_a_bad_token_is_refused(
    client: TestClient, tokens: dict[Role, str]
) -> None:
    client.get("/signin")
    no_csrf = client.post("/signin", data={"token": tokens[Role.ADMIN]}, follow_redirects=False)
    assert no_csrf.status_code == 403 and "rs_session" not in no_csrf.headers.get("set-cookie", "")
    form = client.get("/signin")
    bad = client.post("/signin", data={"token": "rs_nope", "csrf_token": csrf_of(form.text)})
    assert bad.status_code == 401 and "not valid" in bad.text


def test_every_page_before_any_analysis(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    sign_in(client, tokens[Role.VIEWER])
    texts = {page: client.get(page) for page in PAGES}
    assert all(r.status_code == 200 for r in texts.values())
    assert all(r.headers["content-security-policy"] == CSP for r in texts.values())
    assert "not yet analysed" in texts["/"].text
    assert 'id="utilization-chart"' in texts["/"].text
    assert "Not yet analysed" in texts["/findings"].text
    assert "No alerts." in texts["/alerts"].text
    assert '<td class="state">missing</td>' in texts["/fallbacks"].text
    assert "No crisis is active." in texts["/crisis"].text


def test_every_page_after_the_analyses(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    with session_scope() as session:
        health = run_health_check(session)
        outcome = run_contingency_report(session, start=first, days_ahead=28)
    assert health.report is not None
    sign_in(client, tokens[Role.VIEWER])
    overview = client.get("/").text
    assert f"Defense level <strong>{health.report.defense.level.value}</strong>" in overview
    for reason in health.report.defense.reasons:
        assert reason.replace("'", "&#39;") in overview or reason in overview
    findings = client.get("/findings").text
    for critical in outcome.report["critical_faculty"]:
        assert f'href="/people/{critical["person_id"]}"' in findings
    if outcome.report["critical_faculty"]:
        person = outcome.report["critical_faculty"][0]
        page = client.get(f"/people/{person['person_id']}").text
        assert outcome.report["exposures"][person["exposures"][0]]["date"] in page
    assert client.get("/people/NOBODY").status_code == 404


def test_leave_needs_a_coordinator(client: TestClient, tokens: dict[Role, str]) -> None:
    sign_in(client, tokens[Role.VIEWER])
    assert client.get("/leave").status_code == 403
    assert 'href="/leave"' not in client.get("/").text


def test_leave_form_without_csrf_changes_nothing(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    sign_in(client, tokens[Role.COORDINATOR])
    person = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    form = {"person_id": person, "start": "2030-01-01", "end": "2030-01-02", "type": "vacation"}
    assert client.post("/leave/save", data=form).status_code == 403
    assert client.post("/leave/save", data=form | {"csrf_token": "x"}).status_code == 403
    with session_scope() as session:
        assert list_absences(session, person_id=person, start=date(2030, 1, 1)) == []


def test_overview_and_api_show_the_latest_forecast(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    sign_in(client, tokens[Role.VIEWER])
    assert "Shortfall probability: not available" in client.get("/").text
    with session_scope() as session:
        outcome = run_forecast(session, days_ahead=14)
    page = client.get("/").text
    top = outcome.result["max_shortfall_probability"] * 100
    assert f"Shortfall probability: up to {top:.1f}%" in page
    # Two different sets of days, two names: the chart's shaded days to watch, and the
    # forecast's own high-risk days; "high-risk" is said of the forecast's only.
    shaded = page.count('<rect class="risk"')
    watch = page.split('<span id="days-to-watch">', 1)[1].split("</span>", 1)[0]
    assert watch.startswith(f"{shaded} day(s) to watch")
    said = page.split('<span id="shortfall">', 1)[1].split("</span>", 1)[0]
    assert f"{outcome.result['high_risk_days']} forecast high-risk day(s)" in said
    chart_card = page.split('id="chart-title"', 1)[1].split("</section>", 1)[0]
    assert "high-risk" not in chart_card.replace(said, "").lower()
    latest = client.get("/api/v1/forecasts/latest", headers=bearer(tokens[Role.VIEWER])).json()
    assert latest["summary"]["forecast_id"] == outcome.record_id
    assert len(latest["result"]["days"]) == 14


def test_report_of_an_older_format_reads_as_not_yet_analysed(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    first = date.fromisoformat(demo_program["assignments"][0]["date"])
    with session_scope() as session:
        outcome = run_contingency_report(session, start=first, days_ahead=7)
        row = session.get(ContingencyReport, outcome.report_id)
        assert row is not None
        row.report = {**row.report, "format": 1}
    sign_in(client, tokens[Role.VIEWER])
    assert "Not yet analysed" in client.get("/findings").text
    assert client.get("/").status_code == 200


def _table(page: str, table_id: str) -> str:
    return page.split(f'<table id="{table_id}">', 1)[1].split("</table>", 1)[0]


def test_findings_show_the_daily_report_most_severe_first(
    client: TestClient, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    with session_scope() as session:
        today = program_clock(session, get_settings()).today(utcnow())
        daily = run_contingency_report(session, start=today, days_ahead=28)
        # Newer, from the command line: it must not hide the daily report's later findings.
        short = run_contingency_report(session, start=today, days_ahead=3)
    assert short.created and short.report_id > daily.report_id
    sign_in(client, tokens[Role.VIEWER])
    page = client.get("/findings").text
    assert f"Report {daily.report_id}, {today.isoformat()} to" in page
    assert 'id="stale-report"' not in page
    # In the order of the CLI's rankings (most half-days, then most residents, then ids).
    rankings = daily.report["rankings"]
    critical = re.findall(r'<tr><td><a href="/people/([^"]+)">', _table(page, "critical"))
    assert critical == [r["person_ids"][0] for r in rankings["critical_by_half_days"]]
    pairs = re.findall(
        r'<tr><td><a href="/people/([^"]+)">.*?<a href="/people/([^"]+)">', _table(page, "pairs")
    )
    ranked_pairs = [tuple(r["person_ids"]) for r in rankings["pairs_by_half_days"]]
    assert pairs[: len(ranked_pairs)] == ranked_pairs
    assert len(pairs) == len(daily.report["fatal_pairs"])
    # The schedule changes: the same report, said to be stale.
    faculty = next(p["id"] for p in demo_program["people"] if p["kind"] == "faculty")
    with session_scope() as session:
        add_absence(session, AbsenceEntry(faculty, today, today, "sick"), actor="test")
    page = client.get("/findings").text
    assert f"Report {daily.report_id}, " in page and 'id="stale-report"' in page
