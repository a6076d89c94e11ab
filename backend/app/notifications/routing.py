"""Which channels hear of an alert: planned in the transaction that raised or resolved it.

Routing by level: in-app always (the alert row itself, shown by ``residency-scheduler alerts
list`` and the dashboard; its delivery is recorded as delivered at once); email to each of
``RESILIENCE_ALERT_RECIPIENTS`` from ``ALERT_EMAIL_MIN_LEVEL``; a signed POST to each of
``WEBHOOK_URLS`` from ``ALERT_WEBHOOK_MIN_LEVEL``. A resolution goes where the last notice
went (the level last notified, even if the alert dipped below it since).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models.alert import Alert, AlertLevel
from app.models.base import utcnow
from app.models.delivery import AlertDelivery, Channel, DeliveryStatus, NoticeEvent

IN_APP_TARGET = "app"


def targets_for(level: str, settings: Settings) -> list[tuple[Channel, str]]:
    """The (channel, target) pairs an alert of ``level`` goes to."""
    rank = AlertLevel(level).rank
    targets: list[tuple[Channel, str]] = [(Channel.IN_APP, IN_APP_TARGET)]
    if rank >= AlertLevel(settings.ALERT_EMAIL_MIN_LEVEL).rank:
        targets += [(Channel.EMAIL, a) for a in settings.alert_recipients]
    if rank >= AlertLevel(settings.ALERT_WEBHOOK_MIN_LEVEL).rank:
        targets += [(Channel.WEBHOOK, u) for u in settings.webhook_urls]
    return targets


def new_idempotency_key() -> str:
    """A fresh key for one delivery (``msg_`` + 32 hex digits, as Standard Webhooks ids)."""
    return f"msg_{uuid.uuid4().hex}"


def plan_deliveries(
    session: Session, alert: Alert, event: NoticeEvent, level: str, settings: Settings
) -> tuple[int, ...]:
    """Add one delivery per target of ``level``; return those to send after the commit.

    Args:
        session: the transaction raising or resolving the alert (the caller commits).
        event: raised or resolved.
        level: the level the notice routes by.
    """
    now = utcnow()
    rows = []
    for channel, target in targets_for(level, settings):
        in_app = channel is Channel.IN_APP
        rows.append(
            AlertDelivery(
                alert_id=alert.id,
                event=event.value,
                level=level,
                channel=channel.value,
                target=target,
                idempotency_key=new_idempotency_key(),
                status=(DeliveryStatus.DELIVERED if in_app else DeliveryStatus.PENDING).value,
                attempts=0,
                created_at=now,
                updated_at=now,
                delivered_at=now if in_app else None,
            )
        )
    session.add_all(rows)
    session.flush()
    return tuple(r.id for r in rows if r.channel != Channel.IN_APP.value)
