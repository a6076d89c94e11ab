"""Crisis response (RESILIENCE_MODEL.md sections 5 and 8): activate, deactivate, status.

Activation is checked first and writes nothing when refused: an unknown severity or scenario,
an approver below program director, a crisis already active, a named scenario whose fallback is
missing or stale. Then, in the caller's transaction: a crisis event and its sacrifice decision
(who, when, why, level, activities suspended), the chosen fallback laid over the schedule
(``overlay.lay_over``), a notice to each affected person, an audit record and a critical alert.
The same request sent twice (same severity, reason, approver and scenario while that crisis is
active, or the same ``request_key``) activates once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import require_role
from app.core.config import Settings, get_settings
from app.core.errors import InputError, NotFound
from app.domain.shedding import SEVERITY_LEVELS, SheddingLevel
from app.models.activity import Activity as ActivityRow
from app.models.audit import record_audit
from app.models.base import iso_utc, utcnow
from app.models.crisis import CrisisEvent, SacrificeDecision
from app.models.fallback import FallbackSchedule
from app.models.user import Role, User
from app.notifications.service import AlertOutcome, raise_alert, resolve_alert
from app.resilience.clock import program_clock
from app.resilience.crisis.overlay import lay_over, lift, store_notices
from app.resilience.fallbacks.scenarios import SCENARIOS_BY_NAME, scenario_named
from app.resilience.fallbacks.service import stale_ids

CRISIS_ALERT_KEY = "crisis:active"
REASON_MAX_CHARS = 1000


@dataclass(frozen=True)
class CrisisOutcome:
    """The crisis in force after a call, and whether this call activated it."""

    crisis: CrisisEvent
    created: bool
    suspended: tuple[str, ...]
    notices: int
    alerts: tuple[AlertOutcome | None, ...] = ()
    """What the crisis alert did: send after the commit (``dispatch_alert_notifications``)."""


def _check_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise InputError("the reason is empty: say why")
    if len(reason) > REASON_MAX_CHARS or any(ord(c) < 32 and c not in "\t\n" for c in reason):
        raise InputError(f"the reason must be at most {REASON_MAX_CHARS} printable characters")
    return reason


def active_crisis(session: Session) -> CrisisEvent | None:
    return session.scalars(
        select(CrisisEvent).where(CrisisEvent.ended_at.is_(None)).order_by(CrisisEvent.id)
    ).first()


def _ready(session: Session, today: date) -> list[FallbackSchedule]:
    """Stored fallbacks covering ``today``, newest per scenario, not stale."""
    rows = session.scalars(
        select(FallbackSchedule)
        .where(FallbackSchedule.start <= today, FallbackSchedule.end >= today)
        .order_by(FallbackSchedule.created_at.desc(), FallbackSchedule.id.desc())
    ).all()
    newest: dict[str, FallbackSchedule] = {}
    for row in rows:
        newest.setdefault(row.scenario, row)
    stale = stale_ids(session, newest.values())
    return [r for r in newest.values() if r.id not in stale]


def _choose(
    session: Session, today: date, level: SheddingLevel, scenario: str | None
) -> tuple[FallbackSchedule | None, str]:
    """The fallback to lay over the schedule, and why (or why none)."""
    ready = _ready(session, today)
    if scenario is not None:
        chosen = next((r for r in ready if r.scenario == scenario), None)
        if chosen is None:
            raise InputError(
                f"no ready fallback for scenario {scenario!r} covering {today} (none stored, or"
                " stale since the schedule changed): run `residency-scheduler analyze fallbacks`"
            )
        return chosen, f"fallback {chosen.id} of the named scenario {scenario}"
    matching = [r for r in ready if SCENARIOS_BY_NAME[r.scenario].shedding is level]
    if not matching:
        return None, f"none: no ready fallback sheds at {level.value}; shedding only"
    best = min(matching, key=lambda r: (r.uncovered_slots, r.moves, r.scenario))
    return best, (
        f"fallback {best.id} ({best.scenario}): the ready one shedding at {level.value}"
        " with the fewest uncovered slots"
    )


def activate_crisis(
    session: Session,
    severity: str,
    reason: str,
    approver: User,
    scenario: str | None = None,
    *,
    request_key: str | None = None,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> CrisisOutcome:
    """Activate the crisis response (see the module docstring); the caller commits.

    Args:
        approver: the authenticated caller; program director or admin.
        request_key: identifies the request (a task id); default a digest of its words.
    """
    settings = settings or get_settings()
    now = now or utcnow()
    level = SEVERITY_LEVELS.get(severity)
    if level is None:
        raise InputError(f"unknown severity {severity!r}: one of {', '.join(SEVERITY_LEVELS)}")
    reason = _check_reason(reason)
    if scenario is not None:
        scenario_named(scenario)
    require_role(approver, Role.PROGRAM_DIRECTOR)
    words = json.dumps([severity, reason, approver.username, scenario])
    key = request_key or hashlib.sha256(words.encode()).hexdigest()
    current = active_crisis(session)
    if current is not None:
        if current.request_key == key:
            return CrisisOutcome(current, False, _suspended_of(session, current), 0)
        raise InputError(
            f"crisis {current.id} is already active (since {current.activated_at:%Y-%m-%d %H:%M}"
            f" UTC, {current.severity}): deactivate it first"
        )
    if (
        request_key is None
        and session.scalars(select(CrisisEvent.id).where(CrisisEvent.request_key == key)).first()
    ):
        key = hashlib.sha256(f"{words}{now.isoformat()}".encode()).hexdigest()
    today = program_clock(session, settings).today(now)
    fallback, choice = _choose(session, today, level, scenario)
    shed = level.shed_categories
    suspended = sorted(
        {a for a, c in session.execute(select(ActivityRow.id, ActivityRow.category)) if c in shed}
        | set(fallback.result["suspended_activities"] if fallback else ())
    )
    crisis = CrisisEvent(
        request_key=key,
        severity=severity,
        shedding_level=level.value,
        reason=reason,
        approved_by=approver.username,
        scenario=fallback.scenario if fallback else scenario,
        fallback_id=fallback.id if fallback else None,
        fallback_choice=choice,
        activated_at=now,
    )
    session.add(crisis)
    session.flush()
    session.add(
        SacrificeDecision(
            crisis_event_id=crisis.id,
            decided_at=now,
            decided_by=approver.username,
            level=level.value,
            reason=reason,
            suspended_activities={"activities": suspended, "categories": sorted(shed)},
        )
    )
    changes = lay_over(session, crisis, fallback.result, today) if fallback else {}
    notices = store_notices(session, crisis, "activated", changes)
    record_audit(
        session,
        "crisis.activate",
        approver.username,
        {"crisis_id": crisis.id, "severity": severity, "level": level.value, "choice": choice},
    )
    alert = raise_alert(
        session,
        "critical",
        f"Crisis response active ({severity}, shedding {level.value}): {choice}",
        {"dedup_key": CRISIS_ALERT_KEY, "crisis_id": crisis.id, "suspended": len(suspended)},
        now=now,
    )
    return CrisisOutcome(crisis, True, tuple(suspended), notices, (alert,))


def _suspended_of(session: Session, crisis: CrisisEvent) -> tuple[str, ...]:
    decision = session.scalars(
        select(SacrificeDecision).where(SacrificeDecision.crisis_event_id == crisis.id)
    ).first()
    return tuple(decision.suspended_activities["activities"]) if decision else ()


def deactivate_crisis(
    session: Session, reason: str, by: User, *, now: datetime | None = None
) -> CrisisOutcome:
    """End the active crisis: restore what its fallback replaced, end its sacrifice decisions,
    notify the affected people, resolve the alert. ``NotFound`` when none is active."""
    reason = _check_reason(reason)
    require_role(by, Role.PROGRAM_DIRECTOR)
    crisis = active_crisis(session)
    if crisis is None:
        raise NotFound("no crisis is active")
    now = now or utcnow()
    suspended = _suspended_of(session, crisis)
    restored = lift(session, crisis)
    for decision in session.scalars(
        select(SacrificeDecision).where(
            SacrificeDecision.crisis_event_id == crisis.id, SacrificeDecision.ended_at.is_(None)
        )
    ):
        decision.ended_at, decision.ended_by = now, by.username
    crisis.ended_at, crisis.ended_by, crisis.end_reason = now, by.username, reason
    notices = store_notices(session, crisis, "ended", restored)
    record_audit(session, "crisis.deactivate", by.username, {"crisis_id": crisis.id})
    resolved = resolve_alert(session, CRISIS_ALERT_KEY, now=now)
    session.flush()
    return CrisisOutcome(crisis, True, suspended, notices, (resolved,))


def crisis_status(session: Session) -> dict[str, Any]:
    """The crisis in force (or the last one), as JSON data."""
    crisis = (
        active_crisis(session)
        or session.scalars(select(CrisisEvent).order_by(CrisisEvent.id.desc())).first()
    )
    if crisis is None:
        return {"active": False, "crisis": None}
    return {"active": crisis.ended_at is None, "crisis": crisis_json(session, crisis)}


def crisis_json(session: Session, crisis: CrisisEvent) -> dict[str, Any]:
    return {
        "id": crisis.id,
        "severity": crisis.severity,
        "shedding_level": crisis.shedding_level,
        "reason": crisis.reason,
        "approved_by": crisis.approved_by,
        "scenario": crisis.scenario,
        "fallback_id": crisis.fallback_id,
        "fallback_choice": crisis.fallback_choice,
        "activated_at": iso_utc(crisis.activated_at),
        "ended_at": iso_utc(crisis.ended_at) if crisis.ended_at else None,
        "ended_by": crisis.ended_by,
        "end_reason": crisis.end_reason,
        "suspended_activities": list(_suspended_of(session, crisis)),
    }
