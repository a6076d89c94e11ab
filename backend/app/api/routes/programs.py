"""The program file: export it, import one (all or nothing). Coordinators and above: the
file holds absence types and reasons."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response

from app.api.deps import Coordinator, SessionDep
from app.core.db import get_engine
from app.core.errors import InputError, NotFound
from app.programs.document import dump_program, parse_program_text
from app.programs.service import export_program, import_program, refresh_after_import

router = APIRouter(prefix="/program", tags=["program"])

MAX_PROGRAM_BYTES = 64 * 1024 * 1024
"""Largest program file accepted (the 150-faculty, 52-week benchmark program is about 20 MB)."""


@router.get("", responses={200: {"content": {"application/json": {}}}})
def get_program(session: SessionDep, _: Coordinator) -> Response:
    """The program file (docs/program-format.md)."""
    document = export_program(session)
    if document is None:
        raise NotFound("no program has been imported yet")
    return Response(dump_program(document), media_type="application/json")


async def _request_body(request: Request) -> bytes:
    return await request.body()


@router.put(
    "",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
def put_program(
    raw: Annotated[bytes, Depends(_request_body)],
    session: SessionDep,
    user: Coordinator,
    background: BackgroundTasks,
) -> dict[str, Any]:
    """Replace the program's schedule data with the program file sent (JSON), or change
    nothing and list every problem (422)."""
    if len(raw) > MAX_PROGRAM_BYTES:
        raise InputError(f"the program file is larger than {MAX_PROGRAM_BYTES} bytes")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"the program file is not UTF-8 text: {exc}") from None
    document = parse_program_text(text, "request body")
    summary = import_program(session, document, source="api", actor=user.username)
    # Runs once the response is sent, after SessionDep has committed the import.
    background.add_task(refresh_after_import, get_engine(), summary)
    return {
        "changed": summary.changed,
        "counts": summary.counts,
        "notes": list(summary.notes),
    }
