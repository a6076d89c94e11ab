"""Read-only views of the stored analyses, as plain JSON, for the API and the dashboard.

Every view says when there is nothing yet (``"status": "not yet analysed"``) rather than
failing: a fresh program has no health check or report until the worker has run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models.base import iso_utc, utcnow
from app.models.resilience import ContingencyReport, HealthCheckRecord, UtilizationForecast
from app.resilience.clock import program_clock
from app.resilience.contingency.result import REPORT_FORMAT
from app.resilience.crisis.service import crisis_status
from app.resilience.health.service import record_summary
from app.resilience.reports import DailyReport, daily_report, person_names, with_current_names

NOT_ANALYSED = "not yet analysed"


def latest_health_record(session: Session) -> HealthCheckRecord | None:
    return session.scalars(
        select(HealthCheckRecord)
        .order_by(HealthCheckRecord.finished_at.desc(), HealthCheckRecord.id.desc())
        .limit(1)
    ).first()


def daily_contingency_report(
    session: Session, settings: Settings, now: datetime | None = None
) -> DailyReport | None:
    """The daily contingency report, picked as the health check picks it (``daily_report``):
    a shorter or longer one-off run does not displace it, and after a schedule change is
    undone it is the earlier report made from the schedule as it is again."""
    today = program_clock(session, settings).today(now or utcnow())
    return daily_report(session, today, settings.CONTINGENCY_DAYS)


def latest_forecast(session: Session) -> UtilizationForecast | None:
    return session.scalars(
        select(UtilizationForecast)
        .order_by(UtilizationForecast.created_at.desc(), UtilizationForecast.id.desc())
        .limit(1)
    ).first()


def forecast_summary(row: UtilizationForecast) -> dict[str, Any]:
    return {
        "forecast_id": row.id,
        "created_at": iso_utc(row.created_at),
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "samples": row.samples,
        "worst_level": row.worst_level,
        "high_risk_days": row.high_risk_days,
        "max_shortfall_probability": row.max_shortfall_probability,
        "duration_s": round(row.duration_s, 3),
    }


def health_record_json(record: HealthCheckRecord) -> dict[str, Any]:
    """A stored health check: its summary, when it ran, and its full result."""
    return {
        "summary": record_summary(record),
        "finished_at": iso_utc(record.finished_at),
        "result": record.result,
    }


def contingency_report_json(session: Session, row: ContingencyReport) -> dict[str, Any]:
    """A stored contingency report with every finding and current names."""
    return {
        "summary": contingency_summary(row),
        "report": with_current_names(row.report, person_names(session)),
    }


def _by_severity(ids: tuple[str, ...], finding: Mapping[str, Any]) -> tuple[Any, ...]:
    """The order of the CLI's rankings: most half-days, then most residents, then the ids."""
    return (-finding["half_days"], -finding["residents_affected"], ids)


def report_findings(report: Mapping[str, Any]) -> dict[str, Any] | None:
    """The gaps, critical faculty and fatal pairs of a stored report, each finding with its
    exposures written out and its names, for display; None for a report of an older format
    (the next analysis replaces it). Critical faculty and fatal pairs come most severe first
    (``_by_severity``), not in the report's order by id."""
    if report.get("format") != REPORT_FORMAT:
        return None
    table = report["exposures"]
    names = report.get("names", {})
    return {
        "gaps": report["gaps"],
        "critical_faculty": [
            {
                **c,
                "name": names.get(c["person_id"]),
                "exposures": [table[i] for i in c["exposures"]],
            }
            for c in sorted(
                report["critical_faculty"], key=lambda c: _by_severity((c["person_id"],), c)
            )
        ],
        "fatal_pairs": [
            {
                **p,
                "names": [names.get(i) for i in p["person_ids"]],
                "exposures": [table[i] for i in p["exposures"]],
            }
            for p in sorted(
                report["fatal_pairs"], key=lambda p: _by_severity(tuple(p["person_ids"]), p)
            )
        ],
    }


def contingency_summary(row: ContingencyReport) -> dict[str, Any]:
    return {
        "report_id": row.id,
        "created_at": iso_utc(row.created_at),
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "n1_pass": row.n1_pass,
        "n2_pass": row.n2_pass,
        "gap_slots": row.gap_count,
        "critical_faculty": row.critical_count,
        "fatal_pairs": row.fatal_pair_count,
        "duration_s": round(row.duration_s, 3),
    }


def resilience_status(session: Session) -> dict[str, Any]:
    """The defense level with its reasons, utilization, N-1/N-2 and crisis state, from the
    latest health check."""
    record = latest_health_record(session)
    if record is None:
        return {"status": NOT_ANALYSED, "crisis": crisis_state(session)}
    result = record.result
    return {
        "status": "analysed",
        "checked_at": iso_utc(record.finished_at),
        "window": {"start": record.window_start.isoformat(), "end": record.window_end.isoformat()},
        "defense_level": record.defense_level,
        "reasons": list(result.get("defense", {}).get("reasons", [])),
        "utilization": {
            "rate": record.utilization,
            "level": record.utilization_level,
            "buffer_remaining": result.get("buffer_remaining"),
        },
        "coverage_rate": result.get("coverage_rate"),
        "gap_slots": record.gap_count,
        "n1_status": record.n1_status,
        "n2_status": record.n2_status,
        "contingency": result.get("contingency"),
        "crisis": crisis_state(session),
    }


def crisis_state(session: Session) -> dict[str, Any]:
    """The crisis in force: ``{"status": "none"}``, or ``"active"`` with its severity,
    shedding level, approver, start and suspended activities."""
    status = crisis_status(session)
    crisis = status["crisis"]
    if not status["active"] or crisis is None:
        return {"status": "none"}
    keys = ("id", "severity", "shedding_level", "approved_by", "activated_at", "fallback_id")
    return {
        "status": "active",
        **{k: crisis[k] for k in keys},
        "suspended_activities": crisis["suspended_activities"],
    }


def count_rows(
    session: Session,
    model: type[HealthCheckRecord] | type[ContingencyReport] | type[UtilizationForecast],
) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
