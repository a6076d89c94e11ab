"""raise_alert / resolve_alert against the real databases (RESILIENCE_MODEL.md section 8)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.core.config import get_settings
from app.models.alert import Alert, AlertStatus
from app.notifications.service import (
    AlertSpec,
    alert_cooldown,
    raise_alert,
    raise_alerts,
    resolve_alert,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
KEY = {"dedup_key": "test:key"}


def _alert(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    assert alert is not None
    return alert


def _acknowledge(session: Session, alert_id: int) -> None:
    _alert(session, alert_id).status = AlertStatus.ACKNOWLEDGED.value
    session.flush()


def test_raise_alert_notifies_when_key_is_new(session: Session) -> None:
    outcome = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)
    session.commit()

    assert outcome.created and outcome.should_notify
    alert = _alert(session, outcome.alert_id)
    assert (alert.status, alert.level, alert.occurrences) == ("active", "warning", 1)
    assert alert.dedup_key == "test:key"


def test_raise_alert_stays_quiet_when_same_level_within_cooldown(session: Session) -> None:
    first = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)
    second = raise_alert(
        session, "warning", "Clinic short again", KEY, now=T0 + timedelta(hours=23), cooldown=DAY
    )
    third = raise_alert(
        session, "info", "Less short", KEY, now=T0 + timedelta(hours=23, minutes=59), cooldown=DAY
    )
    session.commit()

    assert second.alert_id == third.alert_id == first.alert_id
    assert not second.created and not second.should_notify
    assert not third.should_notify
    alert = _alert(session, first.alert_id)
    assert alert.occurrences == 3
    assert alert.message == "Less short"
    assert session.scalar(select(func.count()).select_from(Alert)) == 1


def test_raise_alert_notifies_and_reopens_when_level_rises(session: Session) -> None:
    first = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)
    _acknowledge(session, first.alert_id)

    rose = raise_alert(
        session, "critical", "Clinic short", KEY, now=T0 + timedelta(hours=1), cooldown=DAY
    )
    session.commit()

    assert rose.alert_id == first.alert_id and rose.should_notify
    alert = _alert(session, first.alert_id)
    assert (alert.status, alert.level, alert.notified_level) == ("active", "critical", "critical")


def test_raise_alert_notifies_when_cooldown_elapsed_while_active(session: Session) -> None:
    raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)

    again = raise_alert(session, "warning", "Clinic short", KEY, now=T0 + DAY, cooldown=DAY)
    quiet = raise_alert(
        session, "warning", "Clinic short", KEY, now=T0 + DAY + timedelta(hours=1), cooldown=DAY
    )

    assert again.should_notify and not quiet.should_notify


def test_raise_alert_stays_quiet_when_cooldown_elapsed_while_acknowledged(
    session: Session,
) -> None:
    first = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)
    _acknowledge(session, first.alert_id)

    later = raise_alert(session, "warning", "Clinic short", KEY, now=T0 + 3 * DAY, cooldown=DAY)
    session.commit()

    assert not later.should_notify
    assert _alert(session, first.alert_id).status == "acknowledged"


def test_raise_alert_stays_quiet_when_level_dips_and_returns_to_the_notified_one(
    session: Session,
) -> None:
    # Notified at warning; a dip to info and a return to warning is no rise over the notice.
    first = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)
    dip = raise_alert(
        session, "info", "Clinic short", KEY, now=T0 + timedelta(hours=1), cooldown=DAY
    )
    back = raise_alert(
        session, "warning", "Clinic short", KEY, now=T0 + timedelta(hours=2), cooldown=DAY
    )
    _acknowledge(session, first.alert_id)
    dip_acked = raise_alert(
        session, "info", "Clinic short", KEY, now=T0 + timedelta(hours=3), cooldown=DAY
    )
    back_acked = raise_alert(
        session, "warning", "Clinic short", KEY, now=T0 + timedelta(hours=4), cooldown=DAY
    )
    session.commit()

    assert [o.should_notify for o in (dip, back, dip_acked, back_acked)] == [False] * 4
    alert = _alert(session, first.alert_id)
    assert (alert.status, alert.level, alert.notified_level) == (
        "acknowledged",
        "warning",
        "warning",
    )


def test_resolve_alert_notifies_once_then_none_and_raise_opens_new_alert(session: Session) -> None:
    first = raise_alert(session, "warning", "Clinic short", KEY, now=T0, cooldown=DAY)

    resolved_now = resolve_alert(session, "test:key", now=T0 + timedelta(hours=2))
    assert resolved_now is not None and resolved_now.should_notify
    assert resolved_now.alert_id == first.alert_id
    assert resolve_alert(session, "test:key", now=T0 + timedelta(hours=3)) is None
    again = raise_alert(
        session, "warning", "Clinic short", KEY, now=T0 + timedelta(hours=4), cooldown=DAY
    )
    session.commit()

    resolved = _alert(session, first.alert_id)
    assert resolved.status == "resolved"
    assert resolved.resolved_at is not None
    assert resolved.resolved_at.replace(tzinfo=UTC) == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert again.created and again.should_notify and again.alert_id != first.alert_id
    assert session.scalar(select(func.count()).select_from(Alert)) == 2


def test_dedup_key_comes_from_details_when_given(session: Session) -> None:
    a = raise_alert(session, "info", "First wording", {"dedup_key": "k1"}, now=T0, cooldown=DAY)
    b = raise_alert(session, "info", "Second wording", {"dedup_key": "k1"}, now=T0, cooldown=DAY)

    assert b.alert_id == a.alert_id and not b.created
    assert _alert(session, a.alert_id).details["dedup_key"] == "k1"


def test_dedup_key_derived_from_message_when_details_have_none(session: Session) -> None:
    a = raise_alert(session, "info", "Same words", {"x": 1}, now=T0, cooldown=DAY)
    b = raise_alert(session, "info", "Same words", None, now=T0, cooldown=DAY)
    c = raise_alert(session, "info", "Other words", None, now=T0, cooldown=DAY)
    session.commit()

    assert b.alert_id == a.alert_id
    assert c.alert_id != a.alert_id
    key = _alert(session, a.alert_id).dedup_key
    # sha256("Same words"), first 32 hex digits.
    assert key == "msg:36eeda0da7b3fb51f2e42ea15cbf918c"


@pytest.fixture
def one_hour_cooldown(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("ALERT_COOLDOWN_HOURS", "1")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.usefixtures("one_hour_cooldown")
def test_cooldown_follows_setting_when_caller_passes_none(session: Session) -> None:
    raise_alert(session, "warning", "Clinic short", KEY, now=T0)

    later = raise_alert(session, "warning", "Clinic short", KEY, now=T0 + timedelta(hours=1))

    assert alert_cooldown() == timedelta(hours=1)
    assert later.should_notify


def test_raise_alerts_follows_the_rules_per_spec_with_one_lookup_for_all(
    session: Session,
) -> None:
    hour = timedelta(hours=1)
    quiet = raise_alert(session, "warning", "A", {"dedup_key": "k:a"}, now=T0, cooldown=DAY)
    acked = raise_alert(session, "warning", "B", {"dedup_key": "k:b"}, now=T0, cooldown=DAY)
    _acknowledge(session, acked.alert_id)
    cooled = raise_alert(
        session, "warning", "C", {"dedup_key": "k:c"}, now=T0 - 2 * DAY, cooldown=DAY
    )
    gone = raise_alert(session, "warning", "D", {"dedup_key": "k:d"}, now=T0, cooldown=DAY)
    resolve_alert(session, "k:d", now=T0)
    session.commit()

    specs = [
        AlertSpec("warning", "A again", {"dedup_key": "k:a"}),  # same level, within cooldown
        AlertSpec("critical", "B worse", {"dedup_key": "k:b"}),  # rises: reopens, notifies
        AlertSpec("warning", "C again", {"dedup_key": "k:c"}),  # cooldown over: notifies
        AlertSpec("warning", "D back", {"dedup_key": "k:d"}),  # resolved: a new alert
        AlertSpec("warning", "E new", {"dedup_key": "k:e"}),  # new
        AlertSpec("warning", "E twice", {"dedup_key": "k:e"}),  # refreshes the one just made
    ]
    lookups: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and " alert." in statement:
            lookups.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        out = raise_alerts(session, specs, now=T0 + hour, cooldown=DAY)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    session.commit()

    assert len(lookups) == 1  # one query for the six keys, not one per spec
    flags = [(o.created, o.should_notify) for o in out]
    assert flags == [
        (False, False),
        (False, True),
        (False, True),
        (True, True),
        (True, True),
        (False, False),
    ]
    assert [o.alert_id for o in out[:3]] == [quiet.alert_id, acked.alert_id, cooled.alert_id]
    assert out[3].alert_id != gone.alert_id
    assert out[5].alert_id == out[4].alert_id
    assert _alert(session, acked.alert_id).status == "active"
    assert _alert(session, out[4].alert_id).occurrences == 2
    assert _alert(session, out[4].alert_id).message == "E twice"
