"""``residency-scheduler analyze forecast``, run as a user would (Typer's runner)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.demo.generator import generate_demo_program
from app.models.resilience import UtilizationForecast
from app.programs.service import import_program


@pytest.fixture
def demo_db(configured_database: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("FORECAST_SAMPLES", "1000")
    with Session(configured_database) as session:
        doc = generate_demo_program(seed=2, faculty=12, weeks=4, start=date.today())
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return configured_database


def _stored(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(UtilizationForecast)) or 0


def test_analyze_forecast_json_has_every_day_and_is_stored(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "forecast", "--days-ahead", "35", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    days = out["forecast"]["days"]
    assert len(days) == 35 and out["summary"]["samples"] == 1000
    assert any(d["extrapolated"] for d in days)  # four weeks of schedule, 35 days asked
    assert all(0 <= d["shortfall_probability"] <= 1 for d in days)
    assert _stored(demo_db) == 1


def test_analyze_forecast_prints_a_table_per_week(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "forecast", "--days-ahead", "31"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Per week" in text and "utilization" in text and "worst level" in text
    assert "1000 samples per day" in text and "Extrapolated" in text
    assert "High-risk periods" in text
    assert "* some days extrapolated from the typical week" in text  # past the four weeks


def test_analyze_forecast_within_the_schedule_marks_nothing_extrapolated(demo_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "forecast", "--days-ahead", "14"])
    assert result.exit_code == 0, result.output
    assert "extrapolated from the typical week" not in result.output


@pytest.mark.parametrize("days", ["0", "367", "ten"])
def test_analyze_forecast_refuses_bad_days_with_exit_2(demo_db: Engine, days: str) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "forecast", "--days-ahead", days])
    assert result.exit_code == 2
    assert _stored(demo_db) == 0
