"""Dispatch after commit: a broker that refuses leaves the deliveries failed and visible."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models.delivery import AlertDelivery
from app.notifications.dispatch import dispatch_alert_notifications
from app.notifications.service import raise_alert
from tests.support.broker_swap import celery_app_broker
from tests.support.receivers import free_port

SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    RESILIENCE_ALERT_RECIPIENTS="pd@example.org",
    WEBHOOK_URLS="https://hooks.example.org/a",
    WEBHOOK_SECRET="whsec_" + base64.b64encode(b"k" * 32).decode(),
)


@pytest.fixture
def unreachable_broker() -> Iterator[None]:
    """The process's Celery app pointed at a port where nothing listens."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    with celery_app_broker(url, task_publish_retry_policy={"max_retries": 1}):
        yield


def test_dispatch_marks_deliveries_failed_when_broker_is_unreachable(
    configured_database: Engine, unreachable_broker: None
) -> None:
    with Session(configured_database) as session:
        outcome = raise_alert(session, "critical", "Inpatient gap", settings=SETTINGS)
        session.commit()
    assert len(outcome.delivery_ids) == 2

    assert dispatch_alert_notifications([outcome, None]) == 0

    with Session(configured_database) as session:
        rows = session.scalars(
            select(AlertDelivery).where(AlertDelivery.id.in_(outcome.delivery_ids))
        ).all()
    assert {(r.channel, r.status) for r in rows} == {("email", "failed"), ("webhook", "failed")}
    assert all((r.last_error or "").startswith("not queued: broker unavailable") for r in rows)


def test_dispatch_sends_nothing_when_nothing_was_planned(configured_database: Engine) -> None:
    with Session(configured_database) as session:
        outcome = raise_alert(session, "info", "FYI", settings=Settings(_env_file=None))  # type: ignore[call-arg]
        session.commit()
    assert outcome.delivery_ids == ()
    assert dispatch_alert_notifications([outcome]) == 0
