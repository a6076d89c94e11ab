"""Laying a fallback over the schedule and lifting it again; the notices to affected people.

A fallback's moves are written into the assignment table (so every analysis, which reads the
schedule through ``load_snapshot``, reads the schedule in effect), each with what it replaced
in ``crisis_assignment_change``; lifting it puts those back. Only half-days from ``today`` on
are changed: the past stays as it was lived.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.crisis import CrisisAssignmentChange, CrisisEvent, CrisisNotice
from app.models.person import Person as PersonRow
from app.models.schedule import Assignment as AssignmentRow
from app.resilience.fallbacks.compute import moves_from
from app.scheduling.explain import Move

ChangesByPerson = dict[str, list[dict[str, Any]]]


def lay_over(
    session: Session, crisis: CrisisEvent, result: dict[str, Any], today: date
) -> ChangesByPerson:
    """Write the fallback's moves from ``today`` on; return each person's changed half-days."""
    known = set(session.scalars(select(PersonRow.id)))
    changed: ChangesByPerson = defaultdict(list)
    for move in moves_from(result):
        day, half = move.halfday.date, move.halfday.half.value
        if day < today or move.person_id not in known:
            continue
        previous, role = write_move(session, move)
        session.add(
            CrisisAssignmentChange(
                crisis_event_id=crisis.id,
                person_id=move.person_id,
                date=day,
                half=half,
                activity_id=move.activity_id,
                previous_activity_id=previous,
                previous_role=role,
            )
        )
        changed[move.person_id].append(
            {
                "date": day.isoformat(),
                "half": half,
                "activity_id": move.activity_id,
                "previous": previous,
            }
        )
    for d in result["displaced_residents"]:
        if date.fromisoformat(d["date"]) >= today and d["person_id"] in known:
            changed[d["person_id"]].append({**d, "suspended": True})
    session.flush()
    return dict(changed)


def write_move(session: Session, move: Move) -> tuple[str | None, str | None]:
    """Put ``move`` into the assignment table; return the activity and role it replaced."""
    day, half = move.halfday.date, move.halfday.half.value
    row = session.scalars(
        select(AssignmentRow).where(
            AssignmentRow.person_id == move.person_id,
            AssignmentRow.date == day,
            AssignmentRow.half == half,
        )
    ).one_or_none()
    if row is None:
        session.add(
            AssignmentRow(
                person_id=move.person_id,
                date=day,
                half=half,
                activity_id=move.activity_id,
                role="primary",
            )
        )
        return None, None
    previous = (row.activity_id, row.role)
    row.activity_id, row.role = move.activity_id, "primary"
    return previous


def lift(session: Session, crisis: CrisisEvent) -> ChangesByPerson:
    """Put back what the crisis's fallback replaced (where it is still in place)."""
    changes = session.scalars(
        select(CrisisAssignmentChange)
        .where(CrisisAssignmentChange.crisis_event_id == crisis.id)
        .order_by(CrisisAssignmentChange.id)
    ).all()
    restored: ChangesByPerson = defaultdict(list)
    for change in changes:
        row = session.scalars(
            select(AssignmentRow).where(
                AssignmentRow.person_id == change.person_id,
                AssignmentRow.date == change.date,
                AssignmentRow.half == change.half,
            )
        ).one_or_none()
        if row is None or row.activity_id != change.activity_id:
            continue  # changed since (a new import, an edit): theirs stands
        if change.previous_activity_id is None:
            session.delete(row)
        else:
            row.activity_id = change.previous_activity_id
            row.role = change.previous_role or "primary"
        restored[change.person_id].append(
            {
                "date": change.date.isoformat(),
                "half": change.half,
                "activity_id": change.previous_activity_id,
                "previous": change.activity_id,
            }
        )
    session.flush()
    return dict(restored)


def store_notices(
    session: Session, crisis: CrisisEvent, kind: str, changes: ChangesByPerson
) -> int:
    """One notice per affected person, listing their changed half-days; how many."""
    for person_id, items in sorted(changes.items()):
        lines = [
            f"{c['date']} {c['half']}: "
            + (
                f"{c['activity_id']} is suspended"
                if c.get("suspended")
                else f"{c['activity_id'] or 'no assignment'} (was {c['previous'] or 'none'})"
            )
            for c in items
        ]
        title = "Crisis response" if kind == "activated" else "Crisis response ended"
        message = f"{title}: your changed half-days\n" + "\n".join(lines)
        session.add(
            CrisisNotice(
                crisis_event_id=crisis.id,
                person_id=person_id,
                kind=kind,
                message=message[:4000],
                half_days={"changes": items},
            )
        )
    session.flush()
    return len(changes)
