"""The contingency chord sent before its schedule is read (``contingency.stream``), on a real
Redis: what its chunks and merge receive is what ``plan_chord``'s one whole read gives."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.core.claims import ClaimMissing, ClaimStore
from app.core.db import begin_consistent_read
from app.domain import snapshot as snapshot_module
from app.resilience.contingency import stream as stream_module
from app.resilience.contingency.chord import ChordPlan, plan_chord
from app.resilience.contingency.chunks import chunk_dates
from app.resilience.contingency.stream import open_stream
from tests.resilience.factories import with_demo_program

pytestmark = pytest.mark.redis

START = date(2026, 11, 30)


@pytest.fixture
def store(celery_redis_url: str) -> Iterator[ClaimStore]:
    client = redis.Redis.from_url(celery_redis_url)
    yield ClaimStore(client, ttl_s=120)
    for key in client.scan_iter("resilience-claim:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    return with_demo_program(engine, seed=3, faculty=10, weeks=6, start=START)


def _received(plan: ChordPlan, store: ClaimStore) -> dict[str, Any]:
    """What the chord's tasks read: each chunk's schedule, the names, the fingerprint."""
    chunks = []
    for payload in plan.payloads:
        data: dict[str, Any] = {}
        for part in store.wait_many(payload["claims"], payload.get("alive", "gone")):
            data.update(part)
        chunks.append(data)
    names, fingerprint = (
        store.get(x) if isinstance(x, dict) else x for x in (plan.names, plan.fingerprint)
    )
    return {
        "chunks": chunks,
        "names": names,
        "fingerprint": fingerprint,
        "unscheduled": (plan.unscheduled, plan.unscheduled_before),
    }


@pytest.mark.parametrize(
    ("offset", "days", "chunk_days"),
    [(0, 42, 7), (-9, 30, 4), (30, 40, 9)],  # within; before the schedule; past its end
)
def test_streamed_chord_hands_its_tasks_what_one_whole_read_does(
    demo_engine: Engine, store: ClaimStore, offset: int, days: int, chunk_days: int
) -> None:
    first = START + timedelta(days=offset)
    last = first + timedelta(days=days - 1)
    chunks = chunk_dates(first, last, chunk_days)
    with Session(demo_engine) as session:
        begin_consistent_read(session)
        whole = plan_chord(session, first, last, chunks, alerts=False, store=store)
    assert isinstance(whole, ChordPlan)
    with Session(demo_engine) as session:
        begin_consistent_read(session)
        streamed = open_stream(session, first, last, chunks, store)
        # Sent before the read: each chunk's own part and the fingerprint are not there yet,
        # and the parent says it is alive.
        keys = [c["claim"] for c in streamed.writer.claims]
        assert store._client.exists(*keys) == 0
        assert store._client.exists(streamed.writer.alive) == 1
        streamed.read(session)

    assert _received(streamed.plan, store) == _received(whole, store)
    assert all(p["alive"] == streamed.writer.alive for p in streamed.plan.payloads)
    assert store._client.exists(streamed.writer.alive) == 0  # done: nobody waits any more
    # The merge deletes every claim of the plan but the fingerprint's, which expires: a merge
    # delivered again finds its report by it.
    store.delete(streamed.plan.claims)
    store.delete(whole.claims)
    assert isinstance(streamed.plan.fingerprint, dict)
    left = [k.decode() for k in store._client.scan_iter("resilience-claim:*")]
    assert left == [streamed.plan.fingerprint["claim"]]
    assert store._client.ttl(left[0]) > 0


def test_a_read_that_fails_aborts_the_parts_not_written_and_keeps_the_rest(
    demo_engine: Engine, store: ClaimStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, last = START, START + timedelta(days=27)
    chunks = chunk_dates(first, last, 7)
    calls: list[tuple[date | None, date | None]] = []

    def fails_third(session: Session, a: date | None, b: date | None) -> Any:
        calls.append((a, b))
        if len(calls) == 3:
            raise ConnectionError("database went away")
        return snapshot_module.assignment_groups(session, a, b)

    monkeypatch.setattr(stream_module, "assignment_groups", fails_third)
    with Session(demo_engine) as session:
        begin_consistent_read(session)
        streamed = open_stream(session, first, last, chunks, store)
        with pytest.raises(ConnectionError):
            streamed.read(session)

    parts = [p["claims"][1] for p in streamed.plan.payloads]
    alive = streamed.writer.alive
    assert calls == chunks[:3]
    assert [store.get(c)["assignment_groups"][0][0] for c in parts[:2]] == [
        chunks[0][0].isoformat(),
        chunks[1][0].isoformat(),
    ]
    # The chunks still waiting fail on the abort, saying why (the error's kind only: its text
    # may hold SQL, and this goes to every chunk's stored failure).
    assert store._client.exists(alive) == 0
    for claim in [*parts[2:], streamed.plan.fingerprint]:
        assert isinstance(claim, dict)
        with pytest.raises(ClaimMissing, match="will never be written: .*ConnectionError") as err:
            store.wait_many([claim], alive)
        assert "went away" not in str(err.value)
