"""The cross-trained demo program (``demo-data --cross-trained SHARE``): each faculty member
holds about SHARE of the qualifications, specialty clinics are staffed every weekday half-day,
so half-days demand many linked qualifications; deterministic for a seed."""

from __future__ import annotations

import json
import statistics
from datetime import date, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from app.cli.demo import demo_data_cmd
from app.core.errors import InputError
from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.programs.convert import snapshot_from_document
from app.programs.document import validate_program

START = date(2026, 1, 5)  # a Monday


def test_cross_trained_faculty_hold_about_the_share_when_generated() -> None:
    doc = generate_demo_program(
        seed=3, faculty=60, weeks=4, qualifications=18, start=START, cross_trained=0.5
    )
    validate_program(doc, source="demo")  # raises on an invalid program
    assert doc == generate_demo_program(
        seed=3, faculty=60, weeks=4, qualifications=18, start=START, cross_trained=0.5
    )
    faculty = [p for p in doc["people"] if p["kind"] == "faculty"]
    held = [len(p["qualifications"]) for p in faculty]
    # clinic precepting plus each of the 17 others with probability 1/2: 9.5 on average
    assert 8 <= statistics.mean(held) <= 11
    assert all("clinic_preceptor" in p["qualifications"] for p in faculty)
    plain = generate_demo_program(seed=3, faculty=60, weeks=4, qualifications=18, start=START)
    plain_held = [len(p["qualifications"]) for p in plain["people"] if p["kind"] == "faculty"]
    assert statistics.mean(plain_held) < 4  # scarce credentials without the option

    problems = build_site_half_days(snapshot_from_document(doc), START, START + timedelta(days=13))
    widest = max(len(p.demand_by_qualification()) for p in problems)
    plain_problems = build_site_half_days(
        snapshot_from_document(plain), START, START + timedelta(days=13)
    )
    assert widest >= 6 > max(len(p.demand_by_qualification()) for p in plain_problems)


def test_cross_trained_share_is_refused_when_out_of_range() -> None:
    for share in (0.0, 1.5):
        with pytest.raises(InputError, match="--cross-trained"):
            generate_demo_program(seed=1, weeks=4, cross_trained=share)


def test_demo_data_cmd_writes_a_cross_trained_program_when_asked(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command("demo-data")(demo_data_cmd)
    app.command("unused")(lambda: None)
    target = tmp_path / "cross.json"
    args = ["demo-data", "--faculty", "12", "--weeks", "4", "--output", str(target)]
    result = CliRunner().invoke(app, [*args, "--cross-trained", "0.5"])
    assert result.exit_code == 0, result.output
    faculty = [p for p in json.loads(target.read_text())["people"] if p["kind"] == "faculty"]
    assert statistics.mean(len(p["qualifications"]) for p in faculty) > 2
    bad = CliRunner().invoke(app, [*args, "--cross-trained", "2"])
    assert bad.exit_code == 2
