"""Dashboard fixtures: the API's app, tokens and demo program, and signing in."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.api.conftest import api_app, client, demo_program, server, tokens

__all__ = ["api_app", "client", "csrf_of", "demo_program", "server", "sign_in", "tokens"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', html)
    assert found, "no CSRF field in the page"
    return found.group(1)


def sign_in(client: TestClient, token: str) -> None:
    form = client.get("/signin")
    response = client.post(
        "/signin", data={"token": token, "csrf_token": csrf_of(form.text)}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
