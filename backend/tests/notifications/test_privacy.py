"""Privacy (RESILIENCE_MODEL.md section 8): no absence type, medical or family detail leaves.

Every kind of alert (defense level, N-1 per person, N-1 compliance, one sent by hand with
private details, and their resolutions) is raised on a program whose people are away for
every absence type with private reasons; every delivery is then sent for real (aiosmtpd and a
local HTTP server) and everything that went out is scanned.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.core.config import Settings, get_settings
from app.demo.generator import generate_demo_program
from app.domain.schedule import ABSENCE_TYPES
from app.models.alert import Alert
from app.models.delivery import AlertDelivery
from app.notifications.delivery import attempt_delivery
from app.notifications.service import raise_alert, resolve_alert
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.contingency.service import run_contingency_report
from app.resilience.health.service import run_health_check
from tests.support.receivers import SmtpHandler, SmtpReceiver, WebhookReceiver

START = date(2026, 11, 30)
REASONS = {
    "sick": "Influenza A, fever 39C",
    "medical": "Chemotherapy cycle 3",
    "family_emergency": "Daughter admitted to PICU",
    "parental": "Birth of twins",
    "bereavement": "Funeral of her father",
    "deployment": "Operation Northern Watch",
    "tdy": "Course at Fort Sam Houston",
    "pcs": "Moving to Landstuhl",
    "vacation": "Honeymoon in Lisbon",
    "conference": "Gastro Week abstract",
}
# Absence types that are ordinary English words may appear in ordinary text.
SCANNED_TYPES = sorted(set(ABSENCE_TYPES) - {"other", "training"})


@pytest.fixture
def program(session: Session) -> Session:
    import_program(
        session,
        generate_demo_program(seed=3, faculty=12, weeks=6, start=START),
        source="demo",
        actor="test",
    )
    people = ["F001", "F002", "F003", "F004", "F005", "F006", "F007", "F008", "F009", "F011"]
    for person, (kind, reason) in zip(people, REASONS.items(), strict=True):
        add_absence(session, AbsenceEntry(person, START, START, kind, reason=reason), actor="t")
    session.commit()
    return session


def _forbidden(text: str) -> list[str]:
    low = text.lower()
    found = [r for r in REASONS.values() if r.lower() in low]
    for kind in SCANNED_TYPES:
        pattern = kind.replace("_", "[ _-]")
        found += re.findall(rf"\b{pattern}\b", low)
    return found


def test_nothing_private_leaves_when_every_alert_kind_is_sent(
    program: Session, configured_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = program
    mail = SmtpHandler()
    with WebhookReceiver() as hook, SmtpReceiver(mail) as smtp:
        values: dict[str, Any] = {
            "RESILIENCE_ALERT_RECIPIENTS": "pd@example.org",
            "ALERT_EMAIL_MIN_LEVEL": "info",
            "WEBHOOK_URLS": hook.url(),
            "WEBHOOK_SECRET": "whsec_" + base64.b64encode(b"s" * 32).decode(),
            "WEBHOOK_ALLOW_PRIVATE": "true",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        settings: Settings = get_settings()

        now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
        health = run_health_check(session, now=now, settings=settings)
        report = run_contingency_report(session, start=START, days_ahead=7)
        by_hand = raise_alert(
            session,
            "critical",
            "Dr. F006 out: family emergency, medical leave after sick days",
            {
                "dedup_key": "by-hand",
                "absence_type": "medical",
                "reason": REASONS["medical"],
                "type": "family_emergency",
                "notes": REASONS["family_emergency"],
                "kind": "sick",
                "who": ["Dr. F006"],
                "halfdays": ["2026-11-30 AM"],
                "nested": {"absence_reason": REASONS["sick"], "list": ["parental", "ok"]},
            },
            settings=settings,
        )
        resolved = resolve_alert(session, "by-hand", settings=settings)
        session.commit()
        assert health.alerts and report.alerts and by_hand.should_notify and resolved

        pending = session.scalars(
            select(AlertDelivery.id).where(AlertDelivery.status == "pending")
        ).all()
        for delivery_id in pending:
            outcome = attempt_delivery(delivery_id, retries_left=False, settings=settings)
            assert outcome.status == "delivered", outcome.error

    kinds = {a.dedup_key for a in session.scalars(select(Alert))}
    assert {"defense-level", "contingency:n1-compliance", "by-hand"} <= kinds
    assert any(k.startswith("contingency:n1:") for k in kinds)
    sent = [envelope.content for envelope, _ in mail.messages]
    posted = [r.body for r in hook.received]
    assert len(sent) == len(posted) and len(sent) + len(posted) == len(pending)
    events = sorted({r.json()["type"] for r in hook.received})
    assert events == ["alert.raised", "alert.resolved"]
    for raw in [*sent, *posted]:
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        assert _forbidden(text) == []
    # The scan finds what it looks for: the alert as stored still has it (in-app, not sent).
    stored = session.scalars(select(Alert).where(Alert.dedup_key == "by-hand")).one()
    assert _forbidden(str(stored.details)) and _forbidden(stored.message)
    get_settings.cache_clear()
