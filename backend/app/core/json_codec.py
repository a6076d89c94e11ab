"""Fast JSON for the large documents the engine keeps: stored reports and chord payloads.

A year's contingency report of a large program is a few megabytes of JSON; the standard
library's encoder took about 50 ms for it on the merge task's serial path, and its decoder
about as long wherever a report is read back. orjson does both several times faster and writes
compact JSON (no spaces). For the data the engine stores (dicts, lists, strings, numbers,
booleans, None) it reads and writes what the standard library does, with non-string dict keys
written as strings as ``json.dumps`` does; NaN and infinity, which JSON has no form for, are
written as ``null`` (the standard library writes ``NaN``, which PostgreSQL refuses).

The database engine uses these for its JSON columns (``app.core.db.make_engine``), and the
claim checks for their payloads (``app.core.claims``).
"""

from __future__ import annotations

from typing import Any

import orjson

_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON.

    Raises:
        TypeError: it holds something JSON has no form for.
    """
    return orjson.dumps(value, option=_OPTIONS)


def dumps(value: Any) -> str:
    """``dumps_bytes`` as text (what a JSON column is given)."""
    return orjson.dumps(value, option=_OPTIONS).decode()


def loads(data: str | bytes) -> Any:
    """The value of a JSON document."""
    return orjson.loads(data)
