"""The dashboard's reading pages: overview, findings and a person's findings. Where an
analysis has not run the page says so (fallbacks, alerts and crisis: ``operations``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from app.api.deps import SessionDep, SettingsDep
from app.domain.coverage import build_site_half_days
from app.domain.snapshot import load_snapshot
from app.models.alert import Alert
from app.models.audit import AuditRecord
from app.models.base import utcnow
from app.models.person import Person
from app.models.resilience import ContingencyReport, UtilizationForecast
from app.programs.fields import ID_PATTERN
from app.resilience.clock import program_clock
from app.resilience.policy import HealthPolicy
from app.resilience.views import (
    contingency_report_json,
    daily_contingency_report,
    forecast_summary,
    latest_forecast,
    latest_health_record,
    report_findings,
    resilience_status,
)
from app.web.chart import Chart, build_chart, daily_rates
from app.web.deps import PageUser, render

router = APIRouter(include_in_schema=False)

CHART_DAYS = 90


def _findings(session: SessionDep, settings: SettingsDep) -> dict[str, Any] | None:
    """The daily report's summary, whether it is current, and its findings written out (None:
    none, or an old one). It is the report the health check reads (``daily_contingency_report``)."""
    daily = daily_contingency_report(session, settings)
    if daily is None:
        return None
    stored = contingency_report_json(session, daily.row)
    found = report_findings(stored["report"])
    if found is None:
        return None
    return {"summary": stored["summary"], "current": daily.current, "report": found}


def _chart(request: Request, session: SessionDep, settings: SettingsDep) -> Chart:
    """The overview's chart, rebuilt only when its input may have changed: another day, a
    new contingency report or forecast, or a change to the schedule (every import and
    absence change writes an audit record).

    Days the latest forecast covers show its utilization (past the published schedule's end
    too, from the typical week); days to watch are those at ORANGE or worse, those the daily
    contingency report (``daily_contingency_report``) has a gap or an N-1 failure on, and
    those whose forecast shortfall probability is at or above the forecast's threshold.
    """
    start = program_clock(session, settings).today(utcnow())
    # The daily report is picked from the day, the reports and the schedule: all in the key.
    report_id = session.scalar(select(func.max(ContingencyReport.id)))
    forecast_id = session.scalar(select(func.max(UtilizationForecast.id)))
    last_change = session.scalar(select(func.max(AuditRecord.id)))
    key = (start, last_change, report_id, forecast_id)
    cache: dict[str, Any] = request.app.state.chart_cache
    if cache.get("key") == key:
        chart: Chart = cache["chart"]
        return chart
    daily = daily_contingency_report(session, settings)
    end = start + timedelta(days=CHART_DAYS - 1)
    problems = build_site_half_days(load_snapshot(session, start=start, end=end), start, end)
    rates = daily_rates(problems)
    flagged: set[str] = set()
    found = None if daily is None else report_findings(daily.row.report)
    if found is not None:
        flagged = {g["date"] for g in found["gaps"]}
        flagged |= {e["date"] for c in found["critical_faculty"] for e in c["exposures"]}
    forecast = latest_forecast(session)
    if forecast is not None:
        threshold = forecast.result["threshold"]
        for day in forecast.result["days"]:
            rates[date.fromisoformat(day["date"])] = day["rate"]
            if day["shortfall_probability"] >= threshold:
                flagged.add(day["date"])
    thresholds = HealthPolicy.from_settings(settings).thresholds
    finding_days = [date.fromisoformat(d) for d in flagged]
    chart = build_chart(start, CHART_DAYS, rates, thresholds, finding_days)
    cache.update(key=key, chart=chart)
    return chart


def _forecast_summary(session: SessionDep) -> dict[str, Any] | None:
    row = session.scalars(
        select(UtilizationForecast).order_by(UtilizationForecast.id.desc()).limit(1)
    ).first()
    return None if row is None else forecast_summary(row)


def _alerts(session: SessionDep, limit: int) -> list[Alert]:
    return list(
        session.scalars(
            select(Alert).order_by(Alert.updated_at.desc(), Alert.id.desc()).limit(limit)
        )
    )


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUser
) -> HTMLResponse:
    context = {
        "status": resilience_status(session),
        "chart": _chart(request, session, settings),
        "forecast": _forecast_summary(session),
        "alerts": _alerts(session, 5),
        "page": "overview",
    }
    return render(request, "overview.html", context, user=user)


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUser
) -> HTMLResponse:
    record = latest_health_record(session)
    context = {
        "findings": _findings(session, settings),
        "health": None if record is None else record.result,
        "page": "findings",
    }
    return render(request, "findings.html", context, user=user)


@router.get("/people/{person_id}", response_class=HTMLResponse)
def person_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    person_id: Annotated[str, Path(max_length=64)],
) -> HTMLResponse:
    person = session.get(Person, person_id) if ID_PATTERN.fullmatch(person_id) else None
    if person is None:
        message = f"No person with id {person_id!r}."
        return render(request, "error.html", {"message": message}, user=user, status_code=404)
    findings = _findings(session, settings)
    by_day: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if findings is not None:
        report = findings["report"]
        for c in report["critical_faculty"]:
            if c["person_id"] == person_id:
                for e in c["exposures"]:
                    by_day[e["date"]].append({"kind": "N-1", "with": None, **e})
        for pair in report["fatal_pairs"]:
            if person_id in pair["person_ids"]:
                other = [n for i, n in zip(pair["person_ids"], pair["names"], strict=True)
                         if i != person_id]  # fmt: skip
                for e in pair["exposures"]:
                    by_day[e["date"]].append({"kind": "pair", "with": other[0], **e})
    context = {
        "person": person,
        "analysed": findings is not None,
        "days": sorted(by_day.items()),
        "page": "findings",
    }
    return render(request, "person.html", context, user=user)
