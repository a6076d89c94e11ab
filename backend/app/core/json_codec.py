"""Fast JSON for the large documents the engine keeps: stored reports and chord payloads.

A year's contingency report of a large program is a few megabytes of JSON; the standard
library's encoder took about 50 ms for it on the merge task's serial path, and its decoder
about as long wherever a report is read back. orjson does both several times faster and writes
compact JSON (no spaces).

It writes and reads what the standard library does for the data the engine stores (dicts with
string keys, lists, strings, numbers, booleans, None), with one difference kept on purpose:
NaN and infinity, which JSON has no form for, are written as ``null`` (the standard library
writes ``NaN``, which PostgreSQL refuses). Anything else orjson
would treat differently goes to the standard library instead, so nothing that was stored or
refused before changes:

- values orjson refuses (strings with lone surrogates, as a file name with a byte that is not
  UTF-8 gives; integers beyond 64 bits; float subclasses such as numpy's; dict keys that are
  not strings) are written by ``json.dumps``, as before;
- dates, datetimes, dataclasses and subclasses of str, int, dict and list are handed to
  ``json.dumps`` too (orjson would write the first three silently, the standard library
  refuses them; it writes an enum of str by its value);
- a document orjson cannot read (``NaN``, ``Infinity`` or an escaped lone surrogate, which the
  standard library wrote in rows stored before) is read by ``json.loads``.

One difference remains: orjson reads an integer beyond 64 bits as a float. The engine stores
none (counts, ids, seconds).

The database engine uses these for its JSON columns (``app.core.db.make_engine``), and the
claim checks for their payloads (``app.core.claims``).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def dumps_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON.

    Raises:
        TypeError: it holds something JSON has no form for.
    """
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode()


def dumps(value: Any) -> str:
    """``dumps_bytes`` as text (what a JSON column is given)."""
    return dumps_bytes(value).decode()


def loads(data: str | bytes) -> Any:
    """The value of a JSON document."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)
