"""Logs of a real run: JSON lines with the task's name and id on every line written inside a
task (LOG_FORMAT=json), and no secret anywhere in the output of worker, scripts and CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app.core.config import BACKEND_DIR
from app.core.logging import MASK
from app.core.migrate import upgrade_database
from tests.support.celery_fixtures import StartWorker, broker_env
from tests.support.faults import RedisServer
from tests.support.programs import load_small_program

pytestmark = pytest.mark.redis

REDIS_SECRET = "Rd5-hunter2-x9"
FLOWER_SECRET = "Fl7-opensesame-q4"
DB_SECRET = "Pg3-tiger-k8"
TOKEN_SECRET = "Tk1-abcdef123456"
SECRETS = (REDIS_SECRET, FLOWER_SECRET, DB_SECRET, TOKEN_SECRET)
HEALTH_CHECK = "app.resilience.tasks.periodic_health_check"


@pytest.fixture
def guarded_redis(tmp_path: Path) -> Iterator[str]:
    """A private Redis that asks for a password; its URL with the password."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    client = server.client(0)
    client.config_set("requirepass", REDIS_SECRET)
    client.close()
    yield f"redis://:{REDIS_SECRET}@127.0.0.1:{server.port}"
    # RedisServer.stop() sends SIGTERM: no password needed.
    server.stop()


def test_logs_are_json_with_task_ids_and_hold_no_secret_when_secrets_are_set(
    guarded_redis: str, start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'logged.db'}"
    upgrade_database(url)
    load_small_program(url)
    secrets = {"FLOWER_BASIC_AUTH": f"ops:{FLOWER_SECRET}", "LOG_FORMAT": "json"}
    worker = start_celery_worker(url, extra_env=broker_env(guarded_redis) | secrets)
    client = worker.client()
    client.send_task(HEALTH_CHECK, queue="resilience").get(timeout=90)
    # A task that fails, its traceback in the log.
    failed = client.send_task("app.resilience.tasks.analyze_contingency_chunk", args=[])
    with pytest.raises(TypeError):
        failed.get(timeout=90)
    env = worker.env | {"PYTHON": sys.executable, "LOG_FORMAT": "text"}
    unreachable_db = f"postgresql+psycopg://app:{DB_SECRET}@127.0.0.1:1/x"
    runs = [
        subprocess.run(
            [str(BACKEND_DIR.parent / "scripts" / "health-check.sh"), "--verbose"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        ),
        subprocess.run(
            [sys.executable, "-m", "app.cli", "analyze", "health"],
            cwd=BACKEND_DIR,
            env=env | {"DATABASE_URL": unreachable_db},
            capture_output=True,
            text=True,
            timeout=120,
        ),
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import logging, sys; from app.core.logging import "
                "configure_logging; configure_logging(); logging.getLogger('x').error("
                f"'webhook token={TOKEN_SECRET} auth Bearer {TOKEN_SECRET}')",
            ],
            cwd=BACKEND_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        ),
    ]
    worker.stop()
    log = worker.log()

    everything = log + "".join(run.stdout + run.stderr for run in runs)
    assert runs[0].returncode == 1, runs[0].stdout  # beat not running here: degraded
    assert runs[1].returncode == 75, runs[1].stdout + runs[1].stderr
    assert "***" in everything
    assert not [secret for secret in SECRETS if secret in everything]
    records = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    in_tasks = [r for r in records if r["process"] != "MainProcess"]
    health = [r for r in records if r["message"].startswith("health check: defense")]
    assert len(health) == 1 and health[0]["task_name"] == HEALTH_CHECK
    assert in_tasks and all("task_id" in r and "task_name" in r for r in in_tasks), in_tasks
    failures = [r for r in records if r["level"] == "ERROR" and "contingency_chunk" in r["message"]]
    assert failures and "TypeError" in failures[0].get("exception", ""), failures


def test_worker_log_shows_broker_without_password_mask_when_redis_has_none(
    start_celery_worker: StartWorker, celery_redis_url: str
) -> None:
    """Kombu renders ``redis://:**@host`` whether or not there is a password; a log line
    shows a broker that has none as configured, not with a masked password. (Celery's
    start-up banner is printed, not logged: it keeps kombu's ``**``.)"""
    worker = start_celery_worker()
    worker.stop()
    log = worker.log()

    broker = broker_env(celery_redis_url)["CELERY_BROKER_URL"]
    assert urlsplit(broker).password is None
    assert f"Connected to {broker}" in log, log
    assert f":{MASK}@" not in log
