"""Claim checks: a chord's large payloads kept in the result backend's Redis, not in messages.

A large task argument or result is costly on its way through Celery, however fast the task:
the worker's consumer decodes each message to look at it, the pool child that runs the task
decodes it again after it crossed a pipe, and a chord's results are decoded at the join and
encoded again into the callback's message. The contingency chord moves megabytes that way
(each chunk's schedule, each chunk's findings), all of it on the serial path a second worker
cannot shorten. With Redis as the result backend, such a payload is written there once as
compact JSON under a random key, and the message carries only ``{"claim": key}``; the task
that needs it reads it with one ``json_codec.loads``.

Keys expire with the chord's own state (``RESULT_CHORD_EXPIRES_S``): a chunk redelivered as
late as its chord can still complete finds its payload. The merge deletes them once its report
is stored. A claim that is gone raises ``ClaimMissing``: a chunk fails (its chord's error
callback, ``contingency_chord_failed``, starts the analysis again), and so does a merge, unless
it was delivered again after it stored its report (then it returns that report); the failed
merge's analysis is started again too (``ContingencyTask``).

A claim can also be reserved before its payload exists (``reserve``): the contingency chord is
sent while its parent still reads the schedule, and each chunk waits (``wait_many``, a blocking
pop on the key's ``:ready`` list) for its part, written as soon as it is read
(``ClaimWriter.fill``). A reader waits only while the writer is alive: each write renews the
writer's ``:alive`` key, so a parent that died is given up on when that key expires. A parent
that fails marks what it will never write (``ClaimWriter.abort``), so that its chunks fail at
once.

With any other result backend (the embedded default's SQLite) payloads stay in the messages:
``claim_store`` returns None.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from typing import Any

from app.core import json_codec

logger = logging.getLogger(__name__)

CLAIM = "claim"
"""The key of a claim: ``{"claim": "resilience-claim:<hex>"}`` stands for a payload."""
KEY_PREFIX = "resilience-claim:"
READY = ":ready"
"""A reserved claim's key with this suffix: a list that gets a token when it is written."""
ALIVE = ":alive"
"""The suffix of a ``ClaimWriter``'s key, which exists while it works."""
ABORTED = b"!aborted: "
"""What an aborted claim holds instead of its payload (JSON never starts with "!")."""


class ClaimMissing(RuntimeError):
    """The payload a claim stands for is no longer in the result backend."""


def is_claim(value: Any) -> bool:
    """True for ``{"claim": key}`` (and nothing else: a payload is never such a dict)."""
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(CLAIM), str)


class ClaimStore:
    """Payloads as compact JSON in a Redis database, each under a random expiring key."""

    def __init__(self, client: Any, ttl_s: int) -> None:
        """``client``: a ``redis.Redis``; ``ttl_s``: how long a payload is kept at most."""
        self._client = client
        self._ttl_s = ttl_s

    def put(self, payload: Any) -> dict[str, str]:
        """Keep ``payload`` (JSON-ready data); return the claim that stands for it."""
        return self.put_many([payload])[0]

    def put_many(self, payloads: Iterable[Any]) -> list[dict[str, str]]:
        """Keep each of ``payloads``, in one round trip; return their claims, in order."""
        claims = []
        pipe = self._client.pipeline(transaction=False)
        for payload in payloads:
            key = f"{KEY_PREFIX}{uuid.uuid4().hex}"
            pipe.set(key, json_codec.dumps_bytes(payload), ex=self._ttl_s)
            claims.append({CLAIM: key})
        pipe.execute()
        return claims

    def reserve(self, count: int, alive_s: float) -> ClaimWriter:
        """``count`` claims whose payloads are not written yet, and their writer: it writes
        them (``ClaimWriter.fill``) and says it is alive, ``alive_s`` seconds at a time, to the
        tasks that wait for them (``wait_many``)."""
        claims = [{CLAIM: f"{KEY_PREFIX}{uuid.uuid4().hex}"} for _ in range(count)]
        writer = ClaimWriter(self, claims, f"{KEY_PREFIX}{uuid.uuid4().hex}{ALIVE}", alive_s)
        self._client.set(writer.alive, b"1", px=writer.alive_ms)
        return writer

    def _write(self, pipe: Any, claim: dict[str, str], data: bytes, wake: bool = True) -> None:
        key = claim[CLAIM]
        pipe.set(key, data, ex=self._ttl_s)
        if wake:
            pipe.rpush(key + READY, b"1")
            pipe.expire(key + READY, self._ttl_s)

    def wait_many(self, claims: list[dict[str, str]], alive: str) -> list[Any]:
        """``get_many``, waiting for payloads not written yet while their writer is ``alive``
        (the key of its ``ClaimWriter``).

        Raises:
            ClaimMissing: one is still missing once the writer is no longer alive (it stopped,
                or it wrote everything and that one expired or was deleted), or was aborted.
        """
        keys = [c[CLAIM] for c in claims]
        while True:
            # The writer's key first: a payload missing after a look at a writer already gone
            # will never come (a writer writes before it goes).
            pipe = self._client.pipeline(transaction=False)
            pipe.exists(alive)
            pipe.mget(keys)
            writing, found = pipe.execute()
            missing = [k for k, data in zip(keys, found, strict=True) if data is None]
            if not missing or not writing:
                break
            # Woken by fill's token at once; a second reader of the same claim (a duplicate
            # delivery) finds the token taken and looks again within the second.
            self._client.blpop([k + READY for k in missing], timeout=1)
        return self._decoded(claims, found)

    def get(self, claim: dict[str, str]) -> Any:
        """The payload ``claim`` stands for.

        Raises:
            ClaimMissing: it expired, or its merge already deleted it.
        """
        return self.get_many([claim])[0]

    def get_many(self, claims: list[dict[str, str]]) -> list[Any]:
        """The payloads ``claims`` stand for, read in one round trip, in order.

        Raises:
            ClaimMissing: one expired, or its merge already deleted it.
        """
        found = self._client.mget([c[CLAIM] for c in claims]) if claims else []
        return self._decoded(claims, found)

    def _decoded(self, claims: list[dict[str, str]], found: list[bytes | None]) -> list[Any]:
        for claim, data in zip(claims, found, strict=True):
            if data is None:
                raise ClaimMissing(
                    f"payload {claim[CLAIM]} is not in the result backend (never written in"
                    f" time, or kept {self._ttl_s} s, RESULT_CHORD_EXPIRES_S, and deleted once"
                    " its report is stored)"
                )
            if data.startswith(ABORTED):
                reason = data[len(ABORTED) :].decode(errors="replace")
                raise ClaimMissing(f"payload {claim[CLAIM]} will never be written: {reason}")
        return [json_codec.loads(data or b"") for data in found]  # none is None here

    def delete(self, claims: Iterable[dict[str, str]]) -> None:
        """Forget the payloads of ``claims`` (best effort: they expire anyway)."""
        keys = [k for c in claims if is_claim(c) for k in (c[CLAIM], c[CLAIM] + READY)]
        if not keys:
            return
        try:
            self._client.delete(*keys)
        except Exception as exc:  # noqa: BLE001 - cleanup only; the keys expire on their own
            logger.warning("could not delete %d claim(s): %s", len(keys), exc)


