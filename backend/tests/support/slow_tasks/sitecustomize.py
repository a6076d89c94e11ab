"""Test-only: make named Celery tasks slow in a worker (see ``tests.support.faults``).

Python imports this module at start-up when its folder is on ``PYTHONPATH``. With
``TEST_SLOW_TASKS="app.resilience.tasks.periodic_health_check=8,..."`` every run of those
tasks first sleeps that many seconds in the worker's child process.
"""

from __future__ import annotations

import os
import time
from typing import Any

_DELAYS = {
    name.strip(): float(seconds)
    for name, _, seconds in (
        item.partition("=") for item in os.environ.get("TEST_SLOW_TASKS", "").split(",") if item
    )
}

if _DELAYS:
    from celery import signals

    def _sleep_before(sender: Any = None, **_: Any) -> None:
        delay = _DELAYS.get(getattr(sender, "name", ""))
        if delay:
            print(f"test slow task: {sender.name} sleeps {delay} s", flush=True)
            time.sleep(delay)

    signals.task_prerun.connect(_sleep_before, weak=False)
