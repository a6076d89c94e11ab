"""The production install: a virtual environment made from ``requirements.txt`` alone.

The Dockerfile and ``make run`` install the runtime requirements and the backend, without the
test and lint tools (which happen to pull in packages the runtime needs, such as kombu's Redis
transport's ``packaging``). This builds exactly that, then runs a real worker from it on a
private Redis through one health check.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import BACKEND_DIR
from app.core.db import make_engine
from app.core.migrate import upgrade_database
from app.models.resilience import HealthCheckRecord
from tests.support.celery_fixtures import broker_env, start_worker, worker_env
from tests.support.programs import load_small_program

pytestmark = [pytest.mark.slow, pytest.mark.redis]

PIP_TIMEOUT_S = 480


def _pip(python: Path, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", *args],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT_S,
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a new venv holding requirements.txt and the backend, nothing else."""
    folder = tmp_path_factory.mktemp("runtime")
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # Built from a copy, so that the build leaves no egg-info or build/ in the checkout.
    source = folder / "backend"
    shutil.copytree(
        BACKEND_DIR,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", "var", ".env", "tests", "benchmarks", "build", "*.egg-info", "__pycache__"
        ),
    )
    _pip(python, "install", "-r", str(source / "requirements.txt"))
    _pip(python, "install", "--no-deps", str(source))
    return python


def test_runtime_requirements_are_consistent_and_load_redis_transport(
    runtime_python: Path, tmp_path: Path
) -> None:
    _pip(runtime_python, "check")
    probe = "import app, kombu.transport.redis; print(app.__file__)"
    done = subprocess.run(
        [str(runtime_python), "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(runtime_python.parents[1]))  # the installed app


def test_health_check_runs_on_worker_from_runtime_venv(
    runtime_python: Path, celery_redis_url: str, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'runtime.db'}"
    upgrade_database(database_url)
    load_small_program(database_url)
    env = worker_env(tmp_path / "var", database_url, broker_env(celery_redis_url))
    env.pop("PYTHONPATH", None)
    worker = start_worker(env, tmp_path / "worker.log", python=str(runtime_python), cwd=tmp_path)
    try:
        result = worker.client().send_task(
            "app.resilience.tasks.periodic_health_check", queue="resilience"
        )
        summary = result.get(timeout=90)
    finally:
        worker.stop()

    engine = make_engine(database_url)
    try:
        with Session(engine) as session:
            record = session.scalars(
                select(HealthCheckRecord).where(HealthCheckRecord.task_id == result.id)
            ).one()
    finally:
        engine.dispose()
    assert record.id == summary["record_id"] and record.task_id == result.id
