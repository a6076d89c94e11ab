"""The demo program's people: faculty with roles and credentials, residents in PGY cohorts.

Day numbers here count days from the first day of the demo horizon (day 0), so that the
roster can compare them with plain integers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from itertools import product

from app.demo.catalog import TEACHING_SLOTS

_FIRST_NAMES = (
    "Avery",
    "Jordan",
    "Morgan",
    "Casey",
    "Riley",
    "Quinn",
    "Taylor",
    "Jamie",
    "Alex",
    "Drew",
    "Emerson",
    "Harper",
    "Logan",
    "Parker",
    "Reese",
    "Rowan",
    "Sage",
    "Skyler",
    "Blake",
    "Cameron",
    "Dana",
    "Elliot",
    "Finley",
    "Hayden",
    "Kendall",
    "Marlowe",
    "Noel",
    "Oakley",
    "Peyton",
    "Remy",
    "Sasha",
    "Tatum",
    "Arden",
    "Bailey",
    "Corey",
    "Devon",
    "Ellis",
    "Frankie",
    "Greer",
    "Hollis",
)
_LAST_NAMES = (
    "Smith",
    "Lee",
    "Garcia",
    "Patel",
    "Nguyen",
    "Johnson",
    "Brown",
    "Kim",
    "Martinez",
    "Davis",
    "Lopez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Moore",
    "Jackson",
    "Martin",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Perez",
    "Roberts",
    "Turner",
)

ROTATION_CYCLE: tuple[str, ...] = (
    "inpatient",
    "outpatient",
    "obstetrics",
    "off_service",
    "outpatient",
    "specialty",
)
"""Four-week resident rotations, cycled; a cohort's members start at staggered places."""
ROTATION_DAYS = 28
_OWN_CLINICS = {"program_director": 1, "associate_program_director": 1, "adjunct": 0}


@dataclass
class FacultyPlan:
    """A faculty member as the roster sees them."""

    id: str
    name: str
    role: str
    qualifications: list[str]
    weekly_cap: int
    rank: int
    """Tie-break order for fair, deterministic choices."""
    research_slot: int
    own_clinic_slots: tuple[int, ...]
    """Weekday slots of the member's own patient sessions (no residents, not releasable)."""
    first_day: int | None = None
    last_day: int | None = None
    active_from: date | None = None
    active_to: date | None = None
    quals: frozenset[str] = field(default=frozenset())

    def active(self, day: int) -> bool:
        return (self.first_day is None or day >= self.first_day) and (
            self.last_day is None or day <= self.last_day
        )


