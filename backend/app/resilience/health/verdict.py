"""The defense level: the worst of the rules of RESILIENCE_MODEL.md section 4.

Pure: it weighs the gaps and findings it is given against the program's clock and a
``VerdictPolicy``; which windows and reports feed it is the health check's business.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.domain.clock import HalfDayClock
from app.domain.coverage import Gap
from app.domain.schedule import Category, HalfDay
from app.resilience.health.levels import Level, worst

URGENT_CATEGORIES = frozenset({Category.PATIENT_SAFETY, Category.ACGME_REQUIREMENTS})
"""Work whose gap within the urgent window is BLACK (model section 4)."""


@dataclass(frozen=True)
class VerdictPolicy:
    """Where the rules of section 4 draw their lines (built from settings by ``HealthPolicy``).

    Attributes:
        near_days: "within 7 days": the utilization window, and a gap in it is RED.
        contingency_days: "within 14 days": an N-1 failure in it is ORANGE, a fatal pair YELLOW.
        urgent_window: "within 48 hours": a gap in urgent work starting before then is BLACK.
    """

    near_days: int = 7
    contingency_days: int = 14
    urgent_window: timedelta = timedelta(hours=48)

    @property
    def urgent_hours(self) -> int:
        return int(self.urgent_window.total_seconds() // 3600)


@dataclass(frozen=True)
class DefenseAssessment:
    """The defense level and the findings behind it, one reason per rule that fired."""

    level: Level
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, object]:
        return {"level": self.level.value, "reasons": list(self.reasons)}


class _Rules:
    """Collects, per rule that fired, its level, how many times it fired and the first case."""

    def __init__(self) -> None:
        self._fired: dict[str, tuple[Level, int, str]] = {}

    def fire(self, level: Level, rule: str, where: str) -> None:
        known = self._fired.get(rule)
        self._fired[rule] = (level, 1, where) if known is None else (level, known[1] + 1, known[2])

    def assessment(self) -> DefenseAssessment:
        level = worst(lv for lv, _, _ in self._fired.values())
        ordered = sorted(self._fired.items(), key=lambda item: -item[1][0].rank)
        reasons = tuple(
            f"{lv.value}: {rule}{_where(where, count)}" for rule, (lv, count, where) in ordered
        )
        return DefenseAssessment(level, reasons)


def _where(first: str, count: int) -> str:
    if not first:
        return ""
    return f": {first}" if count == 1 else f": {first} and {count - 1} more"


def defense_level(
    *,
    now: datetime,
    clock: HalfDayClock,
    utilization_level: Level,
    gaps: Sequence[Gap],
    n1_halfdays: Sequence[HalfDay] | None,
    n2_halfdays: Sequence[HalfDay] | None,
    policy: VerdictPolicy | None = None,
) -> DefenseAssessment:
    """The defense level of the findings of every analysed window (model section 4).

    A half-day that has ended counts for nothing, gaps and findings alike. A gap always counts
    at least as much as an N-1 failure at the same time (ORANGE at the least, against ORANGE
    at the most), and more findings never give a better level (the level is a maximum).

    Args:
        now: the current instant (timezone-aware).
        clock: the program's half-day clock.
        utilization_level: the level of the utilization of the next ``near_days`` days.
        gaps: every gap of the analysed horizon.
        n1_halfdays: half-days with an N-1 failure (None: not analysed).
        n2_halfdays: half-days with a fatal pair (None: not analysed).
        policy: the lines the rules draw (the model's 48 hours, 7 and 14 days by default).
    """
    policy = policy or VerdictPolicy()
    today = clock.today(now)
    near = today + timedelta(days=policy.near_days)
    contingency_near = today + timedelta(days=policy.contingency_days)
    rules = _Rules()
    if utilization_level is not Level.GREEN:
        rules.fire(utilization_level, f"utilization of the next {policy.near_days} days", "")
    for gap in sorted(gaps, key=lambda g: (g.halfday, g.site, g.activity_id)):
        if clock.end_of(gap.halfday) <= now:
            continue
        where = f"{gap.activity_id} at {gap.site} on {gap.halfday}"
        urgent = clock.start_of(gap.halfday) < now + policy.urgent_window
        if urgent and gap.category in URGENT_CATEGORIES:
            rule = f"{gap.category.value} gap within {policy.urgent_hours} hours"
            rules.fire(Level.BLACK, rule, where)
        elif gap.halfday.date < near:
            rules.fire(Level.RED, f"gap within {policy.near_days} days", where)
        else:
            rules.fire(Level.ORANGE, "gap later in the horizon", where)
    for hd in sorted(n1_halfdays or ()):
        if clock.end_of(hd) <= now:
            continue
        if hd.date < contingency_near:
            rules.fire(Level.ORANGE, f"N-1 failure within {policy.contingency_days} days", str(hd))
        else:
            rules.fire(Level.YELLOW, "N-1 failure later in the horizon", str(hd))
    for hd in sorted(n2_halfdays or ()):
        if clock.end_of(hd) <= now:
            continue
        if hd.date < contingency_near:
            rules.fire(Level.YELLOW, f"fatal pair within {policy.contingency_days} days", str(hd))
    return rules.assessment()
