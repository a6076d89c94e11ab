"""Every router of the API: open health routes and metrics at the root, resources under
``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes import (
    absences,
    alerts,
    crisis,
    fallbacks,
    health,
    metrics,
    programs,
    reports,
    tasks,
)

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
for module in (reports, absences, fallbacks, alerts, crisis, programs, tasks):
    api_router.include_router(module.router)

root_router = APIRouter()
root_router.include_router(health.router)
root_router.include_router(metrics.router)
