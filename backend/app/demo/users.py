"""Demo users for ``make run``: a coordinator and a program director, with fresh tokens.

``python -m app.demo.users`` adds the two users when they are missing (idempotent), revokes
the tokens an earlier ``make run`` made for them, and prints one new sign-in token each, as
``username<TAB>role<TAB>token`` lines. Only ``make run`` (a development machine) calls it.
"""

from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from app.auth.service import add_user, create_token, list_tokens, list_users, revoke_token
from app.models.user import Role

DEMO_USERS = (("demo-coordinator", Role.COORDINATOR), ("demo-director", Role.PROGRAM_DIRECTOR))
TOKEN_LABEL = "make run"


def demo_tokens(session: Session) -> list[tuple[str, Role, str]]:
    """Each demo user (added if missing) with a new token; their older ``make run`` tokens
    are revoked. A demo user whose name exists keeps its role."""
    existing = {u.username: u for u in list_users(session)}
    out = []
    for username, role in DEMO_USERS:
        user = existing.get(username) or add_user(session, username, role)
        for token in list_tokens(session, username):
            if token.label == TOKEN_LABEL and token.revoked_at is None:
                revoke_token(session, token.id)
        _, plaintext = create_token(session, username, label=TOKEN_LABEL)
        out.append((username, Role(user.role), plaintext))
    return out


def main() -> int:
    from app.core.db import session_scope

    with session_scope() as session:
        rows = demo_tokens(session)
    for username, role, token in rows:
        print(f"{username}\t{role.value}\t{token}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
