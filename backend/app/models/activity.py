"""Activities (clinic, inpatient, call, ...) and their minimum-faculty rules."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base


class Activity(Base):
    """What people are assigned to, with the faculty it needs.

    ``category`` holds an ``app.resilience.domain.Category`` value. ``qualification_id`` None
    means the activity makes no faculty demand.
    """

    __tablename__ = "activity"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[str] = mapped_column(ForeignKey("site.id"))
    qualification_id: Mapped[str | None] = mapped_column(ForeignKey("qualification.id"))
    min_faculty: Mapped[int] = mapped_column(default=0)
    ratio_pgy1: Mapped[int | None]
    ratio_pgy2plus: Mapped[int | None]
    releasable: Mapped[bool] = mapped_column(default=True)
    """False only for off-duty time without a qualification (post-call); see the model, 1."""

    rules: Mapped[list[MinFacultyRule]] = relationship(
        order_by="MinFacultyRule.position", cascade="all, delete-orphan"
    )


class MinFacultyRule(Base):
    """An exception to an activity's minimum faculty; the first matching one by position wins.

    A None field matches every half-day; ``weekdays`` is a JSON list (0 Monday .. 6 Sunday).
    """

    __tablename__ = "min_faculty_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("activity.id", ondelete="CASCADE"))
    position: Mapped[int]
    min_faculty: Mapped[int]
    weekdays: Mapped[list[int] | None] = mapped_column(JSON)
    half: Mapped[str | None] = mapped_column(String(2))
    start: Mapped[date | None]
    end: Mapped[date | None]
    holiday: Mapped[bool | None]

    __table_args__ = (UniqueConstraint("activity_id", "position"),)
