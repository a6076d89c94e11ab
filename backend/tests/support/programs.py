"""A program in a database given by URL, for the tests that start a worker or a script on it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.core.db import make_engine
from app.programs.service import import_program
from tests.programs.factories import small_program


def load_small_program(url: str) -> None:
    """Import ``small_program()`` into the migrated database at ``url``.

    The health check, contingency analysis and forecast refuse an empty database
    (``NoSchedule``): a test of what they store or publish needs a schedule. This one covers
    2026-12-01 .. 2026-12-05, so a check run on another day judges no half-day (GREEN).
    """
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            import_program(session, small_program(), source="test", actor="test")
            session.commit()
    finally:
        engine.dispose()
