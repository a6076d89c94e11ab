"""Signing in with an API token (it becomes a session cookie) and signing out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from app.api.deps import SessionDep, sign_in
from app.auth.tokens import token_digest
from app.core.errors import NotAuthenticated
from app.models.user import ApiToken
from app.web.deps import (
    Csrf,
    CsrfRejected,
    PageForbidden,
    SignInRequired,
    keys,
    render,
)
from app.web.session import PRESESSION_COOKIE, SESSION_COOKIE

router = APIRouter(include_in_schema=False)


def _cookie_args(request: Request) -> dict[str, object]:
    secure = request.app.state.secure_cookies
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


@router.get("/signin")
def signin_form(request: Request) -> HTMLResponse:
    presession = request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(24)
    response = render(request, "signin.html", {"presession": presession, "error": None})
    response.set_cookie(PRESESSION_COOKIE, presession, **_cookie_args(request))  # type: ignore[arg-type]
    return response


@router.post("/signin", dependencies=[Csrf])
def signin(
    request: Request, session: SessionDep, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    presession = request.cookies.get(PRESESSION_COOKIE, "")
    try:
        sign_in(request, token.strip())
    except NotAuthenticated:
        error, status = "That token is not valid (unknown, revoked, or its user is disabled).", 401
    except HTTPException as exc:  # 429: too many failed sign-ins
        error, status = str(exc.detail), exc.status_code
    else:
        row = session.scalars(
            select(ApiToken).where(ApiToken.token_hash == token_digest(token.strip()))
        ).one()
        response = RedirectResponse("/", status_code=303)
        cookie = keys(request).session_cookie(row.id)
        response.set_cookie(SESSION_COOKIE, cookie, **_cookie_args(request))  # type: ignore[arg-type]
        response.delete_cookie(PRESESSION_COOKIE, path="/")
        return response
    context = {"presession": presession, "error": error}
    return render(request, "signin.html", context, status_code=status)


@router.post("/signout", dependencies=[Csrf])
def signout() -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def install_page_handlers(app: FastAPI) -> None:
    """Redirect to sign-in, a 403 page for a too-low role, a 403 page for a bad CSRF token."""

    async def to_signin(_: Request, __: Exception) -> Response:
        return RedirectResponse("/signin", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        message = f"This page needs the {exc.needed.value} role or above."
        return render(request, "error.html", {"message": message}, status_code=403)

    async def bad_form(request: Request, _: Exception) -> Response:
        message = "This form has expired or did not come from this site: reload the page."
        return render(request, "error.html", {"message": message}, status_code=403)

    app.add_exception_handler(SignInRequired, to_signin)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(CsrfRejected, bad_form)
