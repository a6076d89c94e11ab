"""Small program documents built by hand, and random ones for round-trip tests."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta
from typing import Any

START = date(2026, 12, 1)


def small_program() -> dict[str, Any]:
    """A valid document with two sites, two residents, three faculty and a week of clinic."""
    people: list[dict[str, Any]] = [
        {"id": "R1", "name": "Avery Smith", "kind": "resident", "pgy": 1,
         "pgy_academic_year": 2026, "active_from": "2026-07-01", "active_to": None},
        {"id": "R2", "name": "Blake Jones", "kind": "resident", "pgy": 3,
         "pgy_academic_year": 2026, "active_from": None, "active_to": "2027-06-30"},
        {"id": "F1", "name": "Dr. Jordan Lee", "kind": "faculty", "faculty_role": "core",
         "qualifications": ["clinic_preceptor", "inpatient_attending"], "weekly_cap": 8,
         "active_from": None, "active_to": None},
        {"id": "F2", "name": "Dr. Casey Park", "kind": "faculty",
         "faculty_role": "program_director", "qualifications": ["clinic_preceptor"],
         "weekly_cap": None, "active_from": None, "active_to": "2027-06-15"},
        {"id": "F3", "name": "Dr. Robin Diaz", "kind": "faculty", "faculty_role": None,
         "qualifications": [], "weekly_cap": 4, "active_from": "2026-01-01", "active_to": None},
    ]  # fmt: skip
    assignments = []
    for offset in range(5):
        day = (START + timedelta(days=offset)).isoformat()
        assignments += [
            {"person_id": "R1", "date": day, "half": "AM", "activity_id": "clinic",
             "role": "primary"},
            {"person_id": "R2", "date": day, "half": "PM", "activity_id": "inpatient",
             "role": "primary"},
            {"person_id": "F1", "date": day, "half": "AM", "activity_id": "clinic",
             "role": "primary"},
            {"person_id": "F2", "date": day, "half": "PM", "activity_id": "admin",
             "role": "backup"},
        ]  # fmt: skip
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {
            "name": "Test Family Medicine",
            "timezone": "America/Chicago",
            "main_site": "main",
            "academic_year_start": "07-01",
        },
        "sites": [{"id": "remote", "name": "Remote"}, {"id": "main", "name": "Main hospital"}],
        "qualifications": [
            {"id": "inpatient_attending", "name": "Inpatient attending"},
            {"id": "clinic_preceptor", "name": "Clinic preceptor"},
        ],
        "people": people,
        "activities": [
            {
                "id": "clinic",
                "name": "Continuity clinic",
                "category": "continuity_of_care",
                "site": "main",
                "qualification": "clinic_preceptor",
                "min_faculty": 0,
                "min_faculty_rules": [
                    {
                        "min_faculty": 1,
                        "weekdays": [6, 5],
                        "half": "AM",
                        "start": None,
                        "end": None,
                        "holiday": None,
                    }
                ],
                "ratio_pgy1": 2,
                "ratio_pgy2plus": 4,
                "releasable": False,
            },
            {
                "id": "inpatient",
                "name": "Inpatient service",
                "category": "patient_safety",
                "qualification": "inpatient_attending",
                "min_faculty": 1,
                "min_faculty_rules": [
                    {"min_faculty": 2, "start": "2026-12-24", "end": "2026-12-26"},
                    {"min_faculty": 1, "holiday": True},
                ],
            },
            {"id": "admin", "name": "Admin time", "category": "administration", "site": "remote"},
        ],  # fmt: skip
        "holidays": ["2026-12-25", "2027-01-01"],
        "assignments": assignments,
        "absences": [
            {
                "id": "A2",
                "person_id": "F2",
                "start": "2026-12-03",
                "end": "2026-12-03",
                "half": "PM",
                "type": "medical",
                "blocking": None,
                "reason": "appointment",
            },
            {
                "id": "A1",
                "person_id": "F1",
                "start": "2026-12-20",
                "end": "2026-12-24",
                "half": None,
                "type": "vacation",
                "blocking": None,
                "reason": None,
            },
            {
                "id": "A3",
                "person_id": "F3",
                "start": "2026-12-01",
                "end": "2026-12-05",
                "type": "telework",
                "blocking": True,
            },
        ],  # fmt: skip
    }


def random_program(rng: random.Random, *, people: int = 12, days: int = 14) -> dict[str, Any]:
    """A valid document with random people, activities, assignments and absences."""
    doc = small_program()
    quals = [f"q{i}" for i in range(rng.randint(1, 4))]
    doc["qualifications"] = [{"id": q, "name": f"Qualification {q}"} for q in quals]
    doc["activities"] = [
        {
            "id": f"act.{i}",
            "name": f"Activity {i}",
            "category": rng.choice(["patient_safety", "research", "core_education"]),
            "site": rng.choice(["main", "remote"]),
            "qualification": rng.choice(quals),
            "min_faculty": rng.randint(0, 2),
            "min_faculty_rules": [
                {"min_faculty": rng.randint(0, 3), "weekdays": rng.sample(range(7), 2)}
            ]
            * rng.randint(0, 1),
            "ratio_pgy1": rng.choice([None, 2]),
            "ratio_pgy2plus": rng.choice([None, 4]),
        }
        for i in range(rng.randint(1, 5))
    ]
    doc["people"] = []
    for i in range(people):
        if rng.random() < 0.5:
            doc["people"].append(
                {"id": f"R-{i}", "name": f"Resident {i}", "kind": "resident",
                 "pgy": rng.randint(1, 8), "pgy_academic_year": 2026}
            )  # fmt: skip
        else:
            doc["people"].append(
                {"id": f"F_{i}", "name": f"Faculty {i}", "kind": "faculty",
                 "qualifications": rng.sample(quals, rng.randint(0, len(quals)))}
            )  # fmt: skip
    doc["assignments"] = [
        {"person_id": p["id"], "date": (START + timedelta(days=d)).isoformat(), "half": half,
         "activity_id": rng.choice(doc["activities"])["id"],
         "role": rng.choice(["primary", "primary", "backup"])}
        for p in doc["people"] for d in range(days) for half in ("AM", "PM")
        if rng.random() < 0.6
    ]  # fmt: skip
    rng.shuffle(doc["assignments"])
    doc["absences"] = []
    for i in range(rng.randint(0, 6)):
        first = START + timedelta(days=rng.randint(0, days))
        doc["absences"].append(
            {"id": f"abs{i}", "person_id": rng.choice(doc["people"])["id"],
             "start": first.isoformat(),
             "end": (first + timedelta(days=rng.randint(0, 3))).isoformat(),
             "half": rng.choice([None, "AM", "PM"]), "type": rng.choice(["sick", "telework"]),
             "blocking": rng.choice([None, True, False]), "reason": rng.choice([None, "x"])}
        )  # fmt: skip
    return doc


def with_change(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``doc`` with the value at ``path`` (e.g. ``assignments.3.person_id``)
    replaced; the value ``...`` (Ellipsis) removes the field."""
    out = copy.deepcopy(doc)
    *parents, last = path.split(".")
    target: Any = out
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    key: Any = int(last) if isinstance(target, list) else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return out
