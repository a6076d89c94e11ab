"""The readable view of ``analyze contingency``: what a coordinator reads in a terminal, and
what the ``analyze`` commands say when there is no schedule to judge."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.analyze import grant_effect
from app.cli.main import app as cli_app
from app.core.config import BACKEND_DIR
from app.demo.generator import generate_demo_program
from app.models.alert import Alert
from app.models.base import iso_utc, shown_utc
from app.models.resilience import ContingencyReport, HealthCheckRecord, UtilizationForecast
from app.programs.service import import_program

START = date(2026, 11, 30)
WINDOW = ["--start", START.isoformat(), "--days-ahead", "21"]
LONG_SURNAME = "Featherstonehaugh-Cholmondeley"


@pytest.fixture
def long_names_db(configured_database: Engine) -> Engine:
    """The small demo program (critical faculty in its first three weeks), every faculty
    member's name made far longer than an 80-column table leaves room for."""
    doc = generate_demo_program(seed=2, faculty=12, weeks=5, start=START)
    for person in doc["people"]:
        if person["kind"] == "faculty":
            person["name"] = f"{person['name']} {LONG_SURNAME}"
    with Session(configured_database) as session:
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return configured_database


def _readable(columns: int) -> str:
    """``analyze contingency`` as a terminal of ``columns`` columns shows it, run as a user
    runs it (in this process the command's console may hold the width it was made with)."""
    env = {**os.environ, "COLUMNS": str(columns), "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", "contingency", *WINDOW], cwd=BACKEND_DIR,
        env=env, capture_output=True, encoding="utf-8", timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def _critical_rows(printed: str) -> list[str]:
    """The body lines of the critical-faculty table."""
    lines = printed.splitlines()
    top = next(i for i, line in enumerate(lines) if line.startswith("Critical faculty"))
    end = next(i for i in range(top, len(lines)) if lines[i].startswith("└"))
    head = next(i for i in range(top, end) if lines[i].startswith("┡"))
    return lines[head + 1 : end]


def _qualifications(report: dict[str, Any], critical: dict[str, Any]) -> str:
    """What the table lists for a critical person: the qualifications left short on the most
    of their half-days first."""
    exposures = [report["exposures"][i] for i in critical["exposures"]]
    every = {q for e in exposures for q in e["qualifications"]}
    short = {q: sum(q in e["qualifications"] for e in exposures) for q in every}
    return ", ".join(sorted(every, key=lambda q: (-short[q], q)))


def test_analyze_contingency_critical_table_fits_80_columns_when_names_are_long(
    long_names_db: Engine,
) -> None:
    data = json.loads(
        CliRunner().invoke(cli_app, ["analyze", "contingency", *WINDOW, "--json"]).stdout
    )
    report: dict[str, Any] = data["report"]
    people = {c["person_id"]: c for c in report["critical_faculty"]}
    ranked = [people[r["person_ids"][0]] for r in report["rankings"]["critical_by_half_days"]]
    assert len(ranked) >= 2, "the demo program should have critical faculty in these weeks"

    narrow = _readable(80)
    rows = _critical_rows(narrow)
    assert all(len(line) <= 80 for line in narrow.splitlines() if line[:1] in "┏┃┡│└")
    # One line per person, in ranking order: nothing wraps onto a second line.
    assert len(rows) == len(ranked)
    for line, c in zip(rows, ranked, strict=True):
        cells = [cell.strip() for cell in line.strip("│").split("│")]
        first = report["exposures"][c["exposures"][0]]
        assert cells[0].startswith(f"{c['person_id']} Dr. ")
        assert cells[0].endswith("…")  # the long name cut short, its id whole
        assert cells[1:3] == [str(c["half_days"]), str(c["residents_affected"])]
        quals = _qualifications(report, c)
        assert quals.startswith(cells[3].removesuffix("…"))
        assert cells[4] == f"{first['date']} {first['half']}"

    wide = _critical_rows(_readable(200))
    assert len(wide) == len(ranked)
    for line, c in zip(wide, ranked, strict=True):
        name = report["names"][c["person_id"]]
        assert name.endswith(LONG_SURNAME)
        assert line.startswith(f"│ {c['person_id']} {name} ")  # whole when there is room
        assert f"│ {_qualifications(report, c)} " in line


def test_analyze_contingency_says_when_the_reused_report_was_stored_when_input_unchanged(
    long_names_db: Engine,
) -> None:
    runner = CliRunner()
    first = runner.invoke(cli_app, ["analyze", "contingency", *WINDOW])
    again = runner.invoke(cli_app, ["analyze", "contingency", *WINDOW])
    summary = json.loads(
        runner.invoke(cli_app, ["analyze", "contingency", *WINDOW, "--json"]).stdout
    )["summary"]

    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    with Session(long_names_db) as session:
        row = session.get(ContingencyReport, summary["report_id"])
        assert row is not None
        stored = row.created_at
    header = f"Contingency 2026-11-30 .. 2026-12-20  (report {row.id}, stored {shown_utc(stored)})"
    unchanged = "  Input unchanged since that report was stored: nothing re-analysed."
    assert first.stdout.splitlines()[:2] == [header, "  N-1 FAIL   N-2 FAIL"]
    assert again.stdout.splitlines()[:2] == [header, unchanged]
    assert summary["created"] is False and summary["created_at"] == iso_utc(stored)


