"""Claim checks (app.core.claims) on a real Redis: payloads kept beside the messages."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from celery import Celery

from app.core.claims import (
    ClaimMissing,
    ClaimStore,
    claim_store,
    is_claim,
    resolve,
    resolve_all,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def client(celery_redis_url: str) -> Iterator[redis.Redis]:
    c = redis.Redis.from_url(celery_redis_url)
    yield c
    for key in c.scan_iter("resilience-claim:*"):
        c.delete(key)
    c.close()


def test_a_payload_comes_back_equal_from_its_claim_and_expires(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=120)
    payload = {"people": [{"id": "F001", "quals": ["a", "b"]}], "n": 3, "none": None}
    claim = store.put(payload)
    assert is_claim(claim) and claim["claim"].startswith("resilience-claim:")
    assert store.get(claim) == payload
    assert resolve(claim, store) == payload
    assert 0 < client.ttl(claim["claim"]) <= 120
    # Each payload has its own key: two chunks never read each other's schedule.
    assert store.put(payload) != claim


def test_a_deleted_claim_fails_clearly_naming_its_key(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=60)
    kept, gone = store.put([1]), store.put([2])
    store.delete([gone, {"not": "a claim"}])
    assert store.get(kept) == [1]
    with pytest.raises(ClaimMissing, match=gone["claim"]):
        store.get(gone)


def test_many_payloads_kept_and_read_in_order_when_batched(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=60)
    payloads = [{"i": i, "rows": [[i, str(i)]] * i} for i in range(6)]
    claims = store.put_many(payloads)
    assert len({c["claim"] for c in claims}) == 6
    assert store.get_many(claims[::-1]) == payloads[::-1]
    # Claims and plain values mixed (a chunk's analysis inline, the names as a claim).
    assert resolve_all([claims[2], {"plain": 1}, claims[0]], store) == [
        payloads[2],
        {"plain": 1},
        payloads[0],
    ]
    assert resolve_all([{"plain": 1}], None) == [{"plain": 1}]
    store.delete([claims[4]])
    with pytest.raises(ClaimMissing, match=claims[4]["claim"]):
        store.get_many(claims)


def test_only_a_claim_is_resolved() -> None:
    # A chunk's own JSON is never mistaken for a claim, even one with a "claim" key.
    for value in ({"claim": 3}, {"claim": "k", "start": "2026-01-01"}, ["claim"], "claim"):
        assert not is_claim(value)
        assert resolve(value, None) is value
    with pytest.raises(ClaimMissing, match="not Redis"):
        resolve({"claim": "resilience-claim:0"}, None)


def test_payloads_json_has_no_form_for_are_refused_and_nan_is_kept_as_null(
    client: redis.Redis,
) -> None:
    store = ClaimStore(client, ttl_s=60)
    with pytest.raises(TypeError):
        store.put({"x": {1, 2}})
    # JSON has no NaN: written as null (json_codec), never as the non-standard NaN token.
    claim = store.put({"x": math.nan, "y": [1.5, None]})
    assert b"NaN" not in client.get(claim["claim"])
    assert store.get(claim) == {"x": None, "y": [1.5, None]}


def test_claims_are_kept_only_in_a_redis_result_backend(
    celery_redis_url: str, tmp_path: Path
) -> None:
    on_redis = Celery("t", backend=celery_redis_url, set_as_current=False)
    store = claim_store(on_redis.backend, 30)
    assert store is not None
    claim = store.put({"a": 1})
    assert store.get(claim) == {"a": 1}
    store.delete([claim])
    on_sqlite = Celery("t", backend=f"db+sqlite:///{tmp_path / 'r.db'}", set_as_current=False)
    assert claim_store(on_sqlite.backend, 30) is None


def test_a_reserved_claim_is_waited_for_until_it_is_written(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=60)
    early, late = store.reserve(2)
    assert early != late and all(is_claim(c) for c in (early, late))
    assert client.exists(early["claim"], late["claim"]) == 0  # reserved: nothing written
    store.fill([(early, {"part": 1})])
    got: list[object] = []
    reader = threading.Thread(
        target=lambda: got.append(store.wait_many([early, late], store.clock() + 60))
    )
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and got == []  # still waiting for the second
    store.fill([(late, {"part": 2})])
    reader.join(10)
    assert got == [[{"part": 1}, {"part": 2}]]
    assert 0 < client.ttl(late["claim"]) <= 60
    # The merge deletes a reserved claim with its wake-up list.
    store.delete([early, late])
    assert list(client.scan_iter("resilience-claim:*")) == []


def test_a_reserved_claim_never_written_fails_when_its_wait_ends(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=60)
    (claim,) = store.reserve(1)
    with pytest.raises(ClaimMissing, match="never written in time"):
        store.wait_many([claim], store.clock() + 0.2)
    # A wait already over looks once: a payload written by then is read.
    store.fill([(claim, [7])])
    assert store.wait_many([claim], store.clock() - 1) == [[7]]


def test_an_aborted_claim_fails_its_waiting_reader_at_once_with_the_reason(
    client: redis.Redis,
) -> None:
    store = ClaimStore(client, ttl_s=60)
    written, aborted = store.reserve(2)
    store.fill([(written, {"ok": True})])
    errors: list[BaseException] = []

    def read() -> None:
        try:
            store.wait_many([written, aborted], store.clock() + 600)
        except ClaimMissing as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(0.3)
    assert reader.is_alive()
    store.abort([aborted], "the parent failed reading the schedule: OperationalError()")
    reader.join(10)  # woken by the abort, not by the end of its 600 s wait
    assert not reader.is_alive()
    assert len(errors) == 1 and "the parent failed reading the schedule" in str(errors[0])
    with pytest.raises(ClaimMissing, match="will never be written"):
        store.get(aborted)
    assert store.get(written) == {"ok": True}


def test_a_wait_ends_by_the_redis_servers_clock_not_the_hosts(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent sets the wait's end, another host's chunk reads it: a host whose clock is
    far ahead (here, by decades) must still wait, and one far behind must still stop."""
    store = ClaimStore(client, ttl_s=60)
    (claim,) = store.reserve(1)
    until = store.clock() + 30
    monkeypatch.setattr(time, "time", lambda: 4e9)  # 2096 on this host
    filler = threading.Timer(0.3, lambda: store.fill([(claim, {"late": 1})]))
    filler.start()
    assert store.wait_many([claim], until) == [{"late": 1}]
    monkeypatch.setattr(time, "time", lambda: 1e9)  # 2001 on this host
    (never,) = store.reserve(1)
    with pytest.raises(ClaimMissing, match="never written in time"):
        store.wait_many([never], store.clock() + 0.2)
