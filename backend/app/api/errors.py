"""Engine errors as HTTP responses, mapped once from ``app.core.errors.HTTP_STATUS``.

A body is ``{"detail": message, "problems": [{"where", "reason"}, ...]}``: the same located
problems the command line prints for bad input (``Problem``), here also for a request whose
parameters or body do not fit the schema. A refused request writes nothing: the session
dependency rolls its transaction back before the handler answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError

from app.core.config import get_settings
from app.core.errors import (
    HTTP_STATUS,
    NotAuthenticated,
    Problem,
    SchedulerError,
    ValidationFailed,
    translate_error,
)

LIBRARY_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    psycopg.Error,
    KombuOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
)


def http_status_for(error: SchedulerError) -> int:
    """The HTTP status of ``error``: its nearest class in ``HTTP_STATUS``."""
    for cls in type(error).__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def problem_response(
    status: int,
    detail: str,
    problems: Sequence[Problem] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "detail": detail,
        "problems": [{"where": p.where, "reason": p.reason} for p in problems],
    }
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(error: SchedulerError) -> JSONResponse:
    """The response for an engine error (401 says which scheme: Bearer)."""
    status = http_status_for(error)
    problems: list[Problem] = []
    detail = str(error)
    if isinstance(error, ValidationFailed):
        problems = error.problems
        detail = f"{error.source}: {len(problems)} problem(s); nothing was changed"
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, NotAuthenticated) else None
    if status == 503:
        headers = {"Retry-After": "30"}
    return problem_response(status, detail, problems, headers)


def request_problems(error: RequestValidationError) -> list[Problem]:
    """Each schema error of a request as a located problem, e.g. ``query.limit``."""
    out = []
    for item in error.errors():
        where = ".".join(str(part) for part in item.get("loc", ()))
        out.append(Problem(where or "request", str(item.get("msg", "invalid"))))
    return out


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers: engine errors, errors from below, and schema errors."""

    async def on_engine_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, SchedulerError)
        return error_response(exc)

    async def on_request_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(422, "bad request; nothing was changed", request_problems(exc))

    async def on_other_error(_: Request, exc: Exception) -> Any:
        error = translate_error(exc, database_url=get_settings().database_url)
        if error is None:
            raise exc  # a bug: Starlette answers 500 and logs the traceback
        return error_response(error)

    app.add_exception_handler(SchedulerError, on_engine_error)
    app.add_exception_handler(RequestValidationError, on_request_error)
    # The errors from below that translate_error knows; any other exception is a bug (500,
    # logged with its traceback).
    for library_error in LIBRARY_ERRORS:
        app.add_exception_handler(library_error, on_other_error)
