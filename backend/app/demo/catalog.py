"""What the demo program is made of: sites, qualifications, activities and their sessions.

A weekday has ten *slots* (Monday AM = 0, Monday PM = 1, ... Friday PM = 9). Clinics that do
not run every half-day hold *sessions* in a few of these slots. Wednesday PM is protected for
didactics, as in most family-medicine programs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WEDNESDAY_PM = 5
TEACHING_SLOTS: tuple[int, ...] = tuple(s for s in range(10) if s != WEDNESDAY_PM)
"""Weekday slots where clinics may run (all but the didactics half-day)."""
FRIDAY_PM = 9

OB_SESSIONS: tuple[int, ...] = (1, 4, 8)  # Monday PM, Wednesday AM, Friday AM
PROCEDURE_SESSIONS: tuple[int, ...] = (2, 7)  # Tuesday AM, Thursday PM
COMMUNITY_SESSIONS: tuple[int, ...] = (2, 3, 6, 7)  # Tuesday and Thursday
TELEHEALTH_SESSIONS: tuple[int, ...] = (1, 9)  # Monday PM, Friday PM

MAIN_SITE = "main"
SITES: tuple[dict[str, str], ...] = (
    {"id": "main", "name": "Main hospital and family medicine center"},
    {"id": "community", "name": "Eastside community health clinic"},
    {"id": "remote", "name": "Telehealth (remote)"},
)

CORE_QUALIFICATIONS = ("clinic_preceptor", "inpatient_attending", "procedures", "obstetrics")
"""The qualifications the demo cannot do without; ``qualifications`` must be at least 4."""

NAMED_QUALIFICATIONS: dict[str, str] = {
    "clinic_preceptor": "Clinic preceptor",
    "inpatient_attending": "Inpatient attending",
    "procedures": "Office procedures",
    "obstetrics": "Obstetrics",
    "sports_medicine": "Sports medicine",
    "geriatrics": "Geriatrics",
    "behavioral_health": "Behavioral health",
    "pediatrics": "Pediatrics",
    "point_of_care_ultrasound": "Point-of-care ultrasound",
    "addiction_medicine": "Addiction medicine",
}

# qualification -> (activity id, activity name, category, site) of its specialty clinic
_NAMED_SPECIALTY_CLINICS: dict[str, tuple[str, str, str, str]] = {
    "sports_medicine": (
        "sports_medicine_clinic",
        "Sports medicine clinic",
        "core_education",
        "community",
    ),
    "geriatrics": (
        "geriatrics_clinic",
        "Geriatrics and home visits",
        "core_education",
        "community",
    ),
    "behavioral_health": (
        "behavioral_health_clinic",
        "Integrated behavioral health clinic",
        "core_education",
        "remote",
    ),
    "pediatrics": ("pediatric_clinic", "Pediatric clinic", "acgme_requirements", "main"),
    "point_of_care_ultrasound": (
        "ultrasound_clinic",
        "Point-of-care ultrasound clinic",
        "core_education",
        "main",
    ),
    "addiction_medicine": (
        "addiction_clinic",
        "Addiction medicine clinic",
        "core_education",
        "community",
    ),
}


@dataclass(frozen=True)
class SpecialtyClinic:
    """A clinic run by holders of one specialty qualification, in its weekly sessions."""

    activity_id: str
    qualification: str
    sessions: tuple[int, ...]


def qualification_ids(count: int) -> list[str]:
    """The first ``count`` qualifications: the named ones, then ``special_NN``."""
    named = list(NAMED_QUALIFICATIONS)
    return named[:count] + [f"special_{n:02d}" for n in range(len(named) + 1, count + 1)]


def qualification_name(qualification: str) -> str:
    if qualification in NAMED_QUALIFICATIONS:
        return NAMED_QUALIFICATIONS[qualification]
    return "Special clinic credential " + qualification.removeprefix("special_")


def _rule(min_faculty: int, **fields: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "min_faculty": min_faculty,
        "weekdays": None,
        "half": None,
        "start": None,
        "end": None,
        "holiday": None,
    }
    rule.update(fields)
    return rule


def _activity(
    activity_id: str,
    name: str,
    category: str,
    *,
    site: str | None = None,
    qualification: str | None = None,
    min_faculty: int = 0,
    rules: list[dict[str, Any]] | None = None,
    ratios: tuple[int | None, int | None] = (None, None),
    releasable: bool = True,
) -> dict[str, Any]:
    return {
        "id": activity_id,
        "name": name,
        "category": category,
        "site": site or MAIN_SITE,
        "qualification": qualification,
        "min_faculty": min_faculty,
        "min_faculty_rules": rules or [],
        "ratio_pgy1": ratios[0],
        "ratio_pgy2plus": ratios[1],
        # Written out although the format has defaults: a file a person reads says it all.
        # Only off-duty time without a qualification may be non-releasable (model, 1).
        "releasable": releasable,
    }


def specialty_clinics(
    qualifications: list[str], every_session: bool = False
) -> list[SpecialtyClinic]:
    """One specialty clinic per qualification beyond the four core ones.

    Two weekly sessions each, spread over the week; with ``every_session`` (the cross-trained
    program) every clinic runs in every teaching slot, so a half-day demands many of them.
    """
    clinics = []
    for k, qualification in enumerate(q for q in qualifications if q not in CORE_QUALIFICATIONS):
        sessions = (
            TEACHING_SLOTS
            if every_session
            else (TEACHING_SLOTS[(2 * k) % 9], TEACHING_SLOTS[(2 * k + 4) % 9])
        )
        clinics.append(SpecialtyClinic(f"{_clinic_id(qualification)}", qualification, sessions))
    return clinics


def _clinic_id(qualification: str) -> str:
    named = _NAMED_SPECIALTY_CLINICS.get(qualification)
    return named[0] if named else f"{qualification}_clinic"


def activities(
    qualifications: list[str], staffed_specialties: bool = False
) -> list[dict[str, Any]]:
    """The program's activities as document dicts: services, clinics, then other work.

    With ``staffed_specialties`` (the cross-trained program) each specialty clinic needs two
    faculty members every weekday half-day, residents or not, as a staffed unit does.
    """
    weekdays = [0, 1, 2, 3, 4]
    out = [
        _activity(
            "inpatient",
            "Inpatient family medicine service",
            "patient_safety",
            qualification="inpatient_attending",
            min_faculty=1,
            # Weekday mornings carry admissions and teaching rounds: two attendings.
            rules=[_rule(2, weekdays=weekdays, half="AM", holiday=False)],
            ratios=(4, 8),
        ),
        _activity(
            "call",
            "Overnight and weekend call",
            "patient_safety",
            qualification="inpatient_attending",
            rules=[_rule(1, half="PM")],
            ratios=(4, 8),
        ),
        # Post-call rest is a duty-hour rule: its faculty must not be pulled to cover.
        _activity("post_call", "Post-call rest", "acgme_requirements", releasable=False),
        _activity(
            "ob_clinic",
            "Obstetrics clinic",
            "acgme_requirements",
            qualification="obstetrics",
            ratios=(2, 4),
        ),
        _activity(
            "procedure_clinic",
            "Procedure clinic",
            "acgme_requirements",
            qualification="procedures",
            ratios=(2, 4),
        ),
        _activity(
            "labor_delivery",
            "Labor and delivery (obstetrics department)",
            "acgme_requirements",
        ),
        _activity(
            "continuity_clinic",
            "Continuity clinic",
            "continuity_of_care",
            qualification="clinic_preceptor",
            ratios=(2, 4),
        ),
        _activity(
            "community_clinic",
            "Community continuity clinic",
            "continuity_of_care",
            site="community",
            qualification="clinic_preceptor",
            ratios=(2, 4),
        ),
        _activity(
            "telehealth_clinic",
            "Telehealth clinic",
            "continuity_of_care",
            site="remote",
            qualification="clinic_preceptor",
            ratios=(2, 4),
        ),
    ]
    for k, clinic in enumerate(specialty_clinics(qualifications)):
        named = _NAMED_SPECIALTY_CLINICS.get(clinic.qualification)
        if named:
            _, name, category, site = named
        else:
            number = clinic.qualification.removeprefix("special_")
            name, category = f"Special clinic {number}", "core_education"
            site = "main" if k % 2 else "community"
        out.append(
            _activity(
                clinic.activity_id,
                name,
                category,
                site=site,
                qualification=clinic.qualification,
                rules=[_rule(2, weekdays=weekdays, holiday=False)] if staffed_specialties else None,
                ratios=(2, 4),
            )
        )
    out += [
        _activity(
            "didactics",
            "Didactics",
            "core_education",
            qualification="clinic_preceptor",
            rules=[_rule(1, weekdays=[2], half="PM", holiday=False)],
        ),
        # Faculty seeing their own patients: busy, supervising nobody, not to be pulled away.
        _activity(
            "faculty_clinic",
            "Faculty patient sessions",
            "continuity_of_care",
            releasable=False,
        ),
        _activity("off_service", "Off-service rotation (other departments)", "core_education"),
        _activity("research", "Research and scholarly activity", "research"),
        _activity("admin", "Administration", "administration"),
        _activity("grand_rounds", "Grand rounds and journal club", "optional_education"),
    ]
    return out
