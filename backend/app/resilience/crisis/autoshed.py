"""Automatic load shedding, driven by the health check (RESILIENCE_MODEL.md section 5).

Off unless ``AUTO_SHED_LOAD``. After each health check, the shedding level follows the defense
level (computed on the demand before shedding: the true state) upward at once, but never past
ORANGE on its own (beyond needs an approver: a crisis). It steps down only after the level has
stayed lower for ``AUTO_SHED_RECOVERY_MIN`` minutes, and then only to the highest level seen in
that time, so a level that flaps does not make the shedding flap. Each change ends the previous
automatic sacrifice decision and records a new one (automatic, no approver). While a crisis is
active the crisis decides and automatic shedding does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.domain.shedding import SheddingLevel
from app.models.activity import Activity as ActivityRow
from app.models.crisis import SacrificeDecision
from app.models.resilience import HealthCheckRecord
from app.resilience.crisis.service import active_crisis

AUTO_CEILING = SheddingLevel.ORANGE

_BY_DEFENSE = {
    "GREEN": SheddingLevel.NORMAL,
    "YELLOW": SheddingLevel.YELLOW,
    "ORANGE": SheddingLevel.ORANGE,
    "RED": SheddingLevel.RED,
    "BLACK": SheddingLevel.BLACK,
}


def wanted(defense_level: str) -> SheddingLevel:
    """The shedding a defense level asks for, capped at what may be done without approver."""
    level = _BY_DEFENSE[defense_level]
    return level if level.rank <= AUTO_CEILING.rank else AUTO_CEILING


def next_auto_level(
    current: SheddingLevel,
    observations: Sequence[tuple[datetime, str]],
    now: datetime,
    recovery: timedelta,
) -> SheddingLevel:
    """The automatic shedding level after the newest observation.

    Args:
        current: the automatic level in force.
        observations: (time, defense level) of the health checks, oldest first, the newest
            being the one just made.
        now: the time of the decision.
        recovery: how long the level must stay lower before stepping down.
    """
    if not observations:
        return current
    latest = wanted(observations[-1][1])
    if latest.rank >= current.rank:
        return latest
    since = now - recovery
    if observations[0][0] > since:
        return current  # not seen long enough: no history as far back as the recovery time
    recent = [wanted(level) for at, level in observations if at >= since]
    highest = max(recent, key=lambda lvl: lvl.rank)
    return highest if highest.rank < current.rank else current


def apply_auto_shedding(
    session: Session, settings: Settings, now: datetime
) -> SheddingLevel | None:
    """Follow the health checks' defense level (see the module docstring); the caller commits.

    Returns:
        The automatic level in force afterwards; None when automatic shedding is off or a
        crisis is active.
    """
    if not settings.AUTO_SHED_LOAD or active_crisis(session) is not None:
        return None
    recovery = timedelta(minutes=settings.AUTO_SHED_RECOVERY_MIN)
    decision = session.scalars(
        select(SacrificeDecision).where(
            SacrificeDecision.automatic.is_(True), SacrificeDecision.ended_at.is_(None)
        )
    ).first()
    current = SheddingLevel(decision.level) if decision else SheddingLevel.NORMAL
    newest_before = session.scalars(
        select(HealthCheckRecord.finished_at)
        .where(HealthCheckRecord.finished_at < now - recovery)
        .order_by(HealthCheckRecord.finished_at.desc())
    ).first()
    rows = session.execute(
        select(HealthCheckRecord.finished_at, HealthCheckRecord.defense_level)
        .where(HealthCheckRecord.finished_at >= (newest_before or now - recovery))
        .order_by(HealthCheckRecord.finished_at, HealthCheckRecord.id)
    ).all()
    level = next_auto_level(current, [(at, lvl) for at, lvl in rows], now, recovery)
    if level is current:
        return level
    if decision is not None:
        decision.ended_at = now
    if level is not SheddingLevel.NORMAL:
        shed = level.shed_categories
        ids = sorted(
            a for a, c in session.execute(select(ActivityRow.id, ActivityRow.category)) if c in shed
        )
        session.add(
            SacrificeDecision(
                decided_at=now,
                decided_by=None,
                automatic=True,
                level=level.value,
                reason=f"automatic: defense level {rows[-1][1]} (was shedding {current.value})",
                suspended_activities={"activities": ids, "categories": sorted(shed)},
            )
        )
    session.flush()
    return level
