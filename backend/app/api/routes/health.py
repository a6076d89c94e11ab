"""Liveness, readiness (open) and the resilience status (behind a token)."""

from __future__ import annotations

from typing import Any

from celery import Celery
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from app.api.deps import CeleryDep, SessionDep, Viewer
from app.resilience.views import resilience_status

router = APIRouter(tags=["health"])
BROKER_TIMEOUT_S = 3


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the API process answers."""
    return {"status": "ok"}


@router.get("/health/ready", responses={503: {"description": "database or broker unreachable"}})
def ready(session: SessionDep, celery: CeleryDep) -> JSONResponse:
    """Readiness: the database and the broker answer (status only, no detail)."""
    checks = {"database": _answers(lambda: session.execute(text("SELECT 1"))),
              "broker": _answers(lambda: _broker_answers(celery))}  # fmt: skip
    status = "ready" if all(checks.values()) else "unavailable"
    body = {"status": status, **{k: "ok" if v else "down" for k, v in checks.items()}}
    return JSONResponse(body, status_code=200 if status == "ready" else 503)


@router.get("/health/resilience")
def resilience(session: SessionDep, _: Viewer) -> dict[str, Any]:
    """Defense level with its reasons, utilization, N-1/N-2 and crisis state (latest check)."""
    return resilience_status(session)


def _broker_answers(celery: Celery) -> None:
    with celery.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_S)


def _answers(check: Any) -> bool:
    try:
        check()
    except Exception:  # any failure means "not ready"; the detail is not shown (open route)
        return False
    return True
