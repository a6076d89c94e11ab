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

# With ``TEST_FAIL_CHUNKS=N`` and ``TEST_FAIL_DIR=folder``, the first N runs of the contingency
# chunk task (counted across processes by files in that folder) fail with RuntimeError: the
# task body's ``analyze_chunk`` is swapped just before it runs.
_FAIL_CHUNKS = int(os.environ.get("TEST_FAIL_CHUNKS", "0") or 0)
_FAIL_DIR = os.environ.get("TEST_FAIL_DIR", "")

if _FAIL_CHUNKS and _FAIL_DIR:
    import sys
    from pathlib import Path

    from celery import signals as _signals

    _CHUNK_TASK = "app.resilience.tasks.analyze_contingency_chunk"

    def _fail_chunk_before(sender: Any = None, **_: Any) -> None:
        # The chunk task's work is done by the chord module: its analyze_chunk is replaced.
        module = sys.modules.get("app.resilience.contingency.chord")
        if getattr(sender, "name", "") != _CHUNK_TASK or module is None:
            return
        original = module.__dict__.setdefault("_test_analyze_chunk", module.analyze_chunk)
        failed = len(list(Path(_FAIL_DIR).glob("chunk-failed-*")))
        if failed < _FAIL_CHUNKS:
            Path(_FAIL_DIR, f"chunk-failed-{failed}").touch()
            print(f"test failing task: {_CHUNK_TASK} fails", flush=True)

            def _fail(*_args: Any, **_kwargs: Any) -> Any:
                raise RuntimeError("test: this chunk fails")

            module.analyze_chunk = _fail
        else:
            module.analyze_chunk = original

    _signals.task_prerun.connect(_fail_chunk_before, weak=False)

# With ``TEST_FAIL_STREAM_READS=N`` and ``TEST_FAIL_DIR=folder``, the first N contingency
# analyses that send their chord before reading the schedule (``contingency.stream``) fail on
# their second date range's read, after the chord is sent: ``assignment_groups`` is swapped.
_FAIL_READS = int(os.environ.get("TEST_FAIL_STREAM_READS", "0") or 0)

if _FAIL_READS and _FAIL_DIR:
    import sys as _sys
    from pathlib import Path as _Path

    from celery import signals as _read_signals

    def _fail_read_before(sender: Any = None, **_: Any) -> None:
        module = _sys.modules.get("app.resilience.contingency.stream")
        if getattr(sender, "name", "") != "app.resilience.tasks.run_contingency_analysis":
            return
        if module is None:
            return
        original = module.__dict__.setdefault("_test_groups", module.assignment_groups)
        if len(list(_Path(_FAIL_DIR).glob("read-failed-*"))) >= _FAIL_READS:
            module.assignment_groups = original
            return
        calls: list[object] = []

        def _second_fails(*args: Any, **kwargs: Any) -> Any:
            calls.append(args)
            if len(calls) == 2:
                _Path(_FAIL_DIR, f"read-failed-{len(calls)}-{os.getpid()}").touch()
                print("test failing read: the schedule's second range fails", flush=True)
                raise ConnectionError("test: the database went away")
            return original(*args, **kwargs)

        module.assignment_groups = _second_fails

    _read_signals.task_prerun.connect(_fail_read_before, weak=False)
