"""The crisis response: status (viewer), activate and deactivate (program director or admin).

The approver recorded is the caller (a body naming anyone is refused); each change commits in
its own transaction, then its alert deliveries are sent, as ``crisis activate|deactivate`` do.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import Director, SessionDep, Viewer
from app.core.db import session_scope
from app.models.user import User
from app.notifications.dispatch import dispatch_alert_notifications
from app.resilience.crisis.service import (
    REASON_MAX_CHARS,
    CrisisOutcome,
    activate_crisis,
    crisis_json,
    crisis_status,
    deactivate_crisis,
)

router = APIRouter(prefix="/crisis", tags=["crisis"])
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX_CHARS)]


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    severity: Annotated[str, Field(min_length=1, max_length=32)]
    reason: Reason
    scenario: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class DeactivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


@router.get("")
def get_crisis(session: SessionDep, _: Viewer) -> dict[str, Any]:
    """The crisis in force, or the last one (``{"active": false, "crisis": null}``: none)."""
    return crisis_status(session)


def change_crisis(
    user: User, reason: str, *, severity: str | None = None, scenario: str | None = None
) -> dict[str, Any]:
    """Activate (``severity`` given) or deactivate, approved by ``user``; commit, then send
    the alert's deliveries (the API's and the dashboard's)."""
    with session_scope() as session:
        outcome: CrisisOutcome
        if severity is not None:
            outcome = activate_crisis(session, severity, reason, user, scenario)
        else:
            outcome = deactivate_crisis(session, reason, user)
        view = {**crisis_json(session, outcome.crisis), "changed": outcome.created}
        view["notices"] = outcome.notices
    dispatch_alert_notifications(outcome.alerts)
    return view


@router.post("/activate")
def post_activate(body: ActivateIn, user: Director) -> dict[str, Any]:
    """Activate the crisis response, approved by the caller; the same request again while it
    is active activates once (``"changed": false``)."""
    return change_crisis(user, body.reason, severity=body.severity, scenario=body.scenario)


@router.post("/deactivate")
def post_deactivate(body: DeactivateIn, user: Director) -> dict[str, Any]:
    """End the active crisis (404 when none is active)."""
    return change_crisis(user, body.reason)
