"""What-if: the gaps and contingency findings a proposed absence would add or remove.

Pure and exact: only the site-half-days whose coverage problem differs are re-analysed, and
findings (a person or a pair, a half-day, a site) are compared before and after. The
cross-training what-if lives in ``contingency_crosstrain`` and is re-exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.domain.coverage import Gap, SiteHalfDay
from app.domain.schedule import Person
from app.resilience.contingency.core import Exposure, HalfDayAtSite, analyze_contingency
from app.resilience.contingency.crosstrain import CrossTrainingOption, cross_training_candidates
from app.resilience.contingency.shape import HALL_MAX_QUALS

__all__ = ["AbsenceImpact", "CrossTrainingOption", "absence_impact", "cross_training_candidates"]


@dataclass(frozen=True)
class AbsenceImpact:
    """Gaps and findings a proposed change (e.g. an absence) adds and removes.

    Gaps compare as whole records (a changed count shows as one removed and one added);
    findings compare by (person or pair, half-day, site), reported as after (added) or
    before (removed) the change.
    """

    gaps_added: tuple[Gap, ...]
    gaps_removed: tuple[Gap, ...]
    n1_added: tuple[tuple[str, Exposure], ...]
    n1_removed: tuple[tuple[str, Exposure], ...]
    n2_added: tuple[tuple[tuple[str, str], Exposure], ...]
    n2_removed: tuple[tuple[tuple[str, str], Exposure], ...]

    @property
    def changes_nothing(self) -> bool:
        return not any(
            (
                self.gaps_added,
                self.gaps_removed,
                self.n1_added,
                self.n1_removed,
                self.n2_added,
                self.n2_removed,
            )
        )

    def to_json(self) -> dict[str, Any]:
        def n1(rows: tuple[tuple[str, Exposure], ...]) -> list[dict[str, Any]]:
            return [{"person_id": p, **e.to_json()} for p, e in rows]

        def n2(rows: tuple[tuple[tuple[str, str], Exposure], ...]) -> list[dict[str, Any]]:
            return [{"person_ids": list(p), **e.to_json()} for p, e in rows]

        return {
            "gaps_added": [g.to_json() for g in self.gaps_added],
            "gaps_removed": [g.to_json() for g in self.gaps_removed],
            "n1_added": n1(self.n1_added),
            "n1_removed": n1(self.n1_removed),
            "n2_added": n2(self.n2_added),
            "n2_removed": n2(self.n2_removed),
        }


def absence_impact(
    problems_before: Sequence[SiteHalfDay],
    problems_after: Sequence[SiteHalfDay],
    people: Mapping[str, Person] | None = None,
    hall_max_quals: int = HALL_MAX_QUALS,
) -> AbsenceImpact:
    """What a proposed absence (or any schedule change) does to gaps and N-1/N-2 findings.

    Args:
        problems_before: the window's site-half-days as scheduled.
        problems_after: the same window rebuilt with the change (e.g. the absence added).
        people: optional, for names in the underlying analyses.
        hall_max_quals: see ``analyze_problem``.

    Returns:
        Added and removed gaps and findings, in canonical order. Only site-half-days whose
        problem differs are re-analysed.
    """
    old = {HalfDayAtSite(p.halfday, p.site): p for p in problems_before}
    new = {HalfDayAtSite(p.halfday, p.site): p for p in problems_after}
    touched = sorted(w for w in old.keys() | new.keys() if old.get(w) != new.get(w))
    a = analyze_contingency([old[w] for w in touched if w in old], people, hall_max_quals)
    b = analyze_contingency([new[w] for w in touched if w in new], people, hall_max_quals)
    gaps_a = {g for s in a.gaps for g in s.gaps}
    gaps_b = {g for s in b.gaps for g in s.gaps}
    n1_a = {(p, e.where): e for p, e in a.n1_findings()}
    n1_b = {(p, e.where): e for p, e in b.n1_findings()}
    n2_a = {(p, e.where): e for p, e in a.n2_findings()}
    n2_b = {(p, e.where): e for p, e in b.n2_findings()}

    def gap_key(g: Gap) -> tuple[object, ...]:
        return (g.halfday, g.site, g.activity_id, g.missing)

    return AbsenceImpact(
        tuple(sorted(gaps_b - gaps_a, key=gap_key)),
        tuple(sorted(gaps_a - gaps_b, key=gap_key)),
        tuple((k[0], n1_b[k]) for k in sorted(n1_b.keys() - n1_a.keys())),
        tuple((k[0], n1_a[k]) for k in sorted(n1_a.keys() - n1_b.keys())),
        tuple((k[0], n2_b[k]) for k in sorted(n2_b.keys() - n2_a.keys())),
        tuple((k[0], n2_a[k]) for k in sorted(n2_a.keys() - n2_b.keys())),
    )
