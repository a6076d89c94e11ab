"""Prometheus metrics, with the seed system's names (RESILIENCE_MODEL.md section 9), and the
task metrics every Celery task feeds through signals (duration, failures, retries, last
success) plus the queue lengths read from Redis at each scrape.

Gauges use ``multiprocess_mode="mostrecent"`` so that, when the worker runs prefork children
in prometheus_client's multiprocess mode, a scrape shows the value the latest task wrote.
The crisis metrics (shedding level, suspended activities, active fallbacks, crisis and
fallback activations) are not here: they are read from the database at each scrape
(``app.resilience.crisis.metrics``), since the command line that activates a crisis is gone by
the time anyone scrapes.

Label values are bounded: ``type`` is one of FACULTY_TYPES, ``reason`` one of FAILURE_REASONS,
``severity`` one of CRISIS_SEVERITIES, ``task`` the short name of one of the app's tasks,
``queue`` one of the worker's queues.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:  # celery.app.task is a tenth of a second to import: annotations only
    from celery import Task

logger = logging.getLogger(__name__)

LEVEL_VALUES = {"GREEN": 0, "YELLOW": 1, "ORANGE": 2, "RED": 3, "BLACK": 4}
"""Numeric value exported for each level, so alert rules can say ``>= 2``."""
SHEDDING_VALUES = {"NORMAL": 0, "YELLOW": 1, "ORANGE": 2, "RED": 3, "BLACK": 4, "CRITICAL": 5}
FACULTY_TYPES = ("total", "present", "on_duty")
FAILURE_REASONS = ("database", "broker", "timeout", "error")
CRISIS_SEVERITIES = ("minor", "moderate", "severe", "critical")
REDIS_PRIORITY_SEP = "\x06\x16"
"""kombu's Redis transport keeps priorities 3, 6 and 9 of queue Q in lists Q + SEP + digit."""
REDIS_PRIORITIES = (3, 6, 9)

_MODE: Final = "mostrecent"

