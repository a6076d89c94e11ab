"""Leave entry: a coordinator fills the form, sees the what-if, then saves.

Saving stores the absence, runs the health check at once (so the overview and findings show
its effect) and queues a new contingency analysis for the workers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from app.api.deps import CeleryDep, SessionDep, SettingsDep
from app.core.db import session_scope
from app.core.errors import InputError, NoSchedule, NotFound, Problem, ValidationFailed
from app.domain.schedule import ABSENCE_TYPES, Half
from app.models.person import Person
from app.models.user import Role, User
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.fields import parse_date
from app.resilience.contingency.service import what_if_absence
from app.resilience.fallbacks.repair import propose_repair
from app.resilience.health.service import run_health_check
from app.resilience.reports import person_names
from app.web.deps import Csrf, PageUser, render, require_page_role

router = APIRouter(include_in_schema=False)

CONTINGENCY_TASK = "app.resilience.tasks.run_contingency_analysis"
LEAVE_MAX_DAYS = 366


@dataclass(frozen=True)
class LeaveForm:
    person_id: str
    start: str
    end: str
    half: str
    type: str
    reason: str

    def entry(self) -> AbsenceEntry:
        """The absence entered; bad dates and spans are located problems."""
        problems = []
        first, last = parse_date(self.start), parse_date(self.end)
        for name, text, value in (("start", self.start, first), ("end", self.end, last)):
            if value is None:
                problems.append(Problem(name, f"expected YYYY-MM-DD, found {text!r}"))
        if self.half not in ("", "AM", "PM"):
            problems.append(Problem("half", "expected AM, PM or both"))
        if first and last and (last - first) > timedelta(days=LEAVE_MAX_DAYS - 1):
            problems.append(Problem("end", f"at most {LEAVE_MAX_DAYS} days at a time"))
        if problems or first is None or last is None:
            raise ValidationFailed("leave", problems)
        return AbsenceEntry(
            person_id=self.person_id,
            start=first,
            end=last,
            type=self.type,
            half=Half(self.half) if self.half else None,
            reason=self.reason.strip() or None,
        )


def leave_form(
    person_id: Annotated[str, Form(max_length=64)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
    half: Annotated[str, Form(max_length=2)] = "",
    type: Annotated[str, Form(max_length=32)] = "vacation",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> LeaveForm:
    return LeaveForm(person_id, start, end, half, type, reason)


def _people(session: SessionDep) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.kind, Person.name)))


def _form_page(
    request: Request,
    session: SessionDep,
    user: User,
    form: LeaveForm | None,
    error: Exception | None,
) -> HTMLResponse:
    problems = error.problems if isinstance(error, ValidationFailed) else []
    context = {
        "people": _people(session),
        "types": list(ABSENCE_TYPES),
        "form": form,
        "error": None if error is None or problems else str(error),
        "problems": problems,
        "page": "leave",
    }
    status = 200 if error is None else 404 if isinstance(error, NotFound) else 422
    return render(request, "leave.html", context, user=user, status_code=status)


@router.get("/leave", response_class=HTMLResponse)
def leave_page(request: Request, session: SessionDep, user: PageUser) -> HTMLResponse:
    require_page_role(user, Role.COORDINATOR)
    return _form_page(request, session, user, None, None)


@router.post("/leave/preview", response_class=HTMLResponse, dependencies=[Csrf])
def leave_preview(
    request: Request,
    session: SessionDep,
    user: PageUser,
    settings: SettingsDep,
    form: Annotated[LeaveForm, Depends(leave_form)],
    repair: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    """The what-if of the leave entered and, asked for, the repair that would close its
    gaps; nothing is stored."""
    require_page_role(user, Role.COORDINATOR)
    try:
        entry = form.entry()
        if entry.type not in ABSENCE_TYPES:
            raise ValidationFailed("leave", [Problem("type", f"unknown type {entry.type!r}")])
        person_id, start, end, half = entry.person_id, entry.start, entry.end, entry.half
        impact, _ = what_if_absence(session, person_id=person_id, start=start, end=end, half=half)
        proposal = (
            propose_repair(session, settings, person_id=person_id, start=start, end=end, half=half)
            if repair
            else None
        )
    except (InputError, NotFound) as exc:
        return _form_page(request, session, user, form, exc)
    person = session.get(Person, entry.person_id)
    context: dict[str, Any] = {
        "form": form,
        "person": person,
        "impact": impact.to_json(),
        "changes_nothing": impact.changes_nothing,
        "repair": None if proposal is None else proposal.to_json(),
        "names": person_names(session),
        "page": "leave",
    }
    return render(request, "leave_preview.html", context, user=user)


@router.post("/leave/save", dependencies=[Csrf])
def leave_save(
    request: Request,
    session: SessionDep,
    user: PageUser,
    celery: CeleryDep,
    background: BackgroundTasks,
    form: Annotated[LeaveForm, Depends(leave_form)],
) -> Response:
    """Store the leave, run the health check now, queue a contingency analysis."""
    require_page_role(user, Role.COORDINATOR)
    try:
        entry = form.entry()
        with session_scope() as writer:
            add_absence(writer, entry, actor=user.username)
    except (InputError, NotFound) as exc:
        return _form_page(request, session, user, form, exc)
    try:
        with session_scope() as checker:
            run_health_check(checker)
    except NoSchedule:  # a program with no schedule yet: nothing to check
        pass
    background.add_task(celery.send_task, CONTINGENCY_TASK)
    return RedirectResponse(f"/findings?saved={entry.person_id}", status_code=303)
