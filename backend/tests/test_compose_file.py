"""docker-compose.yml is valid for the Compose tools an operator may have (no engine needed)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.config import BACKEND_DIR
from tests.support.services import service_unavailable

ROOT = BACKEND_DIR.parent


def _compose_tools() -> list[list[str]]:
    tools = []
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        tools.append([docker, "compose"])
    legacy = shutil.which("docker-compose")
    if legacy:
        tools.append([legacy])
    return tools


def test_compose_file_validates_when_env_file_copied_from_example(tmp_path: Path) -> None:
    tools = _compose_tools()
    if not tools:
        service_unavailable("no Compose tool: apt-get install -y docker-compose")
    # The operator's first step: backend/.env from the example.
    shutil.copy(ROOT / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / "backend").mkdir()
    shutil.copy(BACKEND_DIR / ".env.example", tmp_path / "backend" / ".env")

    for tool in tools:
        done = subprocess.run(
            [*tool, "-f", str(tmp_path / "docker-compose.yml"), "config", "-q"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{' '.join(tool)} config: {done.stdout}{done.stderr}"


@pytest.mark.parametrize("form", ["\nname:", "required:"])
def test_compose_file_avoids_forms_of_compose_2_24(form: str) -> None:
    assert form not in (ROOT / "docker-compose.yml").read_text()
