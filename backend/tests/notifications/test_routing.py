"""Which deliveries each raise and resolution plans (section 8 rules x routing by level).

Expectations are written by hand from RESILIENCE_MODEL.md section 8 and the routing rules in
docs/operations.md: in-app always; email from ALERT_EMAIL_MIN_LEVEL; webhooks from
ALERT_WEBHOOK_MIN_LEVEL.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InputError, NotFound
from app.models.alert import Alert
from app.models.delivery import AlertDelivery
from app.notifications.service import AlertOutcome, acknowledge_alert, raise_alert, resolve_alert

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
HOUR = timedelta(hours=1)
KEY = {"dedup_key": "test:routing"}
SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    RESILIENCE_ALERT_RECIPIENTS="pd@example.org, apd@example.org",
    ALERT_EMAIL_MIN_LEVEL="critical",
    ALERT_WEBHOOK_MIN_LEVEL="warning",
    WEBHOOK_URLS="https://hooks.example.org/a",
    WEBHOOK_SECRET="whsec_" + base64.b64encode(b"k" * 32).decode(),
)


def _raise(session: Session, level: str, at: datetime) -> AlertOutcome:
    return raise_alert(session, level, "Clinic short", KEY, now=at, cooldown=DAY, settings=SETTINGS)


WEBHOOK = ("webhook", "https://hooks.example.org/a")
EMAILS = [("email", "pd@example.org"), ("email", "apd@example.org")]


def test_deliveries_follow_every_dedup_rule_when_an_alert_lives(session: Session) -> None:
    timeline: list[tuple[str, AlertOutcome | None]] = []
    timeline.append(("new warning", _raise(session, "warning", T0)))
    timeline.append(("same level, 1 h later", _raise(session, "warning", T0 + HOUR)))
    timeline.append(("rises to critical", _raise(session, "critical", T0 + 2 * HOUR)))
    timeline.append(("dips to warning", _raise(session, "warning", T0 + 3 * HOUR)))
    timeline.append(("cooldown passed, active", _raise(session, "warning", T0 + 2 * HOUR + DAY)))
    alert_id = timeline[0][1].alert_id  # type: ignore[union-attr]
    acknowledge_alert(session, alert_id, "coordinator")
    timeline.append(("acknowledged, cooldown passed", _raise(session, "warning", T0 + 3 * DAY)))
    timeline.append(("acknowledged, rises", _raise(session, "emergency", T0 + 3 * DAY + HOUR)))
    timeline.append(("resolves", resolve_alert(session, "test:routing", settings=SETTINGS)))
    timeline.append(("resolves again", resolve_alert(session, "test:routing", settings=SETTINGS)))
    session.commit()

    expected_sent = {
        "new warning": [("raised", *WEBHOOK)],
        "same level, 1 h later": [],
        "rises to critical": [("raised", *e) for e in EMAILS] + [("raised", *WEBHOOK)],
        "dips to warning": [],
        "cooldown passed, active": [("raised", *WEBHOOK)],
        "acknowledged, cooldown passed": [],
        "acknowledged, rises": [("raised", *e) for e in EMAILS] + [("raised", *WEBHOOK)],
        # A resolution goes where the last notice went (emergency: everywhere).
        "resolves": [("resolved", *e) for e in EMAILS] + [("resolved", *WEBHOOK)],
    }
    for step, outcome in timeline[:-1]:
        assert outcome is not None
        rows = session.scalars(
            select(AlertDelivery).where(AlertDelivery.id.in_(outcome.delivery_ids))
        ).all()
        got = sorted((r.event, r.channel, r.target) for r in rows)
        assert got == sorted(expected_sent[step]), step
        assert outcome.should_notify == bool(expected_sent[step]), step
    assert timeline[-1][1] is None
    in_app = session.scalars(
        select(AlertDelivery.event).where(AlertDelivery.channel == "in_app")
    ).all()
    # One in-app record per notification: 5 notifying raises and one resolution.
    assert sorted(in_app) == ["raised"] * 4 + ["resolved"]
    alert = session.get(Alert, alert_id)
    assert alert is not None and alert.status == "resolved"


def test_resolution_goes_where_last_notice_went_when_level_dipped(session: Session) -> None:
    _raise(session, "critical", T0)  # notified: in-app, two emails, webhook
    _raise(session, "info", T0 + HOUR)  # a dip: no notice
    resolved = resolve_alert(session, "test:routing", settings=SETTINGS)
    session.commit()

    assert resolved is not None
    rows = session.scalars(
        select(AlertDelivery).where(AlertDelivery.id.in_(resolved.delivery_ids))
    ).all()
    assert sorted((r.channel, r.target, r.level) for r in rows) == sorted(
        [(*e, "critical") for e in EMAILS] + [(*WEBHOOK, "critical")]
    )


def test_info_alert_goes_in_app_only_when_below_both_minimums(session: Session) -> None:
    outcome = raise_alert(
        session, "info", "FYI", {"dedup_key": "fyi"}, now=T0, cooldown=DAY, settings=SETTINGS
    )
    session.commit()

    assert outcome.should_notify and outcome.delivery_ids == ()
    rows = session.scalars(select(AlertDelivery)).all()
    assert [(r.channel, r.status, r.attempts) for r in rows] == [("in_app", "delivered", 0)]


def test_acknowledge_refused_when_alert_is_resolved_or_missing(session: Session) -> None:
    outcome = _raise(session, "warning", T0)
    resolve_alert(session, "test:routing", settings=SETTINGS)
    session.commit()

    with pytest.raises(InputError, match="resolved"):
        acknowledge_alert(session, outcome.alert_id, "coordinator")
    with pytest.raises(NotFound):
        acknowledge_alert(session, outcome.alert_id + 100, "coordinator")
    with pytest.raises(InputError, match="name"):
        acknowledge_alert(session, outcome.alert_id, "  ")


def test_deliveries_get_distinct_idempotency_keys_when_planned(session: Session) -> None:
    for n in range(5):
        raise_alert(
            session, "emergency", f"m{n}", {"dedup_key": f"k{n}"}, now=T0, settings=SETTINGS
        )
    session.commit()

    keys = session.scalars(select(AlertDelivery.idempotency_key)).all()
    assert len(keys) == 5 * 4  # in-app, two emails, one webhook each
    assert len(set(keys)) == len(keys)
    assert all(k.startswith("msg_") and len(k) == 36 for k in keys)
