"""Stored contingency reports: alerts that follow every run, races, names read fresh."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.demo.generator import generate_demo_program
from app.models.alert import Alert, AlertStatus
from app.models.resilience import ContingencyReport
from app.programs.absences import AbsenceEntry, add_absence, remove_absence
from app.programs.service import import_program
from app.resilience import reports
from app.resilience.contingency.service import run_contingency_report
from app.resilience.reports import N1_ALERT_PREFIX, N1_COMPLIANCE_KEY, with_current_names

START = date(2026, 11, 30)  # a Monday
# In this demo program (seed 3, 12 faculty): on START alone nobody is critical; with F006 away
# on START, F010 alone holds up a half-day. Over START's first week F010 is critical, and
# with F010 away on START, F006 is critical too.


def _document() -> dict[str, Any]:
    return generate_demo_program(seed=3, faculty=12, weeks=6, start=START)


@pytest.fixture
def demo_session(session: Session) -> Session:
    import_program(session, _document(), source="demo", actor="test")
    session.commit()
    return session


def _open_alert_keys(session: Session) -> set[str]:
    return set(
        session.scalars(select(Alert.dedup_key).where(Alert.status != AlertStatus.RESOLVED.value))
    )


def _away(session: Session, person_id: str) -> str:
    absence = add_absence(
        session, AbsenceEntry(person_id=person_id, start=START, end=START, type="sick"), actor="t"
    )
    session.commit()
    return absence.row.id


def test_alerts_follow_current_state_when_schedule_goes_a_b_a(demo_session: Session) -> None:
    first = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()
    absence_id = _away(demo_session, "F010")
    second = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()
    assert _open_alert_keys(demo_session) == {
        "contingency:n1:F006",
        "contingency:n1:F010",
        "contingency:n1-compliance",
    }

    remove_absence(demo_session, absence_id, actor="t")
    demo_session.commit()
    third = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()

    assert second.created and not third.created
    assert third.report_id == first.report_id
    assert _open_alert_keys(demo_session) == {"contingency:n1:F010", "contingency:n1-compliance"}


def test_n1_alerts_resolve_when_nobody_is_critical_any_more(demo_session: Session) -> None:
    run_contingency_report(demo_session, start=START, days_ahead=1)
    demo_session.commit()
    assert _open_alert_keys(demo_session) == set()
    absence_id = _away(demo_session, "F006")
    run_contingency_report(demo_session, start=START, days_ahead=1)
    demo_session.commit()
    assert _open_alert_keys(demo_session) == {"contingency:n1:F010", N1_COMPLIANCE_KEY}

    remove_absence(demo_session, absence_id, actor="t")
    demo_session.commit()
    again = run_contingency_report(demo_session, start=START, days_ahead=1)
    demo_session.commit()

    assert not again.created
    assert _open_alert_keys(demo_session) == set()
    statuses = {a.dedup_key: a.status for a in demo_session.scalars(select(Alert))}
    assert statuses == {f"{N1_ALERT_PREFIX}F010": "resolved", N1_COMPLIANCE_KEY: "resolved"}


def test_store_report_reuses_other_runs_row_when_it_wins_the_race(
    demo_session: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another run commits the same input between this run's lookup and its insert."""
    # What the other run stores: this very input's report (made here and rolled back).
    made = run_contingency_report(demo_session, start=START, days_ahead=7)
    theirs = demo_session.get(ContingencyReport, made.report_id)
    assert theirs is not None
    their_report = copy.deepcopy(theirs.report)
    demo_session.rollback()
    real_find = reports._find_report
    stored_by_other: list[int] = []

    def find_then_lose_race(
        session: Session, fingerprint: str, start: date, end: date
    ) -> ContingencyReport | None:
        found = real_find(session, fingerprint, start, end)
        if not stored_by_other:
            with Session(engine) as other:
                row = ContingencyReport(
                    start=start,
                    end=end,
                    fingerprint=fingerprint,
                    n1_pass=False,
                    n2_pass=False,
                    gap_count=0,
                    critical_count=1,
                    fatal_pair_count=0,
                    duration_s=0.5,
                    report=their_report,
                )
                other.add(row)
                other.commit()
                stored_by_other.append(row.id)
        return found

    monkeypatch.setattr(reports, "_find_report", find_then_lose_race)

    if engine.dialect.name == "sqlite":
        # SQLite has one writer at a time: a transaction that read before the other run's
        # commit may not write after it. It fails with a transient "database is locked", which
        # the task retries (RETRY_POLICY); the retry finds the other run's report.
        with pytest.raises(OperationalError, match="locked"):
            run_contingency_report(demo_session, start=START, days_ahead=7)
        demo_session.rollback()
        assert demo_session.scalar(select(func.count()).select_from(ContingencyReport)) == 1
    outcome = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()

    assert not outcome.created
    assert outcome.report_id == stored_by_other[0]
    assert demo_session.scalar(select(func.count()).select_from(ContingencyReport)) == 1
    # The session stayed usable: the run's alerts were reconciled and committed.
    assert _open_alert_keys(demo_session) == {"contingency:n1:F010", N1_COMPLIANCE_KEY}


def test_report_shows_new_name_when_person_renamed_and_reimported(demo_session: Session) -> None:
    first = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()
    document = _document()
    for person in document["people"]:
        if person["id"] == "F010":
            person["name"] = "Dr. Renamed Person"
    import_program(demo_session, document, source="demo", actor="test")
    demo_session.commit()

    again = run_contingency_report(demo_session, start=START, days_ahead=7)
    demo_session.commit()

    assert again.report_id == first.report_id and not again.created
    (critical,) = again.report["critical_faculty"]
    assert critical["person_id"] == "F010"
    assert again.report["names"]["F010"] == "Dr. Renamed Person"
    assert again.report["rankings"]["critical_by_half_days"][0]["person_ids"] == ["F010"]
    alert = demo_session.scalars(
        select(Alert).where(Alert.dedup_key == f"{N1_ALERT_PREFIX}F010")
    ).one()
    assert alert.message.startswith("Dr. Renamed Person is critical")
    stored = demo_session.get(ContingencyReport, first.report_id)
    assert stored is not None and stored.report["names"] == {}


def test_with_current_names_names_everyone_in_the_report_when_read() -> None:
    stored = {
        "critical_faculty": [{"person_id": "a", "exposures": [0]}],
        "fatal_pairs": [{"person_ids": ["a", "b"], "exposures": [0]}],
        "cross_training": [{"person_id": "c", "qualification": "q"}],
        "names": {},
    }
    before = copy.deepcopy(stored)

    named = with_current_names(stored, {"a": "Ann", "b": "Bob", "z": "Zed"})

    # c is no longer a person: None; z is in no finding: not named.
    assert named == {**before, "names": {"a": "Ann", "b": "Bob", "c": None}}
    assert stored == before
