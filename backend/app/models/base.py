"""Declarative base shared by every model, with a naming convention Alembic can rely on.

Every ``datetime`` column is a :class:`UtcDateTime`: stored in UTC and read back as an aware
UTC datetime on every backend (SQLite keeps no zone and hands back naive values; PostgreSQL
hands back the session's zone), so callers never see a naive timestamp.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC; a naive one is taken to be UTC already (how the engine stores it)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """``moment`` as shown to people and in JSON: ISO 8601 in UTC, to the second, with its
    offset (``2026-12-02T11:45:00+00:00``)."""
    return as_utc(moment).isoformat(timespec="seconds")


def shown_utc(moment: datetime) -> str:
    """``moment`` as the dashboard and the readable command-line views show it: to the
    minute, in UTC, saying so (``2026-12-02 11:45 UTC``)."""
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC"


def shown_time(iso: str) -> str:
    """A timestamp of the JSON views (ISO 8601 with its offset, ``iso_utc``) as ``shown_utc``
    shows it (``2026-12-02 11:45 UTC``): the pages' filter and the readable command lines."""
    return shown_utc(datetime.fromisoformat(iso))


class UtcDateTime(TypeDecorator[datetime]):
    """``TIMESTAMP WITH TIME ZONE`` that always binds and returns aware UTC datetimes."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        # SQLite writes the wall-clock fields and drops the zone: they must be UTC's.
        return None if value is None else as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dict[str, Any]: JSON,
        datetime: UtcDateTime(),
    }
