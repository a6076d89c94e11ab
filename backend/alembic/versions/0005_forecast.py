"""The utilization forecast's table; health checks indexed by day (the early warning).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "utilization_forecast",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("high_risk_days", sa.Integer(), nullable=False),
        sa.Column("max_shortfall_probability", sa.Double(), nullable=False),
        sa.Column("worst_level", sa.String(length=16), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_utilization_forecast")),
        sa.UniqueConstraint("task_id", name=op.f("uq_utilization_forecast_task_id")),
    )
    op.create_index(
        "ix_utilization_forecast_created_at", "utilization_forecast", ["created_at"], unique=False
    )
    op.create_index(
        "ix_health_check_record_window_start",
        "health_check_record",
        ["window_start"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_health_check_record_window_start", table_name="health_check_record")
    op.drop_index("ix_utilization_forecast_created_at", table_name="utilization_forecast")
    op.drop_table("utilization_forecast")
