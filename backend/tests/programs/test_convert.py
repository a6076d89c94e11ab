"""Document -> snapshot conversion: defaults filled as the format says, and the same snapshot
as the database adapter gives after an import."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.domain.schedule import (
    ABSENCE_TYPES,
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    MinFacultyRule,
    PersonKind,
    ScheduleSnapshot,
)
from app.domain.snapshot import load_snapshot
from app.programs.convert import snapshot_from_document
from app.programs.document import validate_program
from app.programs.service import import_program
from tests.programs.factories import random_program, small_program


def normalized(snapshot: ScheduleSnapshot) -> tuple[Any, ...]:
    """The snapshot's content with every collection in a fixed order."""
    return (
        snapshot.program,
        sorted(snapshot.people, key=lambda p: p.id),
        sorted(snapshot.activities, key=lambda a: a.id),
        sorted(snapshot.assignments, key=lambda a: (a.person_id, a.halfday, a.activity_id)),
        sorted(snapshot.absences, key=lambda a: a.id),
        snapshot.holidays,
    )


def _minimal_document() -> dict[str, Any]:
    """A document that leaves out every optional field it can."""
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {"name": "Sparse", "main_site": "north", "academic_year_start": "08-15"},
        "sites": [{"id": "north", "name": "North"}],
        "qualifications": [{"id": "q", "name": "Q"}],
        "people": [
            {"id": "R1", "name": "R", "kind": "resident", "pgy": 2, "pgy_academic_year": 2026},
            {"id": "F1", "name": "F", "kind": "faculty", "qualifications": ["q"]},
        ],
        "activities": [
            {"id": "ward", "name": "Ward", "category": "patient_safety", "qualification": "q"},
            {"id": "paper", "name": "Paper", "category": "research"},
        ],
        "holidays": ["2026-12-25"],
        "assignments": [
            {"person_id": "F1", "date": "2026-12-01", "half": "AM", "activity_id": "ward"},
            {"person_id": "R1", "date": "2026-12-01", "half": "PM", "activity_id": "paper"},
        ],
        "absences": [
            {"id": "a", "person_id": "F1", "start": "2026-12-02", "end": "2026-12-03",
             "type": "telework"},
            {"id": "b", "person_id": "R1", "start": "2026-12-02", "end": "2026-12-02",
             "half": "PM", "type": "vacation", "blocking": False},
        ],
    }  # fmt: skip


def test_snapshot_from_document_fills_format_defaults_when_fields_are_left_out() -> None:
    snapshot = snapshot_from_document(_minimal_document())
    assert snapshot.program.academic_year_start == (8, 15)
    assert snapshot.program.main_site == "north"
    assert snapshot.program.timezone == "America/New_York"
    ward, paper = snapshot.activities
    assert (ward.site, paper.site) == ("north", "north")
    assert (ward.releasable, paper.releasable) == (True, True)
    assert ward.min_faculty == 0 and ward.min_faculty_rules == ()
    assert ward.ratio_pgy1 is None and ward.ratio_pgy2plus is None
    assert {a.role for a in snapshot.assignments} == {AssignmentRole.PRIMARY}
    telework, vacation = snapshot.absences
    assert telework.blocking is ABSENCE_TYPES["telework"].blocking and telework.half is None
    assert vacation.blocking is False and vacation.half is Half.PM
    faculty = snapshot.people_by_id["F1"]
    assert faculty.kind is PersonKind.FACULTY and faculty.weekly_cap is None
    assert faculty.active_from is None and faculty.qualifications == frozenset({"q"})
    assert snapshot.holidays == frozenset({date(2026, 12, 25)})
    assert snapshot.pgy_on(snapshot.people_by_id["R1"], date(2027, 8, 15)) == 3


