"""One grammar, consistent exit codes and honest help screens across every command."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.core.config import BACKEND_DIR
from app.core.schema_version import HEAD_REVISION
from app.models.schedule import Absence
from app.programs.absences import CSV_COLUMNS
from app.programs.service import export_program, import_program
from tests.programs.factories import small_program

cli_main = importlib.import_module("app.cli.main")  # the package exports a function "main"

ADD = ["absences", "add", "--person", "F2", "--from", "2027-03-01", "--to", "2027-03-02"]


@pytest.fixture
def program_db(configured_database: Engine) -> Engine:
    with Session(configured_database) as session:
        import_program(session, small_program(), source="p.json", actor=None)
        session.commit()
    return configured_database


def _absences(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Absence)) or 0


@pytest.mark.parametrize(
    "args",
    [
        ["absences", "add", "--person", "F999", "--from", "2027-03-01", "--to", "2027-03-01"],
        ["absences", "list", "--person", "F999"],
        ["what-if", "absence", "--person", "F999", "--from", "2027-03-01", "--to", "2027-03-01"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_command_exits_3_when_the_person_named_does_not_exist(
    program_db: Engine, args: list[str]
) -> None:
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 3, result.output
    assert result.stderr == "error: no person with id 'F999'\n"


@pytest.mark.parametrize("command", [["import"], ["absences", "import-csv"]])
def test_command_exits_2_saying_no_such_file_when_input_file_is_missing(
    program_db: Engine, command: list[str], tmp_path: Path
) -> None:
    missing = tmp_path / "missing.file"
    result = CliRunner().invoke(cli_app, [*command, str(missing)])
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: cannot read: no such file\n"


def test_absences_add_says_already_recorded_when_run_twice(program_db: Engine) -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, [*ADD, "--half", "PM"])
    assert first.exit_code == 0 and first.stdout.startswith("added absence ")
    count = _absences(program_db)
    again = runner.invoke(cli_app, [*ADD, "--half", "PM"])
    assert again.exit_code == 0, again.output
    assert again.stdout.startswith("already recorded as absence ")
    assert _absences(program_db) == count


def test_absences_add_takes_old_positional_spelling_with_a_note_when_given(
    program_db: Engine,
) -> None:
    result = CliRunner().invoke(cli_app, ["absences", "add", "F2", "2027-03-01", "2027-03-02"])
    assert result.exit_code == 0, result.output
    assert "deprecated" in result.stderr and "--person ID --from DATE --to DATE" in result.stderr
    again = CliRunner().invoke(cli_app, ADD)  # the same absence in the new spelling
    assert again.stdout.startswith("already recorded")


def test_absences_list_takes_from_to_and_old_start_end_with_a_note(program_db: Engine) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    assert runner.invoke(cli_app, ADD).exit_code == 0
    new = runner.invoke(cli_app, ["absences", "list", "--from", "2027-03-02", "--to", "2027-03-05"])
    old = runner.invoke(
        cli_app, ["absences", "list", "--start", "2027-03-02", "--end", "2027-03-05"]
    )
    assert new.exit_code == old.exit_code == 0
    assert new.stdout == old.stdout and "2027-03-01" in new.stdout
    assert "deprecated" in old.stderr and not new.stderr


def test_absences_add_exits_2_naming_the_option_when_a_date_is_bad(program_db: Engine) -> None:
    result = CliRunner().invoke(cli_app, [*ADD[:-1], "2027-02-30"])
    assert result.exit_code == 2
    assert "--to: expected a date YYYY-MM-DD" in result.stderr


def test_import_reads_standard_input_when_file_is_dash(configured_database: Engine) -> None:
    text = json.dumps(small_program())
    result = CliRunner().invoke(cli_app, ["import", "-"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("stdin: imported")
    with Session(configured_database) as session:
        stored = export_program(session)
    assert stored is not None and stored["program"] == small_program()["program"]


def _all_commands() -> list[tuple[str, Any]]:
    """Every command and group, by its words (typer brings its own copy of click)."""
    found: list[tuple[str, Any]] = []

    def walk(name: str, command: Any) -> None:
        found.append((name, command))
        if hasattr(command, "commands"):
            for sub_name, sub in command.commands.items():
                walk(f"{name} {sub_name}".strip(), sub)

    walk("", typer.main.get_command(cli_app))
    return found


@pytest.mark.parametrize("name", [n for n, _ in _all_commands()])
def test_help_describes_every_option_without_bool_placeholders(name: str) -> None:
    result = CliRunner().invoke(cli_app, [*name.split(), "--help"])
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout and "%Y" not in result.stdout
    command = dict(_all_commands())[name]
    options = [p for p in command.params if p.param_type_name == "option" and not p.hidden]
    for param in options:
        assert param.help, f"{name} {param.opts} has no description"
        if {"--from", "--to", "--start"} & set(param.opts):
            assert f"{param.opts[0]} YYYY-MM-DD" in result.stdout


def test_absences_import_csv_help_shows_the_whole_csv_header() -> None:
    result = CliRunner(env={"COLUMNS": "60"}).invoke(cli_app, ["absences", "import-csv", "--help"])
    assert ",".join(CSV_COLUMNS) in result.stdout.replace("\n", "").replace(" ", "")
    assert ",".join(CSV_COLUMNS) in " ".join(result.stdout.split())


def _health_outcome(reasons: int) -> tuple[dict[str, Any], dict[str, Any]]:
    summary = {"window_start": "2026-12-01", "window_end": "2026-12-07", "record_id": 1,
               "duration_s": 0.1, "defense_level": "RED", "utilization_level": "GREEN",
               "n1_status": "fail", "n2_status": "fail", "gap_slots": 0}  # fmt: skip
    result = {
        "utilization": {"rate": 0.5, "demand": 1, "pool": 2},
        "coverage_rate": 1.0,
        "faculty": {"total": 2, "present": 2, "on_duty": 1},
        "horizon": {"report": {"status": "none"},
                    "analysed": {"start": "2026-12-01", "end": "2026-12-14"}},
        "contingency": {},
        "gaps": [],
        "defense": {"reasons": [f"RED: reason {i}" for i in range(reasons)]},
    }  # fmt: skip
    return summary, result


def test_analyze_health_says_how_many_reasons_are_not_shown_when_there_are_many(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli_main, "out", Console(width=200))
    cli_main._print_health(*_health_outcome(cli_main.REASONS_SHOWN + 4))
    printed = capsys.readouterr().out
    assert f"RED: reason {cli_main.REASONS_SHOWN - 1}" in printed
    assert f"RED: reason {cli_main.REASONS_SHOWN}" not in printed
    assert "... and 4 more (use --json for all)" in printed


def test_analyze_contingency_says_what_the_findings_count(program_db: Engine) -> None:
    args = ["analyze", "contingency", "--start", "2027-01-04", "--days-ahead", "7"]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli_app, args)
    assert result.exit_code == 0, result.output
    assert re.search(r"\d+ fatal pairs in \d+ half-day findings", result.stdout), result.stdout


def test_migrate_prints_no_alembic_info_lines_when_log_level_is_info(tmp_path: Path) -> None:
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": "", "LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "migrate"],
        cwd=BACKEND_DIR, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"database created and migrated to {HEAD_REVISION}\n"
    assert "alembic" not in done.stderr and "INFO" not in done.stderr