utilization_rate = Gauge(
    "resilience_utilization_rate",
    "Faculty demand over pool size for the next 7 days",
    multiprocess_mode=_MODE,
)
utilization_level = Gauge(
    "resilience_utilization_level",
    "Utilization level (0 GREEN .. 4 BLACK)",
    multiprocess_mode=_MODE,
)
defense_level = Gauge(
    "resilience_defense_level",
    "Defense level before load shedding (0 GREEN .. 4 BLACK)",
    multiprocess_mode=_MODE,
)
n1_compliant = Gauge(
    "resilience_n1_compliant",
    "1 when no gap and no N-1 failure in the analysed window, 0 otherwise",
    multiprocess_mode=_MODE,
)
n2_compliant = Gauge(
    "resilience_n2_compliant",
    "1 when no gap, N-1 failure or fatal pair in the analysed window, 0 otherwise",
    multiprocess_mode=_MODE,
)
faculty_available = Gauge(
    "resilience_faculty_available",
    "Faculty in the next 7 days: total active, present on some half-day, on duty in a pool",
    ["type"],
    multiprocess_mode=_MODE,
)
coverage_rate = Gauge(
    "resilience_coverage_rate",
    "Filled faculty slots over faculty demand, next 7 days",
    multiprocess_mode=_MODE,
)
buffer_remaining = Gauge(
    "resilience_buffer_remaining",
    "Share of the faculty on hand not consumed by required work, next 7 days",
    multiprocess_mode=_MODE,
)
gaps = Gauge(
    "resilience_gaps",
    "Unfilled faculty slots in the health check's window",
    multiprocess_mode=_MODE,
)
critical_faculty = Gauge(
    "resilience_critical_faculty",
    "Faculty members that are an N-1 failure somewhere in the analysed window",
    ["window"],
    multiprocess_mode=_MODE,
)
fatal_pairs = Gauge(
    "resilience_fatal_pairs",
    "Fatal faculty pairs in the analysed window",
    ["window"],
    multiprocess_mode=_MODE,
)
forecast_max_shortfall_probability = Gauge(
    "resilience_forecast_max_shortfall_probability",
    "Highest daily shortfall probability of the latest forecast",
    multiprocess_mode=_MODE,
)
forecast_high_risk_days = Gauge(
    "resilience_forecast_high_risk_days",
    "Days of the latest forecast in high-risk periods",
    multiprocess_mode=_MODE,
)
last_success = Gauge(
    "resilience_task_last_success_timestamp_seconds",
    "Unix time of the task's last successful run",
    ["task"],
    multiprocess_mode=_MODE,
)
health_check_failures = Counter(
    "resilience_health_check_failures_total", "Failed health checks", ["reason"]
)
health_check_duration = Histogram(
    "resilience_health_check_duration_seconds",
    "Duration of the health check",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
contingency_analysis_duration = Histogram(
    "resilience_contingency_analysis_duration_seconds",
    "Duration of the contingency analysis",
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
contingency_findings = Gauge(
    "resilience_contingency_findings",
    "Contingency findings by kind (n1, n2: findings per half-day; gap: unfilled slots)",
    ["window", "kind"],
    multiprocess_mode=_MODE,
)

task_duration = Histogram(
    "resilience_task_duration_seconds",
    "Run time of each Celery task, successful or not",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
task_failures = Counter(
    "resilience_task_failures_total", "Celery tasks that failed (retries spent)", ["task"]
)
task_retries = Counter("resilience_task_retries_total", "Celery task retries", ["task"])

# Labelled series that exist before their first event, so a rule can say rate(...) == 0.
for _reason in FAILURE_REASONS:
    health_check_failures.labels(reason=_reason)


def task_label(task: Task | None) -> str:
    """The bounded ``task`` label: the task's short name."""
    return str(getattr(task, "name", "unknown")).rsplit(".", 1)[-1]


_started: dict[str, float] = {}


def _on_prerun(task_id: str | None = None, **_: Any) -> None:
    if task_id is not None:
        _started[task_id] = time.monotonic()


def _on_postrun(task_id: str | None = None, task: Task | None = None, **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if started is not None:
        task_duration.labels(task=task_label(task)).observe(time.monotonic() - started)


def _on_success(sender: Task | None = None, **_: Any) -> None:
    last_success.labels(task=task_label(sender)).set(time.time())


def _on_failure(sender: Task | None = None, **_: Any) -> None:
    task_failures.labels(task=task_label(sender)).inc()


def _on_retry(sender: Task | None = None, **_: Any) -> None:
    task_retries.labels(task=task_label(sender)).inc()


def connect_task_signals() -> None:
    """Feed the task metrics from Celery's task signals (in the worker; idempotent).

    Connected by the worker (``app.core.celery_app``), not when this module is imported: a
    command line or the API reads these metrics' definitions without loading Celery's signal
    machinery (kombu and all) for hooks it never fires.
    """
    from celery import signals

    for signal, receiver in (
        (signals.task_prerun, _on_prerun),
        (signals.task_postrun, _on_postrun),
        (signals.task_success, _on_success),
        (signals.task_failure, _on_failure),
        (signals.task_retry, _on_retry),
    ):
        signal.connect(receiver, weak=False, dispatch_uid=f"metrics.{receiver.__name__}")


class QueueLengthCollector(Collector):
    """``resilience_queue_length{queue}``: messages waiting in each Redis queue, read at scrape
    time in the worker's main process (one ``LLEN`` per priority list; nothing is consumed)."""

    def __init__(self, broker_url: str, queues: list[str]) -> None:
        self._broker_url = broker_url
        self._queues = queues

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import redis

        family = GaugeMetricFamily(
            "resilience_queue_length", "Messages waiting in the queue", labels=["queue"]
        )
        client = redis.Redis.from_url(self._broker_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            for queue in self._queues:
                keys = [queue] + [f"{queue}{REDIS_PRIORITY_SEP}{p}" for p in REDIS_PRIORITIES]
                family.add_metric([queue], float(sum(int(client.llen(k)) for k in keys)))
        except redis.RedisError as exc:  # no sample rather than a wrong one
            logger.warning("queue lengths not read: %s", type(exc).__name__)
            return
        finally:
            client.close()
        yield family
