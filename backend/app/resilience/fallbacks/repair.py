"""Leave repair: the smallest change set that closes the gaps an absence would open.

``propose_repair`` runs the fallback solver's tiers 1-2 (fill in sacrifice order, then fewest
changes) on the schedule with the proposed absence, limited to the half-days the person would
be away, and judges the result with the coverage and contingency core: the slots the absence
opens, those left after the repair, and the N-1 findings that remain. The proposal's id is a
digest of the window's schedule and the absence: ``apply_repair`` recomputes it and refuses
(nothing written) when the schedule changed since, else enters the absence and the changes in
the caller's transaction, audited.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InputError, NotFound
from app.domain.schedule import Absence, Half
from app.domain.snapshot import load_snapshot
from app.models.audit import record_audit
from app.programs.absences import AbsenceAdded, AbsenceEntry, add_absence
from app.resilience.crisis.overlay import write_move
from app.resilience.fallbacks.compute import judge, schedule_digest
from app.resilience.fallbacks.service import solver_options
from app.scheduling.explain import Move, apply_moves
from app.scheduling.model import RosterProblem, build_index
from app.scheduling.solve import solve_roster

PROPOSAL_CHARS = 12


@dataclass(frozen=True)
class RepairProposal:
    proposal: str
    moves: tuple[Move, ...]
    gaps_opened: int
    """Slots the absence uncovers (before any repair)."""
    gaps_left: int
    """Slots still uncovered in the window after the repair."""
    n1_left: list[dict[str, Any]]
    """The N-1 findings of the repaired window: who alone holds up which half-day."""
    tiers: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        return {
            "proposal": self.proposal,
            "moves": [m.to_json() for m in self.moves],
            "gaps_opened": self.gaps_opened,
            "gaps_left": self.gaps_left,
            "n1_left": self.n1_left,
            "tiers": self.tiers,
        }


def propose_repair(
    session: Session,
    settings: Settings,
    *,
    person_id: str,
    start: date,
    end: date,
    half: Half | None = None,
) -> RepairProposal:
    """The repair of an absence of ``person_id`` from ``start`` to ``end`` (nothing stored)."""
    if end < start:
        raise InputError(f"--to {end} is before --from {start}")
    snapshot = load_snapshot(session, start=start, end=end)
    if person_id not in snapshot.people_by_id:
        raise NotFound(f"no person with id {person_id!r}")
    absence = Absence("what-if", person_id, start, end, "other", half=half, blocking=True)
    away = replace(snapshot, absences=(*snapshot.absences, absence))
    index = build_index(RosterProblem(away, start, end))
    within = tuple(o for o in index.options if absence.covers(index.slots[o.slot].halfday))
    solution = solve_roster(replace(index, options=within), solver_options(settings), fair=False)
    before, opened = judge(snapshot, start, end), judge(away, start, end)
    repaired = apply_moves(away, solution.moves)
    after = judge(repaired, start, end, n1_details=True)
    digest = schedule_digest(snapshot, start, end, [person_id, half and half.value])
    return RepairProposal(
        proposal=digest[:PROPOSAL_CHARS],
        moves=solution.moves,
        gaps_opened=max(0, opened.uncovered_slots - before.uncovered_slots),
        gaps_left=after.uncovered_slots,
        n1_left=after.contingency["n1"],
        tiers=[t.to_json() for t in solution.tiers],
    )


def apply_repair(
    session: Session, settings: Settings, entry: AbsenceEntry, proposal: str, actor: str | None
) -> tuple[AbsenceAdded, RepairProposal]:
    """Enter the absence and the repair proposed as ``proposal``, in the caller's transaction.

    Raises:
        InputError: the schedule changed since the proposal (nothing is written).
    """
    now = propose_repair(
        session,
        settings,
        person_id=entry.person_id,
        start=entry.start,
        end=entry.end,
        half=entry.half,
    )
    if now.proposal != proposal:
        raise InputError(
            f"the schedule changed since proposal {proposal}: nothing was written; run"
            " `residency-scheduler what-if absence ... --repair` again"
        )
    added = add_absence(session, entry, actor=actor)
    for move in now.moves:
        write_move(session, move)
    session.flush()
    record_audit(
        session,
        "absence.repair",
        actor,
        {"absence_id": added.row.id, "proposal": proposal, "moves": len(now.moves)},
    )
    return added, now
