"""The demo program: deterministic, valid, realistic, tight in places but not a catastrophe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from app.core.config import BACKEND_DIR
from app.core.errors import InputError
from app.demo.calendar import federal_holidays
from app.demo.generator import default_residents, generate_demo_program
from app.domain.coverage import SiteHalfDay, build_site_half_days, gaps_of, is_covered
from app.domain.schedule import ABSENCE_TYPES, Category, ScheduleSnapshot
from app.programs.convert import snapshot_from_document
from app.programs.document import validate_program

START = date(2026, 1, 5)  # a Monday; the default horizon then crosses July 1, 2026
UNPLANNED = {"sick", "family_emergency"}
"""Absence types drawn after the roster was made: the roster does not know them."""


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return generate_demo_program(seed=0, start=START)


@pytest.fixture(scope="module")
def snapshot(demo: dict[str, Any]) -> ScheduleSnapshot:
    return snapshot_from_document(demo)


@pytest.fixture(scope="module")
def problems(snapshot: ScheduleSnapshot) -> list[SiteHalfDay]:
    return build_site_half_days(snapshot, START, START + timedelta(weeks=52, days=-1))


def _by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def test_generate_demo_program_gives_same_document_when_arguments_are_the_same() -> None:
    args: dict[str, Any] = {"seed": 5, "weeks": 8, "start": START}
    first, second = generate_demo_program(**args), generate_demo_program(**args)
    assert json.dumps(first) == json.dumps(second)
    assert generate_demo_program(**{**args, "seed": 6}) != first


def test_generate_demo_program_gives_same_document_when_string_hashing_differs() -> None:
    # Set iteration order over strings changes with PYTHONHASHSEED; the output must not.
    code = (
        "import json, sys; from datetime import date;"
        "from app.demo.generator import generate_demo_program;"
        "sys.stdout.write(json.dumps(generate_demo_program(seed=9, weeks=4, qualifications=12,"
        " start=date(2026, 6, 15))))"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            cwd=BACKEND_DIR,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in (1, 2)
    }
    assert len(outputs) == 1


def test_generate_demo_program_passes_import_validation_when_sizes_are_default(
    demo: dict[str, Any],
) -> None:
    validate_program(demo, source="demo")  # raises ValidationFailed on any problem


def test_generate_demo_program_holds_format_invariants_when_sizes_are_default(
    demo: dict[str, Any],
) -> None:
    people = _by_id(demo["people"])
    activities = _by_id(demo["activities"])
    sites = {s["id"] for s in demo["sites"]}
    quals = {q["id"] for q in demo["qualifications"]}
    assert all(
        a["site"] in sites and a["qualification"] in quals | {None} for a in activities.values()
    )
    for p in people.values():
        assert (p["kind"] == "resident") == (p.get("pgy") is not None)
        assert set(p.get("qualifications", [])) <= quals
    seen = Counter((a["person_id"], a["date"], a["half"]) for a in demo["assignments"])
    assert max(seen.values()) == 1
    assert all(a["activity_id"] in activities for a in demo["assignments"])
    assert all(a["person_id"] in people for a in demo["assignments"] + demo["absences"])
    assert all(a["type"] in ABSENCE_TYPES and a["start"] <= a["end"] for a in demo["absences"])


def test_generate_demo_program_rosters_nobody_away_when_absence_was_planned(
    demo: dict[str, Any], snapshot: ScheduleSnapshot
) -> None:
    planned = [a for a in snapshot.absences if a.type not in UNPLANNED and a.blocking]
    assert len(planned) > 10 and snapshot.assignments
    for asg in snapshot.assignments:
        person = snapshot.people_by_id[asg.person_id]
        assert person.is_active(asg.halfday.date), asg
    away = defaultdict(list)
    for a in planned:
        away[a.person_id].append(a)
    clashes = [
        asg
        for asg in snapshot.assignments
        if any(a.covers(asg.halfday) for a in away.get(asg.person_id, ()))
    ]
    assert clashes == []


def test_generate_demo_program_assigns_every_weekday_half_day_when_people_are_present(
    snapshot: ScheduleSnapshot,
) -> None:
    assigned = {(a.person_id, a.halfday) for a in snapshot.assignments}
    halfdays = sorted({a.halfday for a in snapshot.assignments})
    weekdays = [h for h in halfdays if h.date.weekday() < 5 and h.date not in snapshot.holidays]
    planned = [a for a in snapshot.absences if a.type not in UNPLANNED and a.blocking]
    assert len(weekdays) > 400  # about 250 weekdays less holidays, two halves each
    missing = [
        (p.id, h)
        for p in snapshot.people
        if p.faculty_role != "adjunct"  # part-time: present only for the sessions they precept
        for h in weekdays
        if p.is_active(h.date)
        and (p.id, h) not in assigned
        and not any(a.person_id == p.id and a.covers(h) for a in planned)
    ]
    assert missing == []


def test_generate_demo_program_gives_faculty_their_qualifications_when_they_supervise(
    snapshot: ScheduleSnapshot,
) -> None:
    supervising = 0
    for asg in snapshot.assignments:
        person = snapshot.people_by_id[asg.person_id]
        needed = snapshot.activities_by_id[asg.activity_id].qualification
        if person.is_faculty and needed is not None:
            assert needed in person.qualifications, asg
            supervising += 1
    assert supervising > 1000


def test_generate_demo_program_keeps_weekly_caps_when_work_is_not_patient_safety(
    snapshot: ScheduleSnapshot,
) -> None:
    load: Counter[tuple[str, int, int]] = Counter()
    for asg in snapshot.assignments:
        person = snapshot.people_by_id[asg.person_id]
        activity = snapshot.activities_by_id[asg.activity_id]
        clinical = activity.qualification is not None or activity.id == "faculty_clinic"
        if person.is_faculty and clinical and activity.category is not Category.PATIENT_SAFETY:
            year, week, _ = asg.halfday.date.isocalendar()
            load[(person.id, year, week)] += asg.role.value == "primary"
    assert load
    for (person_id, _, _), count in load.items():
        cap = snapshot.people_by_id[person_id].weekly_cap
        assert cap is not None and count <= cap


def test_generate_demo_program_advances_the_academic_year_when_horizon_crosses_july(
    demo: dict[str, Any], snapshot: ScheduleSnapshot
) -> None:
    residents = [p for p in snapshot.people if not p.is_faculty]
    before, after = date(2026, 6, 30), date(2026, 7, 1)
    graduates = [r for r in residents if snapshot.pgy_on(r, before) == 3]
    interns = [r for r in residents if r.active_from == after]
    assert len(graduates) == len(interns) == 12
    assert all(r.active_to == before for r in graduates)
    assert all(snapshot.pgy_on(r, after) == 1 for r in interns)
    staying = [r for r in residents if r.is_active(before) and r.is_active(after)]
    assert len(staying) == 24
    levels = [(snapshot.pgy_on(r, before) or 0, snapshot.pgy_on(r, after) or 0) for r in staying]
    assert all(later == earlier + 1 for earlier, later in levels)
    worked = {a.person_id for a in snapshot.assignments if a.halfday.date >= after}
    assert {r.id for r in interns} <= worked
    assert not {r.id for r in graduates} & worked


def test_generate_demo_program_admits_nobody_when_horizon_stays_in_one_academic_year() -> None:
    doc = generate_demo_program(weeks=20, start=date(2026, 8, 3))
    residents = [p for p in doc["people"] if p["kind"] == "resident"]
    assert len(residents) == 36
    assert all(p["active_from"] is None for p in residents)


def test_generate_demo_program_has_a_deployment_and_a_pcs_move_when_sizes_are_default(
    demo: dict[str, Any], snapshot: ScheduleSnapshot
) -> None:
    deployments = [a for a in snapshot.absences if a.type == "deployment"]
    pcs = [a for a in snapshot.absences if a.type == "pcs"]
    assert len(deployments) == 1 and len(pcs) == 1
    assert (deployments[0].end - deployments[0].start).days >= 21
    mover = snapshot.people_by_id[pcs[0].person_id]
    assert mover.is_faculty and mover.active_to == pcs[0].end
    assert START < mover.active_to < START + timedelta(weeks=52)
    assert not [
        a
        for a in snapshot.assignments
        if a.person_id == mover.id and a.halfday.date > mover.active_to
    ]
    arrivals = [p.active_from for p in snapshot.people if p.is_faculty and p.active_from]
    assert arrivals and all(day > mover.active_to for day in arrivals)
    kinds = Counter(a.type for a in snapshot.absences)
    assert kinds["vacation"] > 0 and kinds["conference"] > 0 and kinds["sick"] > 0


def test_generate_demo_program_has_single_faculty_tight_spots_when_sizes_are_default(
    problems: list[SiteHalfDay],
) -> None:
    scarce = {"obstetrics", "procedures"}
    tight = [
        (p, m)
        for p in problems
        if is_covered(p)
        for m in p.pool
        if not is_covered(p, frozenset({m.person_id}))
    ]
    assert any(m.qualifications & scarce for _, m in tight)
    # Held up by a single qualified member: nobody else in the pool has what it needs.
    single = [
        (p, m)
        for p, m in tight
        for q in p.demand_by_qualification()
        if sum(q in other.qualifications for other in p.pool) == 1 and q in m.qualifications
    ]
    assert len(single) >= 10


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_generate_demo_program_is_mostly_covered_when_sizes_are_default(seed: int) -> None:
    snapshot = snapshot_from_document(generate_demo_program(seed=seed, start=START))
    problems = build_site_half_days(snapshot, START, START + timedelta(weeks=52, days=-1))
    gaps = [g for p in problems for g in gaps_of(p)]
    assert len(problems) > 700
    assert len(gaps) <= 10
    weekend = [p for p in problems if p.halfday.date.weekday() >= 5]
    assert len(weekend) >= 2 * 2 * 50  # both halves of about 104 weekend days
    assert all(any(d.activity_id == "inpatient" for d in p.demands) for p in weekend)
    assert {a.role.value for a in snapshot.assignments} == {"primary", "backup"}


def test_generate_demo_program_respects_size_options_when_given() -> None:
    doc = generate_demo_program(
        seed=3, faculty=30, residents=45, weeks=6, qualifications=12, start=START
    )
    faculty = [p for p in doc["people"] if p["kind"] == "faculty"]
    residents = [p for p in doc["people"] if p["kind"] == "resident"]
    assert len(faculty) == 30 and len(residents) == 45  # no July inside six weeks
    quals = [q["id"] for q in doc["qualifications"]]
    assert len(quals) == 12 and quals[-2:] == ["special_11", "special_12"]
    held = {q for f in faculty for q in f["qualifications"]}
    assert held == set(quals)
    dates = sorted({a["date"] for a in doc["assignments"]})
    assert dates[0] == START.isoformat()
    assert dates[-1] == (START + timedelta(weeks=6, days=-1)).isoformat()
    validate_program(doc, source="sized")


def test_generate_demo_program_scales_residents_when_only_faculty_is_given() -> None:
    doc = generate_demo_program(faculty=50, weeks=4, start=START)
    residents = [p for p in doc["people"] if p["kind"] == "resident"]
    assert len(residents) == default_residents(50)
    assert default_residents(22) == 36


def test_generate_demo_program_starts_this_week_when_no_start_is_given() -> None:
    doc = generate_demo_program(weeks=4)
    first = min(a["date"] for a in doc["assignments"])
    today = date.today()
    assert first == (today - timedelta(days=today.weekday())).isoformat()


@pytest.mark.parametrize(
    "sizes",
    [{"faculty": 5}, {"residents": 2}, {"weeks": 3}, {"qualifications": 3}],
)
def test_generate_demo_program_raises_input_error_when_a_size_is_too_small(
    sizes: dict[str, int],
) -> None:
    with pytest.raises(InputError):
        generate_demo_program(start=START, **sizes)


def test_generate_demo_program_lists_federal_holidays_when_they_fall_in_range(
    demo: dict[str, Any],
) -> None:
    # Observed 2026 federal holidays from the calendar (July 4 falls on a Saturday), and
    # New Year's Day 2027, inside 2026-01-05 .. 2027-01-03.
    assert demo["holidays"] == [
        "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
        "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25", "2027-01-01",
    ]  # fmt: skip


def _reference_holidays(year: int) -> set[date]:
    """Federal holidays of ``year`` by walking its days (observed dates may leave the year)."""
    days = [date(year, 1, 1) + timedelta(days=n) for n in range(366)]
    days = [d for d in days if d.year == year]

    def nth(month: int, weekday: int, n: int) -> date:
        return [d for d in days if d.month == month and d.weekday() == weekday][n]

    def observed(d: date) -> date:
        return d + timedelta(days={5: -1, 6: 1}.get(d.weekday(), 0))

    fixed = [(1, 1), (6, 19), (7, 4), (11, 11), (12, 25)]
    floating = [(1, 0, 2), (2, 0, 2), (5, 0, -1), (9, 0, 0), (10, 0, 1), (11, 3, 3)]
    return {observed(date(year, m, d)) for m, d in fixed} | {nth(m, wd, n) for m, wd, n in floating}


def test_federal_holidays_match_a_day_by_day_reference_when_years_vary() -> None:
    first, last = date(2000, 1, 1), date(2060, 12, 31)
    expected = set().union(*(_reference_holidays(y) for y in range(1999, 2062)))
    assert federal_holidays(first, last) == sorted(d for d in expected if first <= d <= last)
