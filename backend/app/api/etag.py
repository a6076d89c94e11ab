"""ETags of reports: the tag is a digest of the body sent (a stored report with the names
filled in now), so a client sending it back gets 304 until a name or the report changes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response


def json_with_etag(request: Request, body: dict[str, Any]) -> Response:
    """``body`` as JSON with a strong ETag, or 304 when ``If-None-Match`` has that tag."""
    content = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
    tag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    wanted = request.headers.get("if-none-match", "")
    if tag in [t.strip() for t in wanted.split(",")] or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return Response(content, media_type="application/json", headers=headers)
