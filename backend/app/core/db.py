"""Engine and sessions.

``session_scope()`` is for tasks and the CLI: the caller owns the transaction, which commits
when the block ends and rolls back on any error. The API uses its own request-scoped
dependency (``app.api.deps.SessionDep``), built on it. The first session of the configured
database in a process checks that its schema is at the code's head revision
(``app.core.schema_version``); until it is, every ``session_scope()`` checks again and raises.

An analysis reads the schedule with several SELECTs; ``begin_consistent_read`` makes them see
one state of the database even while an import commits (REPEATABLE READ on PostgreSQL).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from app.core import json_codec
from app.core.config import get_settings
from app.core.errors import DatabaseMissing
from app.core.schema_version import check_schema_version

PRIVATE_FOLDER_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` (and missing parents) readable by its owner only; an existing
    folder is left as it is (it may be shared on purpose, e.g. /tmp)."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in reversed(missing):
        path.mkdir(mode=PRIVATE_FOLDER_MODE, exist_ok=True)
        os.chmod(path, PRIVATE_FOLDER_MODE)  # mkdir's mode is masked by the umask


def sqlite_file(url: str) -> Path | None:
    """The database file of the SQLite ``url``; None for an in-memory database (``sqlite://``,
    ``:memory:``) and for a ``file:`` URI, whose mode (memory, read-only) SQLite reads."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def require_sqlite_file(url: str) -> None:
    """Refuse a SQLite ``url`` whose database file does not exist, before SQLite creates it.

    Raises:
        DatabaseMissing: the file is not there (a mistyped ``DATABASE_URL``, or a database
            never migrated: only ``residency-scheduler migrate`` creates it).
    """
    path = sqlite_file(url)
    if path is not None and not path.exists():
        raise DatabaseMissing(str(path))


def make_private_sqlite_file(url: str) -> None:
    """Before SQLite creates the database file of ``url``, create it empty, owner-only.

    The database holds private absence reasons; SQLite would create it world-readable
    (0644 under the usual umask). Its ``-wal`` and ``-shm`` files take the same mode. A file
    that exists is left as it is; in-memory databases need nothing.
    """
    path = sqlite_file(url)
    if path is None or path.exists():
        return
    make_private_folder(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        return  # another process created it first
    os.chmod(path, PRIVATE_FILE_MODE)


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
    """An engine for ``url``; SQLite gets foreign keys on and a busy timeout, and a database
    file it creates is readable by its owner only (``make_private_sqlite_file``); PostgreSQL
    gets the connect and statement timeouts of ``postgres_connect_args``. JSON columns are
    written and read with ``app.core.json_codec`` (megabyte reports: several times faster)."""
    kwargs.setdefault("json_serializer", json_codec.dumps)
    kwargs.setdefault("json_deserializer", json_codec.loads)
    if url.startswith("sqlite"):
        make_private_sqlite_file(url)
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
    """The process-wide engine for the configured database, which must exist.

    A SQLite file that is not there is refused (``require_sqlite_file``), not created empty:
    migrating (``app.core.migrate.upgrade_database``) creates it, on an engine of its own.
    """
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        require_sqlite_file(settings.database_url)
        make_private_folder(settings.DATA_DIR)
    return make_engine(settings.database_url)


@lru_cache
def _session_factory() -> sessionmaker[Session]:
    """Sessions of the configured database, made once its schema is found at head.

    Not cached while the check fails: a worker or the API goes on once ``migrate`` has run.
    """
    engine = get_engine()
    check_schema_version(engine)
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session whose transaction commits at the end of the block or rolls back on error.

    Without ``engine``: a session of the configured database, whose schema is checked first
    (once per process).

    Raises:
        SchemaOutOfDate: the configured database is behind the code's migrations.
        SchemaNewerThanCode: a newer release migrated it.
    """
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


def begin_consistent_read(session: Session) -> None:
    """Make the session's transaction one consistent view of the database.

    Every analysis reads its snapshot (and, for the health check, the latest report) with
    several SELECTs. Under PostgreSQL's default READ COMMITTED each of them would see what was
    committed when it started, so an import committed meanwhile would give a snapshot mixing
    old and new rows. On PostgreSQL the transaction is begun REPEATABLE READ: all its
    statements see the data as of its first one. SQLite needs nothing: a transaction (WAL
    mode) reads from one snapshot of the file until it ends.

    Call it before the first statement of the transaction. A transaction that has begun
    already is left as it is: its owner chose its level (tests that read their own
    uncommitted rows do).
    """
    if session.in_transaction() or session.get_bind().dialect.name != "postgresql":
        return
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


@contextmanager
def committed_view(session: Session) -> Iterator[Session]:
    """A short session on its own connection that sees what is committed now.

    Under a consistent view (``begin_consistent_read``) rows that another run committed
    since the view began are invisible; a handler of a lost insert race reads the winner's
    row through this. Its objects are detached when the block ends (read them, don't change
    them).
    """
    with Session(session.get_bind(), expire_on_commit=False) as other:
        yield other


def vacuum_analyze(engine: Engine, tables: Sequence[str]) -> bool:
    """PostgreSQL: ``VACUUM (ANALYZE, SKIP_LOCKED)`` ``tables``, on an autocommit connection
    (VACUUM cannot run in a transaction); a table another VACUUM holds is skipped, not waited
    for. Other databases: nothing. Returns whether it ran."""
    if engine.dialect.name != "postgresql":
        return False
    quote = engine.dialect.identifier_preparer.quote
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql(
            "VACUUM (ANALYZE, SKIP_LOCKED) " + ", ".join(quote(table) for table in tables)
        )
    return True


def reset_engine() -> None:
    """Forget the cached engine (tests that switch databases call this)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose()
    get_engine.cache_clear()
    _session_factory.cache_clear()