class ClaimWriter:
    """The writer of reserved claims (``ClaimStore.reserve``): each write renews its ``alive``
    key, so a reader waits while it works and stops waiting soon after it died."""

    def __init__(
        self, store: ClaimStore, claims: list[dict[str, str]], alive: str, alive_s: float
    ) -> None:
        self.store = store
        self.claims = claims
        """The reserved claims, in the order asked for."""
        self.alive = alive
        """The key that exists while the writer works (``wait_many`` reads it)."""
        self.alive_ms = max(1, int(alive_s * 1000))

    def fill(self, pairs: Iterable[tuple[dict[str, str], Any]], wake: bool = True) -> None:
        """Write the payload of each reserved claim of ``pairs``, in order, in one round trip;
        wake whoever waits for it (``wake`` False: nobody does); renew ``alive``."""
        pipe = self.store._client.pipeline(transaction=False)
        for claim, payload in pairs:
            self.store._write(pipe, claim, json_codec.dumps_bytes(payload), wake)
        pipe.pexpire(self.alive, self.alive_ms)
        pipe.execute()

    def abort(self, claims: Iterable[dict[str, str]], reason: str) -> None:
        """Mark claims as never to be written, and stop being alive: their readers fail at
        once with ``ClaimMissing`` saying ``reason`` (best effort: otherwise they fail when
        ``alive`` expires)."""
        try:
            pipe = self.store._client.pipeline(transaction=False)
            for claim in claims:
                self.store._write(pipe, claim, ABORTED + reason.encode())
            pipe.delete(self.alive)
            pipe.execute()
        except Exception as exc:  # noqa: BLE001 - the readers stop waiting when alive expires
            logger.warning("could not abort the claims' readers: %s", exc)

    def done(self) -> None:
        """Everything is written: no reader needs ``alive`` any more."""
        self.store._client.delete(self.alive)


def claim_store(backend: Any, ttl_s: int) -> ClaimStore | None:
    """A store in ``backend`` (a Celery result backend) if it is Redis, else None."""
    from celery.backends.redis import RedisBackend

    if isinstance(backend, RedisBackend):
        return ClaimStore(backend.client, ttl_s)
    return None


def resolve_all(values: list[Any], store: ClaimStore | None) -> list[Any]:
    """``resolve`` of each of ``values``, the claims among them read in one round trip.

    Raises:
        ClaimMissing: as ``resolve``.
    """
    claims = [v for v in values if is_claim(v)]
    if not claims:
        return list(values)
    if store is None:
        return [resolve(v, None) for v in values]
    payloads = iter(store.get_many(claims))
    return [next(payloads) if is_claim(v) else v for v in values]


def resolve(value: Any, store: ClaimStore | None) -> Any:
    """``value``, or the payload it stands for (a claim needs the store it was put in).

    Raises:
        ClaimMissing: ``value`` is a claim and there is no store here to read it from.
    """
    if not is_claim(value):
        return value
    if store is None:
        raise ClaimMissing(
            f"payload {value[CLAIM]} was kept in a Redis result backend, and this worker's"
            " result backend is not Redis (workers of one deployment must share settings)"
        )
    return store.get(value)
