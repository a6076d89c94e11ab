"""Typed dependencies of the routes: the request's session, its caller and the caller's role.

``SessionDep`` is one transaction per request: committed before the response is sent, rolled
back when the request fails (a refused request writes nothing). ``Viewer``, ``Coordinator``
and ``Director`` are the caller, authenticated by a bearer API token and holding at least that
role (401 without a valid token, 403 with a lower role); failed sign-ins are counted per
client address (``SignInLimiter``). ``CeleryDep`` is the Celery app tasks are sent with.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from celery import Celery
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.api.ratelimit import SignInLimiter
from app.auth.service import authenticate, require_role
from app.core.config import Settings, get_settings
from app.core.db import session_scope
from app.core.errors import NotAuthenticated, TransientError, translate_error
from app.models.user import Role, User

AUTH_ATTEMPTS = 3


def get_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_celery(request: Request) -> Celery:
    """The Celery app tasks are sent with (``app.core.celery_app`` unless a test set one)."""
    celery: Celery = request.app.state.celery
    return celery


CeleryDep = Annotated[Celery, Depends(get_celery)]

_bearer = HTTPBearer(
    auto_error=False, description="An API token: `residency-scheduler tokens create`"
)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def signin_limiter(request: Request) -> SignInLimiter:
    limiter: SignInLimiter = request.app.state.signin_limiter
    return limiter


def sign_in(request: Request, token: str) -> User:
    """The user of ``token``; a bad token counts as a failed sign-in of the client.

    The token is checked in its own short transaction (it may record the token's last use),
    tried again when that write lost a race with another request's: the next try finds the
    last use recorded and writes nothing.

    Raises:
        HTTPException: 429 when the client has failed too often lately.
        NotAuthenticated: the token is unknown or revoked, or its user disabled.
    """
    limiter, client = signin_limiter(request), client_address(request)
    limiter.check(client)
    for attempt in range(AUTH_ATTEMPTS):
        try:
            with session_scope() as session:
                return authenticate(session, token)
        except NotAuthenticated:
            limiter.failed(client)
            raise
        except DBAPIError as exc:
            error = translate_error(exc, database_url=get_settings().database_url)
            if not isinstance(error, TransientError) or attempt == AUTH_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise NotAuthenticated("this needs an API token: send `Authorization: Bearer <token>`")
    return sign_in(request, credentials.credentials)


def _with_role(minimum: Role) -> Callable[[User], User]:
    def dependency(user: Annotated[User, Depends(current_user)]) -> User:
        require_role(user, minimum)
        return user

    return dependency


Viewer = Annotated[User, Depends(_with_role(Role.VIEWER))]
Coordinator = Annotated[User, Depends(_with_role(Role.COORDINATOR))]
Director = Annotated[User, Depends(_with_role(Role.PROGRAM_DIRECTOR))]
