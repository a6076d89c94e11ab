"""Alerts as the CLI, the API and the dashboard show them: newest first, each with its
deliveries (status and attempts). Messages are shown as they were sent out (absence types
redacted) and a webhook target by scheme and host only (its path or query may hold a token).
An in-app delivery is delivered by being stored and never makes an attempt: its ``outcome``
says "delivered in app" rather than counting attempts. Timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.alert import Alert, AlertStatus
from app.models.base import iso_utc
from app.models.delivery import AlertDelivery, Channel
from app.notifications.render import redact

OPEN = (AlertStatus.ACTIVE.value, AlertStatus.ACKNOWLEDGED.value)


def shown_target(delivery: AlertDelivery) -> str:
    """Where a delivery goes, as shown: a webhook by scheme and host only."""
    if delivery.channel == Channel.WEBHOOK.value:
        parts = urlsplit(delivery.target)
        return (
            f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}/..."
        )
    return delivery.target


def delivery_outcome(d: AlertDelivery) -> str:
    """What became of a delivery, in words: ``delivered in app``, or the status of an email
    or webhook with its attempts and last error (``failed, 7 attempt(s) (answered 410)``)."""
    if d.channel == Channel.IN_APP.value:
        return "delivered in app"  # stored with its alert: there is nothing to send or retry
    error = f" ({d.last_error})" if d.last_error else ""
    return f"{d.status}, {d.attempts} attempt(s){error}"


def delivery_json(d: AlertDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "event": d.event,
        "channel": d.channel,
        "target": shown_target(d),
        "status": d.status,
        "attempts": d.attempts,
        "last_error": d.last_error,
        "outcome": delivery_outcome(d),
        "idempotency_key": d.idempotency_key,
    }


def list_alerts(
    session: Session,
    *,
    include_resolved: bool,
    offset: int = 0,
    limit: int | None = None,
    times: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Open alerts (or every one), newest first, with their deliveries; and how many in all.

    Args:
        times: also give each alert's ``raised_at``, ``acknowledged_at`` and ``resolved_at``
            (aware UTC datetimes or None) for a readable view; the JSON views leave them out.
    """
    query = select(Alert).order_by(Alert.updated_at.desc(), Alert.id.desc())
    if not include_resolved:
        query = query.where(Alert.status.in_(OPEN))
    alerts = list(session.scalars(query))
    shown = alerts[offset:] if limit is None else alerts[offset : offset + limit]
    deliveries = session.scalars(
        select(AlertDelivery)
        .where(AlertDelivery.alert_id.in_([a.id for a in shown]))
        .order_by(AlertDelivery.id)
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "id": a.id,
            "level": a.level,
            "status": a.status,
            "message": redact(a.message),
            "dedup_key": a.dedup_key,
            "occurrences": a.occurrences,
            "updated_at": iso_utc(a.updated_at),
            "acknowledged_by": a.acknowledged_by,
            "deliveries": [delivery_json(d) for d in deliveries if d.alert_id == a.id],
        }
        for a in shown
    ]
    if times:
        for row, a in zip(rows, shown, strict=True):
            row.update(
                raised_at=a.created_at, acknowledged_at=a.acknowledged_at, resolved_at=a.resolved_at
            )
    return rows, len(alerts)
