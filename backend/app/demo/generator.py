"""A realistic demo program: a family-medicine residency over a year of half-days.

``generate_demo_program`` returns a program document (docs/program-format.md). Its parts:

* people (``demo_people``): a program director, associate PDs, core faculty and adjuncts with
  credentials and weekly caps; three PGY cohorts whose levels advance at the academic-year
  start, PGY-3s graduating the day before it and a new intern cohort arriving on it;
* activities (``demo_catalog``): continuity clinics at three sites with 1:2 / 1:4
  supervision, an inpatient service with two attendings on weekday mornings and one otherwise,
  call, obstetrics and procedure clinics needing scarce credentials, specialty clinics,
  didactics, administration, research, grand rounds;
* absences (``demo_absences``): vacations, conferences, appointments, parental leave, a
  deployment, a PCS move, then sick days and family emergencies;
* the roster (``demo_roster``): every half-day, built around the planned absences.

The program has real tight spots: obstetrics is held by two faculty members, one of whom
deploys for up to twelve weeks, and a procedures holder leaves on a PCS move. The same
arguments always give the same document; only ``random.Random(seed)`` draws.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from app.core.errors import InputError
from app.demo.absences import (
    AbsenceBook,
    AbsencePlan,
    plan_routine_absences,
    plan_unplanned_absences,
)
from app.demo.calendar import federal_holidays, monday_of
from app.demo.catalog import (
    SITES,
    activities,
    qualification_ids,
    qualification_name,
    specialty_clinics,
)
from app.demo.people import (
    FacultyPlan,
    NameBook,
    ResidentPlan,
    make_faculty,
    make_residents,
)
from app.demo.roster import Roster, RosterInput
from app.domain.schedule import ProgramInfo
from app.programs.convert import activity_from_document
from app.programs.fields import absence_id

PROGRAM = ProgramInfo(name="Riverside Family Medicine Residency (demo)", main_site="main")
RESIDENTS_PER_FACULTY = 1.64
"""Default residents for a faculty size: 22 faculty give the usual 36 residents."""
DEPLOYMENT_WEEKS = 12
PCS_OUT_PROCESSING_DAYS = 12
ARRIVAL_AFTER_PCS_DAYS = 31


def default_residents(faculty: int) -> int:
    """Residents that go with ``faculty`` faculty when the caller gives no number."""
    return max(3, round(faculty * RESIDENTS_PER_FACULTY))


def _check(
    faculty: int, residents: int, weeks: int, qualifications: int, cross_trained: float | None
) -> None:
    problems = []
    if faculty < 6:
        problems.append("--faculty must be at least 6")
    if residents < 3:
        problems.append("--residents must be at least 3")
    if weeks < 4:
        problems.append("--weeks must be at least 4")
    if qualifications < 4:
        problems.append("--qualifications must be at least 4")
    if cross_trained is not None and not 0 < cross_trained <= 1:
        problems.append("--cross-trained must be a share above 0 and at most 1")
    if problems:
        raise InputError("; ".join(problems))


def _academic_year_start(year: int) -> date:
    month, day = PROGRAM.academic_year_start
    return date(year, month, day)


def _place_residents(residents: list[ResidentPlan], start: date) -> None:
    """Arrivals on the academic-year start they enter at; graduation the day before PGY-4."""
    for r in residents:
        entry_year = r.pgy_academic_year - (r.pgy - 1)
        if entry_year > PROGRAM.academic_year(start):
            r.active_from = _academic_year_start(entry_year)
            r.first_day = (r.active_from - start).days
        r.active_to = _academic_year_start(entry_year + 3) - timedelta(days=1)
        r.last_day = (r.active_to - start).days


def _plan_moves(
    rng: random.Random,
    faculty: list[FacultyPlan],
    book: AbsenceBook,
    dates: list[date],
    qualifications: list[str],
) -> None:
    """A deployment of an obstetrician, a PCS move of a proceduralist and a replacement."""
    core = [f for f in faculty if f.role == "core"]
    obstetricians = [f for f in core if "obstetrics" in f.quals] or core
    deployed = rng.choice(obstetricians)
    weeks = book.weeks
    first = book.first_monday + 7 * (weeks // 4)
    last = min(len(dates) - 1, first + 7 * min(DEPLOYMENT_WEEKS, max(1, weeks // 4)) - 3)
    book.add(AbsencePlan(deployed.id, first, last, "deployment", reason="Deployment"))

    movers = [f for f in faculty if "procedures" in f.quals and f is not deployed]
    mover = rng.choice([f for f in movers if f.role == "core"] or movers or core)
    leave_day = min(len(dates) - 1, book.first_monday + 7 * (weeks * 3 // 5) + 4)
    mover.active_to, mover.last_day = dates[leave_day], leave_day
    out_processing = max(0, leave_day - PCS_OUT_PROCESSING_DAYS + 1)
    book.add(AbsencePlan(mover.id, out_processing, leave_day, "pcs", reason="PCS move"))

    newcomer = next(f for f in reversed(core) if f is not deployed and f is not mover)
    arrival = dates[0] + timedelta(days=leave_day + ARRIVAL_AFTER_PCS_DAYS)
    newcomer.active_from, newcomer.first_day = arrival, leave_day + ARRIVAL_AFTER_PCS_DAYS
    if "procedures" not in newcomer.quals:
        newcomer.quals = newcomer.quals | {"procedures"}
        newcomer.qualifications = [q for q in qualifications if q in newcomer.quals]


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _people(faculty: list[FacultyPlan], residents: list[ResidentPlan]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in faculty:
        out.append(
            {
                "id": f.id,
                "name": f.name,
                "kind": "faculty",
                "faculty_role": f.role,
                "qualifications": f.qualifications,
                "weekly_cap": f.weekly_cap,
                "active_from": _iso(f.active_from),
                "active_to": _iso(f.active_to),
            }
        )
    for r in residents:
        out.append(
            {
                "id": r.id,
                "name": r.name,
                "kind": "resident",
                "pgy": r.pgy,
                "pgy_academic_year": r.pgy_academic_year,
                "active_from": _iso(r.active_from),
                "active_to": _iso(r.active_to),
            }
        )
    return out


def _absences(book: AbsenceBook, iso_dates: list[str]) -> list[dict[str, Any]]:
    ordered = sorted(book.absences, key=lambda a: (a.first_day, a.person_id, a.type))
    width = len(str(len(ordered)))  # every id as wide as the last one's number
    return [
        {
            "id": absence_id(n, width),
            "person_id": a.person_id,
            "start": iso_dates[a.first_day],
            "end": iso_dates[a.last_day],
            "half": None if a.half is None else ("AM", "PM")[a.half],
            "type": a.type,
            "blocking": a.blocking,
            "reason": a.reason,
        }
        for n, a in enumerate(ordered, start=1)
    ]


def generate_demo_program(
    *,
    seed: int = 0,
    faculty: int = 22,
    residents: int | None = None,
    weeks: int = 52,
    qualifications: int = 8,
    start: date | None = None,
    cross_trained: float | None = None,
) -> dict[str, Any]:
    """A realistic family-medicine program document, the same for the same arguments.

    Args:
        seed: seeds the one random generator.
        faculty: faculty members in the document (one of them arrives during the horizon,
            one leaves on a PCS move).
        residents: residents on the first day (default: about 1.64 per faculty member, 36
            for 22); an intern cohort of the PGY-1 size arrives at each academic-year start
            inside the horizon.
        weeks: length of the horizon in weeks.
        qualifications: how many qualifications exist: the named ones first, then
            ``special_NN``; each beyond the four core ones runs a specialty clinic.
        start: first day of the horizon (default: Monday of the current week).
        cross_trained: a widely cross-trained program, as in nurse rostering: each faculty
            member holds clinic precepting and each other qualification with this
            probability (e.g. 0.5: about half of them) instead of scarce credentials held by
            a few, and every specialty clinic runs, staffed by two, in every teaching half-day.

    Returns:
        A JSON-ready program document (docs/program-format.md).

    Raises:
        InputError: a size is below what the program needs (6 faculty, 3 residents, 4 weeks,
            4 qualifications), or ``cross_trained`` is not in (0, 1].
    """
    residents = default_residents(faculty) if residents is None else residents
    _check(faculty, residents, weeks, qualifications, cross_trained)
    rng = random.Random(seed)
    start = monday_of(date.today()) if start is None else start
    dates = [start + timedelta(days=n) for n in range(weeks * 7)]
    iso_dates = [d.isoformat() for d in dates]
    academic_year_of_day = [PROGRAM.academic_year(d) for d in dates]
    first_year = academic_year_of_day[0]
    later_years = sorted({y for y in academic_year_of_day if y > first_year})

    quals = qualification_ids(qualifications)
    names = NameBook(rng)
    faculty_plans = make_faculty(rng, names, faculty, quals, cross_trained)
    resident_plans = make_residents(names, residents, first_year, later_years)
    _place_residents(resident_plans, start)

    holidays = federal_holidays(dates[0], dates[-1])
    holiday_days = {(d - start).days for d in holidays}
    book = AbsenceBook(rng, len(dates), (7 - start.weekday()) % 7)
    _plan_moves(rng, faculty_plans, book, dates, quals)
    plan_routine_absences(book, faculty_plans, resident_plans, weeks)

    activity_docs = activities(quals, staffed_specialties=cross_trained is not None)
    roster = Roster(
        RosterInput(
            dates=dates,
            holidays=holiday_days,
            academic_year_of_day=academic_year_of_day,
            residents=resident_plans,
            faculty=faculty_plans,
            activities={
                a["id"]: activity_from_document(a, PROGRAM.main_site) for a in activity_docs
            },
            specialties=specialty_clinics(quals, every_session=cross_trained is not None),
            blocked=book.blocked_half_days(),
            main_site=PROGRAM.main_site,
        )
    ).build()

    working_days = [n for n, d in enumerate(dates) if d.weekday() < 5 and n not in holiday_days]
    people: list[FacultyPlan | ResidentPlan] = [*faculty_plans, *resident_plans]
    plan_unplanned_absences(book, people, working_days, weeks)

    halves = ("AM", "PM")
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {
            "name": PROGRAM.name,
            "timezone": PROGRAM.timezone,
            "main_site": PROGRAM.main_site,
            "academic_year_start": "{:02d}-{:02d}".format(*PROGRAM.academic_year_start),
        },
        "sites": [dict(site) for site in SITES],
        "qualifications": [{"id": q, "name": qualification_name(q)} for q in quals],
        "people": _people(faculty_plans, resident_plans),
        "activities": activity_docs,
        "holidays": [d.isoformat() for d in holidays],
        "assignments": [
            {
                "person_id": person_id,
                "date": iso_dates[day],
                "half": halves[half],
                "activity_id": activity_id,
                "role": "backup" if backup else "primary",
            }
            for day, half, person_id, activity_id, backup in roster
        ],
        "absences": _absences(book, iso_dates),
    }
