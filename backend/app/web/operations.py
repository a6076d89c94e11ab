"""The dashboard's operations pages: fallback readiness with downloads, alerts with their
deliveries and acknowledgement, and the crisis state with its controls (shown only to those
allowed; every form checked for CSRF and the role again on submission)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.deps import SessionDep, SettingsDep
from app.api.routes.crisis import change_crisis
from app.api.routes.fallbacks import calendar_download, changed_people, csv_download
from app.core.errors import InputError, NotFound, PermissionDenied
from app.domain.shedding import SEVERITY_LEVELS
from app.models.user import Role, User
from app.notifications.listing import list_alerts
from app.notifications.service import acknowledge_alert
from app.programs.fields import ID_PATTERN
from app.resilience.crisis.service import crisis_status
from app.resilience.fallbacks.scenarios import SCENARIOS
from app.resilience.fallbacks.service import list_fallbacks
from app.resilience.reports import person_names
from app.web.deps import Csrf, PageUser, render, require_page_role

router = APIRouter(include_in_schema=False)

SHOWN_ALERTS = 50
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
PersonId = Annotated[str, Path(pattern=f"^{ID_PATTERN.pattern}$")]


@router.get("/fallbacks", response_class=HTMLResponse)
def fallbacks_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    """Each scenario's newest stored fallback: ready, stale or missing, with downloads."""
    listing = list_fallbacks(session, latest_only=True)
    by_scenario = {row.scenario: row for row in listing.rows}
    names = person_names(session)
    scenarios = []
    for scenario in SCENARIOS:
        row = by_scenario.get(scenario.name)
        state = "missing" if row is None else "stale" if row.id in listing.stale else "ready"
        people = [] if row is None else changed_people(row.result)
        scenarios.append(
            {
                "name": scenario.name,
                "title": scenario.title,
                "state": state,
                "row": row,
                "people": [(p, names.get(p, p)) for p in people],
            }
        )
    return render(
        request, "fallbacks.html", {"scenarios": scenarios, "page": "fallbacks"}, user=user
    )


@router.get("/fallbacks/{fallback_id}/changes.csv")
def fallback_csv_page(
    session: SessionDep, settings: SettingsDep, _: PageUser, fallback_id: RowId
) -> Response:
    return csv_download(session, settings, fallback_id)


@router.get("/fallbacks/{fallback_id}/{person_id}.ics")
def fallback_calendar_page(
    session: SessionDep,
    settings: SettingsDep,
    _: PageUser,
    fallback_id: RowId,
    person_id: PersonId,
) -> Response:
    return calendar_download(session, settings, fallback_id, person_id)


def _alerts_page(
    request: Request, session: SessionDep, user: User, error: str | None = None
) -> HTMLResponse:
    alerts, _count = list_alerts(session, include_resolved=True, limit=SHOWN_ALERTS)
    context = {"alerts": alerts, "error": error, "page": "alerts"}
    return render(request, "alerts.html", context, user=user, status_code=422 if error else 200)


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return _alerts_page(request, session, user)


@router.post("/alerts/{alert_id}/acknowledge", dependencies=[Csrf])
def acknowledge_page(
    request: Request, session: SessionDep, user: PageUser, alert_id: RowId
) -> Response:
    """Acknowledge an alert as the signed-in coordinator (or above)."""
    require_page_role(user, Role.COORDINATOR)
    try:
        acknowledge_alert(session, alert_id, user.username)
    except (InputError, NotFound) as exc:
        return _alerts_page(request, session, user, str(exc))
    return RedirectResponse("/alerts", status_code=303)


def _crisis_page(
    request: Request, session: SessionDep, user: User, error: str | None = None
) -> HTMLResponse:
    context: dict[str, Any] = {
        "crisis": crisis_status(session),
        "may_control": Role(user.role).at_least(Role.PROGRAM_DIRECTOR),
        "severities": list(SEVERITY_LEVELS),
        "scenarios": SCENARIOS,
        "error": error,
        "page": "crisis",
    }
    return render(request, "crisis.html", context, user=user, status_code=422 if error else 200)


@router.get("/crisis", response_class=HTMLResponse)
def crisis_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    return _crisis_page(request, session, user)


@router.post("/crisis/activate", dependencies=[Csrf])
def crisis_activate_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    severity: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    scenario: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Activate the crisis response, approved by the signed-in program director or admin."""
    require_page_role(user, Role.PROGRAM_DIRECTOR)
    try:
        change_crisis(user, reason, severity=severity, scenario=scenario or None)
    except (InputError, NotFound, PermissionDenied) as exc:
        return _crisis_page(request, session, user, str(exc))
    return RedirectResponse("/crisis", status_code=303)


@router.post("/crisis/deactivate", dependencies=[Csrf])
def crisis_deactivate_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """End the active crisis as the signed-in program director or admin."""
    require_page_role(user, Role.PROGRAM_DIRECTOR)
    try:
        change_crisis(user, reason)
    except (InputError, NotFound, PermissionDenied) as exc:
        return _crisis_page(request, session, user, str(exc))
    return RedirectResponse("/crisis", status_code=303)
