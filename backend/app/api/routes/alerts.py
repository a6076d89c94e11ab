"""Alerts with their deliveries, and acknowledging one (coordinator and above; the caller is
recorded as who acknowledged)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from app.api.deps import Coordinator, SessionDep, Viewer
from app.api.pagination import Page, PageDep
from app.notifications.listing import list_alerts
from app.notifications.service import acknowledge_alert

router = APIRouter(prefix="/alerts", tags=["alerts"])
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("")
def get_alerts(
    session: SessionDep, _: Viewer, page: PageDep, all: bool = False
) -> Page[dict[str, Any]]:
    """Open alerts (``all``: resolved ones too), newest first, with each delivery's status and
    attempts (a webhook shown by its host only)."""
    rows, count = list_alerts(session, include_resolved=all, offset=page.offset, limit=page.limit)
    return Page(data=rows, count=count)


@router.post("/{alert_id}/acknowledge")
def post_acknowledge(session: SessionDep, user: Coordinator, alert_id: AlertId) -> dict[str, Any]:
    """Acknowledge an alert: it stops repeating until its level rises."""
    alert = acknowledge_alert(session, alert_id, user.username)
    return {"id": alert.id, "status": alert.status, "acknowledged_by": alert.acknowledged_by}
