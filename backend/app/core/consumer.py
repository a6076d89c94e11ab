"""The worker's broker consumer: Celery's, with a bounded wait between reconnection attempts.

Celery's consumer reconnects with kombu's fixed waits (2 s, growing by 2 s to 30 s) and no
setting for them. The engine reconnects forever (``broker_connection_max_retries=None``), and
``BROKER_RECONNECT_INTERVAL_MAX_S`` caps the wait, so that an operator (or a test) can say how
soon a worker notices that Redis is back. The ``worker_consumer`` setting names this class.
"""

from __future__ import annotations

from typing import Any

from celery.worker.consumer import Consumer

from app.core.config import get_settings

RECONNECT_INTERVAL_START_S = 2.0
"""First wait, and the growth of each next one (kombu's figures), capped by the setting."""


class ReconnectingConsumer(Consumer):  # type: ignore[misc]
    """``Consumer`` whose reconnection waits stop growing at ``BROKER_RECONNECT_INTERVAL_MAX_S``."""

    def ensure_connected(self, conn: Any) -> Any:
        cap = get_settings().BROKER_RECONNECT_INTERVAL_MAX_S
        step = min(RECONNECT_INTERVAL_START_S, cap)
        ensure = conn.ensure_connection

        def ensure_connection(*args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("interval_start", step)
            kwargs.setdefault("interval_step", step)
            kwargs.setdefault("interval_max", cap)
            return ensure(*args, **kwargs)

        # This connection only: Celery calls conn.ensure_connection(errback, max_retries, ...).
        conn.ensure_connection = ensure_connection
        return super().ensure_connected(conn)
