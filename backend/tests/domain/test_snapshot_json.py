"""The JSON form of a schedule snapshot that the contingency chord hands its chunks."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.domain.schedule import Half
from app.domain.snapshot import load_snapshot
from app.domain.snapshot_json import snapshot_from_json, snapshot_to_json
from app.programs.service import import_program
from tests.resilience.factories import START, random_snapshot


def _through_json(data: object) -> object:
    return json.loads(json.dumps(data))


@pytest.mark.parametrize("seed", range(20))
def test_snapshot_round_trips_when_whole(seed: int) -> None:
    snapshot = random_snapshot(random.Random(seed), days=4)
    snapshot = replace(snapshot, holidays=frozenset({START + timedelta(days=1)}))

    again = snapshot_from_json(_through_json(snapshot_to_json(snapshot)))  # type: ignore[arg-type]

    assert again == snapshot
    assert again.people_by_id == snapshot.people_by_id


@pytest.mark.parametrize("seed", range(20))
def test_chunk_builds_same_problems_when_only_its_dates_are_kept(seed: int) -> None:
    snapshot = random_snapshot(random.Random(seed), days=6)
    first, last = START + timedelta(days=2), START + timedelta(days=3)

    data = snapshot_to_json(snapshot, first, last)
    part = snapshot_from_json(_through_json(data))  # type: ignore[arg-type]

    assert build_site_half_days(part, first, last) == build_site_half_days(snapshot, first, last)
    assert {a[1] for a in data["assignments"]} <= {first.isoformat(), last.isoformat()}
    assert all(a[2] <= last.isoformat() and a[3] >= first.isoformat() for a in data["absences"])


def test_demo_program_round_trips_when_loaded_from_database(session: Session) -> None:
    start = date(2026, 11, 30)
    import_program(
        session,
        generate_demo_program(seed=3, faculty=12, weeks=4, start=start),
        source="d",
        actor="t",
    )
    session.commit()
    snapshot = load_snapshot(session)

    data = snapshot_to_json(snapshot)

    assert snapshot_from_json(_through_json(data)) == snapshot  # type: ignore[arg-type]
    first = data["assignments"][0]
    assert len(first) == 5 and first[2] in {Half.AM.value, Half.PM.value}


def test_slice_keeps_whole_schedules_end_when_its_own_assignments_stop_earlier() -> None:
    from app.domain.schedule import Assignment, HalfDay, ProgramInfo, ScheduleSnapshot

    snapshot = random_snapshot(random.Random(5), days=3)
    last = START + timedelta(days=20)
    person, activity = snapshot.people[0].id, snapshot.activities[0].id
    late = Assignment(person, HalfDay(last, Half.PM), activity)
    whole = ScheduleSnapshot(
        program=ProgramInfo(),
        people=snapshot.people,
        activities=snapshot.activities,
        assignments=(*snapshot.assignments, late),
    )
    part = snapshot_from_json(_through_json(snapshot_to_json(whole, START, START)))  # type: ignore[arg-type]
    # Day 5 has no assignment in the slice, yet it is before the schedule's end: it is judged.
    assert part.schedule_end == last
    assert build_site_half_days(part, START + timedelta(days=5), START + timedelta(days=5)) == (
        build_site_half_days(whole, START + timedelta(days=5), START + timedelta(days=5))
    )
