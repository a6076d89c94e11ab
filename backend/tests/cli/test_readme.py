"""README.md is tested: every ``residency-scheduler ...`` line of its code blocks runs.

The lines run in order, as written, against the demo program in a temporary DATA_DIR (SQLite),
from a folder holding the README's example ``leave.csv``; a ``|`` feeds one command's standard
output to the next. A README example that the command line no longer accepts fails here, so
README and ``--help`` cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.core.config import BACKEND_DIR, get_settings
from app.core.db import reset_engine
from app.demo.generator import generate_demo_program
from app.programs.service import import_program
from tests.support.celery_fixtures import CeleryWorkerProcess

README = BACKEND_DIR.parent / "README.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def readme_blocks(language: str) -> list[str]:
    """The code blocks of README.md in ``language`` (``bash``, ``csv``, ``python``)."""
    text = README.read_text(encoding="utf-8")
    return [m.group(2) for m in _BLOCK.finditer(text) if m.group(1) == language]


def readme_commands() -> list[list[list[str]]]:
    """Each ``residency-scheduler`` line as a pipeline: a list of argument lists."""
    commands = []
    for block in readme_blocks("bash"):
        for line in block.splitlines():
            if not line.startswith("residency-scheduler "):
                continue
            words = shlex.split(line, comments=True)
            pipeline: list[list[str]] = [[]]
            for word in words:
                if word == "|":
                    pipeline.append([])
                else:
                    pipeline[-1].append(word)
            assert all(p and p[0] == "residency-scheduler" for p in pipeline), line
            commands.append([p[1:] for p in pipeline])
    return commands


@pytest.fixture
def demo_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("DATABASE_URL", "")  # SQLite in DATA_DIR, whatever backend/.env says
    monkeypatch.setenv("EMBEDDED_BROKER", "true")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    reset_engine()
    runner = CliRunner()
    for setup in (["migrate"], ["demo-data"]):  # what `make run` does first
        result = runner.invoke(cli_app, setup)
        assert result.exit_code == 0, result.output
    yield tmp_path
    reset_engine()
    get_settings.cache_clear()


def test_readme_lists_the_commands_and_an_example_csv() -> None:
    commands = [args for pipeline in readme_commands() for args in pipeline]
    names = {" ".join(args[:2]) for args in commands}
    assert {"analyze health", "what-if absence", "absences add", "import -", "export -"} <= names
    assert readme_blocks("csv"), "README shows the leave.csv of its example"


def test_readme_command_lines_run_against_the_demo_program(demo_data_dir: Path) -> None:
    (demo_data_dir / "leave.csv").write_text(readme_blocks("csv")[0], encoding="utf-8")
    runner = CliRunner()
    for pipeline in readme_commands():
        given: str | None = None
        for args in pipeline:
            result = runner.invoke(cli_app, args, input=given)
            shown = "residency-scheduler " + shlex.join(args)
            assert result.exit_code == 0, f"{shown}: exit {result.exit_code}\n{result.output}"
            assert "deprecated" not in result.stderr, shown
            given = result.stdout


@pytest.fixture
def celery_database_url(engine: Engine) -> str:
    """The worker of ``celery_worker_proc`` reads the demo program from ``engine``."""
    with Session(engine) as session:
        import_program(session, generate_demo_program(seed=1, weeks=4), source="demo", actor=None)
        session.commit()
    return engine.url.render_as_string(hide_password=False)


def test_readme_python_health_check_example_runs_on_a_worker(
    celery_worker_proc: CeleryWorkerProcess,
) -> None:
    """The README's (and the seed's) first Python example, as written, on a real worker.

    The second one (``run_contingency_analysis.apply_async(countdown=60)``) is left out: it
    waits a minute by design; tests/resilience/test_tasks.py sends the same task.
    """
    example = readme_blocks("python")[0]
    assert "periodic_health_check.apply_async()" in example
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=BACKEND_DIR, env=celery_worker_proc.env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "'defense_level':" in done.stdout
