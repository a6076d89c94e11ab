"""Crisis response on both databases: activation lays the fallback over the schedule and sheds,
twice activates once, refusals write nothing, deactivation restores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.service import add_user
from app.core.config import Settings
from app.core.errors import InputError, NotFound, PermissionDenied
from app.demo.generator import generate_demo_program
from app.domain.shedding import SheddingLevel
from app.domain.snapshot import load_snapshot
from app.models.alert import Alert, AlertStatus
from app.models.audit import AuditRecord
from app.models.crisis import CrisisAssignmentChange, CrisisEvent, CrisisNotice, SacrificeDecision
from app.models.fallback import FallbackSchedule
from app.models.schedule import Assignment
from app.models.user import Role, User
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.crisis.service import activate_crisis, crisis_status, deactivate_crisis
from app.resilience.fallbacks.scenarios import scenario_named
from app.resilience.fallbacks.service import (
    prepare_fallbacks,
    solver_options,
    store_scenario_fallback,
)
from tests.resilience.test_fallback_service import END, START

OPTIONS = solver_options(Settings(FALLBACK_SOLVER_WORKERS=1))
NOW = datetime.combine(START, datetime.min.time(), tzinfo=UTC) + timedelta(hours=14)
TABLES = (CrisisEvent, SacrificeDecision, CrisisAssignmentChange, CrisisNotice, Alert, AuditRecord)


@pytest.fixture
def ready(session: Session) -> Session:
    doc = generate_demo_program(seed=3, faculty=12, weeks=4, start=START)
    import_program(session, doc, source="demo", actor="test")
    add_user(session, "pat", Role.PROGRAM_DIRECTOR)
    add_user(session, "casey", Role.COORDINATOR)
    snapshot, ranking = prepare_fallbacks(session, START, END)
    for name in ("pcs_season", "weather_emergency"):  # the two these tests lay over
        scenario = scenario_named(name)
        store_scenario_fallback(session, scenario, snapshot, START, END, ranking, OPTIONS)
    session.commit()
    return session


def _user(session: Session, name: str) -> User:
    return session.scalars(select(User).where(User.username == name)).one()


def _counts(session: Session) -> list[int]:
    return [session.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES]


def _schedule(session: Session) -> list[tuple[str, str, str, str, str]]:
    rows = session.execute(
        select(
            Assignment.person_id,
            Assignment.date,
            Assignment.half,
            Assignment.activity_id,
            Assignment.role,
        )  # fmt: skip
    )
    return sorted((p, d.isoformat(), h, a, r) for p, d, h, a, r in rows)


def test_activation_lays_the_fallback_over_the_schedule_and_sheds(ready: Session) -> None:
    pat = _user(ready, "pat")
    pcs = ready.scalars(
        select(FallbackSchedule).where(FallbackSchedule.scenario == "pcs_season")
    ).one()
    moves = pcs.result["moves"]
    assert moves
    outcome = activate_crisis(ready, "minor", "PCS wave", pat, "pcs_season", now=NOW)
    ready.commit()
    crisis = outcome.crisis
    assert outcome.created and crisis.fallback_id == pcs.id and crisis.shedding_level == "YELLOW"
    in_effect = {(p, d, h): a for p, d, h, a, _ in _schedule(ready)}
    for m in moves:
        assert in_effect[m["person_id"], m["date"], m["half"]] == m["activity_id"]
    changes = ready.scalar(select(func.count()).select_from(CrisisAssignmentChange))
    assert changes == len(moves)
    notified = set(ready.scalars(select(CrisisNotice.person_id)))
    assert {m["person_id"] for m in moves} <= notified
    # Every analysis reads the schedule in effect: the shed activities make no demand.
    shed = SheddingLevel.YELLOW.shed_categories
    snapshot = load_snapshot(ready, start=START, end=END)
    before = load_snapshot(ready, start=START, end=END, shedding=False)
    suspended = {a.id for a in before.activities if a.category in shed}
    assert suspended and set(outcome.suspended) >= suspended
    assert all(snapshot.activities_by_id[a].qualification is None for a in suspended)
    alert = ready.scalars(select(Alert)).one()
    assert alert.level == "critical" and alert.status == AlertStatus.ACTIVE.value
    assert crisis_status(ready)["active"] is True


def test_the_same_activation_twice_activates_once(ready: Session) -> None:
    pat = _user(ready, "pat")
    first = activate_crisis(ready, "moderate", "storm", pat, now=NOW)
    ready.commit()
    counts = _counts(ready)
    second = activate_crisis(ready, "moderate", "storm", pat, now=NOW + timedelta(minutes=1))
    ready.commit()
    assert not second.created and second.crisis.id == first.crisis.id
    assert _counts(ready) == counts
    # Without a scenario, the best matching ready fallback for ORANGE: the weather one.
    assert first.crisis.scenario == "weather_emergency"


@pytest.mark.parametrize(
    ("severity", "approver", "scenario", "error", "message"),
    [
        ("apocalyptic", "pat", None, InputError, "unknown severity 'apocalyptic'"),
        ("minor", "pat", "flood", InputError, "unknown scenario 'flood'"),
        ("minor", "casey", None, PermissionDenied, "program_director role"),
    ],
)
def test_refused_activation_writes_nothing(
    ready: Session,
    severity: str,
    approver: str,
    scenario: str | None,
    error: type[Exception],
    message: str,
) -> None:
    counts, schedule = _counts(ready), _schedule(ready)
    with pytest.raises(error, match=message):
        activate_crisis(ready, severity, "why", _user(ready, approver), scenario, now=NOW)
    assert _counts(ready) == counts and _schedule(ready) == schedule


def test_activation_is_refused_while_another_crisis_is_active(ready: Session) -> None:
    pat = _user(ready, "pat")
    activate_crisis(ready, "minor", "first", pat, now=NOW)
    ready.commit()
    counts, schedule = _counts(ready), _schedule(ready)
    with pytest.raises(InputError, match="already active"):
        activate_crisis(ready, "severe", "second", pat, now=NOW)
    assert _counts(ready) == counts and _schedule(ready) == schedule


def test_a_stale_fallback_is_refused(ready: Session) -> None:
    add_absence(ready, AbsenceEntry("F004", START, START + timedelta(days=1), "sick"), actor="t")
    ready.commit()
    counts, schedule = _counts(ready), _schedule(ready)
    with pytest.raises(InputError, match="no ready fallback for scenario 'pcs_season'"):
        activate_crisis(ready, "minor", "PCS", _user(ready, "pat"), "pcs_season", now=NOW)
    assert _counts(ready) == counts and _schedule(ready) == schedule


def test_without_a_ready_fallback_the_crisis_only_sheds_and_says_why(session: Session) -> None:
    doc = generate_demo_program(seed=3, faculty=12, weeks=4, start=START)
    import_program(session, doc, source="demo", actor="test")
    pat = add_user(session, "pat", Role.ADMIN)
    outcome = activate_crisis(session, "severe", "no plan", pat, now=NOW)
    assert outcome.crisis.fallback_id is None
    assert outcome.crisis.fallback_choice.startswith("none: no ready fallback sheds at RED")


def test_deactivation_restores_the_schedule_and_ends_the_shedding(ready: Session) -> None:
    pat = _user(ready, "pat")
    original = _schedule(ready)
    activate_crisis(ready, "minor", "PCS wave", pat, "pcs_season", now=NOW)
    ready.commit()
    assert _schedule(ready) != original
    outcome = deactivate_crisis(ready, "over", pat, now=NOW + timedelta(days=1))
    ready.commit()
    assert _schedule(ready) == original
    assert outcome.crisis.ended_by == "pat" and outcome.crisis.end_reason == "over"
    decisions = ready.scalars(select(SacrificeDecision)).all()
    assert decisions and all(d.ended_at is not None for d in decisions)
    shed = load_snapshot(ready, start=START, end=END)
    assert shed == load_snapshot(ready, start=START, end=END, shedding=False)
    assert ready.scalars(select(Alert)).one().status == AlertStatus.RESOLVED.value
    assert set(ready.scalars(select(CrisisNotice.kind))) == {"activated", "ended"}
    assert crisis_status(ready)["active"] is False
    with pytest.raises(NotFound, match="no crisis is active"):
        deactivate_crisis(ready, "again", pat)
