"""Where the tests find PostgreSQL and Redis (first version: the machine's local servers)."""

from __future__ import annotations


def ensure_postgres() -> str:
    """An admin SQLAlchemy URL of a reachable PostgreSQL server."""
    return "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def ensure_redis() -> str:
    """The base URL (no database index) of a reachable Redis server."""
    return "redis://127.0.0.1:6379"
