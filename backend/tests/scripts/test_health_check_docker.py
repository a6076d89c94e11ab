"""scripts/health-check.sh --docker: each check runs in the compose service that docker-compose.yml
names (the API in ``backend``), and the exit code follows which service is down.

No container engine runs here: a stand-in ``docker`` first on PATH records each command and
answers as a running (or stopped) service would; the checks' own commands are tested against
real servers by tests/test_compose_file.py and tests/core/test_health_check_script.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from app.core.config import BACKEND_DIR

ROOT = BACKEND_DIR.parent
SERVICES = set(yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"])
FAKE_DOCKER = """#!/bin/sh
echo "$*" >> "$DOCKER_CALLS"
service=$(echo "$*" | sed -n 's/.* exec -T \\([^ ]*\\) .*/\\1/p')
case " $DOWN " in *" $service "*) echo "service \\"$service\\" is not running" >&2; exit 1 ;; esac
echo "$service answered"
"""


def _run(tmp_path: Path, down: str = "") -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "docker").write_text(FAKE_DOCKER)
    (bin_dir / "docker").chmod(0o755)
    calls = tmp_path / f"calls-{down or 'none'}.txt"
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}", "DOWN": down}
    done = subprocess.run(
        [str(ROOT / "scripts" / "health-check.sh"), "--docker"],
        env=env | {"DOCKER_CALLS": str(calls)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines()


def test_every_check_runs_in_a_compose_service_when_docker(tmp_path: Path) -> None:
    done, calls = _run(tmp_path)
    execs = [call.split(" exec -T ", 1)[1].split() for call in calls]

    assert done.returncode == 0, done.stdout + done.stderr
    assert {words[0] for words in execs} <= SERVICES
    assert ["backend", "python", "-m", "app.core.probe", "api"] in execs
    assert ["backend", "python", "-m", "app.core.probe", "dashboard"] in execs


@pytest.mark.parametrize(
    ("down", "code", "failed"),
    [
        ("backend", 1, {"Backend API", "Dashboard"}),
        ("celery-worker", 2, {"Celery worker", "Schema", "Celery beat"}),
        ("db", 2, {"PostgreSQL"}),
    ],
)
def test_exit_code_follows_the_service_down_when_docker(
    tmp_path: Path, down: str, code: int, failed: set[str]
) -> None:
    done, _ = _run(tmp_path, down)
    failing = {line[6:21].strip() for line in done.stdout.splitlines() if line.startswith("[FAIL]")}

    assert done.returncode == code, done.stdout
    assert failing == failed
