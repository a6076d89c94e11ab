"""JSON printing: compact and streamed, or indented; the same data either way."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest

from app.cli.output import print_json


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.choice(["dict", "list", "long", "leaf"] if depth < 4 else ["leaf"])
    if kind == "dict":
        return {f"k{i}é": _random_json(rng, depth + 1) for i in range(rng.randint(0, 4))}
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == "long":  # longer than one slice of the streaming writer
        return [[i, f"x{i}", None] for i in range(rng.randint(1990, 4500))]
    return rng.choice([1, -2.5, 's"\n', None, True, [], {}])


@pytest.mark.parametrize("seed", range(30))
def test_compact_and_pretty_json_are_the_same_data(seed: int) -> None:
    data = {"summary": {"n": seed}, "report": _random_json(random.Random(seed))}
    compact, pretty = io.StringIO(), io.StringIO()

    print_json(data, out=compact)
    print_json(data, pretty=True, out=pretty)

    assert json.loads(compact.getvalue()) == data == json.loads(pretty.getvalue())
    # Compact: UTF-8 as it is; pretty: Python's encoder, non-ASCII escaped.
    assert compact.getvalue() == json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert pretty.getvalue() == json.dumps(data, indent=1) + "\n"


def test_compact_json_goes_to_the_byte_stream_in_utf8_after_text_printed_before() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")
    out.write("before\n")  # still in the text layer's buffer when the JSON is written
    data = {"name": "Zoë Ångström", "rows": [[i, "é"] for i in range(2500)]}

    print_json(data, out=out)  # type: ignore[arg-type]
    out.flush()

    text = raw.getvalue().decode("utf-8")
    assert text.startswith("before\n")
    assert json.loads(text.removeprefix("before\n")) == data
    assert "Zoë Ångström" in text  # written as UTF-8, not as \u escapes
