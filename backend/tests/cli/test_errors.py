"""Errors that say what to do: an unreachable database (exit 75), an unmigrated one or one
behind or ahead of the code's migrations (exit 78).

Every command runs as a user would (Typer's runner on the whole ``residency-scheduler`` app)
against a configured database that is wrong in one way; each must print one ``error:`` line
and no traceback, never the password of the URL.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import make_url, text
from typer.testing import CliRunner

from app.cli.main import app as cli_app
from app.core.config import get_settings
from app.core.db import make_engine, reset_engine
from app.core.errors import SchemaOutOfDate, TransientError, exit_code_for, translate_error
from app.core.migrate import alembic_config, schema_revisions, upgrade_database
from app.core.schema_version import HEAD_REVISION, REVISIONS
from tests.conftest import BACKENDS
from tests.programs.factories import small_program
from tests.support.services import ensure_postgres

PASSWORD = "s3cret-Pw"

# One invocation of every command that opens the database.
COMMANDS = [
    ["analyze", "health"],
    ["analyze", "contingency", "--days-ahead", "3"],
    ["what-if", "absence", "--person", "F1", "--from", "2027-01-04", "--to", "2027-01-05"],
    ["absences", "list"],
    ["absences", "add", "--person", "F1", "--from", "2027-01-04", "--to", "2027-01-05"],
    ["absences", "remove", "A1"],
    ["export", "-"],
    ["demo-data", "--weeks", "4"],
    ["import", "{program}"],
    ["absences", "import-csv", "{csv}"],
    ["users", "add", "casey", "--role", "admin"],
    ["users", "list"],
    ["tokens", "create", "casey"],
    ["tokens", "revoke", "1"],
]


def _configure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    reset_engine()


@pytest.fixture(autouse=True)
def _forget_settings() -> Iterator[None]:
    yield
    reset_engine()
    get_settings.cache_clear()


def _run(args: list[str], tmp_path: Path) -> tuple[int, str]:
    program = tmp_path / "program.json"
    program.write_text(__import__("json").dumps(small_program()), encoding="utf-8")
    csv = tmp_path / "leave.csv"
    csv.write_text("person_id,start,end,type\nF1,2027-01-04,2027-01-05,sick\n", encoding="utf-8")
    args = [a.format(program=program, csv=csv) for a in args]
    result = CliRunner().invoke(cli_app, args)
    return result.exit_code, result.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("args", [*COMMANDS, ["migrate"]], ids=lambda a: " ".join(a[:2]))
def test_command_exits_75_naming_host_when_database_port_is_closed(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    port = _closed_port()
    url = f"postgresql+psycopg://scheduler:{PASSWORD}@127.0.0.1:{port}/scheduler"
    _configure(monkeypatch, tmp_path, url)

    code, stderr = _run(args, tmp_path)

    assert code == 75, stderr
    assert stderr.startswith("error: cannot reach the database scheduler on 127.0.0.1:")
    assert str(port) in stderr and "try again" in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert PASSWORD not in stderr and "Traceback" not in stderr


@pytest.mark.postgres
@pytest.mark.parametrize("args", [*COMMANDS, ["migrate"]], ids=lambda a: " ".join(a[:2]))
def test_command_exits_75_naming_database_when_it_does_not_exist(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    server = make_url(ensure_postgres())
    url = server.set(database="rs_no_such_db", password=PASSWORD)
    _configure(monkeypatch, tmp_path, url.render_as_string(hide_password=False))

    code, stderr = _run(args, tmp_path)

    assert code == 75, stderr
    assert 'database "rs_no_such_db" does not exist' in stderr
    assert len(stderr.strip().splitlines()) == 1, stderr
    assert PASSWORD not in stderr and "Traceback" not in stderr


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_command_says_run_migrate_when_database_is_not_migrated(
    args: list[str], blank_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    if blank_database_url.startswith("sqlite"):
        # An empty file is a SQLite database with no tables (no file at all: the test below).
        Path(make_url(blank_database_url).database or "").touch()
    _configure(monkeypatch, tmp_path, blank_database_url)

    code, stderr = _run(args, tmp_path)

    assert code == 78, stderr
    assert stderr.startswith(
        "error: the database schema is not up to date: run `residency-scheduler migrate`"
    )
    assert "Traceback" not in stderr
    # No command migrates on its own (import and demo-data used to, silently).
    reset_engine()
    engine = make_engine(blank_database_url)
    try:
        current, heads = schema_revisions(engine)
        assert current != heads
    finally:
        engine.dispose()


def _people(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())
    finally:
        engine.dispose()


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize(
    "args",
    [["absences", "list"], ["import", "{program}"], ["export", "-"]],
    ids=lambda a: " ".join(a[:2]),
)
def test_command_says_run_migrate_when_one_migration_is_missing(
    args: list[str], blank_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # These commands' queries do not touch what the last migration adds (as no query failed
    # without 0008's index): only the revision tells.
    behind = REVISIONS[-2]
    command.upgrade(alembic_config(blank_database_url), behind)
    _configure(monkeypatch, tmp_path, blank_database_url)

    code, stderr = _run(args, tmp_path)

    assert code == 78, stderr
    assert stderr == (
        "error: the database schema is not up to date: run `residency-scheduler migrate`"
        f" (database at {behind}, code at {HEAD_REVISION})\n"
    )
    assert _people(blank_database_url) == 0  # the import wrote nothing


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
@pytest.mark.parametrize("args", [["absences", "list"], ["migrate"]], ids=" ".join)
def test_command_says_newer_release_when_database_is_ahead(
    args: list[str], blank_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    upgrade_database(blank_database_url)
    engine = make_engine(blank_database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    finally:
        engine.dispose()
    _configure(monkeypatch, tmp_path, blank_database_url)

    code, stderr = _run(args, tmp_path)

    assert code == 78, stderr
    assert stderr.startswith(
        "error: the database schema is newer than this release of the engine: run the release"
        " that migrated it (database at 0099"
    ), stderr
    assert "migrate`" not in stderr and "Traceback" not in stderr
    engine = make_engine(blank_database_url)
    try:
        current, _ = schema_revisions(engine)
        assert current == {"0099"}  # `migrate` left it alone
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_command_refuses_sqlite_file_that_does_not_exist_and_creates_none(
    args: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "typo" / "schedler.db"  # DATABASE_URL with a mistyped path
    _configure(monkeypatch, tmp_path, f"sqlite:///{missing}")

    code, stderr = _run(args, tmp_path)

    assert code == 78, stderr
    assert stderr == (
        f"error: the database file {missing} does not exist: check DATABASE_URL, or run"
        " `residency-scheduler migrate` to create it\n"
    )
    assert not missing.parent.exists()  # neither the file nor its folder


def test_migrate_creates_the_sqlite_file_the_other_commands_refuse(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "new" / "scheduler.db"
    _configure(monkeypatch, tmp_path, f"sqlite:///{path}")
    runner = CliRunner()
    assert runner.invoke(cli_app, ["users", "list"]).exit_code == 78

    migrated = runner.invoke(cli_app, ["migrate"])
    assert migrated.exit_code == 0, migrated.output
    assert path.is_file()

    listed = runner.invoke(cli_app, ["users", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.strip() == "[]"


@pytest.mark.parametrize("blank_database_url", BACKENDS, indirect=True)
def test_schema_revisions_match_heads_when_migrated_only(blank_database_url: str) -> None:
    engine = make_engine(blank_database_url)
    try:
        current, heads = schema_revisions(engine)
        assert current != heads
        upgrade_database(blank_database_url)
        current, heads = schema_revisions(engine)
        assert current == heads
    finally:
        engine.dispose()


def test_translate_error_makes_broker_connection_errors_transient() -> None:
    for error in (KombuOperationalError("[Errno 111] Connection refused"),
                  RedisConnectionError("Error 111 connecting to localhost:6379.")):  # fmt: skip
        mapped = translate_error(error, database_url="sqlite:///x.db")
        assert isinstance(mapped, TransientError) and exit_code_for(mapped) == 75
        assert "broker is unavailable" in str(mapped)


def test_translate_error_leaves_unknown_errors_alone() -> None:
    assert translate_error(ValueError("bug"), database_url="sqlite:///x.db") is None
    assert exit_code_for(SchemaOutOfDate()) == 78
