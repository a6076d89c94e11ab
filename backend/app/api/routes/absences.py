"""Absences: list, add, remove, and the what-if of a proposed one.

Absence types and reasons are private (RESILIENCE_MODEL.md section 8): only coordinators and
above see them; a viewer sees who is away when.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field

from app.api.deps import Coordinator, SessionDep, SettingsDep, Viewer
from app.api.pagination import Page, PageDep
from app.auth.service import require_role
from app.core.errors import InputError
from app.domain.schedule import Half
from app.models.schedule import Absence
from app.models.user import Role, User
from app.programs.absences import AbsenceEntry, add_absence, list_absences, remove_absence
from app.programs.fields import ID_PATTERN
from app.resilience.contingency.service import what_if_absence
from app.resilience.fallbacks.repair import propose_repair

router = APIRouter(prefix="/absences", tags=["absences"])

WHAT_IF_MAX_DAYS = 366
ID_REGEX = f"^{ID_PATTERN.pattern}$"
"""Ids of people and absences."""
PersonId = Annotated[str, Field(pattern=ID_REGEX)]


class AbsenceIn(BaseModel):
    person_id: PersonId
    start: date
    end: date
    type: Annotated[str, Field(min_length=1, max_length=32)]
    half: Literal["AM", "PM"] | None = None
    blocking: bool | None = None
    """None: the type's default."""
    reason: Annotated[str, Field(max_length=1000)] | None = None


class WhatIfIn(BaseModel):
    person_id: PersonId
    start: date
    end: date
    half: Literal["AM", "PM"] | None = None
    repair: bool = False
    """Also propose the fewest assignment changes that close its gaps (coordinator+)."""


def absence_json(row: Absence, user: User) -> dict[str, Any]:
    """An absence as ``user`` may see it: type and reason for coordinators and above only."""
    shown: dict[str, Any] = {
        "id": row.id,
        "person_id": row.person_id,
        "start": row.start.isoformat(),
        "end": row.end.isoformat(),
        "half": row.half,
    }
    if Role(user.role).at_least(Role.COORDINATOR):
        shown |= {"type": row.type, "blocking": row.blocking, "reason": row.reason}
    return shown


@router.get("")
def get_absences(
    session: SessionDep,
    user: Viewer,
    page: PageDep,
    person_id: Annotated[str | None, Query(pattern=ID_REGEX)] = None,
    start: date | None = None,
    end: date | None = None,
) -> Page[dict[str, Any]]:
    """Absences overlapping ``start``..``end`` (both optional), by start."""
    rows = list_absences(session, person_id=person_id, start=start, end=end)
    shown = rows[page.offset : page.offset + page.limit]
    return Page(data=[absence_json(r, user) for r in shown], count=len(rows))


@router.post("", status_code=201)
def post_absence(
    body: AbsenceIn, session: SessionDep, user: Coordinator, response: Response
) -> dict[str, Any]:
    """Add an absence; the same person, days, half and type again adds nothing (200)."""
    entry = AbsenceEntry(
        person_id=body.person_id,
        start=body.start,
        end=body.end,
        type=body.type.lower(),
        half=Half(body.half) if body.half else None,
        blocking=body.blocking,
        reason=body.reason or None,
    )
    added = add_absence(session, entry, actor=user.username)
    if not added.created:
        response.status_code = 200
    return {"created": added.created, "absence": absence_json(added.row, user)}


@router.delete("/{absence_id}", status_code=204)
def delete_absence(
    session: SessionDep,
    user: Coordinator,
    absence_id: Annotated[str, Path(pattern=ID_REGEX)],
) -> Response:
    remove_absence(session, absence_id, actor=user.username)
    return Response(status_code=204)


@router.post("/what-if")
def what_if(
    body: WhatIfIn, session: SessionDep, settings: SettingsDep, user: Viewer
) -> dict[str, Any]:
    """The gaps and N-1/N-2 findings the proposed absence would add or remove (nothing is
    stored); with ``repair`` (coordinator and above), also how to fix it: the proposal to
    apply with the absence (``absences add ... --apply-repair``)."""
    if body.repair:
        require_role(user, Role.COORDINATOR)
    if body.end - body.start > timedelta(days=WHAT_IF_MAX_DAYS - 1):
        raise InputError(f"end: at most {WHAT_IF_MAX_DAYS} days at a time")
    half = Half(body.half) if body.half else None
    impact, _after = what_if_absence(
        session, person_id=body.person_id, start=body.start, end=body.end, half=half
    )
    shown = {"changes_nothing": impact.changes_nothing, **impact.to_json()}
    if body.repair:
        proposal = propose_repair(
            session, settings, person_id=body.person_id, start=body.start, end=body.end, half=half
        )
        shown["repair"] = proposal.to_json()
    return shown