@dataclass
class ResidentPlan:
    """A resident: ``pgy`` is held in the academic year starting in ``pgy_academic_year``."""

    id: str
    name: str
    pgy: int
    pgy_academic_year: int
    place: int
    """Place in the cohort: staggers rotations, clinic slots and weekends."""
    first_day: int | None = None
    last_day: int | None = None
    active_from: date | None = None
    active_to: date | None = None

    def active(self, day: int) -> bool:
        return (self.first_day is None or day >= self.first_day) and (
            self.last_day is None or day <= self.last_day
        )

    def rotation(self, day: int) -> str:
        return ROTATION_CYCLE[(self.place + day // ROTATION_DAYS) % len(ROTATION_CYCLE)]

    def continuity_slots(self, pgy: int) -> tuple[int, ...]:
        """Weekday slots of this resident's own clinic: more of them in later years."""
        base = (self.place * 4 + pgy) % len(TEACHING_SLOTS)
        count = min(pgy, 3)
        return tuple(TEACHING_SLOTS[(base + 3 * j) % len(TEACHING_SLOTS)] for j in range(count))


class NameBook:
    """Unique full names drawn from small built-in lists."""

    def __init__(self, rng: random.Random) -> None:
        self._names = [f"{first} {last}" for first, last in product(_FIRST_NAMES, _LAST_NAMES)]
        rng.shuffle(self._names)
        self._next = 0

    def take(self) -> str:
        name = self._names[self._next % len(self._names)]
        lap = self._next // len(self._names)
        self._next += 1
        # Past 1,600 people the names repeat with a suffix; ids stay the identity anyway.
        return name if lap == 0 else f"{name} {lap + 1}"


def ident(prefix: str, number: int, total: int) -> str:
    """``F001``-style ids, wide enough for ``total``."""
    return f"{prefix}{number:0{max(3, len(str(total)))}d}"


def make_faculty(
    rng: random.Random,
    names: NameBook,
    count: int,
    qualifications: list[str],
    cross_trained: float | None = None,
) -> list[FacultyPlan]:
    """``count`` faculty: a program director, associate PDs, core faculty and adjuncts.

    Everyone precepts clinic; inpatient attending is common; obstetrics and procedures are
    held by few (the program's natural tight spots); each further specialty by a handful.
    With ``cross_trained`` (a share in 0..1) every member instead holds each qualification
    but clinic precepting with that probability, as in a widely cross-trained program.
    """
    n_apd = max(1, min(6, round(count * 0.09)))
    n_adjunct = max(1, round(count * 0.18))
    n_core = count - 1 - n_apd - n_adjunct
    roles = (
        ["program_director"]
        + ["associate_program_director"] * n_apd
        + ["core"] * n_core
        + ["adjunct"] * n_adjunct
    )
    caps = {"program_director": (3,), "associate_program_director": (5,), "adjunct": (3, 4, 5)}
    faculty = []
    ranks = list(range(count))
    rng.shuffle(ranks)
    for n, role in enumerate(roles):
        faculty.append(
            FacultyPlan(
                id=ident("F", n + 1, count),
                name="Dr. " + names.take(),
                role=role,
                qualifications=["clinic_preceptor"],
                weekly_cap=rng.choice(caps.get(role, (7, 8, 8, 9))),
                rank=ranks[n],
                research_slot=rng.choice(TEACHING_SLOTS),
                own_clinic_slots=tuple(rng.sample(TEACHING_SLOTS, _OWN_CLINICS.get(role, 2))),
            )
        )
    leaders = [f for f in faculty if f.role != "core" and f.role != "adjunct"]
    core = [f for f in faculty if f.role == "core"]
    clinicians = core + [f for f in faculty if f.role == "adjunct"]

    def grant(qualification: str, pool: list[FacultyPlan], share: float) -> None:
        for f in rng.sample(pool, min(len(pool), max(2, round(count * share)))):
            f.qualifications.append(qualification)

    if cross_trained is not None:
        for f in faculty:
            f.qualifications.extend(q for q in qualifications[1:] if rng.random() < cross_trained)
    else:
        for f in leaders + rng.sample(core, round(len(core) * 0.65)):
            f.qualifications.append("inpatient_attending")
        grant("obstetrics", core, 0.09)
        grant("procedures", clinicians, 0.13)
        for qualification in qualifications[4:]:
            grant(qualification, clinicians + leaders[1:], 0.12)
    for f in faculty:
        f.qualifications = [q for q in qualifications if q in f.qualifications]
        f.quals = frozenset(f.qualifications)
    return faculty


def make_residents(
    names: NameBook, count: int, academic_year: int, cohort_entries: list[int]
) -> list[ResidentPlan]:
    """``count`` residents in three PGY cohorts, plus one intern cohort per later July.

    Args:
        names: where names come from.
        count: residents in the program on the first day.
        academic_year: the academic year (its starting calendar year) of the first day.
        cohort_entries: later academic years starting inside the horizon; an intern cohort
            the size of the first PGY-1 cohort arrives at each.
    """
    sizes = [count // 3 + (1 if k < count % 3 else 0) for k in range(3)]
    residents: list[ResidentPlan] = []
    total = count + sizes[0] * len(cohort_entries)
    for pgy, size in zip((1, 2, 3), sizes, strict=True):
        for place in range(size):
            residents.append(
                ResidentPlan(
                    id="",
                    name=names.take(),
                    pgy=pgy,
                    pgy_academic_year=academic_year,
                    place=place,
                )
            )
    for year in cohort_entries:
        for place in range(sizes[0]):
            residents.append(
                ResidentPlan(id="", name=names.take(), pgy=1, pgy_academic_year=year, place=place)
            )
    for n, resident in enumerate(residents):
        resident.id = ident("R", n + 1, total)
    return residents
