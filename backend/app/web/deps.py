"""What every dashboard page needs: its signed-in user, its templates, CSRF checks and the
security headers (a strict Content-Security-Policy: no script at all, styles from here)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.api.deps import SessionDep
from app.models.base import shown_time
from app.models.user import Role, User
from app.web.session import PRESESSION_COOKIE, SESSION_COOKIE, SessionKeys, session_user

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")


TEMPLATES.env.filters["shown_time"] = shown_time

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
    " frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class SignInRequired(Exception):
    """No valid session: the page answers with a redirect to the sign-in form."""


class PageForbidden(Exception):
    """The signed-in user's role is too low for the page."""

    def __init__(self, needed: Role) -> None:
        super().__init__(needed.value)
        self.needed = needed


class CsrfRejected(Exception):
    """A form came without the CSRF token of this session."""


def keys(request: Request) -> SessionKeys:
    found: SessionKeys = request.app.state.session_keys
    return found


def page_user(request: Request, session: SessionDep) -> User:
    cookie = request.cookies.get(SESSION_COOKIE)
    token_id = keys(request).token_id_of(cookie) if cookie else None
    user = session_user(session, token_id) if token_id is not None else None
    if user is None:
        raise SignInRequired
    return user


PageUser = Annotated[User, Depends(page_user)]


def require_page_role(user: User, needed: Role) -> None:
    if not Role(user.role).at_least(needed):
        raise PageForbidden(needed)


def check_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Every POST form: its token must be the HMAC of the session (or pre-session) cookie."""
    cookie = request.cookies.get(SESSION_COOKIE) or request.cookies.get(PRESESSION_COOKIE)
    if not keys(request).csrf_ok(cookie, csrf_token):
        raise CsrfRejected


Csrf = Depends(check_csrf)


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    user: User | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page with the security headers; forms get the session's CSRF token."""
    cookie = request.cookies.get(SESSION_COOKIE) or context.get("presession") or ""
    full = {
        "user": user,
        "is_coordinator": user is not None and Role(user.role).at_least(Role.COORDINATOR),
        "csrf_token": keys(request).csrf_token(cookie) if cookie else "",
        **context,
    }
    response = TEMPLATES.TemplateResponse(request, template, full, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response
