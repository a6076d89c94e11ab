"""``make run`` (scripts/run-dev.sh) from a copy of the project, with Celery stubbed out.

The copy has the real script and code; the virtual environment's ``python`` runs this test's
interpreter, ``celery`` only records that it was started. What is checked is what the user
sees afterwards: other tools find the embedded broker with nothing set by hand, and a second
``make run`` keeps the data entered.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.config import BACKEND_DIR

ROOT = BACKEND_DIR.parent
SETTINGS = ("REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "EMBEDDED_BROKER",
            "DATABASE_URL", "DATA_DIR", "ENVIRONMENT")  # fmt: skip


def _write_exe(path: Path, text: str) -> None:
    path.write_text(f"#!/usr/bin/env bash\n{text}\n", encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "run-dev.sh", root / "scripts" / "run-dev.sh")
    _write_exe(root / "scripts" / "ensure-venv.sh", "exit 0")
    backend = root / "backend"
    backend.mkdir()
    shutil.copytree(BACKEND_DIR / "app", backend / "app",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copytree(BACKEND_DIR / "alembic", backend / "alembic",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy2(BACKEND_DIR / "alembic.ini", backend / "alembic.ini")
    bin_dir = backend / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    _write_exe(bin_dir / "python", f'exec {sys.executable} "$@"')
    _write_exe(bin_dir / "residency-scheduler", f'exec {sys.executable} -m app.cli "$@"')
    # Each stub records its call and ends soon after (the script then stops the others): the
    # pause lets every process started in the background record its call first.
    _write_exe(bin_dir / "celery", 'echo "$@" >> "$(dirname "$0")/celery-calls"; sleep 2')
    _write_exe(bin_dir / "uvicorn", 'echo "$@" >> "$(dirname "$0")/uvicorn-calls"; exit 0')
    return root


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["METRICS_PORT"] = "0"
    return env


def _make_run(root: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["bash", str(root / "scripts" / "run-dev.sh")],
        env=_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], cwd=root / "backend",
        env=_env(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_make_run_lets_later_tools_find_the_embedded_broker_and_keeps_data(
    project: Path,
) -> None:
    first = _make_run(project)
    assert "wrote EMBEDDED_BROKER=true to backend/.env" in first.stdout
    assert "loading the demo program" in first.stdout
    assert "embedded (no servers)" in first.stdout
    # The banner says where the embedded mode keeps things on disk, not a broker URL.
    var = project / "backend" / "var"
    banner = {line.split()[0]: line for line in first.stdout.splitlines() if line[:2] == "  "}
    assert f"file {var / 'scheduler.db'}" in banner["database"]
    for folder in ("queue", "processed", "control"):
        assert str(var / "broker" / folder) in banner["broker"]
    assert "filesystem://" not in first.stdout
    assert f"file {var / 'celery-results.db'}" in banner["results"]
    assert str(var / "log") in banner["logs"]
    assert "/metrics" in banner["metrics"]
    assert "EMBEDDED_BROKER=true" in (project / "backend" / ".env").read_text(encoding="utf-8")
    # Another tool, started later with nothing set by hand, sees the same broker.
    show = "from app.core.config import get_settings as g; print(g().broker_url)"
    seen = subprocess.run(
        [sys.executable, "-c", show],
        cwd=project / "backend", env=_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert seen.stdout.strip() == "filesystem://localhost/"
    add = ["absences", "add", "--person", "F001", "--from", "2030-01-07", "--to", "2030-01-07"]
    added = _cli(project, *add)
    assert added.returncode == 0, added.stderr

    second = _make_run(project)

    assert "wrote EMBEDDED_BROKER" not in second.stdout
    assert "loading the demo program" not in second.stdout
    assert _cli(project, *add).stdout.startswith("already recorded")


def _printed_tokens(output: str) -> dict[str, str]:
    """The sign-in tokens ``make run`` printed, by user name."""
    lines = [line.split() for line in output.splitlines() if line.strip().startswith("demo-")]
    return {words[0]: words[-1] for words in lines}


def test_make_run_starts_the_api_and_prints_working_demo_tokens(project: Path) -> None:
    first = _make_run(project)
    calls = (project / "backend" / ".venv" / "bin" / "uvicorn-calls").read_text()
    assert calls.split() == ["app.main:app", "--host", "127.0.0.1", "--port", "8000"]
    assert "dashboard  http://127.0.0.1:8000/" in first.stdout
    tokens = _printed_tokens(first.stdout)
    assert set(tokens) == {"demo-coordinator", "demo-director"}
    second = _printed_tokens(_make_run(project).stdout)
    assert set(second) == set(tokens) and not set(second.values()) & set(tokens.values())
    # The new tokens work, the first run's do not (revoked), and the users were not doubled.
    check = (
        "import sys\n"
        "from app.auth.service import authenticate, list_users\n"
        "from app.core.db import session_scope\n"
        "with session_scope() as s:\n"
        "    print(len(list_users(s)))\n"
        "    for t in sys.argv[1:]:\n"
        "        try:\n"
        "            print(authenticate(s, t).role)\n"
        "        except Exception as exc:\n"
        "            print(type(exc).__name__)\n"
    )
    args = [second["demo-coordinator"], second["demo-director"], tokens["demo-coordinator"]]
    seen = subprocess.run(
        [sys.executable, "-c", check, *args],
        cwd=project / "backend", env=_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert seen.stdout.split() == ["2", "coordinator", "program_director", "NotAuthenticated"]
