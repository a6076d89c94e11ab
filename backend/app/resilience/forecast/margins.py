"""The daily series of realised coverage margin, from the stored health checks.

The margin a health check saw is ``1 - utilization`` of its window: the share of the faculty
on hand that required work leaves free (negative when demand exceeds the pool). A day's value
is the mean over that day's health checks (by the program date they checked from); days
without a check are left out. The database averages each day, so the health check reads one
row per day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models.resilience import HealthCheckRecord

if TYPE_CHECKING:
    from app.resilience.forecast.early_warning import EarlyWarning

EARLY_WARNING_LOOKBACK_DAYS = 120
"""Days of health checks before today that the early warning looks at."""


def daily_margins(session: Session, today: date) -> list[float]:
    """One margin per day with a health check, from ``EARLY_WARNING_LOOKBACK_DAYS`` before
    ``today`` up to it, oldest first."""
    c = HealthCheckRecord.__table__.c
    rows = session.execute(
        select(c.window_start, func.avg(c.utilization))
        .where(
            c.window_start >= today - timedelta(days=EARLY_WARNING_LOOKBACK_DAYS),
            c.window_start <= today,
            c.utilization.is_not(None),
        )
        .group_by(c.window_start)
        .order_by(c.window_start)
    ).all()
    # The mean of 1 - u is 1 - the mean of u: one row per day comes back.
    return [1.0 - float(mean) for _, mean in rows]


def early_warning_now(session: Session, today: date, settings: Settings) -> EarlyWarning:
    """The early-warning verdict on the stored health checks up to ``today``."""
    # Imported here: it imports numpy, which command lines that never test for an early
    # warning (``analyze contingency``) need not pay for at start.
    from app.resilience.forecast.early_warning import assess_early_warning

    return assess_early_warning(
        daily_margins(session, today),
        window_days=settings.EARLY_WARNING_WINDOW_DAYS,
        min_days=settings.EARLY_WARNING_MIN_DAYS,
        p_value=settings.EARLY_WARNING_P_VALUE,
    )
