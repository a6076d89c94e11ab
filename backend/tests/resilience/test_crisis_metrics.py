"""The crisis metrics reach the scraper whichever process changed the crisis: here the command
line, whose process has ended before the worker's /metrics is scraped."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from app.core.config import BACKEND_DIR
from app.core.migrate import upgrade_database
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker
from tests.support.services import free_port

ORANGE = 2
"""``moderate`` sheds at ORANGE: 2 on the 0 NORMAL .. 5 CRITICAL scale (RESILIENCE_MODEL.md)."""


def _cli(worker: CeleryWorkerProcess, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=BACKEND_DIR, env=worker.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _scrape(port: int) -> dict[str, float]:
    """Every sample of the worker's /metrics, as ``name{label="value",...}`` -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_worker_scrape_shows_crisis_the_command_line_activated_and_ended(
    start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'crisis.db'}"
    upgrade_database(url)
    port = free_port()
    worker = start_celery_worker(url, embedded=True, extra_env={"METRICS_PORT": str(port)})
    _cli(worker, "demo-data")
    _cli(worker, "users", "add", "pat", "--role", "program_director")
    token = next(
        line for line in _cli(worker, "tokens", "create", "pat").splitlines() if line[:3] == "rs_"
    )
    before = _scrape(port)

    activated = json.loads(
        _cli(worker, "crisis", "activate", "--severity", "moderate", "--reason", "ice storm",
             "--token", token, "--json")
    )  # fmt: skip
    during = _scrape(port)
    _cli(worker, "crisis", "deactivate", "--reason", "thawed", "--token", token)
    after = _scrape(port)

    assert before["resilience_load_shedding_level"] == 0
    assert before['resilience_crisis_activations_total{severity="moderate"}'] == 0
    assert during["resilience_load_shedding_level"] == ORANGE
    suspended = len(activated["suspended_activities"])
    assert suspended > 0  # the demo program has activities a moderate crisis sheds
    assert during["resilience_suspended_activities"] == suspended
    laid = activated["fallback_id"] is not None
    assert during["resilience_active_fallbacks"] == int(laid)
    assert during['resilience_crisis_activations_total{severity="moderate"}'] == 1
    assert during['resilience_crisis_activations_total{severity="severe"}'] == 0
    assert after["resilience_load_shedding_level"] == 0
    assert after["resilience_suspended_activities"] == 0
    assert after["resilience_active_fallbacks"] == 0
    assert after['resilience_crisis_activations_total{severity="moderate"}'] == 1
