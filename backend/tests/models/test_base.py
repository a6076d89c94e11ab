"""Timestamps come back from every backend as aware UTC datetimes, and are shown with offset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.orm import Session

from app.models.alert import Alert
from app.models.base import iso_utc

NEW_YORK_WINTER = timezone(timedelta(hours=-5))


def _alert(session: Session, at: datetime) -> int:
    alert = Alert(created_at=at, updated_at=at, level="warning", status="active",
                  message="Clinic short", dedup_key="k", details={})  # fmt: skip
    session.add(alert)
    session.commit()
    session.expunge_all()
    return alert.id


def test_timestamps_read_back_aware_utc_when_stored_in_another_zone(session: Session) -> None:
    alert_id = _alert(session, datetime(2026, 12, 2, 6, 45, tzinfo=NEW_YORK_WINTER))

    row = session.get(Alert, alert_id)
    assert row is not None
    for moment in (row.created_at, session.scalar(select(func.max(Alert.updated_at)))):
        assert moment is not None
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
        assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == (
            2026, 12, 2, 11, 45,
        )  # fmt: skip


def test_timestamps_read_back_in_utc_when_postgres_session_zone_differs(
    session: Session,
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL converts timestamps to a session time zone")
    alert_id = _alert(session, datetime(2026, 12, 2, 11, 45, tzinfo=UTC))
    session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))  # this transaction only
    raw = session.execute(text("SELECT created_at FROM alert")).scalar_one()
    assert raw.utcoffset() == timedelta(hours=-5)  # what the driver hands back here

    row = session.get(Alert, alert_id)
    assert row is not None
    assert row.created_at.utcoffset() == timedelta(0)
    assert iso_utc(row.created_at) == "2026-12-02T11:45:00+00:00"
    session.rollback()


def test_timestamps_compare_by_instant_when_filtered_with_another_zone(session: Session) -> None:
    _alert(session, datetime(2026, 12, 2, 11, 45, tzinfo=UTC))

    def count(where: ColumnElement[bool]) -> int:
        return len(session.scalars(select(Alert.id).where(where)).all())

    # 06:44 and 06:46 in New York are 11:44 and 11:46 UTC.
    assert count(Alert.created_at > datetime(2026, 12, 2, 6, 44, tzinfo=NEW_YORK_WINTER)) == 1
    assert count(Alert.created_at > datetime(2026, 12, 2, 6, 46, tzinfo=NEW_YORK_WINTER)) == 0


def test_iso_utc_shows_offset_when_given_naive_or_other_zone() -> None:
    assert iso_utc(datetime(2026, 12, 2, 11, 45, 7, 123456)) == "2026-12-02T11:45:07+00:00"
    moment = datetime(2026, 12, 2, 6, 45, tzinfo=NEW_YORK_WINTER)
    assert iso_utc(moment) == "2026-12-02T11:45:00+00:00"
