"""Fallback schedules; crisis events, sacrifice decisions, changes laid over the schedule and
notices to affected people.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _crisis_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["crisis_event_id"],
        ["crisis_event.id"],
        name=op.f(f"fk_{table}_crisis_event_id_crisis_event"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "fallback_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("moves", sa.Integer(), nullable=False),
        sa.Column("uncovered_slots", sa.Integer(), nullable=False),
        sa.Column("n1_pass", sa.Boolean(), nullable=False),
        sa.Column("n2_pass", sa.Boolean(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fallback_schedule")),
        sa.UniqueConstraint(
            "scenario", "start", "end", "fingerprint", name=op.f("uq_fallback_input")
        ),
    )
    op.create_index(op.f("ix_fallback_schedule_created_at"), "fallback_schedule", ["created_at"])
    op.create_table(
        "crisis_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("shedding_level", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("scenario", sa.String(length=64), nullable=True),
        sa.Column("fallback_id", sa.Integer(), nullable=True),
        sa.Column("fallback_choice", sa.String(length=500), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        sa.Column("end_reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["fallback_id"],
            ["fallback_schedule.id"],
            name=op.f("fk_crisis_event_fallback_id_fallback_schedule"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_event")),
        sa.UniqueConstraint("request_key", name=op.f("uq_crisis_event_request_key")),
    )
    op.create_index(op.f("ix_crisis_event_ended_at"), "crisis_event", ["ended_at"])
    op.create_table(
        "sacrifice_decision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_event_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("suspended_activities", sa.JSON(), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(length=100), nullable=True),
        _crisis_fk("sacrifice_decision"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sacrifice_decision")),
    )
    op.create_index(op.f("ix_sacrifice_decision_ended_at"), "sacrifice_decision", ["ended_at"])
    op.create_table(
        "crisis_assignment_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("half", sa.String(length=2), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("previous_activity_id", sa.String(length=64), nullable=True),
        sa.Column("previous_role", sa.String(length=16), nullable=True),
        _crisis_fk("crisis_assignment_change"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_assignment_change")),
    )
    op.create_index(
        op.f("ix_crisis_assignment_change_crisis_event_id"),
        "crisis_assignment_change",
        ["crisis_event_id"],
    )
    op.create_table(
        "crisis_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("crisis_event_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=4000), nullable=False),
        sa.Column("half_days", sa.JSON(), nullable=False),
        _crisis_fk("crisis_notice"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_notice")),
    )
    op.create_index(op.f("ix_crisis_notice_person_id"), "crisis_notice", ["person_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_crisis_notice_person_id"), table_name="crisis_notice")
    op.drop_table("crisis_notice")
    op.drop_index(
        op.f("ix_crisis_assignment_change_crisis_event_id"), table_name="crisis_assignment_change"
    )
    op.drop_table("crisis_assignment_change")
    op.drop_index(op.f("ix_sacrifice_decision_ended_at"), table_name="sacrifice_decision")
    op.drop_table("sacrifice_decision")
    op.drop_index(op.f("ix_crisis_event_ended_at"), table_name="crisis_event")
    op.drop_table("crisis_event")
    op.drop_index(op.f("ix_fallback_schedule_created_at"), table_name="fallback_schedule")
    op.drop_table("fallback_schedule")
