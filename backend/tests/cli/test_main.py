"""The analysis commands of ``residency-scheduler``, run as a user would (Typer's runner)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.demo.generator import generate_demo_program
from app.models.resilience import ContingencyReport, HealthCheckRecord
from app.programs.service import import_program

START = date(2026, 11, 30)


@pytest.fixture
def demo_db(configured_database: Engine) -> Engine:
    with Session(configured_database) as session:
        doc = generate_demo_program(seed=2, faculty=12, weeks=5, start=START)
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return configured_database


def test_analyze_health_json_stores_record_when_run(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "health", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["summary"]["defense_level"] in {"GREEN", "YELLOW", "ORANGE", "RED", "BLACK"}
    with Session(demo_db) as session:
        record = session.get(HealthCheckRecord, data["summary"]["record_id"])
        assert record is not None and record.result == data["result"]


def test_analyze_health_prints_readable_summary(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "health"])
    assert result.exit_code == 0, result.output
    assert "Defense level" in result.stdout and "Utilization" in result.stdout


def test_analyze_contingency_json_lists_findings_with_half_days(demo_db: Engine) -> None:
    args = ["analyze", "contingency", "--days-ahead", "21", "--start", START.isoformat(), "--json"]
    first = CliRunner().invoke(cli_app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)["report"]
    for c in report["critical_faculty"]:
        assert c["name"] and c["person_id"]
        for e in c["exposures"]:
            assert date.fromisoformat(e["date"]) >= START and e["half"] in {"AM", "PM"}
    second = CliRunner().invoke(cli_app, args)
    assert json.loads(second.stdout)["summary"]["created"] is False
    with Session(demo_db) as session:
        assert session.scalar(select(func.count()).select_from(ContingencyReport)) == 1


def test_analyze_contingency_rejects_bad_start_with_exit_2(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "contingency", "--start", "2026-13-01"])
    assert result.exit_code == 2
    assert "--start" in result.output


def test_what_if_absence_names_unknown_person_with_exit_3(demo_db: Engine) -> None:
    args = ["what-if", "absence", "--person", "NOPE", "--from", "2026-12-01", "--to", "2026-12-02"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 3
    assert "NOPE" in result.output


def test_what_if_absence_changes_nothing_in_database(demo_db: Engine) -> None:
    with Session(demo_db) as session:
        before = session.scalar(select(func.count()).select_from(ContingencyReport))
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
