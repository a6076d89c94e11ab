"""Roles and the single program row."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.program import Program
from app.models.user import Role, User

ROLES_LEAST_TRUSTED_FIRST = ["viewer", "coordinator", "program_director", "admin"]


@pytest.mark.parametrize(("a", "b"), list(itertools.product(ROLES_LEAST_TRUSTED_FIRST, repeat=2)))
def test_role_at_least_follows_trust_order_when_compared(a: str, b: str) -> None:
    expected = ROLES_LEAST_TRUSTED_FIRST.index(a) >= ROLES_LEAST_TRUSTED_FIRST.index(b)
    assert Role(a).at_least(Role(b)) is expected


def test_user_username_is_unique_when_stored_twice(session: Session) -> None:
    session.add(User(username="casey", role=Role.COORDINATOR))
    session.commit()
    session.add(User(username="casey", role=Role.ADMIN))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()


def test_program_table_refuses_second_row_when_inserted(session: Session) -> None:
    fields = {"name": "P", "timezone": "UTC", "main_site": "main", "academic_year_start": "07-01"}
    session.add(Program(id=1, **fields))
    session.commit()
    session.add(Program(id=2, **fields))
    with pytest.raises(IntegrityError):
        session.commit()
    session.rollback()
