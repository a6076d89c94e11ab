"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.programs.service import import_program

DEMO_START = date(2026, 11, 30)
"""The first day of ``demo_db``'s program (a Monday)."""


@pytest.fixture
def demo_db(configured_database: Engine) -> Engine:
    """The small demo program as generated, five weeks from ``DEMO_START``, in the configured
    database (critical faculty in its first three weeks; its best grants also add fatal
    pairs)."""
    doc = generate_demo_program(seed=2, faculty=12, weeks=5, start=DEMO_START)
    with Session(configured_database) as session:
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return configured_database
