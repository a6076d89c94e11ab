"""Celery tasks that deliver notifications (queue ``notifications``).

* ``deliver_alert_notification(delivery_id)``: one planned alert delivery (email or webhook;
  ``app.notifications.dispatch`` sends these after the analysis commits). Its argument is an
  id: addresses, URLs and secrets stay in the database and the settings, off the broker.
* ``send_email(to, subject, body, html=None)`` and ``send_webhook(url, payload)``: the seed's
  tasks, for a message that is not an alert (a crisis notice to one person).

All retry a passing failure (a timeout, a 4xx SMTP reply, a 5xx HTTP status) up to
``NOTIFICATION_RETRY_MAX`` times, waiting ``retry_countdown_s`` (exponential backoff with
jitter, bounded); a failure a retry cannot fix (a refused recipient, a 4xx HTTP status, a
refused address) fails at once. Bad input fails at once with ``InputError``, nothing sent.
"""

from __future__ import annotations

from typing import Any

from celery import Task

from app.core.celery_app import TRANSIENT_ERRORS, BackoffTask, celery_app
from app.core.config import get_settings
from app.core.errors import DeliveryFailed
from app.notifications.delivery import attempt_delivery
from app.notifications.email import SmtpSender
from app.notifications.messages import EmailMessage, WebhookMessage
from app.notifications.webhook import WebhookSender

NOTIFICATION_POLICY: dict[str, Any] = {
    "base": BackoffTask,
    "bind": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "max_retries": get_settings().NOTIFICATION_RETRY_MAX,
    "retry_backoff": False,
}


@celery_app.task(  # type: ignore[untyped-decorator]
    name="app.notifications.tasks.deliver_alert_notification", **NOTIFICATION_POLICY
)
def deliver_alert_notification(self: Task, delivery_id: int) -> dict[str, Any]:
    """Send alert delivery ``delivery_id`` once more, record the attempt, retry if it may help.

    Idempotent: a delivery no longer pending (delivered, or failed for good) is not sent.
    """
    outcome = attempt_delivery(
        delivery_id, retries_left=self.request.retries < self.max_retries, settings=get_settings()
    )
    if outcome.retry:
        raise self.retry()
    return outcome.to_json()


def _send_or_retry(task: Task, send: Any, message: Any) -> None:
    try:
        send(message)
    except DeliveryFailed as exc:
        if exc.retryable and task.request.retries < task.max_retries:
            raise task.retry(exc=exc) from None
        raise


@celery_app.task(name="app.notifications.tasks.send_email", **NOTIFICATION_POLICY)  # type: ignore[untyped-decorator]
def send_email(
    self: Task, to: str | list[str], subject: str, body: str, html: str | None = None
) -> dict[str, Any]:
    """Email ``body`` (and ``html`` as its alternative) to ``to`` (one address or a list).

    The task id is the Message-ID, the same on every retry.
    """
    message = EmailMessage(
        to=(to,) if isinstance(to, str) else tuple(to),
        subject=subject,
        text=body,
        html=html,
        message_id=self.request.id,
    )
    _send_or_retry(self, SmtpSender(get_settings()).send, message)
    return {"sent_to": list(message.to), "message_id": message.message_id}


@celery_app.task(name="app.notifications.tasks.send_webhook", **NOTIFICATION_POLICY)  # type: ignore[untyped-decorator]
def send_webhook(self: Task, url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` (a JSON object) to ``url``, signed; ``msg_<task id>`` is its id."""
    message = WebhookMessage(url=url, payload=payload, webhook_id=f"msg_{self.request.id}")
    _send_or_retry(self, WebhookSender(get_settings()).send, message)
    return {"webhook_id": message.webhook_id}
