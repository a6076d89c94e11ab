"""Bring a database's tables up to date (``alembic upgrade head``, from Python), or ask."""

from __future__ import annotations

from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from app.core.config import BACKEND_DIR, get_settings
from app.core.db import make_engine, make_private_sqlite_file, sqlite_file
from app.core.errors import SchemaNewerThanCode
from app.core.schema_version import HEAD_REVISION, database_revisions, schema_mismatch

ALEMBIC_INI = BACKEND_DIR / "alembic.ini"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for ``url`` (default: the configured database) that keeps logging."""
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(BACKEND_DIR / "alembic"))
    config.attributes["url"] = url or get_settings().database_url
    config.attributes["configure_logger"] = False
    return config


@dataclass(frozen=True)
class Migration:
    """What ``upgrade_database`` did.

    Attributes:
        created: the SQLite database file did not exist and was created.
        before: the database's revisions before (empty: never migrated).
        after: the revision it is at now (``HEAD_REVISION``).
    """

    created: bool
    before: tuple[str, ...]
    after: str = HEAD_REVISION

    @property
    def changed(self) -> bool:
        """Whether any migration ran."""
        return self.before != (self.after,)


def upgrade_database(url: str | None = None) -> Migration:
    """Migrate ``url`` (default: the configured database) to the latest revision.

    Safe to call on every start: an up-to-date database is left as it is. For SQLite the
    folder of the database file (0700) and the file (0600) are created first.

    Returns:
        Whether the database was created, and its revisions before and after.

    Raises:
        SchemaNewerThanCode: a newer release migrated the database; it is left as it is.
    """
    config = alembic_config(url)
    parsed = make_url(config.attributes["url"])
    created = False
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_file(config.attributes["url"])
        created = path is not None and not path.exists()
        make_private_sqlite_file(config.attributes["url"])  # and its folder, owner-only
    before = _refuse_newer_schema(config.attributes["url"])
    command.upgrade(config, "head")
    return Migration(created=created, before=before)


def _refuse_newer_schema(url: str) -> tuple[str, ...]:
    """The database's revisions (none: never migrated), read before Alembic runs.

    Raises:
        SchemaNewerThanCode: Alembic would fail on the unknown revision with a traceback.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            revisions = database_revisions(conn)
    finally:
        engine.dispose()
    error = schema_mismatch(revisions)
    if isinstance(error, SchemaNewerThanCode):
        raise error
    return tuple(sorted(revisions or ()))


def schema_revisions(engine: Engine) -> tuple[set[str], set[str]]:
    """The database's Alembic revisions and the code's heads (equal: up to date).

    One query on ``alembic_version``; connection errors propagate to the caller.
    """
    heads = set(ScriptDirectory(str(BACKEND_DIR / "alembic")).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, heads
