"""Storing alerts: the one ``raise_alert`` / ``resolve_alert`` service every analysis calls.

An alert is identified by its dedup key while open (active or acknowledged). Raising a key
that is open updates it instead of adding a row. Whether a raise should *notify* follows
RESILIENCE_MODEL.md section 8: when the key is new, when its level rises above the level last
notified, when the cooldown has passed while it is still active (an acknowledged alert repeats
only when its level rises, which makes it active again), and once when it resolves.

A raise or resolution that notifies plans its deliveries in the same transaction
(``app.notifications.routing``); the caller sends them after its commit with
``app.notifications.dispatch.dispatch_alert_notifications(outcomes)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.core.errors import InputError, NotFound
from app.models.alert import Alert, AlertLevel, AlertStatus
from app.models.base import utcnow
from app.models.delivery import NoticeEvent
from app.notifications.routing import plan_deliveries

_OPEN = (AlertStatus.ACTIVE.value, AlertStatus.ACKNOWLEDGED.value)


@dataclass(frozen=True)
class AlertOutcome:
    """What ``raise_alert`` or ``resolve_alert`` did: the alert, whether it notifies now, and
    the deliveries to send once the caller's transaction has committed."""

    alert_id: int
    created: bool
    should_notify: bool
    delivery_ids: tuple[int, ...] = ()


def alert_cooldown(settings: Settings | None = None) -> timedelta:
    """The alert cooldown of ``settings`` (default: the process settings)."""
    return timedelta(hours=(settings or get_settings()).ALERT_COOLDOWN_HOURS)


def dedup_key_for(message: str, details: dict[str, Any] | None) -> str:
    """The key in ``details['dedup_key']``, else one derived from the message."""
    if details and isinstance(details.get("dedup_key"), str) and details["dedup_key"]:
        return str(details["dedup_key"])[:200]
    return "msg:" + hashlib.sha256(message.encode()).hexdigest()[:32]


def raise_alert(
    session: Session,
    level: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
    cooldown: timedelta | None = None,
    settings: Settings | None = None,
) -> AlertOutcome:
    """Store an alert (or refresh the open one with the same dedup key).

    Args:
        session: the caller's session; the caller commits.
        level: ``info``, ``warning``, ``critical`` or ``emergency``.
        message: one line a person reads.
        details: JSON-ready details; ``dedup_key`` in it names the finding.
        now: the current time (tests pass one).
        cooldown: how long an unchanged active alert stays quiet; callers pass
            ``alert_cooldown(settings)``. None reads the setting ``ALERT_COOLDOWN_HOURS``.
        settings: where notifications go (default: the process settings).
    """
    settings = settings or get_settings()
    details = dict(details or {})
    key = dedup_key_for(message, details)
    alert = session.scalars(
        select(Alert).where(Alert.dedup_key == key, Alert.status.in_(_OPEN)).limit(1)
    ).first()
    outcome, _ = _raise_found(
        session, alert, key, level, message, details, now or utcnow(), cooldown, settings
    )
    return outcome


@dataclass(frozen=True)
class AlertSpec:
    """One alert to raise with ``raise_alerts``: as ``raise_alert``'s arguments."""

    level: str
    message: str
    details: dict[str, Any]


def raise_alerts(
    session: Session,
    specs: Sequence[AlertSpec],
    *,
    now: datetime | None = None,
    cooldown: timedelta | None = None,
    settings: Settings | None = None,
) -> list[AlertOutcome]:
    """``raise_alert`` for each of ``specs``, in order, with one query for the open alerts
    of all their keys (an analysis raises hundreds at a time: one per critical person)."""
    settings = settings or get_settings()
    now = now or utcnow()
    keyed = [(spec, dedup_key_for(spec.message, spec.details)) for spec in specs]
    open_alerts: dict[str, Alert] = {}
    keys = sorted({key for _, key in keyed})
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        query = select(Alert).where(
            Alert.dedup_key.in_(keys[i : i + _KEYS_PER_QUERY]), Alert.status.in_(_OPEN)
        )
        for alert in session.scalars(query):
            open_alerts.setdefault(alert.dedup_key, alert)
    outcomes = []
    for spec, key in keyed:
        outcome, alert = _raise_found(
            session, open_alerts.get(key), key, spec.level, spec.message, dict(spec.details),
            now, cooldown, settings,
        )  # fmt: skip
        open_alerts[key] = alert  # a second spec with this key refreshes this one
        outcomes.append(outcome)
    return outcomes