def test_snapshot_from_document_keeps_every_field_when_document_is_the_demo() -> None:
    doc = generate_demo_program(seed=2, weeks=6, start=date(2026, 6, 1))
    snapshot = snapshot_from_document(doc)
    assert len(snapshot.assignments) == len(doc["assignments"])
    for raw, person in zip(doc["people"], snapshot.people, strict=True):
        assert person.id == raw["id"] and person.kind.value == raw["kind"]
        assert person.pgy == raw.get("pgy") and person.faculty_role == raw.get("faculty_role")
        assert sorted(person.qualifications) == sorted(raw.get("qualifications", []))
        assert person.weekly_cap == raw.get("weekly_cap")
        for name in ("active_from", "active_to"):
            value = getattr(person, name)
            assert (value.isoformat() if value else None) == raw[name]
    for raw, activity in zip(doc["activities"], snapshot.activities, strict=True):
        assert activity.category is Category(raw["category"])
        assert (activity.site, activity.qualification) == (raw["site"], raw["qualification"])
        assert activity.releasable == raw["releasable"]
        assert (activity.ratio_pgy1, activity.ratio_pgy2plus) == (
            raw["ratio_pgy1"],
            raw["ratio_pgy2plus"],
        )
        for raw_rule, rule in zip(
            raw["min_faculty_rules"], activity.min_faculty_rules, strict=True
        ):
            weekdays = raw_rule["weekdays"]
            assert rule == MinFacultyRule(
                min_faculty=raw_rule["min_faculty"],
                weekdays=None if weekdays is None else frozenset(weekdays),
                half=None if raw_rule["half"] is None else Half(raw_rule["half"]),
                holiday=raw_rule["holiday"],
            )
    for raw, asg in zip(doc["assignments"], snapshot.assignments, strict=True):
        halfday = HalfDay(date.fromisoformat(raw["date"]), Half(raw["half"]))
        assert (asg.person_id, asg.halfday, asg.activity_id) == (
            raw["person_id"],
            halfday,
            raw["activity_id"],
        )
        assert asg.role.value == raw["role"]
    for raw, absence in zip(doc["absences"], snapshot.absences, strict=True):
        expected = (
            ABSENCE_TYPES[raw["type"]].blocking if raw["blocking"] is None else raw["blocking"]
        )
        assert absence.blocking == expected and absence.type == raw["type"]
        assert (absence.start.isoformat(), absence.end.isoformat()) == (raw["start"], raw["end"])


@pytest.mark.parametrize("seed", range(12))
def test_snapshot_from_document_ignores_canonical_form_when_content_is_the_same(seed: int) -> None:
    doc = random_program(random.Random(seed)) if seed else small_program()
    canonical = validate_program(doc, source="r.json")
    assert normalized(snapshot_from_document(doc)) == normalized(snapshot_from_document(canonical))


@pytest.mark.parametrize("seed", range(3))
def test_snapshot_from_document_equals_database_snapshot_when_document_is_imported(
    session: Session, seed: int
) -> None:
    doc = random_program(random.Random(seed)) if seed else small_program()
    import_program(session, doc, source="r.json", actor=None)
    session.commit()
    assert normalized(snapshot_from_document(doc)) == normalized(load_snapshot(session))


def test_snapshot_from_document_makes_every_activity_releasable_when_field_is_left_out() -> None:
    doc = _minimal_document()
    doc["activities"] = [{"id": c.value, "name": c.value, "category": c.value} for c in Category]
    snapshot = snapshot_from_document(doc)
    assert len(snapshot.activities) == 7
    assert all(a.releasable for a in snapshot.activities)


def test_snapshot_from_document_keeps_only_qualificationless_non_releasable_when_false() -> None:
    doc = _minimal_document()
    for activity in doc["activities"]:
        activity["releasable"] = False
    ward, paper = snapshot_from_document(doc).activities
    assert (ward.id, ward.releasable) == ("ward", True)  # has a qualification
    assert (paper.id, paper.releasable) == ("paper", False)


def test_snapshot_from_document_carries_schedule_end_when_stated_or_by_default() -> None:
    doc = _minimal_document()
    assert snapshot_from_document(doc).program.schedule_end == date(2026, 12, 1)
    doc["schedule_end"] = "2027-01-31"
    assert snapshot_from_document(doc).program.schedule_end == date(2027, 1, 31)
    doc = _minimal_document()
    doc["assignments"] = []
    assert snapshot_from_document(doc).program.schedule_end is None
