"""Sending one planned delivery, recording each attempt, and sending failed ones again.

``attempt_delivery`` reads the delivery and its alert in one short transaction, sends with no
transaction open (a slow server holds no database connection), then records the attempt in a
second one: delivered, still pending (a retry follows) or failed (final; it stays visible in
``residency-scheduler alerts list`` until ``alerts resend-failed``). A delivery that is no
longer pending is not sent again, so a redelivered task changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from app.core.config import Settings
from app.core.db import session_scope
from app.core.errors import DeliveryFailed, NotFound
from app.models.alert import Alert
from app.models.base import iso_utc, utcnow
from app.models.delivery import AlertDelivery, Channel, DeliveryAttempt, DeliveryStatus
from app.notifications.email import SmtpSender
from app.notifications.messages import EmailMessage, Sender, WebhookMessage
from app.notifications.render import alert_email, alert_payload, notice_of

logger = logging.getLogger(__name__)

STALE_PENDING = timedelta(hours=1)
"""A delivery pending this long was never sent (its task was lost): ``resend`` takes it."""


@dataclass(frozen=True)
class AttemptOutcome:
    """What one attempt did; ``retry`` asks the task to try again later."""

    delivery_id: int
    status: str
    attempts: int
    retry: bool
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "delivery_id": self.delivery_id,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
        }


def _send(delivery: AlertDelivery, alert: Alert, settings: Settings) -> None:
    notice = notice_of(
        alert_id=alert.id,
        event=delivery.event,
        level=delivery.level,
        message=alert.message,
        dedup_key=alert.dedup_key,
        details=alert.details,
        occurred_at=iso_utc(delivery.created_at),
        public_url=settings.public_url,
    )
    if delivery.channel == Channel.EMAIL.value:
        email: Sender[EmailMessage] = SmtpSender(settings)
        email.send(alert_email(notice, (delivery.target,), delivery.idempotency_key))
    elif delivery.channel == Channel.WEBHOOK.value:
        from app.notifications.webhook import WebhookSender  # httpx: only when one is sent

        webhook: Sender[WebhookMessage] = WebhookSender(settings)
        webhook.send(
            WebhookMessage(delivery.target, alert_payload(notice), delivery.idempotency_key)
        )
    else:
        raise DeliveryFailed(f"channel {delivery.channel!r} is not sent", retryable=False)


def attempt_delivery(
    delivery_id: int,
    *,
    retries_left: bool,
    settings: Settings,
) -> AttemptOutcome:
    """Send delivery ``delivery_id`` once and record the attempt.

    Args:
        retries_left: whether a failed attempt that may succeed later stays pending (the
            task retries) rather than failing for good.

    Raises:
        NotFound: no delivery has this id.
    """
    with session_scope() as session:
        delivery = session.get(AlertDelivery, delivery_id)
        if delivery is None:
            raise NotFound(f"no delivery with id {delivery_id}")
        if delivery.status != DeliveryStatus.PENDING.value:
            return AttemptOutcome(delivery_id, delivery.status, delivery.attempts, retry=False)
        alert = session.get(Alert, delivery.alert_id)
        assert alert is not None  # the foreign key
        session.expunge_all()
    error: DeliveryFailed | None = None
    try:
        _send(delivery, alert, settings)
    except DeliveryFailed as exc:
        error = exc
    with session_scope() as session:
        now = utcnow()
        # Write first: on SQLite a transaction that read before writing fails at once when
        # another process wrote meanwhile; one that starts with a write waits its turn.
        session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id)
            .values(attempts=AlertDelivery.attempts + 1, updated_at=now)
        )
        row = session.get(AlertDelivery, delivery_id)
        assert row is not None
        retry = error is not None and error.retryable and retries_left
        session.add(
            DeliveryAttempt(
                delivery_id=delivery_id,
                number=row.attempts,
                at=now,
                ok=error is None,
                retryable=error is not None and error.retryable,
                error=None if error is None else str(error)[:500],
            )
        )
        if error is None:
            row.status, row.delivered_at, row.last_error = DeliveryStatus.DELIVERED.value, now, None
        else:
            row.last_error = str(error)[:500]
            if not retry:
                row.status = DeliveryStatus.FAILED.value
                logger.warning("delivery %s failed for good: %s", delivery_id, error)
        return AttemptOutcome(delivery_id, row.status, row.attempts, retry, row.last_error)


def mark_not_queued(delivery_ids: list[int], reason: str) -> None:
    """Mark deliveries whose task could not be sent failed, so that they stay visible."""
    with session_scope() as session:
        for row in session.scalars(select(AlertDelivery).where(AlertDelivery.id.in_(delivery_ids))):
            if row.status == DeliveryStatus.PENDING.value:
                row.status = DeliveryStatus.FAILED.value
                row.last_error = f"not queued: {reason}"[:500]
                row.updated_at = utcnow()


def reopen_for_resend(now: datetime | None = None) -> list[int]:
    """Make failed deliveries (and those pending longer than ``STALE_PENDING``) pending again.

    Returns:
        Their ids, to dispatch after the caller's transaction commits.
    """
    now = now or utcnow()
    with session_scope() as session:
        rows = session.scalars(
            select(AlertDelivery).where(
                or_(
                    AlertDelivery.status == DeliveryStatus.FAILED.value,
                    (AlertDelivery.status == DeliveryStatus.PENDING.value)
                    & (AlertDelivery.updated_at < now - STALE_PENDING),
                )
            )
        ).all()
        for row in rows:
            row.status = DeliveryStatus.PENDING.value
            row.updated_at = now
        return [r.id for r in rows]
