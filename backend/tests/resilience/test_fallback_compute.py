"""Fallbacks of the demo program: feasible, within the hard rules, at least as good as greedy,
and the same for the same seed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.domain.presence import Presence
from app.domain.schedule import Absence, Half, HalfDay, ScheduleSnapshot
from app.programs.convert import snapshot_from_document
from app.resilience.contingency.core import analyze_contingency
from app.resilience.fallbacks.compute import compute_fallback
from app.resilience.fallbacks.scenarios import SCENARIOS, Ranking, Scenario
from app.scheduling.model import SolverOptions

START = date(2026, 12, 7)
END = START + timedelta(days=13)  # short: the test stays fast
OPTIONS = SolverOptions(time_limit_s=60, workers=1, seed=0)


@pytest.fixture(scope="module")
def demo() -> tuple[ScheduleSnapshot, Ranking]:
    snap = snapshot_from_document(generate_demo_program(seed=3, weeks=4, start=START))
    result = analyze_contingency(build_site_half_days(snap, START, END))
    critical, pairs = result.critical_ranking(), result.pair_ranking()
    ranking = Ranking(
        critical[0].person_ids if critical else (), pairs[0].person_ids if pairs else ()
    )
    return snap, ranking


def _check_rules(snap: ScheduleSnapshot, result: dict[str, Any]) -> None:
    """Every move obeys the hard rules, checked here from the snapshot itself."""
    lost = [Absence(f"l{p}", p, START, END, "other") for p in result["lost"]]
    presence = Presence(snap.people_by_id, (*snap.absences, *lost), START, END)
    places = set()
    for m in result["moves"]:
        person = snap.people_by_id[m["person_id"]]
        halfday = HalfDay(date.fromisoformat(m["date"]), Half(m["half"]))
        activity = snap.activities_by_id[m["activity_id"]]
        assert person.is_faculty and activity.qualification in person.qualifications
        assert presence.present(person, halfday)
        assert m["activity_id"] not in result["suspended_activities"]
        assert (person.id, halfday) not in places
        places.add((person.id, halfday))


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_fallback_of_the_demo_is_optimal_and_no_worse_than_greedy(
    demo: tuple[ScheduleSnapshot, Ranking], scenario: Scenario
) -> None:
    snap, ranking = demo
    result = compute_fallback(snap, scenario, START, END, ranking, OPTIONS)
    assert [t["status"] for t in result["tiers"]] == ["OPTIMAL"] * 3
    assert result["solver"]["filled_slots"] >= result["greedy"]["filled_slots"]
    assert result["uncovered_slots"] <= result["without_repair"]["uncovered_slots"]
    assert result["uncovered_slots"] == sum(g["missing"] for g in result["uncovered"])
    _check_rules(snap, result)


def test_fallback_is_the_same_for_the_same_seed(demo: tuple[ScheduleSnapshot, Ranking]) -> None:
    snap, ranking = demo
    pcs = next(s for s in SCENARIOS if s.name == "pcs_season")
    first = compute_fallback(snap, pcs, START, END, ranking, OPTIONS)
    second = compute_fallback(snap, pcs, START, END, ranking, OPTIONS)
    assert first["moves"]  # the case is not empty
    assert {k: v for k, v in first.items() if k != "timings"} == {
        k: v for k, v in second.items() if k != "timings"
    }
