"""The schedule proper: holidays, assignments and absences."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class Holiday(Base):
    """A date the program treats as a holiday (minimum-faculty rules may depend on it)."""

    __tablename__ = "holiday"

    date: Mapped[dt.date] = mapped_column(primary_key=True)


ASSIGNMENT_GROUP_INDEX = "ix_assignment_halfday_group"
"""The index the analyses read a window's assignment groups off (``domain.snapshot``)."""


class Assignment(Base):
    """One person on one activity in one half-day (``half`` holds a ``Half`` value).

    ``role`` holds an ``AssignmentRole`` value: primary, or backup (on call to come in).
    """

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    date: Mapped[dt.date]
    half: Mapped[str] = mapped_column(String(2))
    activity_id: Mapped[str] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16), default="primary")

    __table_args__ = (
        UniqueConstraint("person_id", "date", "half", name="uq_assignment_person_halfday"),
        # Analyses read a window of dates at a time, grouped by half-day, activity and role:
        # with every column here the database reads the groups off the index, in order.
        Index(ASSIGNMENT_GROUP_INDEX, "date", "half", "activity_id", "role", "person_id"),
    )


class Absence(Base):
    """A person away from ``start`` to ``end`` inclusive, whole days or one half of each.

    ``blocking`` None means the default of ``type`` (``app.resilience.domain.ABSENCE_TYPES``).
    ``reason`` is private: only coordinators and above see it, it is never sent out.
    """

    __tablename__ = "absence"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    start: Mapped[dt.date]
    end: Mapped[dt.date]
    half: Mapped[str | None] = mapped_column(String(2))
    type: Mapped[str] = mapped_column(String(32))
    blocking: Mapped[bool | None]
    reason: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (Index("ix_absence_person_id", "person_id"),)
