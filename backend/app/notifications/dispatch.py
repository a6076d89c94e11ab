"""Sending the planned deliveries of alerts, after the transaction that planned them commits.

The one path of every analysis (health check, contingency, forecast, fallbacks, crisis)::

    with session_scope() as session:
        outcomes = [raise_alert(session, ...), resolve_alert(session, ...), ...]
    dispatch_alert_notifications(outcomes)  # after the commit, never inside the block

``raise_alert`` and ``resolve_alert`` decide whether to notify (RESILIENCE_MODEL.md section 8)
and plan one delivery per channel and target in the caller's transaction; this sends one
``deliver_alert_notification`` task per planned delivery on the ``notifications`` queue. Sent
before the commit, a task could run before its delivery row exists, or for an alert that is
then rolled back. If the broker cannot take a task, its delivery is marked failed (visible in
``alerts list``; ``alerts resend-failed`` sends it again) and the caller carries on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the senders and templates load only where a delivery is planned
    from app.notifications.service import AlertOutcome

logger = logging.getLogger(__name__)


def dispatch_alert_notifications(outcomes: Iterable[AlertOutcome | None]) -> int:
    """Queue a delivery task for each delivery the outcomes planned; return how many.

    Args:
        outcomes: what ``raise_alert`` / ``resolve_alert`` returned (None, from a
            ``resolve_alert`` that found nothing open, is skipped), after their commit.
    """
    return dispatch_deliveries([i for o in outcomes if o is not None for i in o.delivery_ids])


def dispatch_deliveries(delivery_ids: list[int]) -> int:
    """Queue one ``deliver_alert_notification`` task per delivery id (after commit)."""
    if not delivery_ids:  # the usual case: nothing to send, and the Celery app stays unloaded
        return 0
    from app.notifications.tasks import deliver_alert_notification

    for n, delivery_id in enumerate(delivery_ids):
        try:
            deliver_alert_notification.apply_async(args=[delivery_id])
        except Exception as exc:  # the broker is away: keep the rest visible, do not fail
            from app.notifications.delivery import mark_not_queued

            logger.error("alert deliveries not queued (%s): %s", type(exc).__name__, exc)
            mark_not_queued(delivery_ids[n:], f"broker unavailable ({type(exc).__name__})")
            return n
    return len(delivery_ids)
