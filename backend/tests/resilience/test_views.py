"""Read-only views of stored reports: the findings as the dashboard lists them."""

from __future__ import annotations

from datetime import date, timedelta

from app.domain.schedule import Half, HalfDay
from app.resilience.contingency.result import Exposure, assemble
from app.resilience.views import report_findings

DAY = date(2026, 12, 1)


def _exposed(*residents_per_day: tuple[str, ...]) -> list[Exposure]:
    """One exposure a day from DAY, each with its residents."""
    return [
        Exposure(HalfDay(DAY + timedelta(days=i), Half.AM), "main", ("q",), ("inpatient",), r)
        for i, r in enumerate(residents_per_day)
    ]


def test_report_findings_come_most_half_days_then_most_residents_first() -> None:
    # Counts (half-days, residents): F1 (2, 5), F2 (3, 1), F3 (2, 7), F4 (3, 1).
    n1 = {
        "F1": _exposed(("R1", "R2", "R3"), ("R4", "R5")),
        "F2": _exposed(("R1",), (), ()),
        "F3": _exposed(("R1", "R2", "R3", "R4"), ("R5", "R6", "R7")),
        "F4": _exposed((), ("R2",), ()),
    }
    # (F1, F5): (1, 0); (F2, F3): (2, 1); (F1, F2): (2, 1); (F3, F4): (2, 3).
    n2 = {
        ("F1", "F5"): _exposed(()),
        ("F2", "F3"): _exposed(("R1",), ()),
        ("F1", "F2"): _exposed((), ("R9",)),
        ("F3", "F4"): _exposed(("R1", "R2"), ("R3",)),
    }
    result = assemble([], [], n1, n2, lambda pid: f"Dr. {pid}")
    found = report_findings(result.to_json())
    assert found is not None
    critical = [(c["person_id"], c["half_days"], c["residents_affected"], c["name"])
                for c in found["critical_faculty"]]  # fmt: skip
    assert critical == [
        ("F2", 3, 1, "Dr. F2"),
        ("F4", 3, 1, "Dr. F4"),
        ("F3", 2, 7, "Dr. F3"),
        ("F1", 2, 5, "Dr. F1"),
    ]
    # Each finding keeps its own exposures, written out.
    assert [e["date"] for e in found["critical_faculty"][1]["exposures"]] == [
        "2026-12-01", "2026-12-02", "2026-12-03"
    ]  # fmt: skip
    assert found["critical_faculty"][1]["exposures"][1]["residents"] == ["R2"]
    pairs = [(tuple(p["person_ids"]), p["names"]) for p in found["fatal_pairs"]]
    assert pairs == [
        (("F3", "F4"), ["Dr. F3", "Dr. F4"]),
        (("F1", "F2"), ["Dr. F1", "Dr. F2"]),
        (("F2", "F3"), ["Dr. F2", "Dr. F3"]),
        (("F1", "F5"), ["Dr. F1", "Dr. F5"]),
    ]
    assert found["fatal_pairs"][1]["exposures"][1]["residents"] == ["R9"]
