"""The checks of a program document, collecting every problem at its place.

Used through ``app.programs.document.validate_program``; see docs/program-format.md for the
rules. Each ``_section`` method returns that section in canonical form (defaults filled in,
lists sorted) so that equal data always gives an equal document.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from app.core.errors import Problem
from app.domain.schedule import (
    ABSENCE_TYPES,
    AssignmentRole,
    Category,
    Half,
    PersonKind,
)
from app.programs.fields import FieldReader, parse_date

FORMAT_NAME = "residency-scheduler/program"
FORMAT_VERSION = 1
HALVES = [h.value for h in Half]
FACULTY_FIELDS = ("faculty_role", "qualifications", "weekly_cap")
PROGRAM_DEFAULTS = {
    "timezone": "America/New_York",
    "main_site": "main",
    "academic_year_start": "07-01",
}


class ProgramChecker(FieldReader):
    """Checks a parsed document; ``problems`` holds what is wrong after ``check``.

    ``notes`` holds what was accepted but read differently from how it is written (an
    activity with a qualification that says ``releasable: false``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.notes: list[Problem] = []

    def check(self, document: Any) -> dict[str, Any]:
        """The canonical form of ``document`` (meaningful only if no problems were found)."""
        top = self.obj(
            document,
            "",
            ["format", "version", "program", "sites"],
            [
                "schedule_end",
                *("qualifications", "people", "activities", "holidays", "assignments"),
                "absences",
            ],
        )
        if top is None:
            return {}
        if top.get("format", FORMAT_NAME) != FORMAT_NAME:
            self.fail("format", f"expected {FORMAT_NAME!r}")
        if top.get("version", FORMAT_VERSION) != FORMAT_VERSION:
            self.fail("version", f"expected {FORMAT_VERSION}")
        out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
        if "program" in top:
            out["program"] = self._program(top["program"])
        else:  # reported missing already
            out["program"] = {"name": None, **PROGRAM_DEFAULTS}
        # Written only when given, so that files without it keep their exact bytes.
        schedule_end = self.date_text(top, "schedule_end", "schedule_end", nullable=True)
        if schedule_end is not None:
            out["schedule_end"] = schedule_end
        out["sites"] = self._named_list(top, "sites")
        out["qualifications"] = self._named_list(top, "qualifications")
        site_ids = {s["id"] for s in out["sites"]}
        qual_ids = {q["id"] for q in out["qualifications"]}
        main_site = out["program"]["main_site"]
        if main_site is not None and "sites" in top and main_site not in site_ids:
            self.fail("program.main_site", f"no site with id {main_site!r}")
        out["people"] = self._people(top, qual_ids)
        out["activities"] = self._activities(top, site_ids, qual_ids, main_site)
        out["holidays"] = self._holidays(top)
        kinds = {p["id"]: p["kind"] for p in out["people"]}
        out["assignments"] = self._assignments(top, kinds, {a["id"] for a in out["activities"]})
        out["absences"] = self._absences(top, kinds)
        return out

    def _program(self, value: Any) -> dict[str, Any]:
        prog = self.obj(value, "program", ["name"], PROGRAM_DEFAULTS) or {}
        out = {
            "name": self.string(prog, "name", "program.name"),
            "timezone": self.string(
                prog, "timezone", "program.timezone", default=PROGRAM_DEFAULTS["timezone"]
            ),
            "main_site": self.ident(prog, "main_site", "program.main_site")
            if prog.get("main_site") is not None
            else PROGRAM_DEFAULTS["main_site"],
            "academic_year_start": self.string(
                prog,
                "academic_year_start",
                "program.academic_year_start",
                default=PROGRAM_DEFAULTS["academic_year_start"],
            ),
        }
        if out["timezone"] is not None:
            try:
                ZoneInfo(out["timezone"])
            except (ZoneInfoNotFoundError, ValueError):
                self.fail("program.timezone", f"unknown time zone {out['timezone']!r}")
        start = out["academic_year_start"]
        if start is not None and parse_date(f"2001-{start}") is None:
            self.fail("program.academic_year_start", f"expected MM-DD, found {start!r}")
        return out

    def _unique(self, seen: dict[str, str], key: str | None, where: str, what: str = "id") -> None:
        if key is None:
            return
        if key in seen:
            self.fail(where, f"duplicate {what} {key!r} (first at {seen[key]})")
        else:
            seen[key] = where

    def _named_list(self, top: dict[str, Any], name: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        for i, raw in enumerate(self.items(top, name, name)):
            where = f"{name}[{i}]"
            item = self.obj(raw, where, ["id", "name"], [])
            if item is None:
                continue
            ident = self.ident(item, "id", f"{where}.id")
            self._unique(seen, ident, f"{where}.id")
            out.append({"id": ident, "name": self.string(item, "name", f"{where}.name")})
        return sorted(out, key=lambda x: str(x["id"]))

    def _people(self, top: dict[str, Any], qual_ids: set[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        optional = ["pgy", "pgy_academic_year", *FACULTY_FIELDS, "active_from", "active_to"]
        for i, raw in enumerate(self.items(top, "people", "people")):
            where = f"people[{i}]"
            item = self.obj(raw, where, ["id", "name", "kind"], optional)
            if item is None:
                continue
            ident = self.ident(item, "id", f"{where}.id")
            self._unique(seen, ident, f"{where}.id")
            kind = self.choice(item, "kind", f"{where}.kind", [k.value for k in PersonKind])
            person: dict[str, Any] = {
                "id": ident,
                "name": self.string(item, "name", f"{where}.name"),
                "kind": kind,
            }
            if kind == PersonKind.RESIDENT:
                for key in FACULTY_FIELDS:
                    if item.get(key) not in (None, []):
                        self.fail(f"{where}.{key}", "residents have no " + key)
                person["pgy"] = self._required_int(item, "pgy", where, 1, 8)
                person["pgy_academic_year"] = self._required_int(
                    item, "pgy_academic_year", where, 1900, 2200
                )
            elif kind == PersonKind.FACULTY:
                for key in ("pgy", "pgy_academic_year"):
                    if item.get(key) is not None:
                        self.fail(f"{where}.{key}", "faculty have no " + key)
                person["faculty_role"] = self.string(
                    item, "faculty_role", f"{where}.faculty_role", default=None, max_len=64
                )
                person["qualifications"] = self._person_qualifications(item, where, qual_ids)
                person["weekly_cap"] = self.integer(
                    item, "weekly_cap", f"{where}.weekly_cap", low=0, high=14, default=None
                )
            person["active_from"] = self.date_text(
                item, "active_from", f"{where}.active_from", nullable=True
            )
            person["active_to"] = self.date_text(
                item, "active_to", f"{where}.active_to", nullable=True
            )
            if (
                person["active_from"]
                and person["active_to"]
                and (person["active_from"] > person["active_to"])
            ):
                self.fail(f"{where}.active_to", "is before active_from")
            out.append(person)
        return sorted(out, key=lambda x: str(x["id"]))

    def _required_int(
        self, item: dict[str, Any], key: str, where: str, low: int, high: int
    ) -> int | None:
        if item.get(key) is None:
            self.fail(f"{where}.{key}", f"residents need {key}")
            return None
        value: int | None = self.integer(item, key, f"{where}.{key}", low=low, high=high)
        return value

    def _person_qualifications(
        self, item: dict[str, Any], where: str, qual_ids: set[str]
    ) -> list[str]:
        quals: list[str] = []
        for j, q in enumerate(self.items(item, "qualifications", f"{where}.qualifications")):
            place = f"{where}.qualifications[{j}]"
            if not isinstance(q, str) or q not in qual_ids:
                self.fail(place, f"no qualification with id {q!r}")
            elif q in quals:
                self.fail(place, f"{q!r} is listed twice")
            else:
                quals.append(q)
        return sorted(quals)

    def _activities(
        self, top: dict[str, Any], site_ids: set[str], qual_ids: set[str], main_site: str | None
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        optional = [
            "site", "qualification", "min_faculty", "min_faculty_rules",
            "ratio_pgy1", "ratio_pgy2plus", "releasable",
        ]  # fmt: skip
        for i, raw in enumerate(self.items(top, "activities", "activities")):
            where = f"activities[{i}]"
            item = self.obj(raw, where, ["id", "name", "category"], optional)
            if item is None:
                continue
            ident = self.ident(item, "id", f"{where}.id")
            self._unique(seen, ident, f"{where}.id")
            category = self.choice(
                item, "category", f"{where}.category", [c.value for c in Category]
            )
            site = self.ident(item, "site", f"{where}.site", nullable=True) or main_site
            if site is not None and site not in site_ids and item.get("site") is not None:
                self.fail(f"{where}.site", f"no site with id {site!r}")
            qual = self.ident(item, "qualification", f"{where}.qualification", nullable=True)
            if qual is not None and qual not in qual_ids:
                self.fail(f"{where}.qualification", f"no qualification with id {qual!r}")
            releasable = self.boolean(item, "releasable", f"{where}.releasable", default=True)
            if releasable is False and qual is not None:
                # Older files marked clinics non-releasable; the model has no such activity
                # (RESILIENCE_MODEL.md section 1). Keep those files importable and say so.
                self.notes.append(
                    Problem(
                        f"{where}.releasable",
                        "an activity with a qualification is always releasable; read as true",
                    )
                )
                releasable = True
            activity = {
                "id": ident,
                "name": self.string(item, "name", f"{where}.name"),
                "category": category,
                "site": site,
                "qualification": qual,
                "min_faculty": self.integer(
                    item, "min_faculty", f"{where}.min_faculty", low=0, high=1000, default=0
                ),
                "min_faculty_rules": self._rules(item, where),
                "ratio_pgy1": self.integer(
                    item, "ratio_pgy1", f"{where}.ratio_pgy1", low=1, high=100, default=None
                ),
                "ratio_pgy2plus": self.integer(
                    item, "ratio_pgy2plus", f"{where}.ratio_pgy2plus", low=1, high=100, default=None
                ),
                "releasable": releasable,
            }
            if item.get("qualification") is None and _makes_demand(activity):
                # Without a qualification the activity makes no demand: say so, don't ignore.
                self.fail(f"{where}.qualification", "needed when the activity asks for faculty")
            out.append(activity)
        return sorted(out, key=lambda x: str(x["id"]))

    def _rules(self, activity: dict[str, Any], where: str) -> list[dict[str, Any]]:
        rules = []
        keys = ["weekdays", "half", "start", "end", "holiday"]
        items = self.items(activity, "min_faculty_rules", f"{where}.min_faculty_rules")
        for k, raw in enumerate(items):
            place = f"{where}.min_faculty_rules[{k}]"
            rule = self.obj(raw, place, ["min_faculty"], keys)
            if rule is None:
                continue
            out = {
                "min_faculty": self.integer(
                    rule, "min_faculty", f"{place}.min_faculty", low=0, high=1000
                ),
                "weekdays": self._weekdays(rule.get("weekdays"), f"{place}.weekdays"),
                "half": self.choice(rule, "half", f"{place}.half", HALVES, default=None),
                "start": self.date_text(rule, "start", f"{place}.start", nullable=True),
                "end": self.date_text(rule, "end", f"{place}.end", nullable=True),
                "holiday": self.boolean(rule, "holiday", f"{place}.holiday", default=None),
            }
            if out["start"] and out["end"] and out["start"] > out["end"]:
                self.fail(f"{place}.end", "is before start")
            rules.append(out)
        return rules

    def _weekdays(self, value: Any, where: str) -> list[int] | None:
        if value is None:
            return None
        ok = (
            isinstance(value, list)
            and value
            and all(isinstance(d, int) and not isinstance(d, bool) for d in value)
            and all(0 <= d <= 6 for d in value)
            and len(set(value)) == len(value)
        )
        if not ok:
            self.fail(where, "expected a non-empty list of distinct days 0 (Monday) .. 6 (Sunday)")
            return None
        return sorted(value)

    def _holidays(self, top: dict[str, Any]) -> list[str]:
        seen: dict[str, str] = {}
        for i, value in enumerate(self.items(top, "holidays", "holidays")):
            if parse_date(value) is None:
                self.fail(f"holidays[{i}]", f"expected a date YYYY-MM-DD, found {value!r}")
            else:
                self._unique(seen, value, f"holidays[{i}]", "date")
        return sorted(seen)

    def _assignments(
        self, top: dict[str, Any], kinds: dict[str, str], activity_ids: set[str]
    ) -> list[dict[str, Any]]:
        out = []
        taken: dict[tuple[Any, ...], str] = {}
        roles = [r.value for r in AssignmentRole]
        for i, raw in enumerate(self.items(top, "assignments", "assignments")):
            where = f"assignments[{i}]"
            item = self.obj(raw, where, ["person_id", "date", "half", "activity_id"], ["role"])
            if item is None:
                continue
            asg = {
                "person_id": self._person_ref(item, where, kinds),
                "date": self.date_text(item, "date", f"{where}.date"),
                "half": self.choice(item, "half", f"{where}.half", HALVES),
                "activity_id": self.ident(item, "activity_id", f"{where}.activity_id"),
                "role": self.choice(item, "role", f"{where}.role", roles, default="primary"),
            }
            if asg["activity_id"] is not None and asg["activity_id"] not in activity_ids:
                self.fail(f"{where}.activity_id", f"no activity with id {asg['activity_id']!r}")
            slot = (asg["person_id"], asg["date"], asg["half"])
            if None not in slot:
                if slot in taken:
                    self.fail(
                        where,
                        f"{slot[0]} already has an assignment on {slot[1]} {slot[2]} "
                        f"(at {taken[slot]})",
                    )
                else:
                    taken[slot] = where
            out.append(asg)
        return sorted(out, key=lambda a: (str(a["date"]), str(a["half"]), str(a["person_id"])))

    def _person_ref(self, item: dict[str, Any], where: str, kinds: dict[str, str]) -> Any:
        person_id = self.ident(item, "person_id", f"{where}.person_id")
        if person_id is not None and person_id not in kinds:
            self.fail(f"{where}.person_id", f"no person with id {person_id!r}")
        return person_id

    def _absences(self, top: dict[str, Any], kinds: dict[str, str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        seen: dict[str, str] = {}
        optional = ["half", "blocking", "reason"]
        for i, raw in enumerate(self.items(top, "absences", "absences")):
            where = f"absences[{i}]"
            item = self.obj(raw, where, ["id", "person_id", "start", "end", "type"], optional)
            if item is None:
                continue
            ident = self.ident(item, "id", f"{where}.id")
            self._unique(seen, ident, f"{where}.id")
            absence = {
                "id": ident,
                "person_id": self._person_ref(item, where, kinds),
                "start": self.date_text(item, "start", f"{where}.start"),
                "end": self.date_text(item, "end", f"{where}.end"),
                "half": self.choice(item, "half", f"{where}.half", HALVES, default=None),
                "type": self.choice(item, "type", f"{where}.type", ABSENCE_TYPES),
                "blocking": self.boolean(item, "blocking", f"{where}.blocking", default=None),
                "reason": self.string(
                    item, "reason", f"{where}.reason", default=None, max_len=1000
                ),
            }
            if absence["start"] and absence["end"] and absence["start"] > absence["end"]:
                self.fail(f"{where}.end", "is before start")
            out.append(absence)
        return sorted(out, key=lambda x: str(x["id"]))


def _makes_demand(activity: dict[str, Any]) -> bool:
    return bool(
        activity["min_faculty"]
        or any(r["min_faculty"] for r in activity["min_faculty_rules"])
        or activity["ratio_pgy1"]
        or activity["ratio_pgy2plus"]
    )