_KEYS_PER_QUERY = 500
"""Keys per ``IN`` list (SQLite allows a few thousand bound values per statement)."""


def _raise_found(
    session: Session,
    alert: Alert | None,
    key: str,
    level: str,
    message: str,
    details: dict[str, Any],
    now: datetime,
    cooldown: timedelta | None,
    settings: Settings,
) -> tuple[AlertOutcome, Alert]:
    """Raise ``key``, whose open alert (None: none is open) the caller has looked up."""
    if cooldown is None:
        cooldown = alert_cooldown(settings)
    lvl = AlertLevel(level)
    details["dedup_key"] = key
    if alert is None:
        alert = Alert(
            level=lvl.value,
            message=message,
            details=details,
            dedup_key=key,
            status=AlertStatus.ACTIVE.value,
            created_at=now,
            updated_at=now,
            last_notified_at=now,
            notified_level=lvl.value,
        )
        session.add(alert)
        session.flush()
        planned = plan_deliveries(session, alert, NoticeEvent.RAISED, lvl.value, settings)
        return AlertOutcome(alert.id, True, True, planned), alert

    rose = lvl.rank > AlertLevel(alert.notified_level or alert.level).rank
    last = alert.last_notified_at
    cooled = alert.status == AlertStatus.ACTIVE.value and (last is None or now - last >= cooldown)
    alert.level = lvl.value
    alert.message = message
    alert.details = details
    alert.updated_at = now
    alert.occurrences += 1
    notify = rose or cooled
    if rose:
        alert.status = AlertStatus.ACTIVE.value  # a rise re-opens an acknowledged alert
    if not notify:
        return AlertOutcome(alert.id, created=False, should_notify=False), alert
    alert.last_notified_at = now
    alert.notified_level = lvl.value
    session.flush()
    planned = plan_deliveries(session, alert, NoticeEvent.RAISED, lvl.value, settings)
    return AlertOutcome(alert.id, False, True, planned), alert


def resolve_alert(
    session: Session,
    dedup_key: str,
    *,
    now: datetime | None = None,
    settings: Settings | None = None,
) -> AlertOutcome | None:
    """Mark the open alert with ``dedup_key`` resolved and notify once; None if none is open."""
    alert = session.scalars(
        select(Alert).where(Alert.dedup_key == dedup_key, Alert.status.in_(_OPEN)).limit(1)
    ).first()
    if alert is None:
        return None
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now or utcnow()
    alert.updated_at = alert.resolved_at
    session.flush()
    # The resolution goes where the last notice went.
    level = alert.notified_level or alert.level
    planned = plan_deliveries(
        session, alert, NoticeEvent.RESOLVED, level, settings or get_settings()
    )
    return AlertOutcome(alert.id, created=False, should_notify=True, delivery_ids=planned)


def acknowledge_alert(
    session: Session, alert_id: int, by: str, *, now: datetime | None = None
) -> Alert:
    """Acknowledge an open alert: no repeats until its level rises (section 8).

    Records who (``by``) and when (``now``, default the current time).

    Raises:
        NotFound: no alert has this id.
        InputError: the alert is resolved, or ``by`` is empty.
    """
    by = by.strip()
    if not by or len(by) > 100:
        raise InputError("acknowledged by: give a name of 1-100 characters")
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise NotFound(f"no alert with id {alert_id}")
    if alert.status == AlertStatus.RESOLVED.value:
        raise InputError(f"alert {alert_id} is resolved: nothing to acknowledge")
    alert.status = AlertStatus.ACKNOWLEDGED.value
    alert.acknowledged_by = by
    alert.acknowledged_at = alert.updated_at = now or utcnow()
    return alert


def open_alert_keys(session: Session, prefix: str) -> set[str]:
    """Dedup keys of open alerts starting with ``prefix`` (to resolve those that went away)."""
    rows = session.scalars(
        select(Alert.dedup_key).where(Alert.dedup_key.startswith(prefix), Alert.status.in_(_OPEN))
    )
    return set(rows)
