"""Users and their API tokens, and the checks of who may do what.

Every function works in the caller's transaction and commits nothing (the CLI's
``session_scope``, the API's request session). Bad input raises before anything is added to
the session, so a refused call writes nothing.

Roles, least to most trusted: viewer < coordinator < program_director < admin
(``Role.at_least``). A disabled user keeps its rows (the audit trail names it) but none of its
tokens authenticates any more, and it cannot approve anything.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.tokens import new_token, token_digest, token_prefix
from app.core.errors import InputError, NotAuthenticated, NotFound, PermissionDenied
from app.models.base import utcnow
from app.models.user import TOKEN_LABEL_MAX_CHARS, USERNAME_MAX_CHARS, ApiToken, Role, User

_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]*")
ROLE_NAMES = ", ".join(r.value for r in Role)
LAST_USED_RESOLUTION = timedelta(minutes=1)
"""A token's ``last_used_at`` is written at most this often."""
BAD_TOKEN = "the API token is not valid (unknown, revoked, or its user is disabled)"


def add_user(session: Session, username: str, role: Role | str) -> User:
    """Add a user named ``username`` with ``role``.

    Raises:
        InputError: the name is empty, too long, has characters other than letters, digits
            and ``. _ @ -`` (after a letter or digit), or is taken; or the role is unknown.
    """
    if not username:
        raise InputError("the user name is empty")
    if len(username) > USERNAME_MAX_CHARS:
        raise InputError(f"the user name is longer than {USERNAME_MAX_CHARS} characters")
    if not _USERNAME.fullmatch(username):
        raise InputError(
            f"user name {username!r}: use letters, digits and . _ @ - (starting with a letter"
            " or digit)"
        )
    try:
        checked = Role(role)
    except ValueError:
        raise InputError(f"unknown role {role!r}: one of {ROLE_NAMES}") from None
    if _find_user(session, username) is not None:
        raise InputError(f"a user named {username!r} exists already")
    user = User(username=username, role=checked.value)
    session.add(user)
    session.flush()
    return user


def list_users(session: Session) -> list[User]:
    """Every user, disabled ones included, by name."""
    return list(session.scalars(select(User).order_by(User.username)))


def disable_user(session: Session, username: str) -> User:
    """Disable ``username``: none of its tokens authenticates from now on (a user disabled
    already keeps its first date).

    Raises:
        NotFound: no user has that name.
    """
    user = _user(session, username)
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        session.flush()
    return user


def create_token(session: Session, username: str, label: str | None = None) -> tuple[ApiToken, str]:
    """A new token of ``username``: its row and the token itself, which is not stored (only
    its digest) and so cannot be shown again.

    Raises:
        NotFound: no user has that name.
        InputError: the user is disabled, or the label is too long or has control characters.
    """
    if label is not None and len(label) > TOKEN_LABEL_MAX_CHARS:
        raise InputError(f"the label is longer than {TOKEN_LABEL_MAX_CHARS} characters")
    if label is not None and not label.isprintable():
        raise InputError("the label has control characters")
    user = _user(session, username)
    if user.disabled_at is not None:
        raise InputError(f"user {username!r} is disabled: no new token")
    token = new_token()
    row = ApiToken(
        user=user, label=label or None, token_hash=token_digest(token), prefix=token_prefix(token)
    )
    session.add(row)
    session.flush()
    return row, token


def list_tokens(session: Session, username: str | None = None) -> list[ApiToken]:
    """The tokens of ``username`` (or of every user), oldest first, revoked ones included.

    Raises:
        NotFound: ``username`` is given and no user has that name.
    """
    query = select(ApiToken).order_by(ApiToken.id)
    if username is not None:
        query = query.where(ApiToken.user_id == _user(session, username).id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    """Revoke the token with id ``token_id`` (one revoked already keeps its first date).

    Raises:
        NotFound: no token has that id.
    """
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound(f"no API token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> User:
    """The user of ``token``; its ``last_used_at`` becomes ``now`` (default: the clock) when
    it is older than ``LAST_USED_RESOLUTION``.

    Writing on every call would make every API read a write: concurrent requests would
    contend for the database's write lock (on SQLite, a read transaction that another
    request's write overtook cannot write at all).

    Raises:
        NotAuthenticated: the token is unknown or revoked, or its user is disabled (one
            message for all three: a caller learns nothing about which).
    """
    digest = token_digest(token)
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == digest)).one_or_none()
    # The lookup is by digest, so its timing tells nothing about the token; the comparison
    # is constant-time all the same, for a database that compares loosely (collations).
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise NotAuthenticated(BAD_TOKEN)
    if row.revoked_at is not None or row.user.disabled_at is not None:
        raise NotAuthenticated(BAD_TOKEN)
    now = now or utcnow()
    last = row.last_used_at
    if last is None or not (timedelta(0) <= now - last < LAST_USED_RESOLUTION):
        row.last_used_at = now
        session.flush()
    return row.user


def require_role(user: User, minimum: Role) -> None:
    """Nothing when ``user``'s role is ``minimum`` or above.

    Raises:
        PermissionDenied: the role is lower (the message names the role needed).
    """
    if not Role(user.role).at_least(minimum):
        raise PermissionDenied(
            f"this needs the {minimum.value} role or above; {user.username} is {user.role}"
        )


def user_with_role(session: Session, username: str, minimum: Role) -> User:
    """The enabled user ``username`` holding ``minimum`` or above (e.g. a crisis approver).

    Raises:
        PermissionDenied: no such user, a disabled one, or a lower role.
    """
    user = _find_user(session, username)
    if user is None:
        raise PermissionDenied(f"no user named {username!r} (needs the {minimum.value} role)")
    if user.disabled_at is not None:
        raise PermissionDenied(f"user {username!r} is disabled")
    require_role(user, minimum)
    return user


def _find_user(session: Session, username: str) -> User | None:
    return session.scalars(select(User).where(User.username == username)).one_or_none()


def _user(session: Session, username: str) -> User:
    user = _find_user(session, username)
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user
