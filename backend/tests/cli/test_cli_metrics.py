"""The gauges an analysis command sets: kept in prometheus_client's multiprocess files when
``PROMETHEUS_MULTIPROC_DIR`` is set, not set at all (nor prometheus_client imported) when not.

Run as a user runs the commands, in a fresh process each: this test process has imported
prometheus_client long before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine

from app.core.config import BACKEND_DIR

START = date(2026, 11, 30)

# Runs a command in this process's interpreter and says whether it imported prometheus_client.
_RUN = """
import sys
from app.cli import main
try:
    main(sys.argv[1:])
finally:
    print("prometheus_client" in sys.modules, file=sys.stderr)
"""


def _run(args: list[str], env: dict[str, str]) -> tuple[dict[str, Any], bool]:
    """The command's JSON, and whether it imported prometheus_client."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, *args], cwd=BACKEND_DIR, env=env,
        capture_output=True, encoding="utf-8", timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr.strip().splitlines()[-1] == "True"


def _samples(folder: Path) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """What an exporter reading ``folder`` would serve, by metric and labels."""
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    return {
        (s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "pid"))): s.value
        for metric in registry.collect()
        for s in metric.samples
    }


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    return {**env, **extra}


CONTINGENCY = ["analyze", "contingency", "--start", START.isoformat(), "--days-ahead", "21"]


def test_contingency_command_keeps_its_gauges_in_multiprocess_files(
    demo_db: Engine, tmp_path: Path
) -> None:
    out, imported = _run([*CONTINGENCY, "--json"], _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path)))

    summary = out["summary"]
    samples = _samples(tmp_path)
    horizon = (("window", "horizon"),)
    assert imported
    assert summary["critical_faculty"] > 0  # a value that a gauge left at 0 would not match
    assert samples["resilience_critical_faculty", horizon] == summary["critical_faculty"]
    assert samples["resilience_fatal_pairs", horizon] == summary["fatal_pairs"]
    n1 = (("kind", "n1"), ("window", "horizon"))
    assert samples["resilience_contingency_findings", n1] == summary["n1_findings"]


def test_health_command_keeps_its_gauges_in_multiprocess_files(
    demo_db: Engine, tmp_path: Path
) -> None:
    out, imported = _run(
        ["analyze", "health", "--json"], _env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    )

    samples = _samples(tmp_path)
    assert imported
    levels = {"GREEN": 0, "YELLOW": 1, "ORANGE": 2, "RED": 3, "BLACK": 4}
    assert samples["resilience_defense_level", ()] == levels[out["result"]["defense"]["level"]]


@pytest.mark.parametrize(
    "args",
    [[*CONTINGENCY, "--json"], ["analyze", "health", "--json"]],
    ids=["contingency", "health"],
)
def test_commands_without_multiprocess_folder_leave_prometheus_client_unimported(
    demo_db: Engine, args: list[str]
) -> None:
    out, imported = _run(args, _env())

    assert out  # the command did its work
    assert not imported
