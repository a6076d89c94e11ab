"""Initial tables: program data, users, audit trail, alerts and analysis results.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=100), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_level", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index("ix_alert_dedup_key_status", "alert", ["dedup_key", "status"], unique=False)

    op.create_table(
        "audit_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
    )
    op.create_index("ix_audit_record_at", "audit_record", ["at"], unique=False)

    op.create_table(
        "contingency_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("n1_pass", sa.Boolean(), nullable=False),
        sa.Column("n2_pass", sa.Boolean(), nullable=False),
        sa.Column("gap_count", sa.Integer(), nullable=False),
        sa.Column("critical_count", sa.Integer(), nullable=False),
        sa.Column("fatal_pair_count", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contingency_report")),
        sa.UniqueConstraint("fingerprint", "start", "end", name="uq_contingency_report_input"),
    )
    op.create_index(
        "ix_contingency_report_created_at", "contingency_report", ["created_at"], unique=False
    )

    op.create_table(
        "health_check_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Double(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("utilization", sa.Double(), nullable=True),
        sa.Column("utilization_level", sa.String(length=16), nullable=False),
        sa.Column("defense_level", sa.String(length=16), nullable=False),
        sa.Column("gap_count", sa.Integer(), nullable=False),
        sa.Column("n1_status", sa.String(length=16), nullable=False),
        sa.Column("n2_status", sa.String(length=16), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_check_record")),
    )
    op.create_index(
        "ix_health_check_record_finished_at", "health_check_record", ["finished_at"], unique=False
    )

    op.create_table(
        "holiday",
        sa.Column("date", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("date", name=op.f("pk_holiday")),
    )
    op.create_table(
        "person",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("pgy", sa.Integer(), nullable=True),
        sa.Column("pgy_academic_year", sa.Integer(), nullable=True),
        sa.Column("faculty_role", sa.String(length=64), nullable=True),
        sa.Column("weekly_cap", sa.Integer(), nullable=True),
        sa.Column("active_from", sa.Date(), nullable=True),
        sa.Column("active_to", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "program",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("main_site", sa.String(length=64), nullable=False),
        sa.Column("academic_year_start", sa.String(length=5), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_program_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_program")),
    )
    op.create_table(
        "qualification",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qualification")),
    )
    op.create_table(
        "site",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site")),
    )
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("api_token_hash", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_account")),
        sa.UniqueConstraint("username", name=op.f("uq_user_account_username")),
    )
    op.create_table(
        "absence",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("half", sa.String(length=2), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("blocking", sa.Boolean(), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_absence_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absence")),
    )
    op.create_index("ix_absence_person_id", "absence", ["person_id"], unique=False)

    op.create_table(
        "activity",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("site_id", sa.String(length=64), nullable=False),
        sa.Column("qualification_id", sa.String(length=64), nullable=True),
        sa.Column("min_faculty", sa.Integer(), nullable=False),
        sa.Column("ratio_pgy1", sa.Integer(), nullable=True),
        sa.Column("ratio_pgy2plus", sa.Integer(), nullable=True),
        sa.Column("releasable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_activity_qualification_id_qualification"),
        ),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"], name=op.f("fk_activity_site_id_site")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    op.create_table(
        "person_qualification",
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("qualification_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_person_qualification_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["qualification_id"],
            ["qualification.id"],
            name=op.f("fk_person_qualification_qualification_id_qualification"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "qualification_id", name=op.f("pk_person_qualification")
        ),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("half", sa.String(length=2), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_assignment_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_assignment_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment")),
        sa.UniqueConstraint("person_id", "date", "half", name="uq_assignment_person_halfday"),
    )
    op.create_index("ix_assignment_date", "assignment", ["date"], unique=False)

    op.create_table(
        "min_faculty_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("min_faculty", sa.Integer(), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=True),
        sa.Column("half", sa.String(length=2), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("holiday", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_min_faculty_rule_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_min_faculty_rule")),
        sa.UniqueConstraint(
            "activity_id", "position", name=op.f("uq_min_faculty_rule_activity_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("min_faculty_rule")
    op.drop_index("ix_assignment_date", table_name="assignment")

    op.drop_table("assignment")
    op.drop_table("person_qualification")
    op.drop_table("activity")
    op.drop_index("ix_absence_person_id", table_name="absence")

    op.drop_table("absence")
    op.drop_table("user_account")
    op.drop_table("site")
    op.drop_table("qualification")
    op.drop_table("program")
    op.drop_table("person")
    op.drop_table("holiday")
    op.drop_index("ix_health_check_record_finished_at", table_name="health_check_record")

    op.drop_table("health_check_record")
    op.drop_index("ix_contingency_report_created_at", table_name="contingency_report")

    op.drop_table("contingency_report")
    op.drop_index("ix_audit_record_at", table_name="audit_record")

    op.drop_table("audit_record")
    op.drop_index("ix_alert_dedup_key_status", table_name="alert")

    op.drop_table("alert")
