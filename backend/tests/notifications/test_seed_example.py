"""The seed's "Triggering Alerts" example, as written in README.md, on a real worker."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import BACKEND_DIR
from app.models.alert import Alert
from tests.cli.test_readme import readme_blocks
from tests.support.celery_fixtures import CeleryWorkerProcess


@pytest.fixture
def celery_database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_seed_alert_example_stores_alert_when_run_against_worker(
    engine: Engine, celery_worker_proc: CeleryWorkerProcess
) -> None:
    [example] = [b for b in readme_blocks("python") if "send_resilience_alert" in b]
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=BACKEND_DIR, env=celery_worker_proc.env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    deadline = time.monotonic() + 60
    alert = None
    while alert is None and time.monotonic() < deadline:
        with Session(engine) as session:
            alert = session.scalars(select(Alert)).first()
        time.sleep(0.2)
    assert alert is not None, celery_worker_proc.log()
    assert (alert.level, alert.message) == ("warning", "High utilization detected in next 7 days")
    assert alert.details["utilization"] == 0.85 and alert.details["date"] == "2025-12-20"
    assert alert.dedup_key.startswith("msg:")
