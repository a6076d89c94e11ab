"""The health check against a real database: which findings reach the verdict, and its effects.

Every program here is written by hand, and so is every expected level: the expectations come
from RESILIENCE_MODEL.md section 4, not from the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

import app.resilience.health.service as health_service
from app.core.errors import NoSchedule
from app.models.alert import Alert, AlertStatus
from app.models.resilience import HealthCheckRecord
from app.programs.absences import AbsenceEntry, add_absence, remove_absence
from app.programs.service import import_program
from app.resilience.contingency.service import run_contingency_report
from app.resilience.health.service import DEFENSE_ALERT_KEY, run_health_check

TODAY = date(2026, 12, 1)  # a Tuesday
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in New York: this morning is under way
AFTER_LUNCH = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)  # 13:30: this morning has ended


def _day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def _program(
    faculty: list[str],
    assignments: list[tuple[str, int, str]],
    rules: list[dict[str, Any]] | None = None,
    *,
    min_faculty: int = 0,
    names: dict[str, str] | None = None,
    active_to: dict[str, str] | None = None,
    helpers: int = 0,
    starts_today: bool = True,
) -> dict[str, Any]:
    """Faculty holding ``inpatient_attending``; ``assignments`` are (person, day offset, half)
    on the patient-safety inpatient service. ``helpers`` unqualified faculty (H1, ...) do admin
    work in each of those half-days: they add to the pool, not to coverage. The schedule starts
    today at the latest, as a published one does: when the first assignment is later, resident
    R0's admin morning today marks the start (no demand, no pool: residents are not faculty),
    unless ``starts_today`` is False.
    """
    names = names or {}
    active_to = active_to or {}
    helper_ids = [f"H{i + 1}" for i in range(helpers)]
    later = assignments and min(d for _, d, _ in assignments) > 0
    anchor = [0] if starts_today and later else []
    return {
        "format": "residency-scheduler/program",
        "version": 1,
        "program": {
            "name": "Health check test program",
            "timezone": "America/New_York",
            "main_site": "main",
            "academic_year_start": "07-01",
        },
        "sites": [{"id": "main", "name": "Main hospital"}],
        "qualifications": [{"id": "inpatient_attending", "name": "Inpatient attending"}],
        "people": [
            {
                "id": f,
                "name": names.get(f, f"Dr. {f}"),
                "kind": "faculty",
                "faculty_role": "core",
                "qualifications": ["inpatient_attending"],
                "weekly_cap": None,
                "active_from": None,
                "active_to": active_to.get(f),
            }
            for f in faculty
        ]
        + [
            {
                "id": h,
                "name": f"Dr. {h}",
                "kind": "faculty",
                "faculty_role": "adjunct",
                "qualifications": [],
                "weekly_cap": None,
                "active_from": None,
                "active_to": None,
            }
            for h in helper_ids
        ]
        + [
            {
                "id": "R0",
                "name": "Dr. R0",
                "kind": "resident",
                "pgy": 2,
                "pgy_academic_year": 2026,
                "weekly_cap": None,
                "active_from": None,
                "active_to": None,
            }
            for _ in anchor
        ],  # fmt: skip
        "activities": [
            {
                "id": "inpatient",
                "name": "Inpatient service",
                "category": "patient_safety",
                "site": "main",
                "qualification": "inpatient_attending",
                "min_faculty": min_faculty,
                "min_faculty_rules": rules or [],
            },
            {
                "id": "admin",
                "name": "Admin",
                "category": "administration",
                "site": "main",
                "releasable": True,
            },
        ],  # fmt: skip
        "holidays": [],
        "assignments": [
            {
                "person_id": p,
                "date": _day(d),
                "half": h,
                "activity_id": "inpatient",
                "role": "primary",
            }
            for p, d, h in assignments
        ]
        + [
            {"person_id": x, "date": _day(d), "half": h, "activity_id": "admin", "role": "primary"}
            for _, d, h in sorted({(0, d, h) for _, d, h in assignments})
            for x in helper_ids
        ]
        + [
            {
                "person_id": "R0",
                "date": _day(0),
                "half": "AM",
                "activity_id": "admin",
                "role": "primary",
            }
            for _ in anchor
        ],  # fmt: skip
        "absences": [],
    }


def _rule_on(offset: int, half: str = "AM") -> dict[str, Any]:
    return {"min_faculty": 1, "start": _day(offset), "end": _day(offset), "half": half}


def _load(session: Session, doc: dict[str, Any]) -> None:
    import_program(session, doc, source="test", actor="test")
    session.commit()


def _absent(session: Session, person: str, offset: int, half: str | None = None) -> str:
    from app.domain.schedule import Half

    row = add_absence(
        session,
        AbsenceEntry(
            person, TODAY + timedelta(days=offset), TODAY + timedelta(days=offset), "sick",
            half=Half(half) if half else None,
        ),
        actor="test",
    )  # fmt: skip
    session.commit()
    return row.row.id


def _check(session: Session, now: datetime = NOW) -> HealthCheckRecord:
    outcome = run_health_check(session, now=now)
    session.commit()
    record = session.get(HealthCheckRecord, outcome.record_id)
    assert record is not None
    return record


def _reasons(record: HealthCheckRecord) -> list[str]:
    return list(record.result["defense"]["reasons"])


def test_health_gap_on_day_10_is_orange_not_green(session: Session) -> None:
    # The only patient-safety service needs one faculty member on day 10 AM; nobody is there.
    _load(session, _program(["F1"], [("F1", 12, "AM")], [_rule_on(10)]))
    record = _check(session)
    assert record.defense_level == "ORANGE"
    assert record.n1_status == "fail"
    assert any("gap later in the horizon" in r and "2026-12-11 AM" in r for r in _reasons(record))


def test_health_n1_failure_turned_gap_by_an_absence_never_improves_the_level(
    session: Session,
) -> None:
    _load(session, _program(["F1"], [("F1", 10, "AM"), ("F1", 12, "AM")], [_rule_on(10)]))
    record = _check(session)
    assert record.defense_level == "ORANGE"  # N-1 failure within 14 days
    assert any("N-1 failure within 14 days: 2026-12-11 AM" in r for r in _reasons(record))
    _absent(session, "F1", 10)
    record = _check(session)
    assert record.defense_level == "ORANGE"  # now a gap later in the horizon: still ORANGE
    assert any("gap later in the horizon" in r for r in _reasons(record))


def test_health_n1_status_fail_always_has_a_reason(session: Session) -> None:
    # A gap on day 12 (beyond the 7-day utilization window, inside the 14-day one).
    _load(session, _program(["F1"], [("F1", 13, "AM")], [_rule_on(12, "PM")]))
    record = _check(session)
    assert record.n1_status == "fail"
    assert record.defense_level == "ORANGE"
    assert _reasons(record) == [
        "ORANGE: gap later in the horizon: inpatient at main on 2026-12-13 PM"
    ]


def test_health_uses_a_fresh_daily_report_beyond_its_own_windows(session: Session) -> None:
    # A gap on day 20 and an N-1 failure on day 25: only the 90-day report sees them.
    _load(
        session,
        _program(["F1"], [("F1", 25, "AM"), ("F1", 30, "AM")], [_rule_on(20), _rule_on(25)]),
    )
    assert _check(session).defense_level == "GREEN"  # no report yet
    report = run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    record = _check(session)
    assert record.defense_level == "ORANGE"
    assert any("gap later in the horizon: inpatient at main on 2026-12-21 AM" in r
               for r in _reasons(record))  # fmt: skip
    assert any("N-1 failure later in the horizon: 2026-12-26 AM" in r for r in _reasons(record))
    used = record.result["horizon"]["report"]
    assert used["id"] == report.report_id and used["status"] == "used"


def test_health_reads_report_and_schedule_in_one_state_when_import_commits_meanwhile(
    engine: Engine, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _program(["F1"], [("F1", 25, "AM"), ("F1", 30, "AM")], [_rule_on(20), _rule_on(25)])
    _load(session, old)
    report = run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    # Between the health check's read of the latest report and its read of the schedule,
    # a second connection commits an import that adds F2 (the report no longer describes it).
    new = _program(["F1", "F2"], [("F1", 25, "AM"), ("F2", 20, "AM")], [_rule_on(20)])
    real_load = health_service.load_rows

    def import_then_load(s: Session, **window: Any) -> Any:
        with Session(engine) as other:
            import_program(other, new, source="new.json", actor="test")
            other.commit()
        return real_load(s, **window)

    monkeypatch.setattr(health_service, "load_rows", import_then_load)
    if engine.dialect.name == "sqlite":
        # SQLite cannot write from a snapshot that a commit has overtaken: the check stores
        # nothing and fails as the database being busy (the task retries on the new data).
        with pytest.raises(OperationalError, match="database is locked"):
            run_health_check(session, now=NOW)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(HealthCheckRecord)) == 0
        return
    record = _check(session)

    # All of it as before the import: the report still describes the schedule read.
    assert record.result["faculty"]["total"] == 1
    used = record.result["horizon"]["report"]
    assert (used["id"], used["status"]) == (report.report_id, "used")
    assert record.defense_level == "ORANGE"


def test_health_uses_yesterdays_daily_report_while_it_has_days_to_come(session: Session) -> None:
    # Beat runs the daily report at 02:00 UTC, still yesterday in New York: it starts yesterday.
    _load(session, _program(["F1"], [("F1", 25, "AM"), ("F1", 30, "AM")], [_rule_on(25)]))
    report = run_contingency_report(session, start=TODAY - timedelta(days=1), days_ahead=40)
    session.commit()
    record = _check(session)
    assert record.defense_level == "YELLOW"  # F1 alone on day 25: an N-1 failure later
    used = record.result["horizon"]["report"]
    assert (used["id"], used["status"]) == (report.report_id, "used")


def test_health_ignores_a_stale_daily_report_and_says_so(session: Session) -> None:
    _load(session, _program(["F1", "F2"], [("F1", 20, "AM"), ("F1", 30, "AM")], [_rule_on(20)]))
    run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    assert _check(session).defense_level == "YELLOW"  # N-1 failure on day 20, from the report
    # F2 joins F1 on day 20: the report no longer describes the schedule.
    _load(
        session,
        _program(
            ["F1", "F2"], [("F1", 20, "AM"), ("F2", 20, "AM"), ("F1", 30, "AM")], [_rule_on(20)]
        ),
    )
    record = _check(session)
    assert record.defense_level == "GREEN"
    assert record.result["horizon"]["report"]["status"].startswith("stale")
    # The next daily report describes the new schedule: the newest report is the one used.
    newer = run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    used = _check(session).result["horizon"]["report"]
    assert (used["id"], used["status"]) == (newer.report_id, "used")


def test_health_ended_half_day_counts_for_nothing(session: Session) -> None:
    # Today's AM needs one faculty member and F1 alone holds it: an N-1 failure until 12:00.
    doc = _program(["F1"], [("F1", 0, "AM"), ("F1", 20, "AM")], [_rule_on(0)], helpers=3)
    _load(session, doc)
    assert _check(session, NOW).defense_level == "ORANGE"
    ended = _check(session, AFTER_LUNCH)
    assert ended.defense_level == "GREEN"
    assert ended.n1_status == "pass"
    # It has ended at its clock end, 12:00 in New York, already.
    at_noon = _check(session, datetime(2026, 12, 1, 17, 0, tzinfo=UTC))
    assert (at_noon.defense_level, at_noon.n1_status) == ("GREEN", "pass")
    # The same half-day made a gap by an absence: still nothing once it has ended.
    _absent(session, "F1", 0, "AM")
    assert _check(session, NOW).defense_level == "BLACK"
    assert _check(session, AFTER_LUNCH).defense_level == "GREEN"


def test_health_counts_active_and_present_faculty(session: Session) -> None:
    # F1 works; F2 is away all week; F3 left the program before today; F4 is away one day.
    doc = _program(
        ["F1", "F2", "F3", "F4"],
        [("F1", 1, "AM"), ("F4", 2, "AM"), ("F1", 20, "AM")],
        active_to={"F3": _day(-1)},
    )
    _load(session, doc)
    for offset in range(7):
        _absent(session, "F2", offset)
    _absent(session, "F4", 3)
    record = _check(session)
    assert record.result["faculty"] == {"total": 3, "present": 2, "on_duty": 2}


def test_health_defense_alert_opens_then_resolves_at_green(session: Session) -> None:
    staffed = [("F1", 2, "PM"), ("F2", 2, "PM"), ("F3", 2, "PM"), ("F1", 20, "AM")]
    _load(session, _program(["F1", "F2", "F3"], staffed, [_rule_on(2, "PM")], helpers=3))
    away = [_absent(session, "F1", 2, "PM"), _absent(session, "F2", 2, "PM")]
    assert _check(session).defense_level == "ORANGE"  # F3 alone: an N-1 failure
    away.append(_absent(session, "F3", 2, "PM"))
    # A patient-safety gap starting in 52 hours (13:00 on 12-03): within 7 days, not 48 hours.
    assert _check(session).defense_level == "RED"
    alert = session.scalars(select(Alert).where(Alert.dedup_key == DEFENSE_ALERT_KEY)).one()
    assert (alert.status, alert.level) == (AlertStatus.ACTIVE.value, "critical")
    for absence_id in away:
        remove_absence(session, absence_id, actor="test")
    session.commit()
    assert _check(session).defense_level == "GREEN"  # three on hand: no loss of two uncovers
    session.refresh(alert)
    assert alert.status == AlertStatus.RESOLVED.value


def test_health_redelivered_task_is_a_no_op(session: Session) -> None:
    _load(session, _program(["F1"], [("F1", 3, "AM")], [_rule_on(3)]))
    first = run_health_check(session, now=NOW, task_id="task-1")
    session.commit()
    again = run_health_check(session, now=NOW + timedelta(minutes=5), task_id="task-1")
    session.commit()
    assert again.record_id == first.record_id and again.repeated and not first.repeated
    assert session.scalar(select(func.count()).select_from(HealthCheckRecord)) == 1
    alert = session.scalars(select(Alert).where(Alert.dedup_key == DEFENSE_ALERT_KEY)).one()
    assert alert.occurrences == 1
    run_health_check(session, now=NOW + timedelta(minutes=15), task_id="task-2")
    session.commit()
    session.refresh(alert)
    assert alert.occurrences == 2


def test_health_days_after_the_schedule_end_are_unscheduled_not_gaps(session: Session) -> None:
    # The published schedule ends on day 3 (its last assignment); day 10 needs a faculty member.
    _load(session, _program(["F1", "F2"], [("F1", 3, "AM"), ("F2", 3, "AM")], [_rule_on(10)]))
    record = _check(session)
    assert record.defense_level == "GREEN"
    assert record.n1_status == "pass"
    assert record.result["horizon"]["unscheduled"] == {"start": _day(4), "end": _day(13)}
    # Stated in the program file, the schedule runs to day 12: day 10 is a gap again.
    doc = _program(["F1", "F2"], [("F1", 3, "AM"), ("F2", 3, "AM")], [_rule_on(10)])
    doc["schedule_end"] = _day(12)
    _load(session, doc)
    record = _check(session)
    assert record.defense_level == "ORANGE"
    assert record.result["horizon"]["unscheduled"] == {"start": _day(13), "end": _day(13)}


def test_health_days_before_the_schedule_start_are_unscheduled_not_gaps(session: Session) -> None:
    # The published schedule starts on day 3 (its first assignment) and ends on day 4; the
    # service needs a faculty member every half-day, and F1 is there in the mornings only.
    doc = _program(["F1"], [("F1", 3, "AM"), ("F1", 4, "AM")], [{"min_faculty": 1}],
                   starts_today=False)  # fmt: skip
    _load(session, doc)
    record = _check(session)
    horizon = record.result["horizon"]
    assert horizon["unscheduled_before"] == {"start": _day(0), "end": _day(2)}
    assert horizon["unscheduled"] == {"start": _day(5), "end": _day(13)}
    assert [(g["date"], g["half"]) for g in record.result["gaps"]] == [
        (_day(3), "PM"),
        (_day(4), "PM"),
    ]
    assert record.gap_count == 2


def test_contingency_report_marks_days_before_schedule_start_unscheduled(
    session: Session,
) -> None:
    doc = _program(["F1"], [("F1", 3, "AM"), ("F1", 4, "AM")], [{"min_faculty": 1}],
                   starts_today=False)  # fmt: skip
    _load(session, doc)
    early = run_contingency_report(session, start=TODAY - timedelta(days=30), days_ahead=10)
    assert early.summary()["gap_slots"] == 0 and early.result.n1_pass
    assert early.report["unscheduled_before"] == {"start": _day(-30), "end": _day(-21)}
    assert early.report["unscheduled"] is None
    report = run_contingency_report(session, start=TODAY, days_ahead=10)
    assert report.summary()["unscheduled_before"] == {"start": _day(0), "end": _day(2)}
    assert report.summary()["unscheduled"] == {"start": _day(5), "end": _day(9)}
    assert report.summary()["gap_slots"] == 2  # 3 PM, 4 PM


def test_health_refuses_and_stores_nothing_when_no_program_is_loaded(session: Session) -> None:
    with pytest.raises(NoSchedule, match=r"^no program loaded: import one \(residency-scheduler"):
        run_health_check(session, now=NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HealthCheckRecord)) == 0
    assert session.scalar(select(func.count()).select_from(Alert)) == 0


def test_health_refuses_a_program_with_neither_assignments_nor_a_stated_end(
    session: Session,
) -> None:
    doc = _program(["F1"], [], [{"min_faculty": 1}])
    _load(session, doc)
    with pytest.raises(NoSchedule, match="program 'Health check test program' has no schedule"):
        run_health_check(session, now=NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(HealthCheckRecord)) == 0
    # With a stated end, it has a schedule: nobody on it, every half-day a gap.
    doc["schedule_end"] = _day(1)
    _load(session, doc)
    record = _check(session)
    assert record.gap_count == 4 and record.defense_level == "BLACK"


def test_contingency_report_marks_days_after_schedule_end_unscheduled(session: Session) -> None:
    _load(session, _program(["F1"], [("F1", 3, "AM")], [{"min_faculty": 1}]))
    far = run_contingency_report(session, start=date(2030, 1, 1), days_ahead=30)
    assert far.result.n1_pass and far.summary()["gap_slots"] == 0
    assert far.report["unscheduled"] == {"start": "2030-01-01", "end": "2030-01-30"}
    near = run_contingency_report(session, start=TODAY, days_ahead=10)
    # Days 0-3 are judged (only day 3 AM has its faculty member); days 4-9 are not.
    assert near.report["unscheduled"] == {"start": _day(4), "end": _day(9)}
    assert near.summary()["gap_slots"] == 7  # 0 AM/PM, 1 AM/PM, 2 AM/PM, 3 PM


def test_health_skips_a_report_reaching_beyond_the_daily_horizon(session: Session) -> None:
    _load(session, _program(["F1"], [("F1", 25, "AM"), ("F1", 200, "AM")], [_rule_on(20)]))
    daily = run_contingency_report(session, start=TODAY, days_ahead=90)  # ends on day 89
    run_contingency_report(session, start=TODAY, days_ahead=91)  # newer, ends on day 90: not daily
    session.commit()
    record = _check(session)
    assert record.result["horizon"]["report"]["id"] == daily.report_id
    assert record.defense_level == "ORANGE"  # the gap on day 20, from the daily report


def test_health_keeps_the_daily_report_when_a_shorter_run_comes_later(session: Session) -> None:
    _load(session, _program(["F1"], [("F1", 25, "AM"), ("F1", 200, "AM")], [_rule_on(20)]))
    daily = run_contingency_report(session, start=TODAY, days_ahead=40)
    run_contingency_report(session, start=TODAY, days_ahead=3)  # newer, from the command line
    session.commit()
    record = _check(session)
    assert record.result["horizon"]["report"]["id"] == daily.report_id
    assert record.defense_level == "ORANGE"  # the gap on day 20 is still weighed


def test_health_uses_the_earlier_report_again_once_a_change_is_undone(session: Session) -> None:
    # F1 alone on day 20 (an N-1 failure later in the horizon); F2 works on days 25 and 30.
    doc = _program(["F1", "F2"], [("F1", 20, "AM"), ("F2", 25, "AM"), ("F2", 30, "AM")])
    doc["activities"][0]["min_faculty_rules"] = [_rule_on(20)]
    _load(session, doc)
    first = run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    # Two absences, each followed by a report of the changed schedule: reports 2 and 3.
    away = []
    for offset in (25, 30):
        away.append(_absent(session, "F2", offset))
        changed = run_contingency_report(session, start=TODAY, days_ahead=40)
        session.commit()
        assert changed.created
    for absence_id in away:
        remove_absence(session, absence_id, actor="test")
    session.commit()
    again = run_contingency_report(session, start=TODAY, days_ahead=40)
    session.commit()
    assert (again.report_id, again.created) == (first.report_id, False)
    # The newest report (3) no longer describes the schedule; the first one does again.
    record = _check(session)
    used = record.result["horizon"]["report"]
    assert (used["id"], used["status"]) == (first.report_id, "used")
    assert record.defense_level == "YELLOW"
    assert any("N-1 failure later in the horizon: 2026-12-21 AM" in r for r in _reasons(record))
