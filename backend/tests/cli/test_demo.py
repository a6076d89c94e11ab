"""The ``demo-data`` command: a file with --output, an import into the database without."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import typer
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.demo import demo_data_cmd
from app.demo.generator import generate_demo_program
from app.models.schedule import Absence
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.document import validate_program
from app.programs.service import export_program


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("demo-data")(demo_data_cmd)
    app.command("unused")(lambda: None)  # two commands, so that the name is required
    return app


def test_demo_data_cmd_writes_a_valid_program_file_when_output_is_given(tmp_path: Path) -> None:
    target = tmp_path / "demo.json"
    args = ["demo-data", "--seed", "4", "--faculty", "12", "--weeks", "4", "--output", str(target)]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    document = json.loads(target.read_text(encoding="utf-8"))
    assert validate_program(document, source="demo.json") == document
    faculty = [p for p in document["people"] if p["kind"] == "faculty"]
    assert len(faculty) == 12
    assert f"{len(document['assignments'])}" in result.output
    assert "12 faculty" in result.output


def test_demo_data_cmd_exits_with_input_error_code_when_a_size_is_too_small(
    tmp_path: Path,
) -> None:
    target = tmp_path / "demo.json"
    result = CliRunner().invoke(_cli(), ["demo-data", "--weeks", "1", "--output", str(target)])
    assert result.exit_code == 2
    assert not target.exists()


def test_demo_data_cmd_imports_the_program_when_no_output_is_given(
    configured_database: Engine,
) -> None:
    result = CliRunner().invoke(_cli(), ["demo-data", "--seed", "1", "--weeks", "4"])
    assert result.exit_code == 0, result.output
    with Session(configured_database) as session:
        stored = export_program(session)
    assert stored == validate_program(generate_demo_program(seed=1, weeks=4), source="demo")
    assert stored is not None and f"assignments: {len(stored['assignments'])}" in result.output
    again = CliRunner().invoke(_cli(), ["demo-data", "--seed", "1", "--weeks", "4", "--replace"])
    assert again.exit_code == 0, again.output
    assert "already in the database" in again.output


def test_demo_data_cmd_refuses_to_replace_a_program_when_replace_is_not_given(
    configured_database: Engine,
) -> None:
    first = CliRunner().invoke(_cli(), ["demo-data", "--seed", "1", "--weeks", "4"])
    assert first.exit_code == 0, first.output
    with Session(configured_database) as session:
        entered = add_absence(session, _vacation("F001"), actor=None).row.id
        session.commit()

    again = CliRunner().invoke(_cli(), ["demo-data", "--seed", "2", "--weeks", "4"])

    assert again.exit_code == 2
    assert "already holds the program" in again.stderr and "--replace" in again.stderr
    with Session(configured_database) as session:
        assert session.get(Absence, entered) is not None
    replaced = CliRunner().invoke(_cli(), ["demo-data", "--seed", "2", "--weeks", "4", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    with Session(configured_database) as session:
        assert session.get(Absence, entered) is None


def _vacation(person_id: str) -> AbsenceEntry:
    day = date.today() + timedelta(days=3)
    return AbsenceEntry(person_id=person_id, start=day, end=day, type="vacation", id="CLI1")
