"""Automatic load shedding: up at once but never past ORANGE, down only after the recovery
time, and a flapping level does not make it flap. Expected levels are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.service import add_user
from app.core.config import Settings
from app.domain.shedding import SheddingLevel as S
from app.models.crisis import SacrificeDecision
from app.models.resilience import HealthCheckRecord
from app.models.user import Role
from app.resilience.crisis.autoshed import apply_auto_shedding, next_auto_level
from app.resilience.crisis.service import activate_crisis

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
HOUR = timedelta(minutes=60)


def _drive(levels: list[str], recovery: timedelta = HOUR) -> list[S]:
    """The automatic level after each of a series of health checks, 15 minutes apart."""
    current, seen, out = S.NORMAL, [], []
    for i, level in enumerate(levels):
        now = T0 + i * STEP
        seen.append((now, level))
        current = next_auto_level(current, seen, now, recovery)
        out.append(current)
    return out


def test_shedding_follows_the_level_up_at_once_but_never_past_orange() -> None:
    assert _drive(["GREEN", "YELLOW", "RED", "BLACK"]) == [S.NORMAL, S.YELLOW, S.ORANGE, S.ORANGE]


def test_shedding_steps_down_only_after_the_recovery_time() -> None:
    # ORANGE at 0 min, GREEN from 15 min: the last hour is all GREEN first at 75 min (index 5).
    assert _drive(["ORANGE"] + ["GREEN"] * 6) == [S.ORANGE] * 5 + [S.NORMAL] * 2
    # To the highest level of that hour, not below it.
    assert _drive(["ORANGE"] + ["YELLOW"] * 6) == [S.ORANGE] * 5 + [S.YELLOW] * 2


def test_a_flapping_level_does_not_make_shedding_flap() -> None:
    flapping = ["ORANGE", "GREEN"] * 12  # six hours, changing every health check
    levels = _drive(flapping)
    assert levels == [S.ORANGE] * len(flapping)
    changes = sum(a is not b for a, b in zip([S.NORMAL, *levels], levels, strict=False))
    assert changes == 1


def _record(session: Session, at: datetime, level: str) -> None:
    session.add(
        HealthCheckRecord(
            started_at=at, finished_at=at, duration_s=0.1, window_start=date(2026, 12, 7),
            window_end=date(2026, 12, 13), utilization=0.5, utilization_level="GREEN",
            defense_level=level, gap_count=0, n1_status="pass", n2_status="pass", result={},
        )
    )  # fmt: skip
    session.flush()


ON = Settings(AUTO_SHED_LOAD=True, AUTO_SHED_RECOVERY_MIN=60)


def test_apply_records_an_automatic_decision_only_when_on_and_no_crisis(session: Session) -> None:
    _record(session, T0, "RED")
    assert apply_auto_shedding(session, Settings(AUTO_SHED_LOAD=False), T0) is None
    assert session.scalars(select(SacrificeDecision)).all() == []
    assert apply_auto_shedding(session, ON, T0) is S.ORANGE
    decision = session.scalars(select(SacrificeDecision)).one()
    assert decision.automatic and decision.decided_by is None and decision.level == "ORANGE"
    # Unchanged input: nothing new.
    assert apply_auto_shedding(session, ON, T0 + timedelta(seconds=1)) is S.ORANGE
    assert len(session.scalars(select(SacrificeDecision)).all()) == 1
    for i in range(1, 6):
        _record(session, T0 + i * STEP, "GREEN")
    assert apply_auto_shedding(session, ON, T0 + 5 * STEP) is S.NORMAL
    assert session.scalars(select(SacrificeDecision)).one().ended_at is not None


def test_apply_does_nothing_while_a_crisis_is_active(session: Session) -> None:
    pat = add_user(session, "pat", Role.PROGRAM_DIRECTOR)
    activate_crisis(session, "minor", "storm", pat, now=T0)
    _record(session, T0, "RED")
    assert apply_auto_shedding(session, ON, T0) is None
    assert [d.automatic for d in session.scalars(select(SacrificeDecision))] == [False]


@pytest.mark.parametrize("level", ["GREEN", "YELLOW", "ORANGE", "RED", "BLACK"])
def test_one_observation_sheds_at_its_level_capped(level: str) -> None:
    expected = {"GREEN": S.NORMAL, "YELLOW": S.YELLOW}.get(level, S.ORANGE)
    assert next_auto_level(S.NORMAL, [(T0, level)], T0, HOUR) is expected
