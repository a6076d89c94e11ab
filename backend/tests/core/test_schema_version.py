"""The schema revision check without Alembic: the code's list of revisions, what a database at
another revision stands for, and where a process first opens a session."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import text

from app.core import probe
from app.core.db import make_engine, session_scope
from app.core.errors import SchemaNewerThanCode, SchemaOutOfDate
from app.core.migrate import alembic_config, upgrade_database
from app.core.schema_version import HEAD_REVISION, REVISIONS, schema_mismatch
from app.models.person import Person
from tests.conftest import BACKENDS

BEHIND = REVISIONS[-2]
"""One revision behind head: a database no query of most commands fails on (as 0007 was
when 0008 only added an index)."""


def _set_version(url: str, revision: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    finally:
        engine.dispose()


def test_revisions_match_alembic_scripts_when_listed() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    oldest_first = [r.revision for r in script.walk_revisions()][::-1]
    assert list(REVISIONS) == oldest_first
    assert script.get_current_head() == HEAD_REVISION


def test_schema_mismatch_tells_behind_from_ahead() -> None:
    assert schema_mismatch({HEAD_REVISION}) is None
    behind = schema_mismatch({BEHIND})
    assert isinstance(behind, SchemaOutOfDate)
    assert behind.detail == f"database at {BEHIND}, code at {HEAD_REVISION}"
    for never in (None, set()):
        assert isinstance(schema_mismatch(never), SchemaOutOfDate)
    ahead = schema_mismatch({"0099"})
    assert isinstance(ahead, SchemaNewerThanCode)
    assert not isinstance(ahead, SchemaOutOfDate)  # `migrate` is not the answer
    assert "0099" in str(ahead) and "newer than this release" in str(ahead)


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_session_scope_refuses_schema_behind_until_migrated(
    blank_database_url: str, configure: Callable[[str], None]
) -> None:
    command.upgrade(alembic_config(blank_database_url), BEHIND)
    configure(blank_database_url)

    for _ in range(2):  # asked again: a worker goes on once `migrate` has run
        behind = f"database at {BEHIND}, code at {HEAD_REVISION}"
        with pytest.raises(SchemaOutOfDate, match=behind), session_scope():
            pass
    upgrade_database(blank_database_url)

    with session_scope() as session:  # same process, same engine: no restart needed
        assert session.query(Person).count() == 0


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_session_scope_refuses_schema_of_newer_release(
    blank_database_url: str, configure: Callable[[str], None]
) -> None:
    upgrade_database(blank_database_url)
    _set_version(blank_database_url, "0099")
    configure(blank_database_url)

    with pytest.raises(SchemaNewerThanCode, match="database at 0099"), session_scope():
        pass


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_probe_schema_names_behind_and_ahead(
    blank_database_url: str, configure: Callable[[str], None], capsys: pytest.CaptureFixture[str]
) -> None:
    command.upgrade(alembic_config(blank_database_url), BEHIND)
    configure(blank_database_url)
    assert probe.main(["schema"]) == 1
    assert capsys.readouterr().out == (
        f"schema out of date: database at {BEHIND}, code at {HEAD_REVISION}"
        " (run `residency-scheduler migrate`)\n"
    )

    upgrade_database(blank_database_url)
    assert probe.main(["schema"]) == 0
    assert capsys.readouterr().out == f"schema at head {HEAD_REVISION}\n"

    _set_version(blank_database_url, "0099")
    assert probe.main(["schema"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("schema newer than the code: database at 0099"), out
