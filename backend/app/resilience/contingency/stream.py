"""A contingency chord sent before its schedule is read: the chunks start while the parent reads.

``plan_chord`` reads the whole horizon and takes its fingerprint before a chunk can start: on a
year of 600 faculty that is a quarter of the serial path, which a second worker cannot shorten.
The fingerprint is read first so that a re-run on unchanged input reuses its stored report.
When no report of the window is stored at all (``has_report_of``: the day's first run, as the
daily task's window starts today), nothing can be reused whatever the fingerprint, so the
parent sends the chord first:

1. ``open_stream`` reads everything but the assignments (``load_base``), writes the part every
   chunk shares and the people's names as claims, and reserves a claim for each chunk's own
   part and one for the fingerprint (``ClaimStore.reserve``); its plan is the chord's;
2. the chord is sent; each chunk waits for its part (``ClaimStore.wait_many``);
3. ``ChordStream.read`` reads the assignments one chunk's dates at a time, in the same
   consistent view, and writes each part as soon as it is read, hashing the rows as it goes
   (``GroupDigest``: the same digest as ``report_fingerprint`` of one whole read). The
   fingerprint is written with the last part, before it, so the merge (which runs after every
   chunk) finds it.

If the read fails, the claims not yet written are aborted: their chunks fail at once and the
chord's error callback starts the analysis again (``contingency_chord_failed``). A parent that
dies leaves its chunks waiting at most ``PAYLOAD_WAIT_S`` from the moment the chord was sent.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.core.claims import ClaimStore
from app.core.gcpause import paused_gc
from app.domain.coverage import unscheduled_before_range, unscheduled_range
from app.domain.schedule_rows import GroupDigest, ScheduleRows
from app.domain.snapshot import assignment_groups, load_base
from app.resilience.contingency.chord import ChordPlan
from app.resilience.reports import FINGERPRINT_TAG

logger = logging.getLogger(__name__)

PAYLOAD_WAIT_S = 300.0
"""How long after the chord is sent its chunks wait for their parts. The parent reads a year
of 600 faculty in well under a second; minutes mean that it died."""


@dataclass(frozen=True)
class ChordStream:
    """A chord's plan whose chunks' parts are still to be read (``read`` writes them)."""

    plan: ChordPlan
    rows: ScheduleRows
    """The schedule without its assignments (``load_base``)."""
    first: date
    last: date
    chunks: list[tuple[date, date]]
    store: ClaimStore
    started: float

    def read(self, session: Session) -> None:
        """Read each chunk's assignments and write its part; the fingerprint with the last.

        ``session``: the one ``open_stream`` read from, its consistent view still open.

        Raises:
            Exception: the read failed (every claim not yet written is aborted first).
        """
        windows = [p["claims"][1] for p in self.plan.payloads]
        fingerprint = self.plan.fingerprint
        assert isinstance(fingerprint, dict)
        digest = GroupDigest(self.rows.fingerprint_head(self.first, self.last, FINGERPRINT_TAG))
        written, t0 = 0, time.perf_counter()
        try:
            for (a, b), claim in zip(self.chunks, windows, strict=True):
                with paused_gc():  # a few thousand short lists, read, hashed and written
                    groups = assignment_groups(session, a, b)
                    digest.add(groups)
                    part = (claim, self.rows.window_json(a, b, groups))
                    last = written == len(windows) - 1
                    self.store.fill([(fingerprint, digest.hexdigest()), part] if last else [part])
                    del groups, part
                written += 1
        except Exception as exc:
            reason = f"the analysis's parent failed reading the schedule: {exc!r}"[:500]
            self.store.abort([*windows[written:], fingerprint], reason)
            raise
        logger.info(
            "contingency chord of %d chunks sent %.2f s after the start; assignments read and"
            " written as the chunks ran: %.2f s",
            len(self.chunks),
            t0 - self.started,
            time.perf_counter() - t0,
        )


def open_stream(
    session: Session,
    first: date,
    last: date,
    chunks: list[tuple[date, date]],
    store: ClaimStore,
) -> ChordStream:
    """Read all but the assignments of ``first``..``last``; the chord's plan, its parts to come.

    ``session`` must have begun its consistent read (``contingency_window`` does), and no
    report of the window be stored (``has_report_of``): the plan's fingerprint is a claim.
    """
    started = time.perf_counter()
    with paused_gc():
        base = load_base(session, start=first, end=last)
        rows = ScheduleRows(base, ())
        names = {p.id: p.name for p in base.people}
        names_claim, shared = store.put_many([names, rows.shared_json()])
    fingerprint, *windows = store.reserve(len(chunks) + 1)
    until = store.clock() + PAYLOAD_WAIT_S  # the Redis server's clock: every worker's
    unscheduled = unscheduled_range(base, first, last)
    before = unscheduled_before_range(base, first, last)
    plan = ChordPlan(
        fingerprint,
        names_claim,
        None if unscheduled is None else [d.isoformat() for d in unscheduled],
        None if before is None else [d.isoformat() for d in before],
        [{"claims": [shared, window], "until": until} for window in windows],
    )
    return ChordStream(plan, rows, first, last, chunks, store, started)
