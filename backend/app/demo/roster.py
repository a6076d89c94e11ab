"""The demo program's roster: who does what in every half-day of the horizon.

It works the way a chief resident and a coordinator do, one half-day at a time: residents go
where their rotation sends them (with call, post-call rest, weekends on the inpatient
service and Wednesday didactics), the faculty each activity then needs are picked from the
qualified people on hand (scarce credentials first, within weekly caps, inpatient attendings
kept on service from one half-day to the next), residents are moved back to their own clinic
when no preceptor is free, and everyone left over does administration, research or backup.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from app.demo.catalog import FRIDAY_PM, SpecialtyClinic
from app.demo.people import FacultyPlan, ResidentPlan
from app.demo.rotations import OWN_CLINIC, resident_activity
from app.domain.coverage import faculty_demand
from app.domain.schedule import Activity, Category, Half, HalfDay

RosterEntry = tuple[int, int, str, str, bool]
"""(day, half 0/1, person id, activity id, is backup)"""

RESIDENTS_PER_CALL = 36
"""One resident on call each evening per this many residents in the program."""
_BACKUP_CALL = "backup:call"
_SINK = OWN_CLINIC
"""Where residents go when the activity they were meant for has no preceptor free."""


@dataclass
class RosterInput:
    """Everything the roster needs, with days numbered from the start of the horizon."""

    dates: list[date]
    holidays: set[int]
    academic_year_of_day: list[int]
    residents: list[ResidentPlan]
    faculty: list[FacultyPlan]
    activities: dict[str, Activity]
    specialties: list[SpecialtyClinic]
    blocked: dict[str, set[tuple[int, int]]]
    main_site: str


class Roster:
    """Builds the assignments of every half-day, in time order."""

    def __init__(self, data: RosterInput) -> None:
        self.data = data
        self.entries: list[RosterEntry] = []
        self.start_weekday = data.dates[0].weekday() if data.dates else 0
        self.week_load: dict[str, int] = defaultdict(int)
        self.backup_count: dict[str, int] = defaultdict(int)
        self.on_call: dict[int, set[str]] = {}  # day -> people on call that evening
        self.previous: dict[str, str] = {}  # person -> activity in the previous half-day
        self.call_pointer = 0
        self.always_in = [a for a in data.activities.values() if a.min_faculty_rules]
        self.site_clinic = {
            a.site: a.id
            for a in data.activities.values()
            if a.qualification == "clinic_preceptor"
            and a.category is Category.CONTINUITY_OF_CARE
            and a.site != data.main_site
        }
        """Site away from the main one -> its general clinic (what backups there are on)."""

    def build(self) -> list[RosterEntry]:
        """Every assignment of the horizon as ``(day, half, person, activity, is_backup)``."""
        for day in range(len(self.data.dates)):
            if (self.start_weekday + day) % 7 == 0:
                self.week_load.clear()
            for half in (0, 1):
                self.previous = self._half_day(day, half)
        return self.entries

    # -- residents ---------------------------------------------------------------------

    def _level(self, r: ResidentPlan, day: int) -> int:
        level = r.pgy + self.data.academic_year_of_day[day] - r.pgy_academic_year
        return max(1, min(8, level))

    def _present(self, person_id: str, day: int, half: int) -> bool:
        blocked = self.data.blocked.get(person_id)
        return blocked is None or (day, half) not in blocked

    def _choose_call(self, day: int) -> set[str]:
        residents = self.data.residents
        active = [r for r in residents if r.active(day)]
        wanted = max(1, round(len(active) / RESIDENTS_PER_CALL))
        last_night = self.on_call.get(day - 1, set())
        chosen: set[str] = set()
        for _ in range(len(residents)):
            r = residents[self.call_pointer % len(residents)]
            self.call_pointer += 1
            if (
                r.active(day)
                and self._level(r, day) >= 2
                and r.id not in last_night
                and self._present(r.id, day, 1)
            ):
                chosen.add(r.id)
                if len(chosen) == wanted:
                    break
        return chosen

    # -- one half-day ------------------------------------------------------------------

    def _half_day(self, day: int, half: int) -> dict[str, str]:
        data = self.data
        weekday = (self.start_weekday + day) % 7
        is_holiday = day in data.holidays
        off = weekday >= 5 or is_holiday
        slot = weekday * 2 + half
        halfday = HalfDay(data.dates[day], Half.AM if half == 0 else Half.PM)
        post_call = self.on_call.get(day - 1, set()) if half == 0 else set()
        call_now = self._choose_call(day) if half == 1 else set()
        now: dict[str, str] = {}

        residents_of: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for r in data.residents:
            if not r.active(day) or not self._present(r.id, day, half):
                continue
            if r.id in post_call:
                activity: str | None = "post_call"
            elif r.id in call_now:
                activity = "call"
            else:
                week = (self.start_weekday + day) // 7
                activity = resident_activity(
                    r, day, week, slot, off, self._level(r, day), data.specialties
                )
            if activity is not None:
                residents_of[activity].append((r.id, self._level(r, day)))

        free: list[FacultyPlan] = []
        for f in data.faculty:
            if not f.active(day) or not self._present(f.id, day, half):
                continue
            if f.id in post_call:
                self._assign(day, half, f.id, "post_call", now)
            else:
                free.append(f)

        wanted = {a.id for a in self.always_in} | set(residents_of)
        if not off:
            wanted.add(_SINK)  # it may receive displaced residents
        demanding = [data.activities[a] for a in sorted(wanted)]
        demanding = [a for a in demanding if a.qualification is not None]
        held: dict[str, int] = defaultdict(int)
        for f in free:
            for q in f.quals:
                held[q] += 1

        def demand(act: Activity) -> int:
            levels = [level for _, level in residents_of.get(act.id, ())]
            n1 = sum(1 for level in levels if level == 1)
            return faculty_demand(
                act.min_faculty_on(halfday, is_holiday),
                n1,
                len(levels) - n1,
                act.ratio_pgy1,
                act.ratio_pgy2plus,
            )

        # Scarce credentials first; the own-clinic sink last, as it takes the displaced.
        demanding.sort(
            key=lambda a: (
                a.id == _SINK,
                held[a.qualification or ""] - demand(a),
                a.category.protection,
                a.id,
            )
        )
        taken: set[str] = set()
        for act in demanding:
            qualification = act.qualification or ""
            qualified = [f for f in free if f.id not in taken and qualification in f.quals]
            if act.category is Category.PATIENT_SAFETY:
                # Patient safety runs whatever the caps, and keeps its residents: a shortfall
                # there is a real gap, left for the analyses to find.
                pickable = qualified
            else:
                pickable = [f for f in qualified if self.week_load[f.id] < f.weekly_cap]
                members = residents_of.get(act.id, [])
                if demand(act) > len(pickable) and members:
                    moved = self._displace(act, members, len(pickable), demand)
                    target = "research" if off or act.id == _SINK else _SINK
                    residents_of[target].extend(moved)
            keep = act.id == "inpatient"
            chosen = heapq.nsmallest(
                min(demand(act), len(pickable)),
                pickable,
                key=lambda f: (
                    not (keep and self.previous.get(f.id) == act.id),
                    self.week_load[f.id] / f.weekly_cap,
                    f.rank,
                ),
            )
            for f in chosen:
                taken.add(f.id)
                self.week_load[f.id] += 1
                self._assign(day, half, f.id, act.id, now)

        for act_id, members in residents_of.items():
            for person_id, _ in members:
                self._assign(day, half, person_id, act_id, now)
        leftover = [f for f in free if f.id not in taken]
        self._leftover(day, half, slot, off, leftover, now)
        if half == 1:
            self.on_call[day] = {p for p, a in now.items() if a == "call"}
        return now

    @staticmethod
    def _displace(
        act: Activity,
        members: list[tuple[str, int]],
        faculty_free: int,
        demand: Callable[[Activity], int],
    ) -> list[tuple[str, int]]:
        """Take residents out of ``members`` (PGY-1s first) until ``act`` needs no more
        faculty than are free; returns those taken out."""
        members.sort(key=lambda m: (m[1] != 1, m[0]))
        moved: list[tuple[str, int]] = []
        while members and demand(act) > faculty_free:
            moved.append(members.pop(0))
        return moved

    def _leftover(
        self,
        day: int,
        half: int,
        slot: int,
        off: bool,
        leftover: list[FacultyPlan],
        now: dict[str, str],
    ) -> None:
        """Backups, then own clinics, administration, research and grand rounds."""
        if off:
            # One inpatient attending on backup call for the site; the same one all weekend.
            qualified = [f for f in leftover if "inpatient_attending" in f.quals]
            if qualified:
                backup = min(
                    qualified,
                    key=lambda f: (
                        self.previous.get(f.id) != _BACKUP_CALL,
                        self.backup_count[f.id],
                        f.rank,
                    ),
                )
                self.backup_count[backup.id] += 1
                self._assign(day, half, backup.id, "call", now, backup=True)
            return
        # Clinics away from the main site have no releasable colleagues next door: each site
        # in use gets a backup preceptor, on its general clinic, who can step in; one who
        # also holds a credential needed there is preferred.
        needed: dict[str, set[str]] = defaultdict(set)
        for activity_id in now.values():
            activity = self.data.activities.get(activity_id)
            if activity and activity.qualification and activity.site in self.site_clinic:
                needed[activity.site].add(activity.qualification)
        for site in sorted(needed):
            qualified = [f for f in leftover if "clinic_preceptor" in f.quals]
            if qualified:
                backup = min(
                    qualified,
                    key=lambda f: (
                        not (f.quals & needed[site] - {"clinic_preceptor"}),
                        slot in f.own_clinic_slots,
                        self.backup_count[f.id],
                        f.rank,
                    ),
                )
                self.backup_count[backup.id] += 1
                self._assign(day, half, backup.id, self.site_clinic[site], now, backup=True)
                leftover = [f for f in leftover if f is not backup]
        for f in leftover:
            if slot in f.own_clinic_slots and self.week_load[f.id] < f.weekly_cap:
                self.week_load[f.id] += 1
                activity_id = "faculty_clinic"
            elif f.role == "adjunct":
                continue  # part-time: at the program only for the sessions they precept
            elif f.role == "core" and slot == f.research_slot:
                activity_id = "research"
            elif slot == FRIDAY_PM:
                activity_id = "grand_rounds"
            else:
                activity_id = "admin"
            self._assign(day, half, f.id, activity_id, now)

    def _assign(
        self,
        day: int,
        half: int,
        person_id: str,
        activity_id: str,
        now: dict[str, str],
        backup: bool = False,
    ) -> None:
        self.entries.append((day, half, person_id, activity_id, backup))
        # Backups are told apart so that they neither count as on call nor as clinic staff.
        now[person_id] = f"backup:{activity_id}" if backup else activity_id
