"""Prometheus exposition of the API process; with METRICS_TOKEN set, a scrape needs it."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from app.api.deps import SettingsDep
from app.core.errors import NotAuthenticated

router = APIRouter(tags=["metrics"])


@router.get("/metrics", response_class=Response)
def metrics(request: Request, settings: SettingsDep) -> Response:
    """The API's metrics (the worker's are on its own METRICS_PORT)."""
    wanted = settings.METRICS_TOKEN
    if wanted:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {wanted}".encode()):
            raise NotAuthenticated(
                "this needs the scrape token: `Authorization: Bearer <METRICS_TOKEN>`"
            )
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
