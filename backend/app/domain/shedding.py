"""Load-shedding levels of the sacrifice hierarchy (RESILIENCE_MODEL.md section 5).

Levels shed cumulatively from the least protected category: NORMAL sheds nothing, YELLOW
optional education, ORANGE also administration and research, RED also core education, BLACK
also continuity of care, CRITICAL also ACGME requirements (patient safety only is left).
Patient safety is never shed. A crisis severity maps to a level; CRITICAL is only ever set
explicitly by an approver.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum

from app.domain.schedule import Activity, Category, ScheduleSnapshot


class SheddingLevel(StrEnum):
    NORMAL = "NORMAL"
    YELLOW = "YELLOW"
    ORANGE = "ORANGE"
    RED = "RED"
    BLACK = "BLACK"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        """0 for NORMAL up to 5 for CRITICAL."""
        return list(SheddingLevel).index(self)

    @property
    def shed_categories(self) -> frozenset[Category]:
        """The categories this level sheds."""
        return frozenset(_SHED_ORDER[: _SHED_COUNT[self]])


_SHED_ORDER: tuple[Category, ...] = (
    Category.OPTIONAL_EDUCATION,
    Category.ADMINISTRATION,
    Category.RESEARCH,
    Category.CORE_EDUCATION,
    Category.CONTINUITY_OF_CARE,
    Category.ACGME_REQUIREMENTS,
)
_SHED_COUNT = {
    SheddingLevel.NORMAL: 0,
    SheddingLevel.YELLOW: 1,
    SheddingLevel.ORANGE: 3,
    SheddingLevel.RED: 4,
    SheddingLevel.BLACK: 5,
    SheddingLevel.CRITICAL: 6,
}

SEVERITY_LEVELS: dict[str, SheddingLevel] = {
    "minor": SheddingLevel.YELLOW,
    "moderate": SheddingLevel.ORANGE,
    "severe": SheddingLevel.RED,
    "critical": SheddingLevel.BLACK,
}
"""Crisis severity -> the shedding level it brings."""


def suspend_activities(
    snapshot: ScheduleSnapshot, activity_ids: frozenset[str]
) -> ScheduleSnapshot:
    """The schedule with those activities suspended (shed, or their site closed).

    A suspended activity makes no faculty demand and its faculty are releasable (section 5);
    its assignments stay, so its residents can be listed as displaced.
    """

    def suspended(a: Activity) -> Activity:
        return replace(a, qualification=None, min_faculty=0, min_faculty_rules=(), releasable=True)

    activities = tuple(suspended(a) if a.id in activity_ids else a for a in snapshot.activities)
    return replace(snapshot, activities=activities)
