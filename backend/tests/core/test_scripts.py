"""scripts/start-celery.sh and scripts/health-check.sh, run as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.core.config import BACKEND_DIR

SCRIPTS = BACKEND_DIR.parent / "scripts"


def script_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The caller's environment with this interpreter as PYTHON and the test's settings."""
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(
        PYTHON=sys.executable,
        ENVIRONMENT="test",
        DATA_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'scripts.db'}",
        METRICS_PORT="0",
    )
    env.update(settings)
    return env


def test_start_celery_names_import_error_when_broker_transport_cannot_load(
    tmp_path: Path,
) -> None:
    # A `packaging` that cannot be imported, as in a venv made without kombu's [redis] extra.
    shadow = tmp_path / "shadow" / "packaging"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'packaging'\", name='packaging')\n"
    )
    env = script_env(tmp_path, PYTHONPATH=str(shadow.parent), REDIS_URL="redis://127.0.0.1:1/0")

    done = subprocess.run(
        [str(SCRIPTS / "start-celery.sh"), "worker"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "ModuleNotFoundError: No module named 'packaging'" in done.stderr
    assert "does not answer" not in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_start_celery_prints_exception_line_when_broker_does_not_answer(
    tmp_path: Path,
) -> None:
    env = script_env(tmp_path, CELERY_BROKER_URL="redis://127.0.0.1:1/0")

    done = subprocess.run(
        [str(SCRIPTS / "start-celery.sh"), "worker"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 1
    assert "broker check failed" in done.stderr and "Connection refused" in done.stderr
