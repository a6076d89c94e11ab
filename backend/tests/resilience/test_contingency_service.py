"""Contingency reports in the database: idempotent, fingerprinted, alerting on news only."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InputError
from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days, gaps_of
from app.domain.schedule import Half
from app.domain.schedule_rows import ScheduleRows
from app.domain.snapshot import load_rows, load_snapshot
from app.models.alert import Alert, AlertStatus
from app.models.resilience import ContingencyReport, HealthCheckRecord
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.report_json import StoredResult
from app.resilience.contingency.service import (
    contingency_window,
    run_contingency_report,
    what_if_absence,
)
from app.resilience.health.service import run_health_check
from app.resilience.reports import N1_ALERT_PREFIX, describes
from tests.resilience.factories import chunked_analysis
from tests.resilience.reference import reference_analysis

START = date(2026, 11, 30)  # a Monday


def _rows_now(session: Session, report: ContingencyReport) -> ScheduleRows:
    return load_rows(session, start=report.start, end=report.end)


@pytest.fixture
def demo_session(session: Session) -> Session:
    doc = generate_demo_program(seed=3, faculty=12, weeks=6, start=START)
    import_program(session, doc, source="demo", actor="test")
    session.commit()
    return session


@pytest.mark.parametrize("chunk_days", [1, 5, 7, 30])
def test_analyze_window_chunked_equals_whole_when_split_any_way(
    demo_session: Session, chunk_days: int
) -> None:
    end = START + timedelta(days=41)
    snapshot = load_snapshot(demo_session)
    whole = analyze_contingency(build_site_half_days(snapshot, START, end), snapshot.people_by_id)
    chunked = chunked_analysis(snapshot, START, end, chunk_days=chunk_days)
    single = chunked_analysis(snapshot, START, end, chunk_days=60)
    assert whole.critical_faculty and whole.fatal_pairs  # something to split, not two empties
    assert chunked == whole == single


def test_report_progress_counts_weeks_from_none_to_all_in_order(demo_session: Session) -> None:
    calls: list[tuple[int, int]] = []
    days = 30  # 4 weeks and 2 days: 5 weeks to count, the last one short
    with_progress = run_contingency_report(
        demo_session,
        start=START,
        days_ahead=days,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert {total for _, total in calls} == {5}
    done = [d for d, _ in calls]
    assert done[0] == 0 and done[-1] == 5 and done == sorted(done)
    # Each week is announced as its first day is reached: every count from 0 to 5 is seen.
    assert set(done) == {0, 1, 2, 3, 4, 5}
    demo_session.rollback()
    # The bar changes nothing: the same report as without one.
    without = run_contingency_report(demo_session, start=START, days_ahead=days)
    assert without.created and without.result == with_progress.result


def test_core_announces_each_date_once_in_time_order(demo_session: Session) -> None:
    snapshot = load_snapshot(demo_session)
    end = START + timedelta(days=9)
    problems = build_site_half_days(snapshot, START, end)
    seen: list[date] = []
    result = analyze_contingency(problems, snapshot.people_by_id, on_day=seen.append)
    assert seen == sorted({p.halfday.date for p in problems})
    assert result == analyze_contingency(problems, snapshot.people_by_id)


def test_contingency_report_is_idempotent_when_input_unchanged(demo_session: Session) -> None:
    first = run_contingency_report(demo_session, start=START, days_ahead=28)
    demo_session.commit()
    second = run_contingency_report(demo_session, start=START, days_ahead=28)
    demo_session.commit()
    assert first.created and not second.created
    assert second.report_id == first.report_id
    assert second.report == first.report
    assert demo_session.scalar(select(func.count()).select_from(ContingencyReport)) == 1
    report = demo_session.get(ContingencyReport, first.report_id)
    assert report is not None and describes(report, _rows_now(demo_session, report))


def test_contingency_report_goes_stale_when_schedule_changes(demo_session: Session) -> None:
    outcome = run_contingency_report(demo_session, start=START, days_ahead=28)
    demo_session.commit()
    # F010 works on START (tests/resilience/test_reports.py): away, the pool of START changes.
    add_absence(
        demo_session,
        AbsenceEntry(person_id="F010", start=START, end=START, type="sick"),
        actor="test",
    )
    demo_session.commit()
    report = demo_session.get(ContingencyReport, outcome.report_id)
    assert report is not None and not describes(report, _rows_now(demo_session, report))
    again = run_contingency_report(demo_session, start=START, days_ahead=28)
    assert again.created and again.report_id != outcome.report_id


def test_alerts_not_repeated_when_findings_stay_the_same(demo_session: Session) -> None:
    outcome = run_contingency_report(demo_session, start=START, days_ahead=42)
    demo_session.commit()
    critical = {c.person_id for c in outcome.result.critical_faculty}
    assert {"F006", "F010"} <= critical  # critical in the first week already (test_reports.py)
    keys = set(demo_session.scalars(select(Alert.dedup_key)))
    assert {k.removeprefix(N1_ALERT_PREFIX) for k in keys if k.startswith(N1_ALERT_PREFIX)} == (
        critical
    )
    before = {a.id: a.last_notified_at for a in demo_session.scalars(select(Alert))}
    # A new day's report of the same schedule (other window, same findings) adds no alerts
    # and, within the cooldown, notifies nobody again.
    second = run_contingency_report(demo_session, start=START, days_ahead=41)
    demo_session.commit()
    critical_now = {c.person_id for c in second.result.critical_faculty}
    assert critical_now == critical
    alerts = list(demo_session.scalars(select(Alert)))
    assert all(
        a.id in before for a in alerts if a.dedup_key.removeprefix(N1_ALERT_PREFIX) in critical
    )
    assert all(a.last_notified_at == before[a.id] for a in alerts if a.id in before)
    for alert in alerts:
        if alert.dedup_key.startswith(N1_ALERT_PREFIX):
            pid = alert.dedup_key.removeprefix(N1_ALERT_PREFIX)
            open_now = alert.status != AlertStatus.RESOLVED.value
            assert open_now == (pid in critical_now)


def test_what_if_absence_matches_storing_the_absence(demo_session: Session) -> None:
    snapshot = load_snapshot(demo_session)
    faculty = sorted(p.id for p in snapshot.people if p.is_faculty)
    end = START + timedelta(days=4)
    gaps_seen = 0
    # Mornings off for six people; F010 away all week uncovers half-days (gaps to compare).
    for person, half in [*((f, Half.AM) for f in faculty[:6]), ("F010", None)]:
        impact, after = what_if_absence(
            demo_session, person_id=person, start=START, end=end, half=half
        )
        add_absence(
            demo_session,
            AbsenceEntry(person_id=person, start=START, end=end, type="sick", half=half),
            actor="test",
        )
        demo_session.flush()
        stored = build_site_half_days(load_snapshot(demo_session), START, end)
        assert after == stored
        expected_gaps = {
            (g.halfday, g.site, g.activity_id, g.missing) for p in stored for g in gaps_of(p)
        }
        before_gaps = {
            (g.halfday, g.site, g.activity_id, g.missing)
            for p in build_site_half_days(snapshot, START, end)
            for g in gaps_of(p)
        }
        assert {(g.halfday, g.site, g.activity_id, g.missing) for g in impact.gaps_added} == (
            expected_gaps - before_gaps
        )
        gaps_seen += len(impact.gaps_added)
        demo_session.rollback()
    assert gaps_seen > 0


def test_health_check_records_contingency_of_next_14_days(demo_session: Session) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    outcome = run_health_check(demo_session, now=now)
    demo_session.commit()
    record = demo_session.get(HealthCheckRecord, outcome.record_id)
    assert record is not None
    snapshot = load_snapshot(demo_session)
    # The brute-force reference over the 14 days: no gap, and F006 and F010 are critical.
    expected = reference_analysis(build_site_half_days(snapshot, START, START + timedelta(days=13)))
    assert expected.missing == {}
    assert {person for person, _ in expected.n1} == {"F006", "F010"}
    assert record.n1_status == "fail"
    assert record.result["contingency"]["critical_faculty"] == 2
    # N-1 failures within 14 days and no gap, utilization under 70 %: ORANGE (section 4).
    assert (record.defense_level, record.utilization_level) == ("ORANGE", "GREEN")
    problems = build_site_half_days(snapshot, START, START + timedelta(days=6))
    assert record.result["utilization"]["demand"] == sum(p.total_demand for p in problems)


# An instant at which it is already Tuesday 1 December in Tokyo but still Monday in New York.
TOKYO_TUESDAY = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


@pytest.fixture
def tokyo_session(session: Session) -> Session:
    doc = generate_demo_program(seed=3, faculty=12, weeks=6, start=START)
    doc["program"]["timezone"] = "Asia/Tokyo"
    import_program(session, doc, source="demo", actor="test")
    session.commit()
    return session


def test_contingency_window_starts_on_programs_today_when_zones_disagree(
    tokyo_session: Session,
) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.PROGRAM_TIMEZONE == "America/New_York"

    window = contingency_window(
        tokyo_session, settings, days_ahead=None, start=None, now=TOKYO_TUESDAY
    )

    assert window == (date(2026, 12, 1), date(2027, 2, 28))  # CONTINGENCY_DAYS: 90 days


def test_contingency_window_follows_contingency_days_setting_when_no_days_given(
    tokyo_session: Session,
) -> None:
    settings = Settings(_env_file=None, CONTINGENCY_DAYS=7)  # type: ignore[call-arg]

    default = contingency_window(
        tokyo_session, settings, days_ahead=None, start=START, now=TOKYO_TUESDAY
    )
    explicit = contingency_window(
        tokyo_session, settings, days_ahead=90, start=START, now=TOKYO_TUESDAY
    )

    assert default == (START, date(2026, 12, 6))
    assert explicit == (START, date(2027, 2, 27))


def test_rerun_analyses_nothing_when_input_unchanged_and_again_when_it_changes(
    demo_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.resilience.contingency import service

    analysed: list[tuple[date, date]] = []
    real = service.analyze_contingency

    def counting(problems, *args, **kwargs):  # type: ignore[no-untyped-def]
        analysed.append((problems[0].halfday.date, problems[-1].halfday.date))
        return real(problems, *args, **kwargs)

    monkeypatch.setattr(service, "analyze_contingency", counting)
    first = run_contingency_report(demo_session, start=START, days_ahead=28)
    demo_session.commit()
    again = run_contingency_report(demo_session, start=START, days_ahead=28)
    demo_session.commit()
    assert analysed == [(START, START + timedelta(days=27))]
    assert (again.report_id, again.created) == (first.report_id, False)
    # Read back from the stored JSON: every finding as the analysis made it.
    assert isinstance(again.result, StoredResult) and again.result.whole == first.result
    # The summary (all a task returns) reads the stored JSON: the named copy, which walks every
    # finding, is made only for a caller that reads the report.
    assert again.summary()["start"] == START.isoformat()
    assert "report" not in vars(again)
    assert again.report["names"] and "report" in vars(again)

    add_absence(
        demo_session,
        AbsenceEntry(person_id="F010", start=START, end=START, type="sick"),
        actor="test",
    )
    demo_session.commit()
    changed = run_contingency_report(demo_session, start=START, days_ahead=28)
    assert len(analysed) == 2 and changed.created


def test_health_check_builds_only_its_own_window_when_a_daily_report_is_fresh(
    demo_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.resilience.health import service as health_service

    run_contingency_report(demo_session, start=START, days_ahead=42)
    demo_session.commit()
    built: list[tuple[date, date]] = []
    real = health_service.build_site_half_days

    def recording(snapshot, start, end, *args, **kwargs):  # type: ignore[no-untyped-def]
        built.append((start, end))
        return real(snapshot, start, end, *args, **kwargs)

    monkeypatch.setattr(health_service, "build_site_half_days", recording)
    record = run_health_check(demo_session, now=datetime(2026, 11, 30, 13, 0, tzinfo=UTC))

    report = record.summary()
    assert record.report is not None
    assert record.report.later.source["status"] == "used"
    # Its own 14 days only: the report's 42-day window is checked by fingerprint, not rebuilt.
    assert built == [(START, START + timedelta(days=13))]
    assert report["n1_status"] == "fail"


def test_report_of_older_format_is_recomputed_and_not_used_when_stored(
    demo_session: Session,
) -> None:
    """A format-1 report (every finding with its exposures whole; fingerprint of coverage
    problems) is never read: the health check calls it stale, the next run stores anew."""
    end = START + timedelta(days=41)
    old = ContingencyReport(
        start=START,
        end=end,
        fingerprint="0" * 64,
        n1_pass=False,
        n2_pass=True,
        gap_count=0,
        critical_count=1,
        fatal_pair_count=0,
        duration_s=1.0,
        report={"critical_faculty": [{"person_id": "F010", "name": None, "exposures": []}]},
    )
    demo_session.add(old)
    demo_session.commit()

    record = run_health_check(demo_session, now=datetime(2026, 11, 30, 13, 0, tzinfo=UTC))
    assert record.report is not None
    assert record.report.later.source["status"] == "stale: not used"
    demo_session.commit()
    again = run_contingency_report(demo_session, start=START, days_ahead=42)
    demo_session.commit()
    assert again.created and again.report_id != old.id
    assert again.report["format"] == 2


def test_contingency_window_is_refused_when_longer_than_three_years(session: Session) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    longest = contingency_window(session, settings, days_ahead=1096, start=START, now=TOKYO_TUESDAY)
    assert longest == (START, START + timedelta(days=1095))

    with pytest.raises(InputError, match=r"--days-ahead must be at most 1096 \(three years\)"):
        contingency_window(session, settings, days_ahead=1097, start=START, now=TOKYO_TUESDAY)


@pytest.mark.parametrize("name", ["CONTINGENCY_DAYS", "FALLBACK_DAYS"])
def test_default_window_setting_is_refused_when_longer_than_three_years(name: str) -> None:
    assert getattr(Settings(_env_file=None, **{name: 1096}), name) == 1096  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, **{name: 1097})  # type: ignore[call-arg]
