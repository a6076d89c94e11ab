"""Program schedule end; the task id of a health-check record (redelivery is a no-op).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("program") as batch:
        batch.add_column(sa.Column("schedule_end", sa.Date(), nullable=True))
    with op.batch_alter_table("health_check_record") as batch:
        batch.add_column(sa.Column("task_id", sa.String(length=64), nullable=True))
        batch.create_unique_constraint(batch.f("uq_health_check_record_task_id"), ["task_id"])


def downgrade() -> None:
    with op.batch_alter_table("health_check_record") as batch:
        batch.drop_constraint(batch.f("uq_health_check_record_task_id"), type_="unique")
        batch.drop_column("task_id")
    with op.batch_alter_table("program") as batch:
        batch.drop_column("schedule_end")
