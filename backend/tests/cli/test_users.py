"""``users`` and ``tokens`` commands, and ``caller_from_cli``, run as a user would."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
import typer
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from app.cli.main import app as cli_app
from app.cli.output import reported_errors
from app.cli.users import TOKEN_ENV, TokenOption, caller_from_cli
from app.core.db import session_scope
from app.models.user import ApiToken, User


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli_app, list(args), env=env)


def _users(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(u.username, u.role) for u in session.scalars(select(User).order_by(User.id))]


def _create(name: str, *label: str) -> str:
    """The token ``tokens create`` prints (the one line that is not a sentence)."""
    result = _run("tokens", "create", name, *label)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "Keep it now: it will not be shown again."
    (token,) = [line for line in lines if line.startswith("rs_")]
    return token


def test_users_add_list_and_disable(configured_database: Engine) -> None:
    assert _run("users", "add", "casey", "--role", "coordinator").exit_code == 0
    assert _run("users", "add", "pat", "--role", "program_director").exit_code == 0
    result = _run("users", "disable", "pat")
    assert result.exit_code == 0 and "disabled user pat" in result.stdout
    listed = _run("users", "list", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["disabled_at"] is None) for r in rows] == [
        ("casey", "coordinator", True),
        ("pat", "program_director", False),
    ]
    table = _run("users", "list")
    assert "casey" in table.stdout and "2 user(s)" in table.stdout
    # Times as every readable view shows them, not in ISO form.
    created = datetime.fromisoformat(rows[0]["created_at"])
    assert f"{created:%Y-%m-%d %H:%M} UTC" in table.stdout
    assert rows[0]["created_at"] not in table.stdout


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["users", "add", "new", "--role", "boss"], 2, "unknown role 'boss'"),
        (["users", "add", "casey", "--role", "admin"], 2, "exists already"),
        (["users", "add", "", "--role", "admin"], 2, "empty"),
        (["users", "disable", "nobody"], 3, "no user named 'nobody'"),
        (["tokens", "create", "nobody"], 3, "no user named 'nobody'"),
        (["tokens", "list", "nobody"], 3, "no user named 'nobody'"),
        (["tokens", "revoke", "999"], 3, "no API token with id 999"),
        (["tokens", "create", "gone"], 2, "disabled"),
    ],
)
def test_bad_input_exits_with_its_code_and_writes_nothing(
    configured_database: Engine, args: list[str], code: int, says: str
) -> None:
    with Session(configured_database) as session:
        session.add_all([User(username="casey", role="viewer"), User(username="gone")])
        session.commit()
    _run("users", "disable", "gone")
    result = _run(*args)
    assert result.exit_code == code, result.output
    assert result.stderr.startswith("error: ") and says in result.stderr
    assert _users(configured_database) == [("casey", "viewer"), ("gone", "viewer")]
    with Session(configured_database) as session:
        assert session.scalars(select(ApiToken)).all() == []


def test_tokens_create_prints_token_once_and_stores_its_digest(
    configured_database: Engine,
) -> None:
    _run("users", "add", "casey", "--role", "admin")
    token = _create("casey", "--label", "laptop")
    with Session(configured_database) as session:
        (row,) = session.scalars(select(ApiToken)).all()
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.prefix, row.label) == (token[:12], "laptop")

    for args in (["tokens", "list"], ["tokens", "list", "casey", "--json"], ["users", "list"]):
        shown = _run(*args)
        assert shown.exit_code == 0, shown.output
        assert token not in shown.output and row.token_hash not in shown.output
        assert token[12:20] not in shown.output  # nothing past the prefix either
    (listed,) = json.loads(_run("tokens", "list", "--json").stdout)
    assert set(listed) == {"id", "username", "prefix", "label", "created_at", "last_used_at",
                           "revoked_at"}  # fmt: skip
    assert (listed["prefix"], listed["label"], listed["revoked_at"]) == (token[:12], "laptop", None)


def test_tokens_revoke_stops_the_token(configured_database: Engine) -> None:
    _run("users", "add", "casey", "--role", "admin")
    token = _create("casey")
    (listed,) = json.loads(_run("tokens", "list", "--json").stdout)
    result = _run("tokens", "revoke", str(listed["id"]))
    assert result.exit_code == 0 and "revoked API token" in result.stdout
    (listed,) = json.loads(_run("tokens", "list", "casey", "--json").stdout)
    assert listed["revoked_at"] is not None
    with pytest.raises(typer.Exit) as stopped, reported_errors(), session_scope() as session:
        caller_from_cli(session, token)
    assert stopped.value.exit_code == 4


# A command as later ones will write it: who calls, from --token or the environment.
_whoami = typer.Typer()


@_whoami.command()
def _whoami_cmd(token: TokenOption = None) -> None:
    with reported_errors(), session_scope() as session:
        user = caller_from_cli(session, token)
        print(user.username)


@pytest.mark.parametrize("where", ["option", "environment"])
def test_caller_from_cli_reads_option_or_environment(
    configured_database: Engine, where: str
) -> None:
    _run("users", "add", "casey", "--role", "coordinator")
    token = _create("casey")
    args, env = (["--token", token], {}) if where == "option" else ([], {TOKEN_ENV: token})
    result = CliRunner().invoke(_whoami, args, env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout == "casey\n"
    (listed,) = json.loads(_run("tokens", "list", "--json").stdout)
    assert listed["last_used_at"] is not None


@pytest.mark.parametrize("given", [None, "", "rs_not-a-real-token"])
def test_caller_from_cli_exits_4_without_a_valid_token(
    configured_database: Engine, given: str | None
) -> None:
    args = [] if given is None else ["--token", given]
    result = CliRunner().invoke(_whoami, args, env={TOKEN_ENV: ""})
    assert result.exit_code == 4, result.output
    expected = TOKEN_ENV if not given else "not valid"
    assert result.stderr.startswith("error: ") and expected in result.stderr
    if given:
        assert given not in result.stderr


def test_help_names_the_environment_variable_never_its_value() -> None:
    secret = "rs_secret-value-in-env"
    result = CliRunner().invoke(_whoami, ["--help"], env={TOKEN_ENV: secret})
    assert result.exit_code == 0
    assert TOKEN_ENV in result.stdout and secret not in result.stdout
