"""Every ORM model, imported here so that ``Base.metadata`` (Alembic, the tests) sees them all."""

from app.models import (
    activity,
    alert,
    audit,
    crisis,
    delivery,
    fallback,
    person,
    program,
    resilience,
    schedule,
    sequence,
    user,
)
from app.models.base import Base

__all__ = [
    "Base",
    "activity",
    "alert",
    "audit",
    "crisis",
    "fallback",
    "delivery",
    "person",
    "program",
    "resilience",
    "schedule",
    "sequence",
    "user",
]
