"""People (residents and faculty) and the qualifications faculty hold."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Base

person_qualification = Table(
    "person_qualification",
    Base.metadata,
    Column("person_id", String(64), ForeignKey("person.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "qualification_id",
        String(64),
        ForeignKey("qualification.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)
"""Which faculty member holds which qualification."""


class Qualification(Base):
    """What a supervising faculty member may be required to hold, e.g. ``clinic_preceptor``."""

    __tablename__ = "qualification"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Person(Base):
    """A resident or a faculty member (``kind`` holds an ``app.resilience.domain.PersonKind``).

    Residents carry ``pgy`` and ``pgy_academic_year``; faculty carry ``faculty_role``,
    qualifications and ``weekly_cap``.
    """

    __tablename__ = "person"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    pgy: Mapped[int | None]
    pgy_academic_year: Mapped[int | None]
    faculty_role: Mapped[str | None] = mapped_column(String(64))
    weekly_cap: Mapped[int | None]
    active_from: Mapped[date | None]
    active_to: Mapped[date | None]

    qualifications: Mapped[list[Qualification]] = relationship(
        secondary=person_qualification, order_by=Qualification.id
    )
