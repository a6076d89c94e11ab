"""Output piped into a reader that stops early (``| head``): the command ends quietly.

Each command runs in its own process (``python -m app.cli``), as from a shell, its standard
output a real pipe. Whatever it was writing when the reader went (JSON, a rich table, a
program file), it must print nothing on stderr (no traceback, no "Exception ignored ...
BrokenPipeError", no engine error) and end with 141, as a program ended by SIGPIPE.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy.orm import Session

from app.cli.main import EXIT_READER_GONE
from app.core.config import BACKEND_DIR
from app.core.db import make_engine
from app.core.migrate import upgrade_database
from app.demo.generator import generate_demo_program
from app.programs.service import import_program

WINDOW = ["--start", "2026-11-30", "--days-ahead", "35"]

COMMANDS = [
    ["analyze", "contingency", *WINDOW, "--json"],
    ["analyze", "contingency", *WINDOW, "--pretty"],
    ["analyze", "contingency", *WINDOW],  # rich tables
    ["export", "-"],
    ["absences", "list"],
    ["alerts", "list", "--json"],  # a few bytes: written by the last flush, at exit
]


@pytest.fixture(scope="module")
def demo_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a process whose database is a migrated SQLite file with a demo
    program (12 faculty, 5 weeks from 30 November 2026)."""
    folder = tmp_path_factory.mktemp("pipes")
    url = f"sqlite:///{folder / 'demo.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            doc = generate_demo_program(seed=2, faculty=12, weeks=5, start=date(2026, 11, 30))
            import_program(session, doc, source="demo", actor="test")
            session.commit()
    finally:
        engine.dispose()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    return env | {
        "DATABASE_URL": url,
        "DATA_DIR": str(folder / "var"),
        "EMBEDDED_BROKER": "true",  # never the machine's Redis
        "CELERY_BROKER_URL": "",
    }


def _start(args: list[str], env: dict[str, str], stdout: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=BACKEND_DIR,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_command_ends_quietly_with_141_when_its_reader_has_gone(
    args: list[str], demo_env: dict[str, str]
) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # a reader that stopped before the first byte: every write fails
    try:
        process = _start(args, demo_env, write_end)
    finally:
        os.close(write_end)
    _, stderr = process.communicate(timeout=120)

    assert stderr.decode().strip() == ""
    assert process.returncode == EXIT_READER_GONE


def test_export_ends_quietly_when_reader_stops_after_the_first_bytes(
    demo_env: dict[str, str],
) -> None:
    """`export - | head -c 100`. The reader goes while the file (170 kB, more than a pipe
    holds) is being written; whether a write fails then is the kernel's affair (here, a
    write already under way may complete), so 0 is as good as 141: quiet either way."""
    with _start(["export", "-"], demo_env, subprocess.PIPE) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stdout.read(100)
        process.stdout.close()
        stderr = process.stderr.read()
        process.wait(timeout=120)

    assert first.startswith(b"{")
    assert stderr.decode().strip() == ""
    assert process.returncode in (0, EXIT_READER_GONE)


def test_command_still_reports_its_own_errors_when_output_is_a_pipe(
    demo_env: dict[str, str],
) -> None:
    process = _start(["absences", "remove", "NO-SUCH-ABSENCE"], demo_env, subprocess.PIPE)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 3
    assert stderr.decode().startswith("error: ")


@pytest.mark.parametrize(
    "args",
    [["analyze", "contingency", *WINDOW], ["analyze", "forecast", "--days-ahead", "14"]],
    ids=["contingency", "forecast"],
)
def test_progress_bar_writes_nothing_when_stderr_is_not_a_terminal(
    args: list[str], demo_env: dict[str, str]
) -> None:
    """Piped or logged, standard error gets no bar, not even the empty line a transient bar
    leaves where it cannot be drawn."""
    process = _start(args, demo_env, subprocess.PIPE)
    stdout, stderr = process.communicate(timeout=120)

    assert process.returncode == 0
    assert stdout  # the readable report
    assert stderr == b""
