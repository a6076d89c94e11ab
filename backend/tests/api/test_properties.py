"""Property tests from the OpenAPI schema (schemathesis): whatever a signed-in caller sends
to any route, the API answers without a server error (no 5xx).

Requests go over real HTTP to uvicorn on 127.0.0.1, with an admin's valid token (every route
is reachable), against the demo program; schemathesis generates everything else from the
schema, valid and invalid alike.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from app.main import create_app
from app.models.user import Role
from tests.api.conftest import bearer

EXAMPLES_PER_ROUTE = 25

schema = schemathesis.openapi.from_dict(create_app().openapi())


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_error_on_any_input(
    case: Any, server: str, tokens: dict[Role, str], demo_program: dict[str, Any]
) -> None:
    response = case.call(base_url=server, headers=bearer(tokens[Role.ADMIN]), timeout=60)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
