"""Flags a coordinator reaches for: ``--pretty`` alone, and a ``--days-ahead`` too long."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.models.fallback import FallbackSchedule
from app.models.resilience import ContingencyReport


def test_analyze_contingency_pretty_prints_indented_json_when_json_is_not_given(
    demo_db: Engine,
) -> None:
    args = ["analyze", "contingency", "--start", "2026-11-30", "--days-ahead", "7"]

    pretty = CliRunner().invoke(cli_app, [*args, "--pretty"])
    compact = CliRunner().invoke(cli_app, [*args, "--json"])

    assert pretty.exit_code == 0, pretty.output
    assert pretty.stdout.startswith('{\n "summary": {\n  "report_id": ')
    # The report that --json prints (the stored one, reused: same input).
    assert json.loads(pretty.stdout)["report"] == json.loads(compact.stdout)["report"]


def test_analyze_contingency_help_says_pretty_implies_json() -> None:
    result = CliRunner().invoke(cli_app, ["analyze", "contingency", "--help"])
    assert "implies --json" in " ".join(result.output.split())


@pytest.mark.parametrize("command", ["contingency", "fallbacks"])
@pytest.mark.parametrize("days", ["1097", "100000"])
def test_analyze_refuses_days_ahead_above_three_years_naming_flag_and_limit(
    demo_db: Engine, command: str, days: str
) -> None:
    result = CliRunner().invoke(cli_app, ["analyze", command, "--days-ahead", days, "--json"])

    assert result.exit_code == 2, result.output
    said = " ".join(result.stderr.split())
    assert "Invalid value for '--days-ahead'" in said and "1096" in said, said
    assert "Traceback" not in said
    with Session(demo_db) as session:
        for table in (ContingencyReport, FallbackSchedule):
            assert session.scalar(select(func.count()).select_from(table)) == 0


def test_analyze_contingency_runs_three_years_when_asked_for_exactly_that(demo_db: Engine) -> None:
    args = ["analyze", "contingency", "--start", "2026-11-30", "--days-ahead", "1096", "--json"]
    result = CliRunner().invoke(cli_app, args)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["end"] == "2029-11-29"
