"""Users of the engine and their roles (users are not part of program files)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, utcnow


class Role(StrEnum):
    """What a user may do, least to most trusted."""

    VIEWER = "viewer"
    COORDINATOR = "coordinator"
    PROGRAM_DIRECTOR = "program_director"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer up to 3 for admin."""
        return _ROLE_ORDER.index(self)

    def at_least(self, other: Role) -> bool:
        """Whether this role holds every right of ``other``."""
        return self.rank >= other.rank


_ROLE_ORDER: tuple[Role, ...] = tuple(Role)


class User(Base):
    """A login name with a role and, for API and CLI use, the hash of a token."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(32), default=Role.VIEWER.value)
    api_token_hash: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
