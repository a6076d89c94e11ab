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
    writer = store.reserve(2, alive_s=60)
    early, late = writer.claims
    assert early != late and all(is_claim(c) for c in (early, late))
    assert client.exists(early["claim"], late["claim"]) == 0  # reserved: nothing written
    writer.fill([(early, {"part": 1})])
    got: list[object] = []
    reader = threading.Thread(
        target=lambda: got.append(store.wait_many(writer.claims, writer.alive))
    )
    reader.start()
    reader.join(0.3)
    assert reader.is_alive() and got == []  # still waiting for the second
    writer.fill([(late, {"part": 2})])
    reader.join(10)
    assert got == [[{"part": 1}, {"part": 2}]]
    assert 0 < client.ttl(late["claim"]) <= 60
    writer.done()
    # The merge deletes a reserved claim with its wake-up list; done() took the writer's key.
    store.delete([early, late])
    assert list(client.scan_iter("resilience-claim:*")) == []


def test_a_reader_waits_while_its_writer_renews_its_key_and_no_longer(client: redis.Redis) -> None:
    store = ClaimStore(client, ttl_s=60)
    # Each write renews the writer's key for 1 s: six writes 0.4 s apart keep a reader waiting
    # for the last one well past the first second.
    writer = store.reserve(6, alive_s=1.0)
    claims = writer.claims

    def write_slowly() -> None:
        for i, claim in enumerate(claims):
            time.sleep(0.4)
            writer.fill([(claim, i)])

    filler = threading.Thread(target=write_slowly)
    filler.start()
    assert store.wait_many([claims[-1]], writer.alive) == [5]
    filler.join()
    # A writer that stopped without a word (a killed parent): its readers give up once its key
    # expires, saying the payload never came.
    silent = store.reserve(1, alive_s=0.3)
    with pytest.raises(ClaimMissing, match="never written in time"):
        store.wait_many(silent.claims, silent.alive)
    # A writer done: a claim it wrote is read at once, one it never wrote fails at once.
    finished = store.reserve(2, alive_s=60)
    finished.fill([(finished.claims[0], [7])])
    finished.done()
    assert store.wait_many(finished.claims[:1], finished.alive) == [[7]]
    with pytest.raises(ClaimMissing):
        store.wait_many(finished.claims[1:], finished.alive)


def test_an_aborted_claim_fails_its_waiting_reader_at_once_with_the_reason(
    client: redis.Redis,
) -> None:
    store = ClaimStore(client, ttl_s=60)
    writer = store.reserve(2, alive_s=600)
    written, aborted = writer.claims
    writer.fill([(written, {"ok": True})])
    errors: list[BaseException] = []

    def read() -> None:
        try:
            store.wait_many([written, aborted], writer.alive)
        except ClaimMissing as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(0.3)
    assert reader.is_alive()
    writer.abort([aborted], "the parent failed: OperationalError")
    reader.join(10)  # woken by the abort, not by the writer's key expiring in 600 s
    assert not reader.is_alive()
    assert len(errors) == 1 and "will never be written: the parent failed" in str(errors[0])
    with pytest.raises(ClaimMissing, match="will never be written"):
        store.get(aborted)
    assert store.get(written) == {"ok": True}
    assert client.exists(writer.alive) == 0
