"""Stored health checks, contingency reports (every finding) and utilization forecasts,
with ETags."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from app.api.deps import SessionDep, Viewer
from app.api.etag import json_with_etag
from app.api.pagination import Page, PageDep
from app.core.errors import NotFound
from app.models.resilience import ContingencyReport, HealthCheckRecord, UtilizationForecast
from app.resilience.health.service import record_summary
from app.resilience.views import (
    contingency_report_json,
    contingency_summary,
    count_rows,
    forecast_summary,
    health_record_json,
    latest_contingency_report,
    latest_forecast,
    latest_health_record,
)

router = APIRouter(tags=["reports"])
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("/health-checks")
def list_health_checks(session: SessionDep, _: Viewer, page: PageDep) -> Page[dict[str, Any]]:
    """Health-check records, newest first (summaries)."""
    rows = session.scalars(
        select(HealthCheckRecord)
        .order_by(HealthCheckRecord.finished_at.desc(), HealthCheckRecord.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return Page(
        data=[record_summary(r) for r in rows], count=count_rows(session, HealthCheckRecord)
    )


@router.get("/health-checks/latest")
def latest_health_check(request: Request, session: SessionDep, _: Viewer) -> Response:
    """The newest health check with its full result (404 when none has run yet)."""
    record = latest_health_record(session)
    if record is None:
        raise NotFound("no health check has run yet")
    return json_with_etag(request, health_record_json(record))


@router.get("/health-checks/{record_id}")
def get_health_check(
    request: Request, session: SessionDep, _: Viewer, record_id: RowId
) -> Response:
    record = session.get(HealthCheckRecord, record_id)
    if record is None:
        raise NotFound(f"no health check with id {record_id}")
    return json_with_etag(request, health_record_json(record))


@router.get("/contingency-reports")
def list_contingency_reports(session: SessionDep, _: Viewer, page: PageDep) -> Page[dict[str, Any]]:
    """Contingency reports, newest first (summaries)."""
    rows = session.scalars(
        select(ContingencyReport)
        .order_by(ContingencyReport.created_at.desc(), ContingencyReport.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return Page(
        data=[contingency_summary(r) for r in rows], count=count_rows(session, ContingencyReport)
    )


@router.get("/contingency-reports/latest")
def latest_report(request: Request, session: SessionDep, _: Viewer) -> Response:
    """The newest contingency report with every finding (404 when none exists yet)."""
    row = latest_contingency_report(session)
    if row is None:
        raise NotFound("no contingency report yet")
    return json_with_etag(request, contingency_report_json(session, row))


@router.get("/contingency-reports/{report_id}")
def get_report(request: Request, session: SessionDep, _: Viewer, report_id: RowId) -> Response:
    row = session.get(ContingencyReport, report_id)
    if row is None:
        raise NotFound(f"no contingency report with id {report_id}")
    return json_with_etag(request, contingency_report_json(session, row))


@router.get("/forecasts")
def list_forecasts(session: SessionDep, _: Viewer, page: PageDep) -> Page[dict[str, Any]]:
    """Utilization forecasts, newest first (summaries)."""
    rows = session.scalars(
        select(UtilizationForecast)
        .order_by(UtilizationForecast.created_at.desc(), UtilizationForecast.id.desc())
        .offset(page.offset)
        .limit(page.limit)
    )
    return Page(
        data=[forecast_summary(r) for r in rows], count=count_rows(session, UtilizationForecast)
    )


@router.get("/forecasts/latest")
def latest_forecast_route(request: Request, session: SessionDep, _: Viewer) -> Response:
    """The newest forecast: every day's utilization and shortfall probability, the high-risk
    periods (404 when none has run yet)."""
    row = latest_forecast(session)
    if row is None:
        raise NotFound("no utilization forecast yet")
    return json_with_etag(request, {"summary": forecast_summary(row), "result": row.result})
