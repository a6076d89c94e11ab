"""The schedule snapshot: frozen plain data that every analysis reads.

Nothing here touches the database, Celery or settings (CONVENTIONS.md rule 1). The adapter in
``app.domain.snapshot`` builds a ``ScheduleSnapshot`` from the database; tests and the
demo generator build them directly.

Vocabulary (RESILIENCE_MODEL.md sections 0-2): a *half-day* is a date with AM or PM; an
*activity* is clinic, inpatient, call, ... with a category from the sacrifice hierarchy and a
faculty requirement; an *assignment* puts one person on one activity in one half-day, as
primary or backup; an *absence* takes a person out for whole days or one half of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum


class Half(StrEnum):
    """The half of a day a session falls in."""

    AM = "AM"
    PM = "PM"


@dataclass(frozen=True, order=True)
class HalfDay:
    """One half-day session: the unit of clinical scheduling (never call it a "block")."""

    date: date
    half: Half

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.half.value}"

    def to_json(self) -> dict[str, str]:
        return {"date": self.date.isoformat(), "half": self.half.value}


def half_days(start: date, days: int) -> list[HalfDay]:
    """The half-days of ``days`` consecutive dates from ``start``, in time order."""
    return [
        HalfDay(start + timedelta(days=i), half) for i in range(days) for half in (Half.AM, Half.PM)
    ]


class Category(StrEnum):
    """Sacrifice-hierarchy category, most protected first (RESILIENCE_MODEL.md section 5)."""

    PATIENT_SAFETY = "patient_safety"
    ACGME_REQUIREMENTS = "acgme_requirements"
    CONTINUITY_OF_CARE = "continuity_of_care"
    CORE_EDUCATION = "core_education"
    RESEARCH = "research"
    ADMINISTRATION = "administration"
    OPTIONAL_EDUCATION = "optional_education"

    @property
    def protection(self) -> int:
        """0 for the most protected category, 6 for the least."""
        return CATEGORY_ORDER.index(self)


CATEGORY_ORDER: tuple[Category, ...] = tuple(Category)


class PersonKind(StrEnum):
    RESIDENT = "resident"
    FACULTY = "faculty"


class AssignmentRole(StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


@dataclass(frozen=True)
class AbsenceType:
    """What an absence type means by default."""

    blocking: bool
    private: bool
    unplanned: bool


ABSENCE_TYPES: dict[str, AbsenceType] = {
    "vacation": AbsenceType(blocking=True, private=False, unplanned=False),
    "sick": AbsenceType(blocking=True, private=True, unplanned=True),
    "medical": AbsenceType(blocking=True, private=True, unplanned=False),
    "family_emergency": AbsenceType(blocking=True, private=True, unplanned=True),
    "conference": AbsenceType(blocking=True, private=False, unplanned=False),
    "deployment": AbsenceType(blocking=True, private=False, unplanned=False),
    "tdy": AbsenceType(blocking=True, private=False, unplanned=False),
    "parental": AbsenceType(blocking=True, private=True, unplanned=False),
    "pcs": AbsenceType(blocking=True, private=False, unplanned=False),
    "bereavement": AbsenceType(blocking=True, private=True, unplanned=True),
    "training": AbsenceType(blocking=True, private=False, unplanned=False),
    "telework": AbsenceType(blocking=False, private=False, unplanned=False),
    "other": AbsenceType(blocking=True, private=False, unplanned=False),
}
"""Absence types. ``telework`` does not block by default: the person can still precept remotely
only if assigned to a remote site, so it is informational."""


def absence_blocks(absence_type: str, override: bool | None) -> bool:
    """Whether an absence takes its person out: the override when given, else its type's
    default (an unknown type blocks: the safe reading)."""
    if override is not None:
        return override
    known = ABSENCE_TYPES.get(absence_type)
    return True if known is None else known.blocking


@dataclass(frozen=True)
class Person:
    """A resident or a faculty member.

    Attributes:
        pgy: residents only, the PGY level (1-8) held in academic year ``pgy_academic_year``.
        pgy_academic_year: the calendar year in which that academic year starts.
        qualifications: faculty only, e.g. ``clinic_preceptor``.
        weekly_cap: faculty only, most clinical half-days per week (used by fallbacks).
        active_from / active_to: first and last day present in the program (None: open).
    """

    id: str
    name: str
    kind: PersonKind
    pgy: int | None = None
    pgy_academic_year: int | None = None
    faculty_role: str | None = None
    qualifications: frozenset[str] = frozenset()
    weekly_cap: int | None = None
    active_from: date | None = None
    active_to: date | None = None

    @property
    def is_faculty(self) -> bool:
        return self.kind is PersonKind.FACULTY

    def is_active(self, day: date) -> bool:
        return (self.active_from is None or day >= self.active_from) and (
            self.active_to is None or day <= self.active_to
        )


@dataclass(frozen=True)
class MinFacultyRule:
    """A minimum number of faculty that applies on matching half-days.

    Every given field must match: ``weekdays`` (0 Monday .. 6 Sunday), ``half``, the date
    range ``start``..``end`` (inclusive) and ``holiday``. The first matching rule of an activity
    wins; with none, the activity's default minimum applies.
    """

    min_faculty: int
    weekdays: frozenset[int] | None = None
    half: Half | None = None
    start: date | None = None
    end: date | None = None
    holiday: bool | None = None

    def matches(self, halfday: HalfDay, is_holiday: bool) -> bool:
        d = halfday.date
        return (
            (self.weekdays is None or d.weekday() in self.weekdays)
            and (self.half is None or halfday.half is self.half)
            and (self.start is None or d >= self.start)
            and (self.end is None or d <= self.end)
            and (self.holiday is None or self.holiday == is_holiday)
        )


@dataclass(frozen=True)
class Activity:
    """Clinic, inpatient service, call, didactics, ... and what faculty it needs.

    Attributes:
        qualification: what a supervising faculty member must hold; None means the activity
            makes no faculty demand at all.
        min_faculty / min_faculty_rules: faculty that must be present whatever the residents.
        ratio_pgy1 / ratio_pgy2plus: residents per faculty member (None: no supervision need).
        releasable: its faculty are on hand at the site and may be pulled to cover other work
            there. Only an activity without a qualification (time off duty: post-call,
            protected recovery) may say False; one with a qualification is always releasable,
            so that whether residents are present never decides whether its faculty member is
            on hand (RESILIENCE_MODEL.md section 1). A False given with a qualification is
            read as True.
    """

    id: str
    name: str
    category: Category
    site: str
    qualification: str | None = None
    min_faculty: int = 0
    min_faculty_rules: tuple[MinFacultyRule, ...] = ()
    ratio_pgy1: int | None = None
    ratio_pgy2plus: int | None = None
    releasable: bool = True

    def __post_init__(self) -> None:
        if self.qualification is not None and not self.releasable:
            # Older program files and databases said False for clinics; the model has no such
            # activity, so the invariant is restored here, once, for every source.
            object.__setattr__(self, "releasable", True)

    def min_faculty_on(self, halfday: HalfDay, is_holiday: bool) -> int:
        for rule in self.min_faculty_rules:
            if rule.matches(halfday, is_holiday):
                return rule.min_faculty
        return self.min_faculty


@dataclass(frozen=True)
class Assignment:
    person_id: str
    halfday: HalfDay
    activity_id: str
    role: AssignmentRole = AssignmentRole.PRIMARY


@dataclass(frozen=True)
class Absence:
    """A person away from ``start`` to ``end`` inclusive; ``half`` None means whole days."""

    id: str
    person_id: str
    start: date
    end: date
    type: str
    half: Half | None = None
    blocking: bool = True

    def covers(self, halfday: HalfDay) -> bool:
        return (
            self.blocking
            and self.start <= halfday.date <= self.end
            and (self.half is None or self.half is halfday.half)
        )


@dataclass(frozen=True)
class ProgramInfo:
    """The program's own settings that travel with its data."""

    name: str = "Residency program"
    timezone: str = "America/New_York"
    main_site: str = "main"
    academic_year_start: tuple[int, int] = (7, 1)
    """(month, day) on which PGY levels advance."""
    schedule_end: date | None = None
    """Last day of the published schedule. The adapters fill it (the program file's
    ``schedule_end``, else its last date with an assignment); None here means the last
    assignment date of the snapshot (``ScheduleSnapshot.schedule_end``)."""
    schedule_start: date | None = None
    """First day of the published schedule: the adapters fill it with the first date with an
    assignment (there is no stated start); None here means the first assignment date of the
    snapshot (``ScheduleSnapshot.schedule_start``)."""

    def academic_year(self, day: date) -> int:
        """The calendar year in which the academic year containing ``day`` starts."""
        month, dom = self.academic_year_start
        return day.year if (day.month, day.day) >= (month, dom) else day.year - 1


