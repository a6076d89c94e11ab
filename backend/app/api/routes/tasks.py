"""Start an analysis on the workers now, and follow it: the task's id, state and result."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from celery.result import AsyncResult
from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from app.api.deps import CeleryDep, Coordinator, Viewer
from app.core.config import CONTINGENCY_MAX_DAYS

router = APIRouter(prefix="/tasks", tags=["tasks"])

HEALTH_CHECK = "app.resilience.tasks.periodic_health_check"
CONTINGENCY = "app.resilience.tasks.run_contingency_analysis"
TASK_ID_REGEX = r"^[A-Za-z0-9_.\-]{1,64}$"


class ContingencyIn(BaseModel):
    days_ahead: Annotated[int, Field(ge=1, le=CONTINGENCY_MAX_DAYS)] | None = None
    """Days to analyse (None: CONTINGENCY_DAYS)."""
    start: date | None = None
    """First day (None: today on the program's clock)."""


class TaskSent(BaseModel):
    task_id: str
    name: str
    status_url: str


def _sent(name: str, task_id: str) -> TaskSent:
    return TaskSent(task_id=task_id, name=name, status_url=f"/api/v1/tasks/{task_id}")


@router.post("/health-check", status_code=202)
def start_health_check(_: Coordinator, celery: CeleryDep) -> TaskSent:
    """Queue a health check now (the worker stores its record like a scheduled one)."""
    result = celery.send_task(HEALTH_CHECK)
    return _sent(HEALTH_CHECK, result.id)


@router.post("/contingency-analysis", status_code=202)
def start_contingency_analysis(body: ContingencyIn, _: Coordinator, celery: CeleryDep) -> TaskSent:
    """Queue an N-1/N-2 contingency analysis (split into a chord over the workers)."""
    kwargs = {
        "days_ahead": body.days_ahead,
        "start": body.start.isoformat() if body.start else None,
    }
    result = celery.send_task(CONTINGENCY, kwargs=kwargs)
    return _sent(CONTINGENCY, result.id)


@router.get("/{task_id}")
def task_status(
    _: Viewer, celery: CeleryDep, task_id: Annotated[str, Path(pattern=TASK_ID_REGEX)]
) -> dict[str, Any]:
    """The state of a task (PENDING also for an id the result store does not know), its
    progress while it runs, and its result once done (a failure names the error type only)."""
    result = AsyncResult(task_id, app=celery)
    state = result.state
    body: dict[str, Any] = {"task_id": task_id, "state": state, "progress": None, "result": None}
    if state == "SUCCESS":
        body["result"] = result.result
    elif state in ("FAILURE", "RETRY", "REVOKED"):
        body["error"] = type(result.result).__name__ if result.result is not None else state
    elif isinstance(result.info, dict):
        body["progress"] = result.info
    return body
