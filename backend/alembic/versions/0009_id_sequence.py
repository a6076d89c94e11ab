"""The absence id sequence: the highest absence number ever issued, so none is issued twice.

Before, a new absence took the number after the highest stored one, so the id of a removed
absence could be given to the next one and the audit trail named two absences alike. The
sequence starts at the highest number among the stored ids and the ids the audit trail
names (absences added or removed before this revision).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As app.programs.fields of this revision (a migration keeps its own copy).
_ABSENCE_NUMBER = re.compile(r"A(\d+)")
_ABSENCE_NUMBER_LIMIT = 10**18


def upgrade() -> None:
    id_sequence = op.create_table(
        "id_sequence",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_id_sequence")),
    )
    connection = op.get_bind()
    absence = sa.table("absence", sa.column("id", sa.String))
    audit = sa.table("audit_record", sa.column("details", sa.JSON))
    ids = set(connection.scalars(sa.select(absence.c.id)))
    for details in connection.scalars(sa.select(audit.c.details)):
        named = details.get("absence_id") if isinstance(details, dict) else None
        if isinstance(named, str):
            ids.add(named)
    numbers = [int(found[1]) for i in ids if (found := _ABSENCE_NUMBER.fullmatch(i))]
    highest = max((n for n in numbers if n < _ABSENCE_NUMBER_LIMIT), default=0)
    op.bulk_insert(id_sequence, [{"name": "absence", "last_number": highest}])


def downgrade() -> None:
    op.drop_table("id_sequence")
