"""Alert delivery through a real worker on a private Redis: webhooks to a local HTTP server,
email to aiosmtpd, retries with backoff, a final failure that stays visible and is resent,
and the contingency analysis raising its alerts through the same path after its commit."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from datetime import date

import pytest
from celery import Celery
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.models.delivery import AlertDelivery, DeliveryAttempt
from app.notifications.delivery import reopen_for_resend
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from tests.notifications.test_webhook import verify
from tests.support.celery_fixtures import StartWorker
from tests.support.receivers import Received, SmtpHandler, SmtpReceiver, WebhookReceiver

KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(KEY).decode()
START = date(2026, 11, 30)  # demo seed 3: with F006 away on START, F010 is critical
WAIT_S = 60.0


@pytest.fixture
def celery_database_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _respond(got: Received, seen: list[Received]) -> int:
    message = got.json()["data"]["message"]
    if "refuse" in message:
        return 400
    tries = sum(r.headers["webhook-id"] == got.headers["webhook-id"] for r in seen)
    return 503 if "flaky" in message and tries <= 2 else 200


def _deliveries(engine: Engine, channel: str) -> dict[str, AlertDelivery]:
    """Deliveries of ``channel`` by their alert's dedup key."""
    from app.models.alert import Alert

    with Session(engine) as s:
        rows = s.execute(
            select(Alert.dedup_key, AlertDelivery)
            .join(AlertDelivery, AlertDelivery.alert_id == Alert.id)
            .where(AlertDelivery.channel == channel)
        ).all()
        return {key: d for key, d in rows}


def _settled(engine: Engine, channel: str, count: int) -> bool:
    rows = _deliveries(engine, channel)
    return len(rows) >= count and all(d.status != "pending" for d in rows.values())


def test_alerts_reach_webhook_and_email_with_retries_when_sent_through_worker(
    engine: Engine,
    configured_database: Engine,
    session: Session,
    start_celery_worker: StartWorker,
    celery_database_url: str,
) -> None:
    mail = SmtpHandler()
    with WebhookReceiver(respond=_respond) as hook, SmtpReceiver(mail) as smtp:
        worker = start_celery_worker(
            celery_database_url,
            extra_env={
                "WEBHOOK_URLS": hook.url(),
                "WEBHOOK_SECRET": SECRET,
                "WEBHOOK_ALLOW_PRIVATE": "true",
                "RESILIENCE_ALERT_RECIPIENTS": "pd@example.org",
                "SMTP_FROM": "scheduler@example.org",
                "SMTP_HOST": "127.0.0.1",
                "SMTP_PORT": str(smtp.port),
                "SMTP_TLS": "none",
                "TASK_RETRY_BACKOFF_MAX_S": "0.5",
                "NOTIFICATION_RETRY_MAX": "3",
                "PUBLIC_URL": "https://scheduler.example.org",
            },
        )
        client: Celery = worker.client()
        for key in ("ok", "flaky", "refuse"):
            result = client.send_task(
                "app.resilience.tasks.send_resilience_alert",
                kwargs={
                    "level": "warning",
                    "message": f"{key} alert",
                    "details": {"dedup_key": key},
                },
            )
            assert result.get(timeout=WAIT_S)["deliveries"] == 2  # one webhook, one email
        _until(lambda: _settled(engine, "webhook", 3), "webhook deliveries to settle")
        _until(lambda: _settled(engine, "email", 3), "email deliveries to settle")

        hooks = _deliveries(engine, "webhook")
        assert {k: (d.status, d.attempts) for k, d in hooks.items()} == {
            "ok": ("delivered", 1),
            "flaky": ("delivered", 3),
            "refuse": ("failed", 1),
        }
        assert "400" in (hooks["refuse"].last_error or "")
        with Session(engine) as s:
            flaky = s.scalars(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id == hooks["flaky"].id)
                .order_by(DeliveryAttempt.number)
            ).all()
        assert [(a.number, a.ok, a.retryable) for a in flaky] == [
            (1, False, True),
            (2, False, True),
            (3, True, False),
        ]
        # Every request was signed; retries kept their id (the idempotency key).
        assert all(verify(r.headers, r.body, KEY) for r in hook.received)
        ids = [r.headers["webhook-id"] for r in hook.received]
        assert sorted(ids) == sorted(
            [hooks["ok"].idempotency_key, hooks["refuse"].idempotency_key]
            + [hooks["flaky"].idempotency_key] * 3
        )
        assert sorted(m["Subject"] for _, m in mail.messages) == [
            "[WARNING] flaky alert",
            "[WARNING] ok alert",
            "[WARNING] refuse alert",
        ]
        body = mail.messages[0][1].get_body(("plain",))
        assert body is not None and "https://scheduler.example.org/alerts/" in body.get_content()

        # The failed delivery stays visible until resent; resent, it is delivered once more.
        hook.respond = None
        reopened = reopen_for_resend()
        assert reopened == [hooks["refuse"].id]
        client.send_task(
            "app.notifications.tasks.deliver_alert_notification", args=[reopened[0]]
        ).get(timeout=WAIT_S)
        again = _deliveries(engine, "webhook")["refuse"]
        assert (again.status, again.attempts) == ("delivered", 2)

        # The contingency analysis raises its alerts through the same path, after its commit.
        import_program(
            session,
            generate_demo_program(seed=3, faculty=12, weeks=6, start=START),
            source="demo",
            actor="test",
        )
        add_absence(session, AbsenceEntry("F006", START, START, "sick", reason="flu"), actor="test")
        session.commit()
        client.send_task(
            "app.resilience.tasks.run_contingency_analysis",
            # A week from START is not the standard horizon: its alerts are asked for.
            kwargs={"days_ahead": 7, "start": START.isoformat(), "alerts": True},
        ).get(timeout=WAIT_S)
        expected = {"contingency:n1:F010", "contingency:n1-compliance"}
        _until(lambda: expected <= set(_deliveries(engine, "webhook")), "contingency alerts")
        _until(lambda: _settled(engine, "webhook", 5), "contingency webhooks")
        posted = {r.json()["data"]["dedup_key"] for r in hook.received if "data" in r.json()}
        assert expected <= posted

        # The seed's own tasks: any email or webhook, same senders, same checks.
        sent = client.send_task(
            "app.notifications.tasks.send_email",
            args=["ops@example.org", "Crisis notice", "Your half-days changed."],
        )
        assert sent.get(timeout=WAIT_S)["sent_to"] == ["ops@example.org"]
        assert mail.messages[-1][1]["Message-ID"] == f"<{sent.id}@example.org>"
        posted_task = client.send_task(
            "app.notifications.tasks.send_webhook", args=[hook.url(), {"notice": "changed"}]
        )
        assert posted_task.get(timeout=WAIT_S) == {"webhook_id": f"msg_{posted_task.id}"}
        last = hook.received[-1]
        assert last.json() == {"notice": "changed"} and verify(last.headers, last.body, KEY)
        bad = client.send_task(
            "app.notifications.tasks.send_email", args=["not-an-address", "s", "b"]
        )
        with pytest.raises(Exception, match="invalid email address"):
            bad.get(timeout=WAIT_S)
