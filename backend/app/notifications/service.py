"""Storing alerts: the one ``raise_alert`` service every analysis calls.

An alert is identified by its dedup key while open (active or acknowledged). Raising a key
that is open updates it instead of adding a row. Whether a raise should *notify* follows
RESILIENCE_MODEL.md section 8: when the key is new, when its level rises, or when the cooldown
has passed while it is still active (acknowledged alerts repeat only when the level rises).
Delivery by email and webhook arrives with the alerts work and reads ``should_notify``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.models.alert import Alert, AlertLevel, AlertStatus
from app.models.base import utcnow

_OPEN = (AlertStatus.ACTIVE.value, AlertStatus.ACKNOWLEDGED.value)
_KEYS_PER_QUERY = 500
"""Dedup keys per ``IN`` list: within every backend's limit on bound parameters."""


@dataclass(frozen=True)
class AlertOutcome:
    """What ``raise_alert`` did: the stored alert's id and whether to notify now."""

    alert_id: int
    created: bool
    should_notify: bool


def alert_cooldown(settings: Settings | None = None) -> timedelta:
    """The alert cooldown of ``settings`` (default: the process settings)."""
    return timedelta(hours=(settings or get_settings()).ALERT_COOLDOWN_HOURS)


def dedup_key_for(message: str, details: dict[str, Any] | None) -> str:
    """The key in ``details['dedup_key']``, else one derived from the message."""
    if details and isinstance(details.get("dedup_key"), str) and details["dedup_key"]:
        return str(details["dedup_key"])[:200]
    return "msg:" + hashlib.sha256(message.encode()).hexdigest()[:32]


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back without a zone; they were stored in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def raise_alert(
    session: Session,
    level: str,
    message: str,
    details: dict[str, Any] | None = None,
    *,
    now: datetime | None = None,
    cooldown: timedelta | None = None,
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
    """
    return raise_alerts(session, [(level, message, details)], now=now, cooldown=cooldown)[0]


def raise_alerts(
    session: Session,
    alerts: Sequence[tuple[str, str, dict[str, Any] | None]],
    *,
    now: datetime | None = None,
    cooldown: timedelta | None = None,
) -> list[AlertOutcome]:
    """``raise_alert`` of each ``(level, message, details)`` in turn, with one query for the
    open alerts of their keys and one flush for the new ones (one outcome each, in order)."""
    if cooldown is None:
        cooldown = alert_cooldown()
    now = now or utcnow()
    entries = []
    for level, message, details in alerts:
        lvl = AlertLevel(level)
        details = dict(details or {})
        details["dedup_key"] = dedup_key_for(message, details)
        entries.append((lvl, message, details))
    keys = sorted({d["dedup_key"] for _, _, d in entries})
    open_alerts: dict[str, Alert] = {}
    for i in range(0, len(keys), _KEYS_PER_QUERY):
        query = select(Alert).where(
            Alert.dedup_key.in_(keys[i : i + _KEYS_PER_QUERY]), Alert.status.in_(_OPEN)
        )
        for alert in session.scalars(query.order_by(Alert.id.desc())):
            open_alerts[alert.dedup_key] = alert  # the oldest open one, as ``.first()`` did
    done: list[tuple[Alert, bool, bool]] = []
    for lvl, message, details in entries:
        key = details["dedup_key"]
        found = open_alerts.get(key)
        if found is None:
            alert = open_alerts[key] = Alert(
                level=lvl.value,
                message=message,
                details=details,
                dedup_key=key,
                status=AlertStatus.ACTIVE.value,
                created_at=now,
                updated_at=now,
                last_notified_at=now,
                notified_level=lvl.value,
                occurrences=1,
            )
            session.add(alert)
            done.append((alert, True, True))
            continue
        alert = found
        rose = lvl.rank > AlertLevel(alert.notified_level or alert.level).rank
        last = _aware(alert.last_notified_at)
        cooled = alert.status == AlertStatus.ACTIVE.value and (
            last is None or now - last >= cooldown
        )
        alert.level = lvl.value
        alert.message = message
        alert.details = details
        alert.updated_at = now
        alert.occurrences += 1
        notify = rose or cooled
        if rose:
            alert.status = AlertStatus.ACTIVE.value  # a rise re-opens an acknowledged alert
        if notify:
            alert.last_notified_at = now
            alert.notified_level = lvl.value
        done.append((alert, False, notify))
    session.flush()
    return [AlertOutcome(a.id, created=c, should_notify=n) for a, c, n in done]


def resolve_alert(session: Session, dedup_key: str, *, now: datetime | None = None) -> bool:
    """Mark the open alert with ``dedup_key`` resolved; True if there was one (notify once)."""
    alert = session.scalars(
        select(Alert).where(Alert.dedup_key == dedup_key, Alert.status.in_(_OPEN)).limit(1)
    ).first()
    if alert is None:
        return False
    alert.status = AlertStatus.RESOLVED.value
    alert.resolved_at = now or utcnow()
    alert.updated_at = alert.resolved_at
    return True


def open_alert_keys(session: Session, prefix: str) -> set[str]:
    """Dedup keys of open alerts starting with ``prefix`` (to resolve those that went away)."""
    rows = session.scalars(
        select(Alert.dedup_key).where(Alert.dedup_key.startswith(prefix), Alert.status.in_(_OPEN))
    )
    return set(rows)
