"""The analysis commands of ``residency-scheduler``, run as a user would (Typer's runner)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.domain.snapshot import load_snapshot
from app.models.alert import Alert
from app.models.resilience import ContingencyReport, HealthCheckRecord
from app.models.schedule import Absence
from app.programs.service import import_program
from tests.resilience.reference import reference_analysis

START = date(2026, 11, 30)


# 09:00 in New York on Tuesday 1 December 2026: the health check's clock in these tests.
HEALTH_NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _inpatient_program() -> dict[str, Any]:
    """F1 alone holds the patient-safety inpatient service on Friday 4 December AM (three
    unqualified faculty do admin beside it); F2 works on 21 December, so the published schedule
    covers the health check's 14 days. Expected by hand (model section 4): utilization 1/4
    (GREEN), one N-1 failure within 14 days: ORANGE."""
    faculty = [
        {"id": f, "name": f"Dr. {f}", "kind": "faculty", "faculty_role": "core",
         "qualifications": quals, "weekly_cap": None, "active_from": None, "active_to": None}
        for f, quals in [("F1", ["inpatient_attending"]), ("F2", ["inpatient_attending"]),
                         ("H1", []), ("H2", []), ("H3", [])]
    ]  # fmt: skip
    work = [("F1", "2026-12-04", "inpatient"), ("F2", "2026-12-21", "inpatient")]
    work += [(h, "2026-12-04", "admin") for h in ("H1", "H2", "H3")]
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {"name": "CLI test", "timezone": "America/New_York", "main_site": "main",
                    "academic_year_start": "07-01"},
        "sites": [{"id": "main", "name": "Main hospital"}],
        "qualifications": [{"id": "inpatient_attending", "name": "Inpatient attending"}],
        "people": faculty,
        "activities": [
            {"id": "inpatient", "name": "Inpatient", "category": "patient_safety", "site": "main",
             "qualification": "inpatient_attending", "min_faculty": 0, "min_faculty_rules": [
                 {"min_faculty": 1, "start": "2026-12-04", "end": "2026-12-04", "half": "AM"}]},
            {"id": "admin", "name": "Admin", "category": "administration", "site": "main"},
        ],
        "holidays": [],
        "assignments": [
            {"person_id": p, "date": d, "half": "AM", "activity_id": a, "role": "primary"}
            for p, d, a in work
        ],
        "absences": [],
    }  # fmt: skip


@pytest.fixture
def inpatient_db(configured_database: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    with Session(configured_database) as session:
        import_program(session, _inpatient_program(), source="test", actor="test")
        session.commit()
    monkeypatch.setattr("app.resilience.health.service.utcnow", lambda: HEALTH_NOW)
    return configured_database


def test_analyze_health_json_stores_record_when_run(inpatient_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "health", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    summary = data["summary"]
    assert (summary["window_start"], summary["window_end"]) == ("2026-12-01", "2026-12-07")
    assert (summary["defense_level"], summary["utilization_level"]) == ("ORANGE", "GREEN")
    assert (summary["utilization"], summary["n1_status"]) == (0.25, "fail")
    assert data["result"]["defense"]["reasons"] == [
        "ORANGE: N-1 failure within 14 days: 2026-12-04 AM"
    ]
    with Session(inpatient_db) as session:
        record = session.get(HealthCheckRecord, summary["record_id"])
        assert record is not None and record.result == data["result"]


def test_analyze_health_prints_readable_summary(inpatient_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "health"])
    assert result.exit_code == 0, result.output
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "Defense level ORANGE" in lines
    assert "Utilization 25.0% GREEN (1 faculty slots / 4 on hand)" in lines
    assert "- ORANGE: N-1 failure within 14 days: 2026-12-04 AM" in lines


def test_analyze_contingency_json_lists_findings_with_half_days(demo_db: Engine) -> None:
    args = ["analyze", "contingency", "--days-ahead", "21", "--start", START.isoformat(), "--json"]
    first = CliRunner().invoke(cli_app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)["report"]
    with Session(demo_db) as session:
        snapshot = load_snapshot(session)
    problems = build_site_half_days(snapshot, START, START + timedelta(days=20))
    expected = {person for person, _ in reference_analysis(problems).n1}
    assert expected, "the demo program should have critical faculty in these three weeks"
    assert {c["person_id"] for c in report["critical_faculty"]} == expected
    for c in report["critical_faculty"]:
        assert report["names"][c["person_id"]] == snapshot.people_by_id[c["person_id"]].name
        assert c["exposures"]
        for e in (report["exposures"][i] for i in c["exposures"]):
            assert START <= date.fromisoformat(e["date"]) <= date(2026, 12, 20)
            assert e["half"] in {"AM", "PM"}
    assert first.stdout.count("\n") == 1  # compact: one line
    second = CliRunner().invoke(cli_app, [*args, "--pretty"])
    assert second.stdout.count("\n") > 100  # indented
    again = json.loads(second.stdout)
    assert again["summary"]["created"] is False
    assert again["report"] == report  # the same data, however printed
    with Session(demo_db) as session:
        assert session.scalar(select(func.count()).select_from(ContingencyReport)) == 1


def test_analyze_contingency_rejects_bad_start_with_exit_2(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "contingency", "--start", "2026-13-01"])
    assert result.exit_code == 2
    assert "--start" in result.output


@pytest.mark.parametrize(
    ("start", "days"), [("9999-12-30", "5"), ("9999-01-01", "1096"), ("9998-01-02", "1096")]
)
def test_analyze_contingency_refuses_window_past_last_date_with_exit_2(
    demo_db: Engine, start: str, days: str
) -> None:
    args = ["analyze", "contingency", "--start", start, "--days-ahead", days, "--json"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "would run past 9999-12-31" in result.output
    assert f"--start {start}" in result.output and f"--days-ahead {days}" in result.output
    with Session(demo_db) as session:
        assert session.scalar(select(func.count()).select_from(ContingencyReport)) == 0


def test_analyze_contingency_runs_window_ending_on_last_date(
    configured_database: Engine,
) -> None:
    doc = _inpatient_program()
    doc["schedule_end"] = "9999-12-31"  # a schedule published to the end of the calendar
    with Session(configured_database) as session:
        import_program(session, doc, source="p.json", actor="test")
        session.commit()
    args = ["analyze", "contingency", "--start", "9999-12-25", "--days-ahead", "7", "--json"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["end"] == "9999-12-31"


def test_what_if_absence_names_unknown_person_with_exit_3(demo_db: Engine) -> None:
    args = ["what-if", "absence", "--person", "NOPE", "--from", "2026-12-01", "--to", "2026-12-02"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 3
    assert "NOPE" in result.output


def test_what_if_absence_changes_nothing_in_database(demo_db: Engine) -> None:
    with Session(demo_db) as session:
        before = session.scalar(select(func.count()).select_from(ContingencyReport))
        absences = session.scalar(select(func.count()).select_from(Absence))
    args = [
        "what-if",
        "absence",
        "--person",
        "F001",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-04",
        "--json",
    ]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"gaps_added", "n1_added", "n2_added"}
    with Session(demo_db) as session:
        assert session.scalar(select(func.count()).select_from(ContingencyReport)) == before
        assert session.scalar(select(func.count()).select_from(Absence)) == absences


def test_analyze_contingency_starts_on_programs_today_when_zones_disagree(
    configured_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(configured_database) as session:
        doc = generate_demo_program(seed=2, faculty=12, weeks=5, start=START)
        doc["program"]["timezone"] = "Asia/Tokyo"
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    # Already Tuesday 1 December in Tokyo, still Monday in New York (the setting's default).
    monkeypatch.setattr("app.cli.analyze.utcnow", lambda: datetime(2026, 11, 30, 20, 0, tzinfo=UTC))

    result = CliRunner().invoke(cli_app, ["analyze", "contingency", "--json", "--days-ahead", "3"])

    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)["summary"]
    assert (summary["start"], summary["end"]) == ("2026-12-01", "2026-12-03")


def test_only_the_standard_horizon_moves_the_n1_alerts(
    demo_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.cli.analyze.utcnow", lambda: HEALTH_NOW)

    def n1_alerts() -> list[tuple[int, str, str, int]]:
        with Session(demo_db) as session:
            rows = session.scalars(select(Alert).where(Alert.dedup_key.startswith("contingency:")))
            return sorted((a.id, a.dedup_key, a.status, a.occurrences) for a in rows)

    def analyze(*extra: str) -> None:
        result = CliRunner().invoke(cli_app, ["analyze", "contingency", "--json", *extra])
        assert result.exit_code == 0, result.output

    analyze()  # the standard horizon: from today, CONTINGENCY_DAYS days
    before = n1_alerts()
    assert len(before) > 2  # critical people in the demo program (and the compliance alert)

    # A few days, or a window elsewhere: fewer critical people there, alerts left alone.
    analyze("--days-ahead", "2")
    analyze("--start", "2026-12-20", "--days-ahead", "2")
    assert n1_alerts() == before

    # The standard horizon again (its length given explicitly): the same alerts refreshed.
    analyze("--days-ahead", "90")
    after = n1_alerts()
    assert [a[:3] for a in after] == [b[:3] for b in before]
    assert [a[3] for a in after] == [b[3] + 1 for b in before]
