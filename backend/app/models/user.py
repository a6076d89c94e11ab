"""Users of the engine, their roles and their API tokens (not part of program files)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


USERNAME_MAX_CHARS = 100
TOKEN_LABEL_MAX_CHARS = 100
TOKEN_PREFIX_CHARS = 12


class User(Base):
    """A login name with a role; a disabled user keeps its rows but no token of it works."""

    __tablename__ = "user_account"  # "user" is reserved in PostgreSQL

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_CHARS), unique=True)
    role: Mapped[str] = mapped_column(String(32), default=Role.VIEWER.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    disabled_at: Mapped[datetime | None]


class ApiToken(Base):
    """An API token of a user, for the HTTP API and the CLI (``app.auth``).

    Only ``token_hash``, the SHA-256 hex digest of the token, is stored: the token itself is
    shown once, when it is created. ``prefix`` (its first characters) tells tokens apart in
    listings without being enough to use one.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(TOKEN_LABEL_MAX_CHARS))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(TOKEN_PREFIX_CHARS))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    # Joined: listings name the user after their session has closed.
    user: Mapped[User] = relationship(lazy="joined")
