"""The ASGI application: ``uvicorn app.main:app``.

The API (``app.api``), the dashboard at ``/`` (``app.web``) and OpenAPI docs at ``/docs``.
Engine errors become HTTP responses in one place (``app.api.errors``).
"""

from __future__ import annotations

from fastapi import FastAPI

from app.api.errors import install_error_handlers
from app.api.main import api_router, root_router
from app.api.ratelimit import SignInLimiter
from app.core.celery_app import celery_app
from app.core.config import get_settings
from app.core.logging import configure_logging
from app.web.router import static_files, web_router
from app.web.session import SessionKeys, session_secret
from app.web.signin import install_page_handlers


def create_app() -> FastAPI:
    """A new application with the current settings."""
    settings = get_settings()
    configure_logging()
    app = FastAPI(
        title="Residency Scheduler resilience engine",
        version="0.1.0",
        description="Defense level, N-1/N-2 findings, absences and analyses of a residency"
        " program's schedule. Send an API token: `Authorization: Bearer <token>`.",
    )
    app.state.signin_limiter = SignInLimiter(settings.SIGNIN_MAX_FAILURES, settings.SIGNIN_WINDOW_S)
    app.state.celery = celery_app
    app.state.session_keys = SessionKeys(session_secret(settings), settings.SESSION_MAX_AGE_S)
    app.state.secure_cookies = settings.ENVIRONMENT == "production"
    app.state.chart_cache = {}
    install_error_handlers(app)
    install_page_handlers(app)
    app.include_router(root_router)
    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", static_files(), name="static")
    return app


app = create_app()
