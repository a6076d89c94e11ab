"""Stored health checks, contingency reports (every finding) and utilization forecasts,
with ETags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.api.deps import SessionDep, SettingsDep, Viewer
from app.api.etag import json_with_etag
from app.api.pagination import Page, PageDep, PageParams
from app.core.errors import NotFound
from app.models.resilience import ContingencyReport, HealthCheckRecord, UtilizationForecast
from app.resilience.health.service import record_summary
from app.resilience.views import (
    contingency_report_json,
    contingency_summary,
    count_rows,
    daily_contingency_report,
    forecast_summary,
    health_record_json,
    latest_forecast,
    latest_health_record,
)

router = APIRouter(tags=["reports"])
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
S = TypeVar("S", HealthCheckRecord, ContingencyReport, UtilizationForecast)


def _newest_first(
    session: Session,
    page: PageParams,
    model: type[S],
    when: InstrumentedAttribute[datetime],
    summary: Callable[[S], dict[str, Any]],
) -> Page[dict[str, Any]]:
    """One page of ``model``'s rows, newest first, as summaries, with the total count."""
    rows = session.scalars(
        select(model).order_by(when.desc(), model.id.desc()).offset(page.offset).limit(page.limit)
    )
    return Page(data=[summary(r) for r in rows], count=count_rows(session, model))


@router.get("/health-checks")
def list_health_checks(session: SessionDep, _: Viewer, page: PageDep) -> Page[dict[str, Any]]:
    """Health-check records, newest first (summaries)."""
    return _newest_first(
        session, page, HealthCheckRecord, HealthCheckRecord.finished_at, record_summary
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
    return _newest_first(
        session, page, ContingencyReport, ContingencyReport.created_at, contingency_summary
    )


@router.get("/contingency-reports/latest")
def latest_report(
    request: Request, session: SessionDep, settings: SettingsDep, _: Viewer
) -> Response:
    """The daily contingency report, the one the health check reads, with every finding and
    ``current`` (False: the schedule has changed since it was made); 404 when there is none."""
    daily = daily_contingency_report(session, settings)
    if daily is None:
        raise NotFound("no daily contingency report with days to come yet")
    body = {**contingency_report_json(session, daily.row), "current": daily.current}
    return json_with_etag(request, body)


@router.get("/contingency-reports/{report_id}")
def get_report(request: Request, session: SessionDep, _: Viewer, report_id: RowId) -> Response:
    row = session.get(ContingencyReport, report_id)
    if row is None:
        raise NotFound(f"no contingency report with id {report_id}")
    return json_with_etag(request, contingency_report_json(session, row))


@router.get("/forecasts")
def list_forecasts(session: SessionDep, _: Viewer, page: PageDep) -> Page[dict[str, Any]]:
    """Utilization forecasts, newest first (summaries)."""
    return _newest_first(
        session, page, UtilizationForecast, UtilizationForecast.created_at, forecast_summary
    )


@router.get("/forecasts/latest")
def latest_forecast_route(request: Request, session: SessionDep, _: Viewer) -> Response:
    """The newest forecast: every day's utilization and shortfall probability, the high-risk
    periods (404 when none has run yet)."""
    row = latest_forecast(session)
    if row is None:
        raise NotFound("no utilization forecast yet")
    return json_with_etag(request, {"summary": forecast_summary(row), "result": row.result})
