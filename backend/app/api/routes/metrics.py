"""Prometheus exposition of the API process; with METRICS_TOKEN set, a scrape needs it."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from app.api.deps import SettingsDep
from app.core.errors import NotAuthenticated
from app.resilience.crisis.metrics import CrisisStateCollector

router = APIRouter(tags=["metrics"])

_crisis_registry = CollectorRegistry(auto_describe=True)
_crisis_registry.register(CrisisStateCollector())


@router.get("/metrics", response_class=Response)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """The API's metrics (the worker's are on its own METRICS_PORT), with the crisis state
    read from the database at each scrape, as the worker's are."""
    wanted = settings.METRICS_TOKEN
    if wanted:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {wanted}".encode()):
            raise NotAuthenticated(
                "this needs the scrape token: `Authorization: Bearer <METRICS_TOKEN>`"
            )
    text = generate_latest(REGISTRY) + generate_latest(_crisis_registry)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
