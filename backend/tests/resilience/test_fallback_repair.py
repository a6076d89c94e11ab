"""Leave repair: the proposal closes what it can inside the absence, applying it enters the
absence and the changes at once, and a proposal made stale by a change is refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InputError
from app.demo.generator import generate_demo_program
from app.domain.schedule import CATEGORY_ORDER, Half, HalfDay
from app.domain.snapshot import load_snapshot
from app.models.audit import AuditRecord
from app.models.schedule import Absence, Assignment
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.fallbacks.compute import judge
from app.resilience.fallbacks.repair import apply_repair, propose_repair

START = date(2026, 11, 30)
END = START + timedelta(days=4)
SETTINGS = Settings(FALLBACK_SOLVER_WORKERS=1)


@pytest.fixture
def demo(session: Session) -> tuple[Session, str]:
    import_program(
        session,
        generate_demo_program(seed=5, faculty=12, weeks=4, start=START),
        source="demo",
        actor="test",
    )
    session.commit()
    snapshot = load_snapshot(session, start=START, end=END)
    # The first faculty member whose absence opens gaps that someone else can close.
    for person in sorted(p.id for p in snapshot.people if p.is_faculty):
        if propose_repair(session, SETTINGS, person_id=person, start=START, end=END).moves:
            return session, person
    raise AssertionError("the demo should have a repairable absence")


def _filled_by_category(session: Session) -> list[int]:
    coverage = judge(load_snapshot(session, start=START, end=END), START, END).coverage
    return [coverage.get(c.value, {"filled": 0})["filled"] for c in CATEGORY_ORDER]


def _schedule(session: Session) -> list[tuple[str, str, str, str]]:
    rows = session.execute(
        select(Assignment.person_id, Assignment.date, Assignment.half, Assignment.activity_id)
    )
    return sorted((p, d.isoformat(), h, a) for p, d, h, a in rows)


def test_repair_changes_only_the_absent_half_days_and_applying_it_keeps_its_word(
    demo: tuple[Session, str],
) -> None:
    session, person = demo
    proposal = propose_repair(session, SETTINGS, person_id=person, start=START, end=END)
    assert proposal.gaps_opened > 0 and proposal.moves
    unrepaired = _filled_by_category(session)  # the absence entered alone, then undone
    add_absence(session, AbsenceEntry(person, START, END, "sick"), actor="t")
    away = _filled_by_category(session)
    session.rollback()
    assert unrepaired != away
    assert all(START <= m.halfday.date <= END and m.person_id != person for m in proposal.moves)
    entry = AbsenceEntry(person, START, END, "sick")
    added, applied = apply_repair(session, SETTINGS, entry, proposal.proposal, "test")
    session.commit()
    assert added.created and applied.moves == proposal.moves
    in_effect = {(p, d, h): a for p, d, h, a in _schedule(session)}
    for m in proposal.moves:
        day, half = m.halfday.date.isoformat(), m.halfday.half.value
        assert in_effect[m.person_id, day, half] == m.activity_id
    now = judge(load_snapshot(session, start=START, end=END), START, END).uncovered_slots
    assert now == proposal.gaps_left
    # Filled slots per category, most protected first: better than the absence alone (a
    # move may fill a more protected slot by leaving a less protected one).
    assert _filled_by_category(session) > away
    assert session.scalar(
        select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "absence.repair")
    )


def test_a_half_day_absence_is_repaired_in_that_half_only(demo: tuple[Session, str]) -> None:
    session, person = demo
    proposal = propose_repair(
        session, SETTINGS, person_id=person, start=START, end=END, half=Half.AM
    )
    assert all(m.halfday == HalfDay(m.halfday.date, Half.AM) for m in proposal.moves)


def test_a_stale_proposal_is_refused_and_writes_nothing(demo: tuple[Session, str]) -> None:
    session, person = demo
    proposal = propose_repair(session, SETTINGS, person_id=person, start=START, end=END)
    other = "F002" if person != "F002" else "F003"
    add_absence(session, AbsenceEntry(other, START, START, "sick"), actor="t")
    session.commit()
    absences, schedule = (
        session.scalar(select(func.count()).select_from(Absence)),
        _schedule(session),
    )
    entry = AbsenceEntry(person, START, END, "sick")
    with pytest.raises(InputError, match="changed since proposal"):
        apply_repair(session, SETTINGS, entry, proposal.proposal, "test")
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Absence)) == absences
    assert _schedule(session) == schedule