def test_analyze_contingency_cross_training_says_what_a_grant_adds_when_it_adds_pairs(
    demo_db: Engine,
) -> None:
    runner = CliRunner()
    report = json.loads(
        runner.invoke(cli_app, ["analyze", "contingency", *WINDOW, "--json"]).stdout
    )["report"]
    printed = runner.invoke(cli_app, ["analyze", "contingency", *WINDOW]).stdout
    options = report["cross_training"]
    assert any(o["n2_added"] for o in options), "the demo's grants should add fatal pairs"

    lines = printed.splitlines()
    top = lines.index("  Cross-training that removes the most findings:")
    shown = lines[top + 1 :]
    assert len(shown) == 2 * len(options)
    for i, o in enumerate(options):
        name = report["names"][o["person_id"]]
        added = [f"{o['n1_added']} N-1"] * bool(o["n1_added"])
        added += [f"{o['n2_added']} N-2"] * bool(o["n2_added"])
        assert shown[2 * i] == f"    - grant {o['qualification']} to {name} ({o['person_id']}):"
        adds = f"; adds {', '.join(added)}" if added else ""
        assert shown[2 * i + 1] == (
            f"      removes {o['n1_removed']} N-1, {o['n2_removed']} N-2{adds};"
            f" fills {o['gap_slots_filled']} gap slot(s)"
        )
    assert all(len(line) <= 80 for line in shown)


def test_grant_effect_names_only_the_findings_a_grant_adds() -> None:
    grant = {"n1_removed": 27, "n2_removed": 0, "n1_added": 0, "n2_added": 0}
    assert grant_effect({**grant, "gap_slots_filled": 3}) == (
        "removes 27 N-1, 0 N-2; fills 3 gap slot(s)"
    )
    assert grant_effect({**grant, "n2_added": 37, "gap_slots_filled": 0}) == (
        "removes 27 N-1, 0 N-2; adds 37 N-2; fills 0 gap slot(s)"
    )
    assert grant_effect({**grant, "n1_added": 1, "n2_added": 2, "gap_slots_filled": 0}) == (
        "removes 27 N-1, 0 N-2; adds 1 N-1, 2 N-2; fills 0 gap slot(s)"
    )


@pytest.mark.parametrize(
    "command",
    [
        ["analyze", "health"],
        ["analyze", "health", "--json"],
        ["analyze", "contingency"],
        ["analyze", "contingency", "--json"],
        ["analyze", "forecast", "--days-ahead", "7"],
    ],
)
def test_analyze_refuses_with_exit_3_and_stores_nothing_when_no_program_is_loaded(
    configured_database: Engine, command: list[str]
) -> None:
    result = CliRunner().invoke(cli_app, command)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "error: no program loaded: import one (residency-scheduler import FILE) or load the"
        " demo (demo-data)"
    )
    with Session(configured_database) as session:
        for table in (HealthCheckRecord, ContingencyReport, UtilizationForecast, Alert):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table


def test_analyze_contingency_says_days_before_the_schedule_start_are_not_analysed(
    long_names_db: Engine,
) -> None:
    # The demo's schedule starts on START: a window from ten days earlier judges four days.
    early = ["--start", "2026-11-20", "--days-ahead", "14"]
    judged = ["--start", START.isoformat(), "--days-ahead", "4"]
    runner = CliRunner()
    printed = runner.invoke(cli_app, ["analyze", "contingency", *early])
    data = json.loads(runner.invoke(cli_app, ["analyze", "contingency", *early, "--json"]).stdout)
    alone = json.loads(runner.invoke(cli_app, ["analyze", "contingency", *judged, "--json"]).stdout)

    assert printed.exit_code == 0, printed.output
    assert printed.stdout.splitlines()[1] == (
        "  Unscheduled 2026-11-20 .. 2026-11-29: before the start of the published schedule,"
        " not analysed"
    )
    assert data["report"]["unscheduled_before"] == {"start": "2026-11-20", "end": "2026-11-29"}
    assert data["summary"]["unscheduled_before"] == data["report"]["unscheduled_before"]
    assert data["report"]["unscheduled"] is None
    # What is judged is what the window of the scheduled days alone finds.
    counts = ("gap_slots", "critical_faculty", "fatal_pairs", "n1_findings", "n2_findings")
    assert [data["summary"][k] for k in counts] == [alone["summary"][k] for k in counts]
    assert data["report"]["gaps"] == alone["report"]["gaps"]
