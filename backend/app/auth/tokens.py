"""API tokens: random strings shown once, stored only as their SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from app.models.user import TOKEN_PREFIX_CHARS

TOKEN_MARK = "rs_"
"""Every token starts with this, so that a leaked one is recognisable (secret scanners)."""

TOKEN_RANDOM_BYTES = 32


def new_token() -> str:
    """A new token: ``rs_`` and 32 random bytes, URL-safe base64 (46 characters)."""
    return TOKEN_MARK + secrets.token_urlsafe(TOKEN_RANDOM_BYTES)


def token_digest(token: str) -> str:
    """The SHA-256 hex digest of ``token``: what the database stores and looks up.

    A fast hash is right here, unlike for passwords: a token carries 256 random bits, so
    there is nothing to guess from its digest, and checking a request stays one lookup.
    """
    # surrogatepass: a command-line argument of undecodable bytes is still just a wrong token.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def token_prefix(token: str) -> str:
    """The first characters of ``token``, shown in listings to tell tokens apart."""
    return token[:TOKEN_PREFIX_CHARS]
