"""Is the database's schema the one this code was written for? Asked without Alembic.

Every migration in ``backend/alembic/versions`` is listed in ``REVISIONS``, oldest first (a
test checks the list against Alembic's own walk of the scripts), so the question costs one
``SELECT`` on ``alembic_version`` and no import of Alembic (whose script directory takes
about 0.15 s to load). ``app.core.db`` asks it where a process first opens a session (a
command, a worker's first task, the API's first request), so a database behind head only by
a migration that adds an index is noticed like one that lacks a table.

* the database's revision is ``HEAD_REVISION``: all is well;
* it is an older one of ``REVISIONS``, or there is no revision: ``SchemaOutOfDate``
  (run ``residency-scheduler migrate``);
* it is one this code does not know: ``SchemaNewerThanCode`` (a newer release migrated it;
  ``migrate`` never goes back).
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from app.core.errors import SchemaNewerThanCode, SchemaOutOfDate, translate_error

REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
)
"""Every Alembic revision of this code, oldest first (0004 was never released). A new
migration adds its id here (``tests/core/test_schema_version.py`` fails until it does)."""
HEAD_REVISION = REVISIONS[-1]
"""The revision ``residency-scheduler migrate`` brings a database to."""


def database_revisions(connection: Connection) -> set[str] | None:
    """The revisions in ``alembic_version``; None when the database has no such table
    (never migrated). Other database errors propagate. Give it a connection of its own: on
    PostgreSQL a missing table aborts the transaction the query ran in."""
    try:
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return {row[0] for row in rows}
    except DBAPIError as exc:
        url = connection.engine.url.render_as_string(hide_password=True)
        if isinstance(translate_error(exc, database_url=url), SchemaOutOfDate):
            return None
        raise


def schema_mismatch(revisions: set[str] | None) -> SchemaOutOfDate | SchemaNewerThanCode | None:
    """The error a database at ``revisions`` stands for, or None when it is at head."""
    if revisions == {HEAD_REVISION}:
        return None
    shown = ", ".join(sorted(revisions or ())) or "none"
    unknown = sorted((revisions or set()) - set(REVISIONS))
    if unknown:
        return SchemaNewerThanCode(
            f"database at {shown}, this release knows revisions up to {HEAD_REVISION}"
        )
    if not revisions:
        return SchemaOutOfDate(f"the database was never migrated; code at {HEAD_REVISION}")
    return SchemaOutOfDate(f"database at {shown}, code at {HEAD_REVISION}")


def check_schema_version(engine: Engine) -> None:
    """Raise unless the database of ``engine`` is at ``HEAD_REVISION`` (one query).

    Raises:
        SchemaOutOfDate: the database is behind the code, or was never migrated.
        SchemaNewerThanCode: the database was migrated by a newer release.
    """
    with engine.connect() as connection:
        error = schema_mismatch(database_revisions(connection))
    if error is not None:
        raise error
