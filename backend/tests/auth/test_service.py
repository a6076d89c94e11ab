"""Users, tokens and role checks of ``app.auth.service``, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.service import (
    add_user,
    authenticate,
    create_token,
    disable_user,
    list_tokens,
    list_users,
    require_role,
    revoke_token,
    user_with_role,
)
from app.auth.tokens import new_token, token_digest
from app.core.errors import (
    EXIT_CODES,
    HTTP_STATUS,
    InputError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    exit_code_for,
)
from app.models.user import ApiToken, Role, User

# Written by hand: may a user of the row's role do what needs the column's role?
ALLOWED = {
    #                   viewer coordinator program_director admin
    "viewer":           (True, False,      False,           False),
    "coordinator":      (True, True,       False,           False),
    "program_director": (True, True,       True,            False),
    "admin":            (True, True,       True,            True),
}  # fmt: skip
MINIMUMS = ["viewer", "coordinator", "program_director", "admin"]
CASES = [(role, MINIMUMS[i], ok) for role, row in ALLOWED.items() for i, ok in enumerate(row)]


def _utc(moment: datetime | None) -> datetime | None:
    """SQLite keeps no zone: its timestamps are UTC."""
    return moment.replace(tzinfo=moment.tzinfo or UTC) if moment is not None else None


def _count(session: Session, model: type[User] | type[ApiToken]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_new_token_is_random_and_digest_is_sha256_hex() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50
    token = tokens.pop()
    assert token.startswith("rs_") and len(token) >= 3 + 43  # 32 bytes of base64
    assert token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert len(token_digest(token)) == 64


def test_add_user_stores_name_and_role_when_valid(session: Session) -> None:
    add_user(session, "casey", Role.COORDINATOR)
    add_user(session, "ada.lovelace@example", "admin")
    session.commit()
    users = list_users(session)
    assert [(u.username, u.role, u.disabled_at) for u in users] == [
        ("ada.lovelace@example", "admin", None),
        ("casey", "coordinator", None),
    ]


@pytest.mark.parametrize(
    ("name", "role", "says"),
    [
        ("", "viewer", "empty"),
        ("x" * 101, "viewer", "longer than 100"),
        ("two words", "viewer", "letters, digits"),
        ("-dash", "viewer", "letters, digits"),
        ("casey", "superuser", "unknown role 'superuser'"),
        ("taken", "viewer", "exists already"),
    ],
)
def test_add_user_refuses_bad_input_and_writes_nothing(
    session: Session, name: str, role: str, says: str
) -> None:
    add_user(session, "taken", Role.ADMIN)
    session.commit()
    with pytest.raises(InputError, match=says) as raised:
        add_user(session, name, role)
    assert exit_code_for(raised.value) == 2
    session.commit()
    assert [(u.username, u.role) for u in list_users(session)] == [("taken", "admin")]


def test_add_user_accepts_a_name_of_exactly_100_characters(session: Session) -> None:
    assert add_user(session, "a" * 100, Role.VIEWER).username == "a" * 100


def test_create_token_stores_only_its_digest_when_created(session: Session) -> None:
    add_user(session, "casey", Role.COORDINATOR)
    row, token = create_token(session, "casey", "laptop")
    session.commit()
    stored = session.execute(select(ApiToken.__table__)).one()._asdict()
    assert stored["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in [str(v) for v in stored.values()]
    assert stored["prefix"] == token[:12] and stored["label"] == "laptop"
    assert (stored["last_used_at"], stored["revoked_at"]) == (None, None)
    assert row.user.username == "casey"


def test_create_token_refuses_unknown_or_disabled_user_or_bad_label(session: Session) -> None:
    add_user(session, "gone", Role.ADMIN)
    add_user(session, "casey", Role.ADMIN)
    disable_user(session, "gone")
    session.commit()
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        create_token(session, "nobody")
    with pytest.raises(InputError, match="disabled"):
        create_token(session, "gone")
    with pytest.raises(InputError, match="longer than 100"):
        create_token(session, "casey", "l" * 101)
    with pytest.raises(InputError, match="control characters"):
        create_token(session, "casey", "bad\x1b[31m")
    session.commit()
    assert _count(session, ApiToken) == 0


def test_authenticate_returns_user_and_records_last_use(session: Session) -> None:
    add_user(session, "casey", Role.COORDINATOR)
    row, token = create_token(session, "casey")
    session.commit()
    when = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    user = authenticate(session, token, now=when)
    session.commit()
    assert user.username == "casey"
    session.expire_all()
    stored = session.get(ApiToken, row.id)
    assert stored is not None and stored.last_used_at is not None
    assert _utc(stored.last_used_at) == when


def test_authenticate_writes_last_use_at_most_once_a_minute(session: Session) -> None:
    """A read request must not be a write each time (concurrent requests would contend)."""
    add_user(session, "casey", Role.VIEWER)
    row, token = create_token(session, "casey")
    first = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)
    authenticate(session, token, now=first)
    session.commit()
    for seconds, expected in ((59, first), (60, first + timedelta(seconds=60))):
        authenticate(session, token, now=first + timedelta(seconds=seconds))
        session.commit()
        session.expire_all()
        stored = session.get(ApiToken, row.id)
        assert stored is not None and stored.last_used_at is not None
        assert _utc(stored.last_used_at) == expected, seconds
    earlier = first - timedelta(hours=1)  # a clock set back: recorded as given
    authenticate(session, token, now=earlier)
    session.commit()
    session.expire_all()
    assert _utc(session.get(ApiToken, row.id).last_used_at) == earlier  # type: ignore[union-attr]


def test_authenticate_refuses_wrong_revoked_and_disabled_user_tokens(session: Session) -> None:
    add_user(session, "casey", Role.ADMIN)
    add_user(session, "dana", Role.ADMIN)
    revoked, revoked_token = create_token(session, "casey", "old")
    _, casey_token = create_token(session, "casey", "new")
    _, dana_token = create_token(session, "dana")
    revoke_token(session, revoked.id)
    disable_user(session, "dana")
    session.commit()
    wrong = [casey_token[:-1], casey_token + "x", "", new_token(), "rs_\udcff", "é" * 50]
    for bad in (revoked_token, dana_token, *wrong):
        with pytest.raises(NotAuthenticated, match="not valid") as raised:
            authenticate(session, bad)
        assert exit_code_for(raised.value) == 4
    assert authenticate(session, casey_token).username == "casey"  # the others still work


def test_disable_user_makes_every_token_of_it_fail(session: Session) -> None:
    add_user(session, "casey", Role.ADMIN)
    tokens = [create_token(session, "casey", label)[1] for label in ("a", "b")]
    first = disable_user(session, "casey").disabled_at
    session.commit()
    assert first is not None
    assert _utc(disable_user(session, "casey").disabled_at) == first  # again: unchanged
    for token in tokens:
        with pytest.raises(NotAuthenticated):
            authenticate(session, token)
    with pytest.raises(NotFound, match="no user named 'nobody'"):
        disable_user(session, "nobody")


def test_list_tokens_of_one_user_or_all_and_revoke(session: Session) -> None:
    add_user(session, "casey", Role.ADMIN)
    add_user(session, "dana", Role.VIEWER)
    a, _ = create_token(session, "casey", "a")
    b, _ = create_token(session, "dana", "b")
    c, _ = create_token(session, "casey", "c")
    session.commit()
    assert [t.label for t in list_tokens(session)] == ["a", "b", "c"]
    assert [t.id for t in list_tokens(session, "casey")] == [a.id, c.id]
    with pytest.raises(NotFound):
        list_tokens(session, "nobody")
    revoked_at = revoke_token(session, b.id).revoked_at
    session.commit()
    assert revoked_at is not None
    assert _utc(revoke_token(session, b.id).revoked_at) == revoked_at  # again: unchanged
    with pytest.raises(NotFound, match=f"no API token with id {c.id + 100}"):
        revoke_token(session, c.id + 100)


def test_deleting_a_user_deletes_its_tokens(session: Session) -> None:
    add_user(session, "casey", Role.ADMIN)
    create_token(session, "casey")
    session.commit()
    session.execute(User.__table__.delete())
    session.commit()
    assert _count(session, ApiToken) == 0


@pytest.mark.parametrize(("role", "minimum", "allowed"), CASES)
def test_require_role_follows_the_table(role: str, minimum: str, allowed: bool) -> None:
    user = User(username="u", role=role)
    if allowed:
        require_role(user, Role(minimum))
        return
    with pytest.raises(PermissionDenied, match=f"needs the {minimum} role") as raised:
        require_role(user, Role(minimum))
    assert not isinstance(raised.value, NotAuthenticated)
    assert exit_code_for(raised.value) == 4


@pytest.mark.parametrize(("role", "minimum", "allowed"), CASES)
def test_user_with_role_follows_the_table(
    session: Session, role: str, minimum: str, allowed: bool
) -> None:
    add_user(session, "approver", role)
    if allowed:
        assert user_with_role(session, "approver", Role(minimum)).username == "approver"
    else:
        with pytest.raises(PermissionDenied, match=f"needs the {minimum} role"):
            user_with_role(session, "approver", Role(minimum))


def test_user_with_role_refuses_unknown_and_disabled_users(session: Session) -> None:
    add_user(session, "boss", Role.ADMIN)
    disable_user(session, "boss")
    with pytest.raises(PermissionDenied, match="no user named 'nobody'"):
        user_with_role(session, "nobody", Role.VIEWER)
    with pytest.raises(PermissionDenied, match="disabled"):
        user_with_role(session, "boss", Role.VIEWER)


def test_not_authenticated_maps_to_exit_4_and_http_401() -> None:
    assert issubclass(NotAuthenticated, PermissionDenied)
    assert (EXIT_CODES[NotAuthenticated], HTTP_STATUS[NotAuthenticated]) == (4, 401)
    assert (EXIT_CODES[PermissionDenied], HTTP_STATUS[PermissionDenied]) == (4, 403)
