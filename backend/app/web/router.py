"""Every dashboard route, and the static files (``app/web/static``)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.staticfiles import StaticFiles

from app.web import leave, operations, pages, signin

STATIC_DIR = Path(__file__).parent / "static"

web_router = APIRouter(include_in_schema=False)
for module in (signin, pages, operations, leave):
    web_router.include_router(module.router)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)
