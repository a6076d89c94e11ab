"""Stored fallback schedules: list (with staleness), one in full, and its changes as one
iCalendar file per person or as CSV (the same export as ``fallbacks export``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from sqlalchemy.orm import Session

from app.api.deps import SessionDep, SettingsDep, Viewer
from app.api.pagination import Page, PageDep
from app.core.config import Settings
from app.core.errors import NotFound
from app.models.base import utcnow
from app.programs.fields import ID_PATTERN
from app.resilience.fallbacks.export import fallback_calendars, fallback_csv
from app.resilience.fallbacks.service import (
    export_context,
    fallback_view,
    get_fallback,
    list_fallbacks,
)

router = APIRouter(prefix="/fallbacks", tags=["fallbacks"])
FallbackId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PersonId = Annotated[str, Path(pattern=f"^{ID_PATTERN.pattern}$")]


@router.get("")
def get_fallbacks(
    session: SessionDep, _: Viewer, page: PageDep, all: bool = False
) -> Page[dict[str, Any]]:
    """Stored fallbacks, newest first (the newest per scenario unless ``all``), each with
    whether it is stale (its schedule or absences changed since)."""
    rows = list_fallbacks(session, latest_only=not all).to_json()
    return Page(data=rows[page.offset : page.offset + page.limit], count=len(rows))


@router.get("/{fallback_id}")
def get_one(session: SessionDep, _: Viewer, fallback_id: FallbackId) -> dict[str, Any]:
    """One fallback: its summary (with staleness), its result, and whose calendars change."""
    view = fallback_view(session, fallback_id)
    people = changed_people(view["result"])
    return {**view, "calendars": [f"/api/v1/fallbacks/{fallback_id}/{p}.ics" for p in people]}


def csv_download(session: Session, settings: Settings, fallback_id: int) -> Response:
    """The change set of a fallback as a CSV download (the API's and the dashboard's)."""
    result = get_fallback(session, fallback_id).result
    _clock, names, _activities = export_context(session, settings)
    return Response(
        fallback_csv(result, names),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="fallback-{fallback_id}.csv"'},
    )


def calendar_download(
    session: Session, settings: Settings, fallback_id: int, person_id: str
) -> Response:
    """One person's changed half-days as an iCalendar download (404: no change for them)."""
    result = get_fallback(session, fallback_id).result
    clock, names, activities = export_context(session, settings)
    calendars = fallback_calendars(result, clock, names, activities, utcnow())
    if person_id not in calendars:
        raise NotFound(f"fallback {fallback_id} changes nothing for {person_id!r}")
    filename = f"fallback-{fallback_id}-{person_id}.ics"
    return Response(
        calendars[person_id],
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def changed_people(result: dict[str, Any]) -> list[str]:
    """Whose half-days a fallback changes (each has a calendar)."""
    return sorted({m["person_id"] for m in result["moves"]})


@router.get("/{fallback_id}/changes.csv", response_class=Response)
def get_csv(
    session: SessionDep, settings: SettingsDep, _: Viewer, fallback_id: FallbackId
) -> Response:
    """The change set as CSV, one row per changed half-day."""
    return csv_download(session, settings, fallback_id)


@router.get("/{fallback_id}/{person_id}.ics", response_class=Response)
def get_calendar(
    session: SessionDep,
    settings: SettingsDep,
    _: Viewer,
    fallback_id: FallbackId,
    person_id: PersonId,
) -> Response:
    """One person's changed half-days as an iCalendar file (404: no change for them)."""
    return calendar_download(session, settings, fallback_id, person_id)
