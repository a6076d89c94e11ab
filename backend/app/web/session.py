"""Dashboard sessions and CSRF tokens, signed with SESSION_SECRET.

Signing in with an API token sets the session cookie: the token's row id, the time of
sign-in and an HMAC of both. The token itself is never stored in the browser. Every request
looks the row up again, so revoking the token or disabling its user ends the session at
once; a session also ends ``SESSION_MAX_AGE_S`` after sign-in. The cookie is HttpOnly and
SameSite=Strict (Secure in production).

A form carries a CSRF token: the HMAC of the session cookie (or, on the sign-in form, of a
random pre-session cookie), checked on every POST.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import ConfigurationError
from app.models.user import ApiToken, User

SESSION_COOKIE = "rs_session"
PRESESSION_COOKIE = "rs_presession"


def session_secret(settings: Settings) -> bytes:
    """SESSION_SECRET, or a random key for this process outside production.

    Raises:
        ConfigurationError: production without SESSION_SECRET.
    """
    if settings.SESSION_SECRET:
        return settings.SESSION_SECRET.encode()
    if settings.ENVIRONMENT == "production":
        raise ConfigurationError("SESSION_SECRET must be set in production (32+ characters)")
    return secrets.token_bytes(32)


@dataclass(frozen=True)
class SessionKeys:
    secret: bytes
    max_age_s: int

    def _mac(self, purpose: str, text: str) -> str:
        message = f"{purpose}|{text}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def session_cookie(self, token_id: int, now: float | None = None) -> str:
        body = f"{token_id}.{int(time.time() if now is None else now)}"
        return f"{body}.{self._mac('session', body)}"

    def token_id_of(self, cookie: str, now: float | None = None) -> int | None:
        """The token row id of a valid, unexpired session cookie, else None."""
        parts = cookie.split(".")
        if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
            return None
        body = f"{parts[0]}.{parts[1]}"
        if not hmac.compare_digest(parts[2], self._mac("session", body)):
            return None
        age = (time.time() if now is None else now) - int(parts[1])
        return int(parts[0]) if 0 <= age < self.max_age_s else None

    def csrf_token(self, cookie: str) -> str:
        return self._mac("csrf", cookie)

    def csrf_ok(self, cookie: str | None, given: str | None) -> bool:
        return bool(cookie and given) and hmac.compare_digest(
            str(given), self.csrf_token(str(cookie))
        )


def session_user(session: Session, token_id: int) -> User | None:
    """The user of token row ``token_id`` while it is neither revoked nor disabled."""
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None or row.user.disabled_at is not None:
        return None
    return row.user
