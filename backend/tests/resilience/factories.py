"""Random schedule snapshots and site-half-days for the resilience tests and benchmarks.

Everything is driven by a ``random.Random`` so that a seed reproduces a case; hypothesis
strategies draw the seed and the size knobs.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.domain.coverage import (
    ActivityDemand,
    PoolMember,
    SiteHalfDay,
    build_site_half_days,
    gaps_of,
)
from app.domain.schedule import (
    Absence,
    Activity,
    Assignment,
    AssignmentRole,
    Category,
    Half,
    HalfDay,
    MinFacultyRule,
    Person,
    PersonKind,
    ProgramInfo,
    ScheduleSnapshot,
    half_days,
)
from app.programs.service import import_program
from app.resilience.contingency.chunks import ChunkAnalysis, chunk_dates, merge_chunks
from app.resilience.contingency.core import ContingencyResult, analyze_contingency

CATEGORIES = tuple(Category)
START = date(2025, 7, 7)  # a Monday


def random_site_half_day(
    rng: random.Random,
    halfday: HalfDay | None = None,
    site: str = "main",
    n_quals: int = 3,
    max_pool: int = 8,
    max_activities: int = 4,
    max_demand: int = 3,
    qual_names: tuple[str, ...] | None = None,
) -> SiteHalfDay:
    """A small random coverage problem, often tight (so that findings are common)."""
    quals = qual_names or tuple(f"q{i}" for i in range(n_quals))
    halfday = halfday or HalfDay(START, Half.AM)
    demands = []
    for a in range(rng.randint(0, max_activities)):
        residents = tuple(f"r{a}_{i}" for i in range(rng.randint(0, 3)))
        demands.append(
            ActivityDemand(
                f"act{a}",
                rng.choice(CATEGORIES),
                rng.choice(quals),
                rng.randint(1, max_demand),
                residents,
            )
        )
    demands.sort(key=lambda d: (d.category.protection, d.activity_id))
    pool = []
    for i in range(rng.randint(0, max_pool) if rng.random() < 0.2 else max_pool):
        held = frozenset(q for q in quals if rng.random() < 0.4)
        pool.append(PoolMember(f"f{i:02d}", held))
    return SiteHalfDay(halfday, site, tuple(demands), tuple(pool))


def random_problems(
    rng: random.Random, days: int, sites: int = 2, **kwargs: object
) -> list[SiteHalfDay]:
    """Random site-half-days over ``days`` dates and ``sites`` sites, in time order."""
    return [
        random_site_half_day(rng, hd, f"site{s}", **kwargs)  # type: ignore[arg-type]
        for hd in half_days(START, days)
        for s in range(sites)
    ]


def random_snapshot(
    rng: random.Random,
    days: int = 3,
    n_faculty: int = 12,
    n_residents: int = 6,
    n_quals: int = 3,
    n_sites: int = 2,
    n_activities: int = 6,
) -> ScheduleSnapshot:
    """A small random program exercising every input of ``build_site_half_days``.

    Faculty hold several qualifications; activities have minimum-faculty rules, supervision
    ratios, releasable flags and sites; residents are PGY-1 or PGY-2+; some assignments are
    backups; absences (whole or half days, some non-blocking) and active dates remove people.
    """
    quals = [f"q{i}" for i in range(n_quals)]
    sites = [f"site{i}" for i in range(n_sites)]
    people: list[Person] = []
    for i in range(n_faculty):
        held = frozenset(q for q in quals if rng.random() < 0.45)
        active_to = START + timedelta(days=rng.randint(0, days)) if rng.random() < 0.1 else None
        people.append(
            Person(
                f"f{i:02d}",
                f"Faculty {i}",
                PersonKind.FACULTY,
                qualifications=held,
                active_to=active_to,
            )
        )
    for i in range(n_residents):
        people.append(
            Person(
                f"r{i:02d}",
                f"Resident {i}",
                PersonKind.RESIDENT,
                pgy=rng.randint(1, 3),
                pgy_academic_year=2025,
            )
        )
    activities = []
    for a in range(n_activities):
        rules: tuple[MinFacultyRule, ...] = ()
        if rng.random() < 0.3:
            rules = (MinFacultyRule(rng.randint(0, 2), half=rng.choice(list(Half))),)
        category = rng.choice(CATEGORIES)
        activities.append(
            Activity(
                f"a{a}",
                f"Activity {a}",
                category,
                rng.choice(sites),
                qualification=rng.choice([*quals, None]) if rng.random() < 0.9 else None,
                min_faculty=rng.choice([0, 0, 1, 2]),
                min_faculty_rules=rules,
                ratio_pgy1=rng.choice([None, 1, 2]),
                ratio_pgy2plus=rng.choice([None, 2, 4]),
                releasable=rng.random() < 0.3,
            )
        )
    assignments = []
    for hd in half_days(START, days):
        for person in people:
            if rng.random() < 0.8:
                role = AssignmentRole.BACKUP if rng.random() < 0.1 else AssignmentRole.PRIMARY
                act = rng.choice(activities)
                assignments.append(Assignment(person.id, hd, act.id, role))
    absences = []
    for n in range(rng.randint(0, 3)):
        person = rng.choice(people)
        first = START + timedelta(days=rng.randint(0, days - 1))
        absences.append(
            Absence(
                f"abs{n}",
                person.id,
                first,
                first + timedelta(days=rng.randint(0, 1)),
                rng.choice(["vacation", "sick", "tdy"]),
                half=rng.choice([None, Half.AM, Half.PM]),
                blocking=rng.random() < 0.9,
            )
        )
    return ScheduleSnapshot(
        ProgramInfo(),
        tuple(people),
        tuple(activities),
        tuple(assignments),
        tuple(absences),
    )


def realistic_problems(
    rng: random.Random,
    days: int = 364,
    n_faculty: int = 150,
    n_quals: int = 30,
    n_sites: int = 3,
) -> list[SiteHalfDay]:
    """A large program's site-half-days: 1-``n_sites`` sites per half-day, 20-60 pool members,
    roughly 10-40 slots over 1-6 demanded qualifications, common and rare qualifications.

    Demand per qualification is drawn up to the number of pool members holding it, so most
    half-days are covered and the tight ones (rare qualifications) produce findings.
    """
    quals = [f"qual{i:02d}" for i in range(n_quals)]
    faculty = []
    for i in range(n_faculty):
        # Popularity falls with the index: q00 is held by most, the last ones by a few.
        held = frozenset(q for j, q in enumerate(quals) if rng.random() < 0.75 / (1 + j / 2))
        faculty.append((f"fac{i:03d}", held or frozenset({quals[0]})))
    out: list[SiteHalfDay] = []
    for hd in half_days(START, days):
        sites = rng.randint(1, n_sites)
        on_duty = rng.sample(faculty, min(len(faculty), rng.randint(20 * sites, 60 * sites)))
        share = len(on_duty) // sites
        for s in range(sites):
            members = sorted(on_duty[s * share : (s + 1) * share])
            pool = tuple(PoolMember(pid, held) for pid, held in members[:60])
            holders = {q: sum(q in m.qualifications for m in pool) for q in quals}
            # Services mostly need the commoner qualifications, sometimes a rare one.
            offered = sorted((q for q in quals if holders[q]), key=lambda q: -holders[q])[:12]
            chosen = rng.sample(offered, min(len(offered), rng.randint(1, 6)))
            budget = rng.randint(10, 40)
            demands = []
            for a, q in enumerate(chosen):
                want = max(1, min(holders[q], budget // len(chosen) + rng.randint(-2, 2)))
                residents = tuple(
                    f"res{hd.date.toordinal() % 97}_{s}_{a}_{i}" for i in range(rng.randint(0, 4))
                )
                demands.append(
                    ActivityDemand(f"act_{q}", rng.choice(CATEGORIES), q, want, residents)
                )
            problem = SiteHalfDay(hd, f"site{s}", tuple(demands), pool)
            # Most programs staff their half-days: trim demand until covered, bar a few gaps.
            while rng.random() < 0.97 and (missing := gaps_of(problem)):
                short = {g.activity_id: g.missing for g in missing}
                problem = replace(
                    problem,
                    demands=tuple(
                        replace(d, demand=d.demand - short.get(d.activity_id, 0))
                        for d in problem.demands
                        if d.demand > short.get(d.activity_id, 0)
                    ),
                )
            demands = list(problem.demands)
            demands.sort(key=lambda d: (d.category.protection, d.activity_id))
            out.append(SiteHalfDay(hd, f"site{s}", tuple(demands), pool))
    return out


def chunked_analysis(
    snapshot: ScheduleSnapshot, start: date, end: date, *, chunk_days: int
) -> ContingencyResult:
    """The problems of ``start``..``end`` analysed date chunk by date chunk
    (``chunks.chunk_dates``) and merged as the workers' chunks are (``merge_chunks``)."""
    problems = build_site_half_days(snapshot, start, end)
    return merge_chunks(
        [
            ChunkAnalysis(
                a,
                b,
                analyze_contingency(
                    [p for p in problems if a <= p.halfday.date <= b], snapshot.people_by_id
                ),
            )
            for a, b in chunk_dates(start, end, chunk_days)
        ]
    )


def with_demo_program(
    engine: Engine, *, seed: int, faculty: int, weeks: int, start: date
) -> Engine:
    """``engine`` with a demo program imported (``generate_demo_program``), committed."""
    with Session(engine) as session:
        doc = generate_demo_program(seed=seed, faculty=faculty, weeks=weeks, start=start)
        import_program(session, doc, source="demo", actor="test")
        session.commit()
    return engine
