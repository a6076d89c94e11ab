"""The fast JSON codec (app.core.json_codec) against the standard library it replaces."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import random
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import JSON, Column, Integer, MetaData, Table, insert, select

from app.core import json_codec
from app.core.db import make_engine


def _random_document(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 3 else 5)
    if kind == 0:
        return rng.randint(-(2**63), 2**63 - 1)
    if kind == 1:
        return rng.choice([0.1, -2.5, 1e-7, 3.0, 123456.789])
    if kind == 2:
        return "".join(rng.choice('aZ09 _-"\\/\n\té€😀') for _ in range(rng.randrange(6)))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.choice(["", "F001", "2026-12-07"])
    if kind == 5:
        return [_random_document(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {f"k{i}": _random_document(rng, depth + 1) for i in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(40))
def test_documents_read_alike_by_both_codecs_when_written_by_either(seed: int) -> None:
    doc = _random_document(random.Random(seed))
    assert json.loads(json_codec.dumps(doc)) == doc
    assert json_codec.loads(json.dumps(doc)) == doc
    assert json_codec.loads(json_codec.dumps_bytes(doc)) == doc


def test_a_name_with_a_byte_that_is_not_utf8_is_stored_as_the_standard_library_stored_it() -> None:
    # A file name from the command line with a byte that is not UTF-8 (a lone surrogate).
    details = {"source": "p\udcff.json", "rows": 3}
    written = json_codec.dumps(details)
    assert written == json.dumps(details, separators=(",", ":"))
    assert json_codec.loads(written) == details
    # And a row the standard library wrote before (spaces, escapes) reads back.
    assert json_codec.loads(json.dumps(details)) == details


def test_nan_is_written_as_null_and_old_nan_rows_still_read() -> None:
    assert json_codec.dumps({"x": math.nan, "y": [math.inf]}) == '{"x":null,"y":[null]}'
    old = json_codec.loads('{"x": NaN, "y": Infinity}')
    assert math.isnan(old["x"]) and old["y"] == math.inf


class _Kind(enum.StrEnum):
    PRIMARY = "primary"


@dataclasses.dataclass
class _Point:
    x: int


def test_what_the_standard_library_refuses_is_refused_and_what_it_converts_is_converted() -> None:
    for value in (date(2026, 12, 7), datetime(2026, 12, 7, 6), _Point(1), {date(2026, 1, 1): 1}):
        with pytest.raises(TypeError):
            json_codec.dumps({"v": value})
    # As json.dumps: an enum of str by its value, non-string keys as strings.
    converted = {"role": _Kind.PRIMARY, 1: "one", None: "none"}
    assert json_codec.dumps(converted) == json.dumps(converted, separators=(",", ":"))


def test_json_columns_store_and_read_through_the_codec(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'j.db'}")
    table = Table("doc", MetaData(), Column("id", Integer, primary_key=True), Column("d", JSON))
    table.metadata.create_all(engine)
    value = {"source": "p\udcff.json", "nested": [1, 2.5, None, {"a": "é"}]}
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, d=value))
        raw = connection.exec_driver_sql("SELECT d FROM doc").scalar_one()
        read = connection.execute(select(table.c.d)).scalar_one()
    assert read == value
    assert ", " not in raw and '": ' not in raw  # compact
    engine.dispose()
