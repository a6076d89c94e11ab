"""The worker's /metrics, from a real worker, whatever else is installed beside the engine.

Flower registers a ``celery`` subcommand; Celery's command line loads it before the app, and
it imports prometheus_client before the worker has chosen its multiprocess folder. The
engine's metrics must still come from the prefork children that ran the tasks.
"""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from app.core.config import Settings
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker
from tests.support.services import free_port

pytestmark = pytest.mark.redis

# Flower and the packages it needs beyond the engine's own (pinned; installed beside the test
# environment, not into it).
FLOWER = ("flower==2.2.0", "tornado==6.6.1", "humanize==4.17.0", "pytz==2026.6")


@pytest.fixture(scope="module")
def flower_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding Flower, to put on a worker's PYTHONPATH."""
    target = tmp_path_factory.mktemp("flower")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-deps"]
        + ["--target", str(target), *FLOWER],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return target


def _scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def _listen_addresses(port: int) -> set[str]:
    """Local IPv4 addresses (hex, as in /proc/net/tcp) listening on ``port``."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if int(hex_port, 16) == port and state == "0A":  # LISTEN
            found.add(address)
    return found


def _metric(text: str, name: str) -> float:
    match = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    assert match, f"{name} not in /metrics:\n{text}"
    return float(match.group(1))


def test_health_check_metrics_served_when_flower_is_installed(
    start_celery_worker: StartWorker, flower_path: Path, migrated_url: str
) -> None:
    loads_first = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, celery.bin.celery; sys.exit('prometheus_client' not in sys.modules)",
        ],
        env={"PYTHONPATH": str(flower_path)},
    )
    assert loads_first.returncode == 0  # the situation under test: Flower imports it first
    port = free_port()
    worker: CeleryWorkerProcess = start_celery_worker(
        migrated_url, extra_env={"METRICS_PORT": str(port), "PYTHONPATH": str(flower_path)}
    )

    worker.client().send_task("app.resilience.tasks.periodic_health_check", queue="resilience").get(
        timeout=90
    )
    text = _scrape(port)

    assert _metric(text, "resilience_health_check_duration_seconds_count") >= 1
    assert _metric(text, "resilience_defense_level") == 0  # GREEN, from the child's record
    assert "prometheus_client imported early" not in worker.log()


def test_metrics_listen_on_loopback_only_by_default(
    start_celery_worker: StartWorker, migrated_url: str
) -> None:
    port = free_port()
    start_celery_worker(migrated_url, extra_env={"METRICS_PORT": str(port)})

    assert _listen_addresses(port) == {"0100007F"}  # 127.0.0.1
    assert Settings(_env_file=None).METRICS_HOST == "127.0.0.1"  # type: ignore[call-arg]


@pytest.fixture
def migrated_url(tmp_path: Path) -> str:
    from app.core.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    upgrade_database(url)
    return url
