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
2. the chord is sent; each chunk waits for its part (``ClaimStore.wait_many``) while the
   parent is alive (each write renews the writer's key for ``ALIVE_S``);
3. ``ChordStream.read`` reads the assignments one chunk's dates at a time, in the same
   consistent view, and writes each part as soon as it is read, hashing the rows as it goes
   (``GroupDigest``: the same digest as ``report_fingerprint`` of one whole read). The
   fingerprint is written before the last part, so the merge (which runs after every chunk)
   finds it; the merge leaves it to expire, so that a merge delivered again finds its report.

If the read fails, the claims not yet written are aborted (``abort``): their chunks fail at
once and the chord's error callback starts the analysis again (``contingency_chord_failed``,
after ``CONTINGENCY_RERUN_DELAY_S``). A parent that dies stops renewing its key: its chunks
give up within ``ALIVE_S``. A chunk never waits on another task's result: it waits for its
input from a parent that is running and never waits itself, so no worker can deadlock.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.core.claims import ClaimStore, ClaimWriter
from app.core.gcpause import paused_gc
from app.domain.schedule_rows import GroupDigest, ScheduleRows
from app.domain.snapshot import assignment_groups, load_base
from app.resilience.contingency.chord import ChordPlan, unscheduled_days
from app.resilience.reports import FINGERPRINT_TAG

logger = logging.getLogger(__name__)

ALIVE_S = 60.0
"""How long the parent's liveness key lasts after each part it writes: a chunk waits for its
part only while the key is there. Reading one chunk's 30 days takes milliseconds to a second;
a parent silent for a minute has died (a worker killed), and its chunks give up."""


@dataclass(frozen=True)
class ChordStream:
    """A chord's plan whose chunks' parts are still to be read (``read`` writes them)."""

    plan: ChordPlan
    rows: ScheduleRows
    """The schedule without its assignments (``load_base``)."""
    first: date
    last: date
    chunks: list[tuple[date, date]]
    writer: ClaimWriter
    """Its claims: the fingerprint's, then one per chunk."""
    started: float

    def read(self, session: Session) -> None:
        """Read each chunk's assignments and write its part; the fingerprint before the last.

        ``session``: the one ``open_stream`` read from, its consistent view still open.

        Raises:
            Exception: the read failed (every claim not yet written is aborted first).
        """
        fingerprint, *windows = self.writer.claims
        digest = GroupDigest(self.rows.fingerprint_head(self.first, self.last, FINGERPRINT_TAG))
        written, t0 = 0, time.perf_counter()
        try:
            for (a, b), claim in zip(self.chunks, windows, strict=True):
                with paused_gc():  # a few thousand short lists, read, hashed and written
                    groups = assignment_groups(session, a, b)
                    digest.add(groups)
                    part = self.rows.window_json(a, b, groups)
                    if written == len(windows) - 1:  # nobody waits for it: the merge comes after
                        self.writer.fill([(fingerprint, digest.hexdigest())], wake=False)
                    self.writer.fill([(claim, part)])
                    del groups, part
                written += 1
        except Exception as exc:
            self.abort(f"{type(exc).__name__} (see the parent's log)", windows[written:])
            raise
        self.writer.done()
        logger.info(
            "contingency chord of %d chunks sent %.2f s after the start; assignments read and"
            " written as the chunks ran: %.2f s",
            len(self.chunks),
            t0 - self.started,
            time.perf_counter() - t0,
        )

    def abort(self, why: str, claims: list[dict[str, str]] | None = None) -> None:
        """Tell the chunks waiting for ``claims`` (None: all) that they will never come."""
        fingerprint, *windows = self.writer.claims
        pending = windows if claims is None else claims
        self.writer.abort([*pending, fingerprint], f"the analysis's parent failed: {why}")


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
    writer = store.reserve(len(chunks) + 1, ALIVE_S)
    fingerprint, *windows = writer.claims
    plan = ChordPlan(
        fingerprint,
        names_claim,
        *unscheduled_days(base, first, last),
        [{"claims": [shared, window], "alive": writer.alive} for window in windows],
    )
    return ChordStream(plan, rows, first, last, chunks, writer, started)
