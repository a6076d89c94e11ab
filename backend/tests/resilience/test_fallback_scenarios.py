"""Scenarios as data: each loss model, demand change and shedding level, on tiny programs."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from app.core.errors import InputError
from app.domain.coverage import build_site_half_days
from app.domain.schedule import Absence, Activity, Category, MinFacultyRule
from app.domain.shedding import SEVERITY_LEVELS, SheddingLevel
from app.resilience.fallbacks.scenarios import (
    SCENARIOS,
    Loss,
    Ranking,
    Scenario,
    apply_scenario,
    lost_faculty,
    scenario_named,
)
from tests.scheduling.tiny import MON, clinic, faculty, hd, on, resident, snapshot

END = MON + timedelta(days=6)
C = Category


def test_shedding_levels_shed_cumulatively_from_the_bottom() -> None:
    assert SheddingLevel.NORMAL.shed_categories == frozenset()
    assert SheddingLevel.YELLOW.shed_categories == {C.OPTIONAL_EDUCATION}
    assert SheddingLevel.ORANGE.shed_categories == {
        C.OPTIONAL_EDUCATION,
        C.ADMINISTRATION,
        C.RESEARCH,
    }
    assert SheddingLevel.RED.shed_categories == SheddingLevel.ORANGE.shed_categories | {
        C.CORE_EDUCATION
    }
    assert SheddingLevel.BLACK.shed_categories == SheddingLevel.RED.shed_categories | {
        C.CONTINUITY_OF_CARE
    }
    assert SheddingLevel.CRITICAL.shed_categories == set(C) - {C.PATIENT_SAFETY}
    assert [SEVERITY_LEVELS[s] for s in ("minor", "moderate", "severe", "critical")] == [
        SheddingLevel.YELLOW,
        SheddingLevel.ORANGE,
        SheddingLevel.RED,
        SheddingLevel.BLACK,
    ]


def test_the_seven_scenarios_of_the_model_are_defined_once_each() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names)) == 7
    assert scenario_named("pandemic").shedding is SheddingLevel.BLACK
    with pytest.raises(InputError, match="unknown scenario 'flood'"):
        scenario_named("flood")


def test_critical_losses_come_from_the_ranking() -> None:
    snap = snapshot([faculty("F1", "q"), faculty("F2", "q")], [], [])
    ranking = Ranking(critical=("F2",), pair=("F2", "F1"))
    assert lost_faculty(snap, scenario_named("critical_faculty"), MON, END, ranking) == ("F2",)
    assert lost_faculty(snap, scenario_named("critical_pair"), MON, END, ranking) == ("F1", "F2")
    assert lost_faculty(snap, scenario_named("critical_pair"), MON, END, Ranking()) == ()


def test_a_share_loses_those_leaving_first() -> None:
    people = [faculty(f"F{i}", "q") for i in range(1, 7)]
    people[4] = faculty("F5", "q", active_to=MON + timedelta(days=3))
    pcs = Absence("p", "F2", MON, END, "pcs")
    snap = snapshot(people, [], [], [pcs])
    half = Scenario("half", "half", loss=Loss.FACULTY_SHARE, share=0.5, leaving_first=True)
    lost = lost_faculty(snap, half, MON, END, Ranking())
    assert len(lost) == 3 and {"F2", "F5"} <= set(lost)


def test_apply_scenario_suspends_shed_and_off_site_activities_and_adds_losses() -> None:
    snap = snapshot(
        [faculty("F1", "q"), resident("R1")],
        [
            clinic("lecture", category=C.OPTIONAL_EDUCATION),
            clinic("remote_clinic", site="remote"),
            clinic("ward", category=C.PATIENT_SAFETY),
        ],
        [on("R1", "lecture", hd(0)), on("R1", "remote_clinic", hd(1)), on("R1", "ward", hd(2))],
    )
    storm = Scenario("s", "s", shedding=SheddingLevel.YELLOW, close_off_site=True)
    problem, suspended = apply_scenario(snap, storm, MON, END, ("F1",))
    assert suspended == {"lecture", "remote_clinic"}
    demands = {
        d.activity_id for p in build_site_half_days(problem.snapshot, MON, END) for d in p.demands
    }
    assert demands == {"ward"}
    assert [a.person_id for a in problem.snapshot.absences] == ["F1"]


def test_raise_minimum_and_holiday_skeleton_change_demand() -> None:
    on_holidays = (MinFacultyRule(2, holiday=True),)
    ward = Activity("ward", "ward", C.PATIENT_SAFETY, "main", "q", 1, on_holidays)
    snap = snapshot([faculty("F1", "q")], [ward], [])
    surge = Scenario("m", "m", raise_minimum=(C.PATIENT_SAFETY, 1))
    skeleton = Scenario("h", "h", every_day_holiday=True)

    def demand(scenario: Scenario) -> int:
        problem, _ = apply_scenario(snap, scenario, MON, MON, ())
        return sum(p.total_demand for p in build_site_half_days(problem.snapshot, MON, MON))

    assert demand(Scenario("n", "n")) == 2  # 1 per half-day
    assert demand(surge) == 4  # 2 per half-day (a holiday rule would give 3)
    assert demand(skeleton) == 4  # the holiday rule, 2 per half-day
    assert demand(replace(surge, every_day_holiday=True)) == 6
