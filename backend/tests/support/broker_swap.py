"""Point this process's Celery app (``app.core.celery_app.celery_app``) at another broker.

Code under test that sends tasks itself (``dispatch_alert_notifications``, the CLI) uses the
module's app, made from the settings at import: tests must never let it publish to the
machine's shared Redis. Swapping drops the app's cached connection pool and producer pool,
and again on the way out, so no connection to the other broker is reused afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from app.core.celery_app import celery_app


def _forget_connections() -> None:
    celery_app.close()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def celery_app_broker(url: str, **conf: Any) -> Iterator[None]:
    """Within the block, the process's Celery app sends to ``url`` (with ``conf`` set too)."""
    names = ["broker_url", *conf]
    saved = {name: celery_app.conf[name] for name in names}
    _forget_connections()
    celery_app.conf.update(broker_url=url, **conf)
    try:
        yield
    finally:
        _forget_connections()
        celery_app.conf.update(saved)
