"""``users add|list|disable`` and ``tokens create|list|revoke`` (registered in ``app.cli.main``),
and the caller of commands that act for a person.

These commands manage who may use the API and the privileged commands; they need the
database settings, not a token (the first admin has none). ``tokens create`` prints the token
once; nothing else ever prints or logs a token or its digest.

Commands that act for a caller take ``token: TokenOption`` (``--token``, or the
RESIDENCY_SCHEDULER_TOKEN environment variable) and call ``caller_from_cli(session, token)``
inside their transaction, then ``app.auth.service.require_role``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy.orm import Session

from app.auth.service import (
    ROLE_NAMES,
    add_user,
    authenticate,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    revoke_token,
)
from app.cli.options import JsonOption
from app.cli.output import OutputConsole, reported_errors
from app.core.db import session_scope
from app.core.errors import NotAuthenticated
from app.models.base import iso_utc, shown_time
from app.models.user import ApiToken, User

TOKEN_ENV = "RESIDENCY_SCHEDULER_TOKEN"

TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        show_envvar=True,
        metavar="TOKEN",
        help="Your API token (better: set it in the environment, not on the command line).",
    ),
]

_out = OutputConsole(soft_wrap=True, highlight=False, markup=False)

users_app = typer.Typer(
    help="Add, list and disable users.", no_args_is_help=True, rich_markup_mode=None
)
tokens_app = typer.Typer(
    help="Create, list and revoke API tokens.", no_args_is_help=True, rich_markup_mode=None
)


def caller_from_cli(session: Session, token: str | None) -> User:
    """The user whose token the command was given (``TokenOption``: ``--token`` or
    RESIDENCY_SCHEDULER_TOKEN); its last use is recorded in ``session``'s transaction.

    Raises:
        NotAuthenticated: no token given, or one that does not authenticate (exit 4).
    """
    if not token:
        raise NotAuthenticated(f"this command needs an API token: give --token or set {TOKEN_ENV}")
    return authenticate(session, token)


def _when(moment: datetime | None) -> str | None:
    return None if moment is None else iso_utc(moment)


def _shown(when: str | None, empty: str = "") -> str:
    """An ISO time of ``_when`` as the readable views show times, or ``empty``."""
    return empty if when is None else shown_time(when)


def _user_json(user: User) -> dict[str, Any]:
    return {"username": user.username, "role": user.role, "created_at": _when(user.created_at),
            "disabled_at": _when(user.disabled_at)}  # fmt: skip


def _token_json(row: ApiToken) -> dict[str, Any]:
    """What a listing shows of a token: never the token or its digest."""
    return {
        "id": row.id,
        "username": row.user.username,
        "prefix": row.prefix,
        "label": row.label,
        "created_at": _when(row.created_at),
        "last_used_at": _when(row.last_used_at),
        "revoked_at": _when(row.revoked_at),
    }


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Login name, e.g. casey.")],
    role: Annotated[str, typer.Option("--role", metavar="ROLE", help=f"One of: {ROLE_NAMES}.")],
) -> None:
    """Add a user with a role."""
    with reported_errors(), session_scope() as session:
        user = add_user(session, name, role)
    _out.print(f"added user {user.username} ({user.role})")


@users_app.command("list")
def users_list(as_json: JsonOption = False) -> None:
    """List the users with their roles, disabled ones included."""
    with reported_errors(), session_scope() as session:
        users = [_user_json(u) for u in list_users(session)]
    if as_json:
        print(json.dumps(users, indent=2))
        return
    table = Table("user", "role", "created", "disabled")
    for u in users:
        table.add_row(u["username"], u["role"], _shown(u["created_at"]), _shown(u["disabled_at"]))
    _out.print(table)
    _out.print(f"{len(users)} user(s)")


@users_app.command("disable")
def users_disable(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Login name.")],
) -> None:
    """Disable a user: none of its tokens works any more."""
    with reported_errors(), session_scope() as session:
        user = disable_user(session, name)
    _out.print(f"disabled user {user.username}: its tokens no longer work")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user the token is for.")],
    label: Annotated[
        str | None, typer.Option("--label", metavar="TEXT", help="What the token is for.")
    ] = None,
) -> None:
    """Create an API token for a user and print it (once: only its digest is stored)."""
    with reported_errors(), session_scope() as session:
        row, token = create_token(session, name, label)
    _out.print(f"API token {row.id} for {row.user.username} (prefix {row.prefix}):")
    print(token)
    _out.print("Keep it now: it will not be shown again.")


@tokens_app.command("list")
def tokens_list(
    name: Annotated[
        str | None, typer.Argument(metavar="[NAME]", help="Only the tokens of this user.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List API tokens (prefix, label, dates; never the token itself)."""
    with reported_errors(), session_scope() as session:
        rows = [_token_json(r) for r in list_tokens(session, name)]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table("id", "user", "prefix", "label", "created", "last used", "revoked")
    for r in rows:
        used, revoked = _shown(r["last_used_at"], "never"), _shown(r["revoked_at"])
        table.add_row(str(r["id"]), r["username"], r["prefix"], r["label"] or "",
                      _shown(r["created_at"]), used, revoked)  # fmt: skip
    _out.print(table)
    _out.print(f"{len(rows)} token(s)")


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[int, typer.Argument(metavar="ID", help="Token id (tokens list).")],
) -> None:
    """Revoke an API token: it stops working at once."""
    with reported_errors(), session_scope() as session:
        row = revoke_token(session, token_id)
    _out.print(f"revoked API token {row.id} ({row.prefix}) of {row.user.username}")
