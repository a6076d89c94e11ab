"""The program itself (one per database) and its sites."""

from __future__ import annotations

from datetime import date

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base

PROGRAM_ROW_ID = 1
"""The primary key of the one program row (one program per database)."""


class Program(Base):
    """The program's own settings that travel with its data (a single row)."""

    __tablename__ = "program"

    id: Mapped[int] = mapped_column(primary_key=True, default=PROGRAM_ROW_ID)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    main_site: Mapped[str] = mapped_column(String(64))
    academic_year_start: Mapped[str] = mapped_column(String(5))
    """``MM-DD`` on which PGY levels advance."""
    schedule_end: Mapped[date | None] = mapped_column(default=None)
    """Last day of the published schedule (None: the last date with an assignment)."""

    __table_args__ = (CheckConstraint(f"id = {PROGRAM_ROW_ID}", name="single_row"),)


class Site(Base):
    """A place activities happen at: the main hospital, an off-site clinic, "remote"."""

    __tablename__ = "site"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