@dataclass(frozen=True)
class ScheduleSnapshot:
    """Everything an analysis needs, as plain immutable data."""

    program: ProgramInfo
    people: tuple[Person, ...]
    activities: tuple[Activity, ...]
    assignments: tuple[Assignment, ...]
    absences: tuple[Absence, ...] = ()
    holidays: frozenset[date] = frozenset()
    people_by_id: dict[str, Person] = field(init=False, repr=False, compare=False)
    activities_by_id: dict[str, Activity] = field(init=False, repr=False, compare=False)
    schedule_end: date | None = field(init=False, repr=False, compare=False)
    """The schedule end in effect: the program's, else the last date with an assignment here;
    None when there is no schedule at all. Days after it are unscheduled, not gaps."""
    schedule_start: date | None = field(init=False, repr=False, compare=False)
    """The schedule start in effect: the program's, else the first date with an assignment
    here; None when there is none. Days before it are unscheduled too, not gaps."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "people_by_id", {p.id: p for p in self.people})
        object.__setattr__(self, "activities_by_id", {a.id: a for a in self.activities})
        end = self.program.schedule_end
        if end is None and self.assignments:
            end = max(a.halfday.date for a in self.assignments)
        object.__setattr__(self, "schedule_end", end)
        first = self.program.schedule_start
        if first is None and self.assignments:
            first = min(a.halfday.date for a in self.assignments)
        object.__setattr__(self, "schedule_start", first)

    def pgy_on(self, person: Person, day: date) -> int | None:
        """The PGY level of a resident on ``day`` (advancing at each academic-year start)."""
        return pgy_in_academic_year(person, self.program.academic_year(day))


def pgy_in_academic_year(person: Person, academic_year: int) -> int | None:
    """A resident's PGY level in an academic year (None for faculty), capped to 1-8."""
    if person.pgy is None:
        return None
    if person.pgy_academic_year is None:
        return person.pgy
    return max(1, min(8, person.pgy + academic_year - person.pgy_academic_year))
