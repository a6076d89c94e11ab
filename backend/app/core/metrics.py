"""Prometheus metrics, with the seed system's names (RESILIENCE_MODEL.md section 9).

Gauges use ``multiprocess_mode="mostrecent"`` so that, when the worker runs prefork children
in prometheus_client's multiprocess mode, a scrape shows the value the latest task wrote.
Label values are bounded: ``type`` is one of FACULTY_TYPES, ``reason`` one of FAILURE_REASONS,
``task`` one of the task short names.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

LEVEL_VALUES = {"GREEN": 0, "YELLOW": 1, "ORANGE": 2, "RED": 3, "BLACK": 4}
"""Numeric value exported for each level, so alert rules can say ``>= 2``."""
SHEDDING_VALUES = {"NORMAL": 0, "YELLOW": 1, "ORANGE": 2, "RED": 3, "BLACK": 4, "CRITICAL": 5}
FACULTY_TYPES = ("total", "present", "on_duty")
FAILURE_REASONS = ("database", "broker", "timeout", "error")

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
load_shedding_level = Gauge(
    "resilience_load_shedding_level",
    "Load-shedding level (0 NORMAL .. 5 CRITICAL)",
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
active_fallbacks = Gauge(
    "resilience_active_fallbacks", "Fallback schedules in effect", multiprocess_mode=_MODE
)
suspended_activities = Gauge(
    "resilience_suspended_activities",
    "Activities suspended by load shedding",
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
crisis_activations = Counter(
    "resilience_crisis_activations_total", "Crisis activations", ["severity"]
)
fallback_activations = Counter(
    "resilience_fallback_activations_total", "Fallback activations", ["scenario"]
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
