"""The program's clock, read from the database: the one clock of every analysis and command."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.domain.clock import HalfDayClock
from app.models.program import PROGRAM_ROW_ID, Program
from app.resilience.policy import HealthPolicy


def program_clock(session: Session, settings: Settings) -> HalfDayClock:
    """The program's half-day clock.

    Its time zone is the one stored with the program (``PROGRAM_TIMEZONE`` only while no
    program is imported); its half-day times come from the settings.
    """
    timezone = session.scalar(select(Program.timezone).where(Program.id == PROGRAM_ROW_ID))
    return HealthPolicy.from_settings(settings).clock(timezone)
