"""Engine and sessions.

``session_scope()`` is for tasks and the CLI: the caller owns the transaction, which commits
when the block ends and rolls back on any error. The API uses its own request-scoped
dependency (``app.api.deps.SessionDep``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import get_settings


def postgres_connect_args() -> dict[str, Any]:
    """psycopg connection arguments that keep a silent or stuck server from blocking forever.

    ``connect_timeout`` bounds a connection attempt (a server, or a proxy in front of it, that
    accepts and never answers); ``statement_timeout`` has the server cancel a statement that
    runs too long (a lock wait, a runaway query); TCP keepalives notice a peer host that
    vanished (a failover, a dropped NAT entry) on a connection the pool keeps.
    """
    settings = get_settings()
    args: dict[str, Any] = {
        "connect_timeout": settings.DATABASE_CONNECT_TIMEOUT_S,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
    }
    if settings.DATABASE_STATEMENT_TIMEOUT_S > 0:
        statement_ms = round(settings.DATABASE_STATEMENT_TIMEOUT_S * 1000)
        args["options"] = f"-c statement_timeout={statement_ms}"
    return args


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout, PostgreSQL the
    connect and statement timeouts of ``postgres_connect_args``."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
            # The sqlite3 module starts transactions on its own, late, and lets a SAVEPOINT
            # commit at once; take that over so that savepoints nest in the caller's
            # transaction as on PostgreSQL (SQLAlchemy's documented pysqlite recipe).
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql"):
        kwargs["connect_args"] = postgres_connect_args() | kwargs.get("connect_args", {})
    return create_engine(url, **kwargs)


@lru_cache
def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    return make_engine(settings.database_url)


@lru_cache
def _session_factory() -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction commits at the end of the block or rolls back on error."""
    factory = sessionmaker(bind=engine, expire_on_commit=False) if engine else _session_factory()
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_engine() -> None:
    """Forget the cached engine (tests that switch databases call this)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _session_factory.cache_clear()
