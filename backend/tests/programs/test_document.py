"""Validation of program documents: every kind of problem is named at its place."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

import app.programs
from app.core.errors import ValidationFailed
from app.domain.schedule import ABSENCE_TYPES, Category
from app.programs.document import (
    dump_program,
    parse_program_text,
    validate_program,
    validate_program_with_notes,
)
from tests.programs.factories import random_program, small_program, with_change


def problems_of(doc: Any) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        validate_program(doc, source="p.json")
    assert info.value.source == "p.json"
    return [str(p) for p in info.value.problems]


def test_validate_takes_true_when_releasable_is_null() -> None:
    doc = small_program()
    for activity in doc["activities"]:
        activity["releasable"] = None
    activities = {a["id"]: a for a in validate_program(doc, source="p.json")["activities"]}
    assert activities["inpatient"]["releasable"] is True
    assert activities["admin"]["releasable"] is True
    assert problems_of(with_change(small_program(), "activities.0.releasable", "yes"))


def test_validate_reads_true_with_a_note_when_activity_with_qualification_says_false() -> None:
    doc = small_program()  # its clinic (index 0) says releasable: false
    doc["activities"][2]["releasable"] = False  # admin: no qualification, stays false
    canonical, notes = validate_program_with_notes(doc, source="p.json")
    activities = {a["id"]: a for a in canonical["activities"]}
    assert activities["clinic"]["releasable"] is True
    assert activities["admin"]["releasable"] is False
    assert [str(n) for n in notes] == [
        "activities[0].releasable: an activity with a qualification is always releasable; "
        "read as true"
    ]


@pytest.mark.parametrize("seed", range(20))
def test_validate_is_idempotent_when_given_its_own_output(seed: int) -> None:
    canonical = validate_program(random_program(random.Random(seed)), source="r.json")
    assert validate_program(canonical, source="r.json") == canonical
    assert parse_program_text(dump_program(canonical), "r.json") == canonical


def test_validate_fills_defaults_when_fields_are_left_out() -> None:
    canonical = validate_program(small_program(), source="p.json")
    activities = {a["id"]: a for a in canonical["activities"]}
    assert activities["inpatient"]["site"] == "main"  # the program's main site
    assert activities["inpatient"]["releasable"] is True  # the default
    assert activities["clinic"]["releasable"] is True  # says false, has a qualification
    assert activities["admin"]["min_faculty"] == 0
    assert activities["clinic"]["min_faculty_rules"][0]["weekdays"] == [5, 6]
    assert [a["id"] for a in canonical["absences"]] == ["A1", "A2", "A3"]
    assert canonical["absences"][2]["half"] is None


def test_validate_keeps_rule_order_when_sorting_lists() -> None:
    canonical = validate_program(small_program(), source="p.json")
    rules = next(a for a in canonical["activities"] if a["id"] == "inpatient")
    assert [r["min_faculty"] for r in rules["min_faculty_rules"]] == [2, 1]


BAD_CHANGES: list[tuple[str, Any, str]] = [
    ("assignments.3.person_id", "F999", "assignments[3].person_id: no person with id 'F999'"),
    ("assignments.3.activity_id", "golf", "assignments[3].activity_id: no activity with id"),
    ("assignments.3.half", "XM", "assignments[3].half: expected one of AM, PM"),
    ("assignments.3.date", "2026-02-30", "assignments[3].date: expected a date"),
    ("assignments.3.role", "lead", "assignments[3].role: expected one of primary, backup"),
    ("people.0.pgy", 9, "people[0].pgy: expected a number 1-8"),
    ("people.0.pgy", ..., "people[0].pgy: residents need pgy"),
    ("people.0.qualifications", ["clinic_preceptor"], "people[0].qualifications: residents have"),
    ("people.2.pgy", 2, "people[2].pgy: faculty have no pgy"),
    ("people.2.qualifications", ["surgery"], "people[2].qualifications[0]: no qualification"),
    ("people.2.kind", "staff", "people[2].kind: expected one of resident, faculty"),
    ("people.1.id", "R1", "people[1].id: duplicate id 'R1' (first at people[0].id)"),
    ("people.1.active_from", "2027-07-01", "people[1].active_to: is before active_from"),
    ("people.1.nickname", "B", "people[1].nickname: unknown field"),
    ("absences.0.end", "2026-12-01", "absences[0].end: is before start"),
    ("absences.0.type", "holiday", "absences[0].type: expected one of vacation"),
    ("absences.0.type", ..., "absences[0].type: missing"),
    ("absences.0.person_id", "Z", "absences[0].person_id: no person with id 'Z'"),
    ("absences.0.blocking", "yes", "absences[0].blocking: expected true or false"),
    ("activities.0.min_faculty", "1", "activities[0].min_faculty: expected a whole number"),
    ("activities.0.min_faculty", True, "activities[0].min_faculty: expected a whole number"),
    ("activities.0.site", "mars", "activities[0].site: no site with id 'mars'"),
    ("activities.0.category", "fun", "activities[0].category: expected one of patient_safety"),
    ("activities.0.ratio_pgy1", 0, "activities[0].ratio_pgy1: expected a number 1-100"),
    ("activities.2.min_faculty", 1, "activities[2].qualification: needed when"),
    ("activities.0.min_faculty_rules.0.weekdays", [7], "min_faculty_rules[0].weekdays: expected"),
    ("activities.1.min_faculty_rules.0.end", "2026-01-01", "min_faculty_rules[0].end: is before"),
    ("sites.0.id", "bad id!", "sites[0].id: expected an id"),
    ("holidays.1", "2026-12-25", "holidays[1]: duplicate date '2026-12-25'"),
    ("program.timezone", "Mars/Olympus", "program.timezone: unknown time zone"),
    ("program.main_site", "north", "program.main_site: no site with id 'north'"),
    ("program.academic_year_start", "13-01", "program.academic_year_start: expected MM-DD"),
    ("program.name", ..., "program.name: missing"),
    ("format", "other", "format: expected 'residency-scheduler/program'"),
    ("version", 2, "version: expected 1"),
    ("people", {}, "people: expected a list"),
    ("schedule_end", "2027-02-30", "schedule_end: expected a date YYYY-MM-DD"),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_CHANGES)
def test_validate_names_place_when_document_is_bad(path: str, value: Any, expected: str) -> None:
    problems = problems_of(with_change(small_program(), path, value))
    assert any(expected in p for p in problems), problems


def test_validate_reports_double_booking_when_person_has_two_assignments() -> None:
    doc = small_program()
    doc["assignments"].append(dict(doc["assignments"][0], activity_id="admin"))
    index = len(doc["assignments"]) - 1
    problems = problems_of(doc)
    assert problems == [
        f"assignments[{index}]: R1 already has an assignment on 2026-12-01 AM (at assignments[0])"
    ]


def test_validate_reports_every_problem_when_several_are_wrong() -> None:
    doc = with_change(small_program(), "assignments.1.person_id", "X1")
    doc = with_change(doc, "absences.2.start", "tomorrow")
    problems = problems_of(doc)
    assert len(problems) == 2
    assert problems[0].startswith("assignments[1].person_id")
    assert problems[1].startswith("absences[2].start")


def test_validate_refuses_when_document_is_not_an_object() -> None:
    assert problems_of([1, 2]) == ["document: expected an object, found a list"]


def test_parse_names_line_and_column_when_json_is_broken() -> None:
    text = json.dumps(small_program(), indent=2).replace('"R2"', "'R2'", 1)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "'R2'" in t)
    with pytest.raises(ValidationFailed) as info:
        parse_program_text(text, "p.json")
    (problem,) = info.value.problems
    assert problem.where.startswith(f"line {line} column ")
    assert "invalid JSON" in problem.reason


def test_parse_refuses_when_a_key_repeats() -> None:
    with pytest.raises(ValidationFailed, match="appears twice"):
        parse_program_text('{"format": 1, "format": 2}', "p.json")


def test_parse_refuses_when_number_is_not_finite() -> None:
    with pytest.raises(ValidationFailed, match="NaN"):
        parse_program_text('{"version": NaN}', "p.json")


SCHEMA_PATH = Path(app.programs.__file__).parent / "program.schema.json"


def test_schema_lists_same_fields_as_checker_when_compared() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    canonical = validate_program(
        with_change(small_program(), "schedule_end", "2027-06-30"), source="p.json"
    )
    activity = next(a for a in canonical["activities"] if a["min_faculty_rules"])
    expected = {
        "top": (schema, canonical),
        "program": (schema["properties"]["program"], canonical["program"]),
        "named": (defs["named"], canonical["sites"][0]),
        "person": (defs["person"], {**canonical["people"][0], **canonical["people"][-1]}),
        "activity": (defs["activity"], activity),
        "rule": (defs["min_faculty_rule"], activity["min_faculty_rules"][0]),
        "assignment": (defs["assignment"], canonical["assignments"][0]),
        "absence": (defs["absence"], canonical["absences"][0]),
    }
    for name, (part, example) in expected.items():
        assert set(part["properties"]) == set(example), name


def test_schema_enums_match_domain_when_compared() -> None:
    defs = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["$defs"]
    assert defs["activity"]["properties"]["category"]["enum"] == [c.value for c in Category]
    assert defs["absence"]["properties"]["type"]["enum"] == list(ABSENCE_TYPES)


def test_validate_accepts_document_when_only_required_fields_are_given() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    minimal = {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {"name": "P"},
        "sites": [{"id": "main", "name": "Main"}],
    }
    assert set(minimal) == set(schema["required"])
    canonical = validate_program(minimal, source="p.json")
    assert canonical["program"]["timezone"] == "America/New_York"
    for key in schema["required"]:
        assert problems_of({k: v for k, v in minimal.items() if k != key}) == [f"{key}: missing"]


def leaf_paths(value: Any, prefix: str = "") -> list[str]:
    if isinstance(value, dict):
        items: list[tuple[str, Any]] = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        return [prefix]
    paths = [prefix] if prefix else []
    for key, child in items:
        paths += leaf_paths(child, f"{prefix}.{key}" if prefix else key)
    return paths


JUNK: list[Any] = [None, 0, -1, 2.5, "", "x", "2026-01-01", [], {}, True, [None], {"id": 1}]


def test_validate_only_raises_validation_failed_when_fields_are_junk() -> None:
    rng = random.Random(1)
    doc = small_program()
    for _ in range(600):
        bad = doc
        for _ in range(rng.randint(1, 3)):
            bad = with_change(bad, rng.choice(leaf_paths(bad)), rng.choice(JUNK))
        try:
            validate_program(bad, source="p.json")
        except ValidationFailed as exc:
            assert exc.problems
