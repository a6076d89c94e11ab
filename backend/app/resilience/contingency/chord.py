"""The contingency chord's work: the parent's plan, a chunk's analysis, the merge and store.

The Celery tasks in ``app/resilience/tasks.py`` stay thin and call these. A horizon longer than
``CONTINGENCY_CHUNK_DAYS`` is analysed as a chord: the parent reads the schedule once and takes
its fingerprint (a stored report of the same input is reused, nothing sent), then hands each
chunk its part of the rows as JSON (``ScheduleRows.to_json``), so the report describes one
state and no chunk reads the database. With a ``ClaimStore`` (the result backend is Redis) the
payloads and the chunks' results travel as claims (``app.core.claims``): the part every chunk
shares is written once, each chunk's own part and result once each, and the messages carry
keys. The merge reads no schedule: it joins the chunks' findings and grant effects
(``chunks.merge_chunk_json``), stores the report under the parent's fingerprint, and deletes
the claims. When no report of the window is stored, the parent sends the chord before it
reads the assignments (``stream``); the chunks and the merge are the same.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.core.claims import ClaimMissing, ClaimStore, is_claim, resolve, resolve_all
from app.core.db import session_scope
from app.core.gcpause import paused_gc
from app.domain.coverage import unscheduled_before_range, unscheduled_range
from app.domain.schedule import ScheduleSnapshot
from app.domain.schedule_rows import ScheduleRows
from app.notifications.dispatch import dispatch_alert_notifications
from app.resilience.contingency.chunks import analyze_chunk, merge_chunk_json
from app.resilience.reports import (
    CROSS_TRAINING_RECOMMENDATIONS,
    ReportOutcome,
    person_names,
    publish_contingency_metrics,
    read_input,
    reuse_report,
    store_report,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChordPlan:
    """What the parent hands the chord: its chunks' payloads and what the merge needs."""

    fingerprint: str | dict[str, str]
    """The input's fingerprint; or a claim of it, written after the chord is sent (``stream``),
    which the merge leaves to expire: a merge delivered again after it deleted the other claims
    finds its report by it."""
    names: dict[str, Any]
    """Person id to name, to word the alerts; or a claim of that map (it would otherwise ride
    in every chunk's message, within the merge's signature)."""
    unscheduled: list[str] | None
    """The part of the window after the schedule's end (ISO dates), if any."""
    unscheduled_before: list[str] | None
    """The part of the window before the schedule's first day (ISO dates), if any."""
    payloads: list[dict[str, Any]]
    """One per chunk: ``ScheduleRows.to_json``, or ``{"claims": [shared, window]}``, with
    ``"alive"`` (its writer's key, ``ClaimWriter``) when ``window`` is written after the chord
    is sent (``stream``)."""

    @property
    def claims(self) -> list[dict[str, str]]:
        """Every claim the payloads and the names hold (the merge deletes them)."""
        names = [self.names] if is_claim(self.names) else []
        return [*names, *(c for p in self.payloads for c in p.get("claims", ()))]


def plan_chord(
    session: Session,
    first: date,
    last: date,
    chunks: list[tuple[date, date]],
    *,
    alerts: bool,
    store: ClaimStore | None,
) -> ReportOutcome | ChordPlan:
    """Read ``first``..``last`` once: the stored report of that input, or the chord's plan.

    ``session`` must have begun its consistent read (``contingency_window`` does).

    Raises:
        NoSchedule: there is no published schedule to analyse.
    """
    t0 = time.perf_counter()
    with paused_gc():  # the rows and their fingerprint: many small acyclic objects
        read = read_input(session, start=first, end=last, alerts=alerts)
    if isinstance(read, ReportOutcome):
        return read
    rows, fingerprint, names = read.rows, read.fingerprint, read.names
    t1 = time.perf_counter()
    with paused_gc():  # the chunks' payloads: many small lists, encoded and sent
        shared = rows.shared_json()
        if store is None:  # in the messages, each with the shared part
            payloads = [{**shared, **rows.window_json(a, b)} for a, b in chunks]
        else:  # in the result backend: the shared part once, a chunk's own part each
            names_claim, shared_claim, *windows = store.put_many(
                [names, shared, *(rows.window_json(a, b) for a, b in chunks)]
            )
            names = names_claim
            payloads = [{"claims": [shared_claim, window]} for window in windows]
    logger.info(
        "contingency chord of %d chunks: schedule read and fingerprint %.2f s, payloads %.2f s",
        len(chunks),
        t1 - t0,
        time.perf_counter() - t1,
    )
    return ChordPlan(fingerprint, names, *unscheduled_days(rows.base, first, last), payloads)


