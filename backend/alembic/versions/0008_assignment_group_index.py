"""Assignments indexed by half-day, activity and role, covering the person (grouped reads).

The contingency analysis reads a window of assignments grouped by date, half, activity and
role (``app.domain.snapshot``). With every column in the index, the database walks it in
group order (no sort, no table lookup): on 600 faculty over a year the grouped read takes
about a third of a plain read of the rows. Its leading column is the date, so it replaces the
date index for every windowed read.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["date", "half", "activity_id", "role", "person_id"]


def upgrade() -> None:
    op.create_index("ix_assignment_halfday_group", "assignment", COLUMNS, unique=False)
    op.drop_index("ix_assignment_date", table_name="assignment")


def downgrade() -> None:
    op.create_index("ix_assignment_date", "assignment", ["date"], unique=False)
    op.drop_index("ix_assignment_halfday_group", table_name="assignment")
