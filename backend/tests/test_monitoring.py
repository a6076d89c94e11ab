"""monitoring/: the Prometheus alert rules pass `promtool check rules` and their unit tests
(`promtool test rules`), and rules and Grafana dashboard name only metrics the engine exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY

import app.core.metrics  # noqa: F401  (registers the engine's metrics)
from app.core.celery_app import PERIODIC_TASKS
from app.core.config import BACKEND_DIR
from app.resilience.crisis.metrics import CrisisStateCollector

MONITORING = BACKEND_DIR.parent / "monitoring"
RULES = MONITORING / "prometheus" / "alerts.yml"
DASHBOARD = MONITORING / "grafana" / "resilience-engine.json"
TESTS = sorted(RULES.parent.glob("alerts*_test.yml"))
"""The rules' unit tests: every minute (alerts_test.yml), hourly for the weekly rules."""
# Not the engine's: Prometheus's own scrape health and redis_exporter's memory gauges.
FOREIGN = {"up", "redis_memory_used_bytes", "redis_memory_max_bytes"}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.fail("promtool missing: apt-get install -y prometheus")
    return subprocess.run(
        ["promtool", *args], cwd=RULES.parent, capture_output=True, text=True, timeout=120
    )


def _exported_names() -> set[str]:
    # The process's metrics, and those read from the database at each scrape (crisis state).
    families = [*REGISTRY.collect(), *CrisisStateCollector().describe()]
    names = set()
    for family in families:
        names |= {sample.name for sample in family.samples} | {family.name}
    # Labelled series without a sample yet still have their family's sample names.
    for family in families:
        if family.type == "histogram":
            names |= {f"{family.name}_{end}" for end in ("bucket", "count", "sum")}
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names | {"resilience_queue_length"}  # read from Redis at scrape time


def _metric_names(expression: str) -> set[str]:
    return set(re.findall(r"\b(resilience_[a-z0-9_]+|redis_[a-z_]+|up)\b", expression))


def test_alert_rules_are_valid_when_checked_by_promtool() -> None:
    done = _promtool("check", "rules", RULES.name)

    assert done.returncode == 0, done.stdout + done.stderr


def test_alert_rules_pass_their_unit_tests_when_run_by_promtool() -> None:
    done = _promtool("test", "rules", *(path.name for path in TESTS))

    assert done.returncode == 0, done.stdout + done.stderr


def test_every_rule_has_a_unit_test_that_expects_it_to_fire() -> None:
    rules = set(re.findall(r"- alert: (\w+)", RULES.read_text()))
    tested = "".join(path.read_text() for path in TESTS)
    firing = set(re.findall(r"alertname: (\w+)\n\s+exp_alerts:\n\s+- exp_labels", tested))

    assert rules == firing


@pytest.mark.parametrize("path", [RULES, DASHBOARD], ids=["rules", "dashboard"])
def test_monitoring_names_only_metrics_the_engine_exports(path: object) -> None:
    if path == RULES:
        groups = yaml.safe_load(RULES.read_text())["groups"]
        text = " ".join(rule["expr"] for group in groups for rule in group["rules"])
    else:
        panels = json.loads(DASHBOARD.read_text())["panels"]
        text = " ".join(t["expr"] for p in panels for t in p["targets"])

    unknown = _metric_names(text) - _exported_names() - FOREIGN

    assert not unknown


# The daily analysis is a chord: its report is stored (and judged) by the merge task.
DEAD_MAN_TASK = {"run_contingency_analysis": "merge_contingency_chunks"}


def test_every_periodic_task_has_a_dead_man_rule() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    dead_man = next(g for g in groups if g["name"] == "dead-man")["rules"]
    watched = {t for rule in dead_man for t in re.findall(r'task="(\w+)"', rule["expr"])}
    short = {entry.task.rsplit(".", 1)[1] for entry in PERIODIC_TASKS}

    assert {DEAD_MAN_TASK.get(name, name) for name in short} == watched


def test_dashboard_shows_the_forecast_and_the_fallback_task() -> None:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    text = " ".join(t["expr"] for p in panels for t in p["targets"])

    assert len({p["id"] for p in panels}) == len(panels)
    assert "resilience_forecast_max_shortfall_probability" in text
    assert "resilience_forecast_high_risk_days" in text
    assert (
        'resilience_task_last_success_timestamp_seconds{task="precompute_fallback_schedules"}'
        in text
    )
