"""Numbers handed out once: the highest number of each id scheme ever issued, kept durably.

A sequence lives in its own row, outside the tables whose rows carry the numbers: deleting an
absence, or importing a program over all of them, leaves it as it is, so a number that was
issued is never issued again and the audit trail's ids each name one thing.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, case, literal
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.models.base import Base

ABSENCE_SEQUENCE = "absence"
"""The sequence of absence ids (``A0042`` is number 42)."""


class IdSequence(Base):
    """The highest number issued, or stored under a given id, in one id scheme; never lowered."""

    __tablename__ = "id_sequence"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(BigInteger)


def advance_sequence(session: Session, name: str, *, at_least: int = 0, count: int = 0) -> int:
    """Raise sequence ``name`` to ``at_least`` when it is lower, then add ``count`` to it.

    Returns the new last number: numbers ``last - count + 1`` to ``last`` are the caller's.
    It is one upsert in the caller's transaction (a missing row starts at ``at_least``). On
    PostgreSQL the row stays locked until that transaction ends, so a concurrent caller waits
    and then counts on from this caller's numbers; SQLite has one writer at a time.
    """
    last = IdSequence.last_number
    floor = literal(at_least, BigInteger())  # one BIGINT parameter, as the column
    new_last = case((last > floor, last), else_=floor) + count
    values = {"name": name, "last_number": at_least + count}
    # The dialects' insert constructs are imported here: PostgreSQL's dialect package alone
    # costs every process that imports the models about 16 ms (measured with -X importtime).
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        on_pg = postgresql.insert(IdSequence).values(values)
        upsert = on_pg.on_conflict_do_update(index_elements=["name"], set_={last: new_last})
        statement = upsert.returning(last)
    else:
        from sqlalchemy.dialects import sqlite

        on_lite = sqlite.insert(IdSequence).values(values)
        upsert_lite = on_lite.on_conflict_do_update(index_elements=["name"], set_={last: new_last})
        statement = upsert_lite.returning(last)
    return int(session.execute(statement).scalar_one())
