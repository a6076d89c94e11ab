"""The solver's hard rules and tiers, one tiny program each, with the expected moves written
out by hand (a move: who goes to which activity in which half-day, from what)."""

from __future__ import annotations

from app.domain.schedule import Category
from app.scheduling.explain import Move
from app.scheduling.greedy import greedy_repair
from tests.scheduling.tiny import (
    MON,
    admin,
    away,
    clinic,
    faculty,
    hd,
    off_duty,
    on,
    resident,
    snapshot,
    solve,
)


def test_solver_moves_only_faculty_holding_the_qualification() -> None:
    snap = snapshot(
        [faculty("F1", "other"), faculty("F2", "q"), resident("R1")],
        [clinic("clinic")],
        [on("R1", "clinic", hd(0))],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(0), "F2", "clinic", None),)


def test_solver_places_a_person_once_per_half_day() -> None:
    snap = snapshot(
        [faculty("F1", "q"), resident("R1"), resident("R2")],
        [clinic("a", site="east"), clinic("b", site="west")],
        [on("R1", "a", hd(0)), on("R2", "b", hd(0))],
    )
    solution, _ = solve(snap)
    assert len(solution.moves) == 1 and solution.filled == 1


def test_solver_uses_nobody_who_is_absent() -> None:
    snap = snapshot(
        [faculty("F1", "q"), faculty("F2", "q"), resident("R1")],
        [clinic("clinic")],
        [on("R1", "clinic", hd(1))],
        [away("F1", 1)],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(1), "F2", "clinic", None),)


def test_solver_uses_nobody_outside_their_active_dates() -> None:
    snap = snapshot(
        [faculty("F1", "q", active_from=MON.replace(day=8)), faculty("F2", "q", active_to=MON)],
        [clinic("clinic")],
        [on("R1", "clinic", hd(0)), on("R1", "clinic", hd(1))],
    )
    snap = snapshot([*snap.people, resident("R1")], list(snap.activities), list(snap.assignments))
    solution, _ = solve(snap)
    assert solution.moves == (
        Move(hd(0), "F2", "clinic", None),
        Move(hd(1), "F1", "clinic", None),
    )


def test_solver_never_calls_in_faculty_off_duty() -> None:
    snap = snapshot(
        [faculty("F1", "q"), faculty("F2", "q"), resident("R1")],
        [clinic("clinic"), off_duty()],
        [on("R1", "clinic", hd(0)), on("F1", "post_call", hd(0))],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(0), "F2", "clinic", None),)


def test_solver_keeps_the_weekly_cap_counting_current_clinical_half_days() -> None:
    # F1 (cap 2) already has one clinical half-day this week (ward, at another site, no
    # residents so no demand): one more only, whatever the three gaps of the week.
    snap = snapshot(
        [faculty("F1", "q", cap=2), resident("R1")],
        [clinic("clinic"), clinic("ward", site="east")],
        [on("F1", "ward", hd(0)), *(on("R1", "clinic", hd(d)) for d in (1, 2, 3, 7))],
    )
    solution, _ = solve(snap, days=8)
    # One in the first week, and the gap of the next Monday (a new week) too.
    assert len(solution.moves) == 2
    assert sum(m.halfday.date < MON.replace(day=14) for m in solution.moves) == 1


def test_tier1_fills_the_most_protected_slot_in_one_half_day() -> None:
    snap = snapshot(
        [faculty("F1", "q"), resident("R1"), resident("R2")],
        [
            clinic("lecture", site="east", category=Category.OPTIONAL_EDUCATION),
            clinic("ward", site="west", category=Category.PATIENT_SAFETY),
        ],
        [on("R1", "lecture", hd(0)), on("R2", "ward", hd(0))],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(0), "F1", "ward", None),)


def test_tier1_prefers_sacrifice_order_to_time_order_across_a_capped_week() -> None:
    snap = snapshot(
        [faculty("F1", "q", cap=1), resident("R1")],
        [
            clinic("teaching", category=Category.CORE_EDUCATION),
            clinic("ward", category=Category.PATIENT_SAFETY),
            clinic("study", category=Category.RESEARCH),
        ],
        [on("R1", "teaching", hd(1)), on("R1", "ward", hd(2)), on("R1", "study", hd(3))],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(2), "F1", "ward", None),)


def test_tier2_fills_from_the_pool_without_any_change() -> None:
    # F1 is on admin at the main site: in its pool, so it covers the clinic as it stands.
    snap = snapshot(
        [faculty("F1", "q"), faculty("F2", "q"), resident("R1")],
        [clinic("clinic"), admin()],
        [on("R1", "clinic", hd(0)), on("F1", "admin", hd(0))],
    )
    solution, _ = solve(snap)
    assert solution.moves == () and solution.filled == 1


def test_tier2_moves_the_free_person_rather_than_a_chain_of_two() -> None:
    # Moving F1 (busy at east) to main would open east's slot and need F2 there: two
    # changes. Moving F2 to main is one.
    snap = snapshot(
        [faculty("F1", "q"), faculty("F2", "q"), resident("R1"), resident("R2")],
        [clinic("main_clinic"), clinic("east_clinic", site="east")],
        [
            on("R1", "main_clinic", hd(0)),
            on("R2", "east_clinic", hd(0)),
            on("F1", "east_clinic", hd(0)),
        ],
    )
    solution, _ = solve(snap)
    assert solution.moves == (Move(hd(0), "F2", "main_clinic", None),)
    assert solution.tiers[1].objective == 1


def test_tier3_spreads_the_extra_half_days() -> None:
    snap = snapshot(
        [faculty("F1", "q"), faculty("F2", "q"), resident("R1")],
        [clinic("clinic")],
        [on("R1", "clinic", hd(0)), on("R1", "clinic", hd(1))],
    )
    solution, _ = solve(snap)
    assert {m.person_id for m in solution.moves} == {"F1", "F2"}
    assert solution.tiers[2].objective == 1 and solution.tiers[2].status == "OPTIMAL"


def test_greedy_takes_the_first_free_person_and_the_solver_fills_more() -> None:
    # Greedy gives site a's gap to F1 (first by id), leaving nobody for b's q2 slot; the
    # solver sends F2 to a and F1 to b.
    snap = snapshot(
        [faculty("F1", "q1", "q2"), faculty("F2", "q1"), resident("R1"), resident("R2")],
        [clinic("a", qual="q1", site="a"), clinic("b", qual="q2", site="b")],
        [on("R1", "a", hd(0)), on("R2", "b", hd(0))],
    )
    solution, index = solve(snap)
    assert greedy_repair(index) == (Move(hd(0), "F1", "a", None),)
    assert solution.moves == (Move(hd(0), "F1", "b", None), Move(hd(0), "F2", "a", None))
