"""docker-compose.yml: valid for the Compose tools an operator may have (no engine needed), its
Redis configured as a broker must be, and every health check's command run here, as written,
against local servers (no container engine runs on the test machine)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import make_url

from app.core.config import BACKEND_DIR
from app.core.migrate import upgrade_database
from tests.support.celery_fixtures import StartWorker
from tests.support.services import ensure_postgres, free_port, service_unavailable

ROOT = BACKEND_DIR.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]


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


def test_redis_never_evicts_and_persists_when_configured_by_compose() -> None:
    command = SERVICES["redis"]["command"].split()

    assert command[command.index("--maxmemory-policy") + 1] == "noeviction"
    assert command[command.index("--appendonly") + 1] == "yes"
    assert "--requirepass" in command


def test_every_long_running_service_has_a_health_check_when_composed() -> None:
    long_running = {name for name, svc in SERVICES.items() if svc.get("restart") != "no"}

    assert long_running == {"db", "redis", "backend", "celery-worker", "celery-beat", "flower"}
    assert all("healthcheck" in SERVICES[name] for name in long_running)


@pytest.mark.parametrize("service", ["backend", "celery-worker"])
def test_backend_runs_in_production_mode_when_composed(service: str) -> None:
    env = SERVICES[service]["environment"]

    assert env["ENVIRONMENT"] == "${ENVIRONMENT:-production}"
    assert not {"SESSION_SECRET", "METRICS_TOKEN", "SMTP_PASSWORD", "WEBHOOK_SECRET"} & set(env)
    assert ".env" in (BACKEND_DIR / ".dockerignore").read_text().split()


def _health_check(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``service``'s health check command as Docker would (``CMD-SHELL``: ``sh -c``)."""
    test = SERVICES[service]["healthcheck"]["test"]
    # Compose turns $$ into $ before the container sees the command.
    words = [word.replace("$$", "$") for word in test[1:]]
    argv = ["/bin/sh", "-c", words[0]] if test[0] == "CMD-SHELL" else words
    if argv[0] == "python":
        argv[0] = sys.executable
    run_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | env
    run_env["PATH"] = f"{Path(sys.executable).parent}:{run_env.get('PATH', '')}"
    return subprocess.run(
        argv,
        cwd=BACKEND_DIR,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.redis
def test_redis_health_check_passes_when_redis_answers(celery_redis_url: str) -> None:
    port = str(make_url(celery_redis_url).port)

    up = _health_check("redis", {"REDIS_PORT": port})
    down = _health_check("redis", {"REDIS_PORT": str(free_port())})

    assert up.returncode == 0, up.stdout + up.stderr
    assert down.returncode != 0


@pytest.mark.postgres
def test_db_health_check_passes_when_postgres_answers() -> None:
    url = make_url(ensure_postgres())
    env = {
        "PGHOST": url.host or "127.0.0.1",
        "PGPORT": str(url.port or 5432),
        "POSTGRES_USER": url.username or "postgres",
        "POSTGRES_DB": url.database or "postgres",
    }

    up = _health_check("db", env)
    down = _health_check("db", env | {"PGPORT": str(free_port())})

    assert up.returncode == 0, up.stdout + up.stderr
    assert down.returncode != 0


@pytest.mark.redis
def test_worker_health_check_pings_its_own_worker_when_run(
    start_celery_worker: StartWorker,
) -> None:
    host = f"host-{uuid.uuid4().hex[:8]}"
    worker = start_celery_worker(nodename=f"celery@{host}")

    mine = _health_check("celery-worker", worker.env | {"HOSTNAME": host})
    other = _health_check("celery-worker", worker.env | {"HOSTNAME": "elsewhere"})

    assert mine.returncode == 0, mine.stdout + mine.stderr
    assert other.returncode != 0


def test_beat_health_check_fails_when_beat_sent_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'beat.db'}"
    upgrade_database(url)
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "ENVIRONMENT": "test"}

    done = _health_check("celery-beat", env)

    assert done.returncode == 1
    assert "no health check sent by beat" in done.stdout


@pytest.mark.redis
def test_flower_asks_for_credentials_and_health_check_passes_when_run(
    start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    worker = start_celery_worker()
    port = free_port()
    env = worker.env | {"FLOWER_PORT": str(port), "FLOWER_BASIC_AUTH": "ops:Kq7-s9T"}
    command = SERVICES["flower"]["command"]
    argv = [word.replace("$$", "$") for word in command]
    log = (tmp_path / "flower.log").open("wb")
    run_env = env | {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    flower = subprocess.Popen(argv, cwd=BACKEND_DIR, env=run_env, stdout=log, stderr=log)
    log.close()
    try:
        deadline = time.monotonic() + 60
        while _health_check("flower", env).returncode != 0:
            assert flower.poll() is None, (tmp_path / "flower.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "flower.log").read_text()
            time.sleep(0.5)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/",
            headers={"Authorization": "Basic " + b64encode(b"ops:Kq7-s9T").decode()},
        )
        with urllib.request.urlopen(request, timeout=5) as page:
            status = page.status
    finally:
        flower.terminate()
        flower.wait(timeout=20)

    assert refused.value.code == 401
    refused.value.close()
    assert status == 200


def test_flower_refuses_to_start_when_no_credentials_are_set() -> None:
    argv = [word.replace("$$", "$") for word in SERVICES["flower"]["command"]]
    env = {k: v for k, v in os.environ.items() if k != "FLOWER_BASIC_AUTH"}

    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)

    assert done.returncode == 78
    assert "FLOWER_BASIC_AUTH is not set" in done.stderr


def test_api_serves_and_health_check_passes_when_run(tmp_path: Path) -> None:
    """The backend service's command and health check, run here as written (embedded broker,
    SQLite: the readiness check reaches both)."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade_database(url)
    port = free_port()
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "ENVIRONMENT": "test"}
    env |= {"EMBEDDED_BROKER": "true", "API_HOST": "127.0.0.1", "API_PORT": str(port)}
    argv = [word.replace("$$", "$") for word in SERVICES["backend"]["command"]]
    run_env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | env
    run_env["PATH"] = f"{Path(sys.executable).parent}:{run_env.get('PATH', '')}"
    log = (tmp_path / "api.log").open("wb")
    api = subprocess.Popen(argv, cwd=BACKEND_DIR, env=run_env, stdout=log, stderr=log)
    log.close()
    try:
        deadline = time.monotonic() + 60
        while (up := _health_check("backend", env)).returncode != 0:
            assert api.poll() is None, (tmp_path / "api.log").read_text()
            assert time.monotonic() < deadline, up.stderr + (tmp_path / "api.log").read_text()
            time.sleep(0.5)
        other = _health_check("backend", env | {"API_PORT": str(free_port())})
    finally:
        api.terminate()
        api.wait(timeout=20)

    assert other.returncode != 0
