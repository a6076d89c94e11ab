"""The worker's /metrics, from a real worker, read by a real exposition parser and promtool.

Flower (in the requirements) registers a ``celery`` subcommand; Celery's command line loads it
before the app, and it imports prometheus_client before the worker has chosen its
multiprocess folder. The engine's metrics must still come from the prefork children that ran
the tasks, summed over children that have exited.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.core.config import Settings
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker, broker_env
from tests.support.faults import RedisServer
from tests.support.programs import load_small_program
from tests.support.services import free_port

pytestmark = pytest.mark.redis

HEALTH_CHECK = "app.resilience.tasks.periodic_health_check"
CHUNK = "app.resilience.tasks.analyze_contingency_chunk"


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
    start_celery_worker: StartWorker, migrated_url: str
) -> None:
    loads_first = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, celery.bin.celery; sys.exit('prometheus_client' not in sys.modules)",
        ],
    )
    assert loads_first.returncode == 0  # the situation under test: Flower imports it first
    port = free_port()
    worker: CeleryWorkerProcess = start_celery_worker(
        migrated_url, extra_env={"METRICS_PORT": str(port)}
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
    load_small_program(url)  # with no schedule, the health check publishes nothing
    return url


# RESILIENCE_MODEL.md section 9, written from the spec (the names dashboards and rules use),
# plus the task metrics. Labelled series appear once a label value is used; the fallback
# scenarios are data, so that counter shows with the first activation.
SECTION_9 = {
    "resilience_utilization_rate",
    "resilience_utilization_level",
    "resilience_defense_level",
    "resilience_load_shedding_level",
    "resilience_n1_compliant",
    "resilience_n2_compliant",
    "resilience_faculty_available",
    "resilience_coverage_rate",
    "resilience_buffer_remaining",
    "resilience_active_fallbacks",
    "resilience_suspended_activities",
    "resilience_crisis_activations",
    "resilience_health_check_failures",
    "resilience_health_check_duration_seconds",
    "resilience_contingency_analysis_duration_seconds",
}
TASK_METRICS = {
    "resilience_task_duration_seconds",
    "resilience_task_failures",
    "resilience_task_last_success_timestamp_seconds",
    "resilience_queue_length",
}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_scrape_parses_and_passes_promtool_when_tasks_ran_in_several_children(
    start_celery_worker: StartWorker, migrated_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "redis"
    folder.mkdir()
    server = RedisServer(folder)
    server.start()
    try:
        port = free_port()
        # One task per child process: the counts below add up processes that have exited.
        worker = start_celery_worker(
            migrated_url,
            queues=("default", "resilience"),
            extra_env=broker_env(server.url)
            | {"METRICS_PORT": str(port), "CELERY_MAX_TASKS_PER_CHILD": "1"},
        )
        client = worker.client()
        for _ in range(3):
            client.send_task(HEALTH_CHECK, queue="resilience").get(timeout=90)
        failed = client.send_task(CHUNK, args=[], queue="resilience")
        with pytest.raises(TypeError):
            failed.get(timeout=90)
        for _ in range(2):  # nobody consumes this queue here
            client.send_task("app.notifications.tasks.not_consumed", queue="notifications")
        time.sleep(1)  # the failed child writes its counter as it finishes
        text = _scrape(port)
        promtool = subprocess.run(
            ["promtool", "check", "metrics"], input=text, capture_output=True, text=True
        )
    finally:
        server.stop()

    families = {family.name for family in text_string_to_metric_families(text)}
    samples = _samples(text)
    assert families >= SECTION_9 | TASK_METRICS, sorted((SECTION_9 | TASK_METRICS) - families)
    health = (("task", "periodic_health_check"),)
    assert samples[("resilience_task_duration_seconds_count", health)] == 3
    assert samples[("resilience_health_check_duration_seconds_count", ())] == 3
    chunk = (("task", "analyze_contingency_chunk"),)
    assert samples[("resilience_task_failures_total", chunk)] == 1
    assert samples[("resilience_task_last_success_timestamp_seconds", health)] > time.time() - 300
    assert samples[("resilience_queue_length", (("queue", "notifications"),))] == 2
    assert samples[("resilience_queue_length", (("queue", "resilience"),))] == 0
    assert promtool.returncode == 0, promtool.stdout + promtool.stderr
