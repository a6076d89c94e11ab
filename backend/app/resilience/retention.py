"""Retention: delete the records older than ``RETENTION_DAYS`` (the daily prune task).

Each pruned table is one ``Pruned`` line in ``PRUNED``: its name, the time column that ages it,
and what must never go (the newest contingency report, which the health check reads; the newest
forecast, the one shown; the newest fallback of each scenario, the one a crisis switches to; an
alert that is not resolved). A table that does not exist in the
database (one a later migration adds) is skipped, so a line can be added before its migration
runs everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, column, delete, func, inspect, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnClause


@dataclass(frozen=True)
class Pruned:
    """A table whose rows are deleted once ``time_column`` is older than the cutoff."""

    table: str
    time_column: str
    keep_newest: bool = False
    """Never delete the newest row (by ``time_column``), however old."""
    keep_newest_per: str | None = None
    """Never delete the newest row of each value of this column (e.g. each scenario)."""
    only_status: str | None = None
    """Delete only rows whose ``status`` column has this value."""

    def delete_older_than(self, cutoff: datetime) -> Delete:
        """The DELETE statement of this table's rows older than ``cutoff``."""
        group: list[ColumnClause[Any]] = (
            [column(self.keep_newest_per)] if self.keep_newest_per else []
        )
        rows = table(self.table, column(self.time_column), column("status"), *group)
        when = rows.c[self.time_column]
        condition = when < cutoff
        if self.only_status is not None:
            condition &= rows.c.status == self.only_status
        if self.keep_newest or self.keep_newest_per:
            others = rows.alias("newest")  # an alias: not correlated with the DELETE's table
            newest = select(func.max(others.c[self.time_column]))
            if self.keep_newest_per:
                newest = newest.where(
                    others.c[self.keep_newest_per] == rows.c[self.keep_newest_per]
                )
            condition &= when < newest.scalar_subquery()
        return delete(rows).where(condition)


PRUNED = (
    Pruned("health_check_record", "finished_at"),
    Pruned("contingency_report", "created_at", keep_newest=True),
    Pruned("alert", "resolved_at", only_status="resolved"),
    Pruned("utilization_forecast", "created_at", keep_newest=True),
    # A fallback reused on unchanged input keeps its first created_at: the newest of each
    # scenario stays however old, so a quiet program never loses its ready fallbacks.
    Pruned("fallback_schedule", "created_at", keep_newest_per="scenario"),
    # Delivered notices go (their attempts with them, ON DELETE CASCADE); a failed one stays
    # visible for `alerts resend-failed`, and a resolved alert takes its deliveries along.
    Pruned("alert_delivery", "created_at", only_status="delivered"),
)


def prune_old_records(session: Session, now: datetime, retention_days: int) -> dict[str, int]:
    """Delete, in the caller's transaction, what ``PRUNED`` says is older than the retention.

    Args:
        session: the open session (the caller commits).
        now: the current time (UTC, naive as the models store it).
        retention_days: how many days of records to keep.

    Returns:
        Rows deleted per table; a table missing from the database is absent.
    """
    cutoff = now - timedelta(days=retention_days)
    existing = set(inspect(session.connection()).get_table_names())
    deleted = {}
    for pruned in PRUNED:
        if pruned.table not in existing:
            continue
        result = session.execute(pruned.delete_older_than(cutoff))
        deleted[pruned.table] = int(result.rowcount)  # type: ignore[attr-defined]
    return deleted