def unscheduled_days(
    base: ScheduleSnapshot, first: date, last: date
) -> tuple[list[str] | None, list[str] | None]:
    """``ChordPlan.unscheduled`` and ``unscheduled_before`` of ``first``..``last``."""

    def iso(days: tuple[date, date] | None) -> list[str] | None:
        return None if days is None else [d.isoformat() for d in days]

    return iso(unscheduled_range(base, first, last)), iso(
        unscheduled_before_range(base, first, last)
    )


def analyze_payload(
    start: date, end: date, snapshot: dict[str, Any], store: ClaimStore | None
) -> dict[str, Any]:
    """A chunk's analysis (``ChunkAnalysis.to_json``) of its payload, or a claim of it."""
    with paused_gc():  # tens of thousands of small acyclic objects, built and encoded
        rows = ScheduleRows.from_json(_payload(snapshot, store))
        analysis = analyze_chunk(rows, start, end).to_json()
        return analysis if store is None else store.put(analysis)


def _payload(snapshot: dict[str, Any], store: ClaimStore | None) -> dict[str, Any]:
    """A chunk's schedule: ``snapshot`` itself, or the parts its ``claims`` stand for (waited
    for while ``snapshot["alive"]`` exists, if it says: the parent may still be reading them)."""
    if "claims" not in snapshot:
        return snapshot
    data: dict[str, Any] = {}
    if "alive" in snapshot and store is not None:
        parts = store.wait_many(snapshot["claims"], str(snapshot["alive"]))
    else:  # without a store, ClaimMissing says why
        parts = resolve_all(snapshot["claims"], store)
    for part in parts:
        data.update(part)
    return data


def merge_and_store(
    chunks: list[dict[str, Any]],
    first: date,
    last: date,
    *,
    fingerprint: str | dict[str, str],
    names: dict[str, Any],
    unscheduled: list[str] | None,
    alerts: bool,
    unscheduled_before: list[str] | None = None,
    claims: list[dict[str, str]],
    store: ClaimStore | None,
) -> dict[str, Any]:
    """Merge the chunks' analyses (or claims of them), store the report under the parent's
    ``fingerprint``, reconcile the alerts (if ``alerts``), delete the chunks' and the payloads'
    ``claims``; return the report's summary. The other arguments are the ``ChordPlan``'s.

    One pause of the collector over the whole merge: the findings, the report's JSON and the
    outcome are freed (reference counting) when ``_merge`` returns, before the collector is
    back; a pause ended while they lived made its next collection walk all of them.
    """
    window, before = (
        None if days is None else (date.fromisoformat(days[0]), date.fromisoformat(days[1]))
        for days in (unscheduled, unscheduled_before)
    )
    with paused_gc():
        t0 = time.perf_counter()
        try:
            *parts, names, digest = resolve_all([*chunks, names, fingerprint], store)
        except ClaimMissing:
            # A merge delivered again after it stored its report and deleted the claims: the
            # report is there. Otherwise the chord's inputs are lost: the task fails and the
            # analysis is started again (ContingencyTask).
            digest = resolve(fingerprint, store)  # a claim here outlives the others
            with session_scope() as session:
                stored = reuse_report(
                    session,
                    start=first,
                    end=last,
                    fingerprint=digest,
                    names=person_names(session) if is_claim(names) else names,
                    alerts=alerts,
                )
            if stored is None:
                raise
            dispatch_alert_notifications(stored.alerts)
            return stored.summary()
        read_s = time.perf_counter() - t0
        merged = merge_chunk_json(parts, CROSS_TRAINING_RECOMMENDATIONS)
        t1 = time.perf_counter()
        with session_scope() as session:
            outcome = store_report(
                session,
                start=first,
                end=last,
                fingerprint=digest,
                result=merged.result,
                cross_training=merged.cross_training,
                names=names,
                duration_s=t1 - t0 - read_s + merged.duration_s,
                cross_training_s=merged.grants_s,
                unscheduled=window,
                unscheduled_before=before,
                alerts=alerts,
            )
        logger.info(
            "contingency merge of %d chunks: read %.2f s, merged %.2f s, report stored %.2f s",
            len(parts),
            read_s,
            t1 - t0 - read_s,
            time.perf_counter() - t1,
        )
        dispatch_alert_notifications(outcome.alerts)
        publish_contingency_metrics(outcome)
        summary = outcome.summary()
        del parts, merged, outcome
    if store is not None:
        store.delete([*chunks, *claims])
    return summary
