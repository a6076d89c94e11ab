"""Stored fallbacks: reuse on unchanged input, staleness, the ranking source, exports."""

from __future__ import annotations

import csv
import io
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import InputError, NotFound
from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.domain.snapshot import load_snapshot
from app.models.base import utcnow
from app.models.fallback import FallbackSchedule
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.service import run_contingency_report
from app.resilience.fallbacks import service
from app.resilience.fallbacks.export import fallback_calendars, fallback_csv
from app.resilience.fallbacks.scenarios import SCENARIOS
from app.resilience.fallbacks.service import (
    export_context,
    fallback_window,
    get_fallback,
    list_fallbacks,
    loss_ranking,
    precompute_in_process,
)

START = date(2026, 11, 30)  # a Monday
END = START + timedelta(days=13)
SETTINGS = Settings(FALLBACK_SOLVER_WORKERS=1, FALLBACK_SOLVER_TIME_LIMIT_S=60)


@pytest.fixture
def demo_session(session: Session) -> Session:
    doc = generate_demo_program(seed=3, faculty=12, weeks=4, start=START)
    import_program(session, doc, source="demo", actor="test")
    session.commit()
    return session


def _pcs(session: Session) -> FallbackSchedule:
    return next(r for r in list_fallbacks(session).rows if r.scenario == "pcs_season")


def test_precompute_stores_every_scenario_and_reuses_them_on_unchanged_input(
    demo_session: Session,
) -> None:
    first = precompute_in_process(demo_session, SETTINGS, START, END)
    assert [s["scenario"] for s in first] == [s.name for s in SCENARIOS]
    assert all(s["created"] for s in first)
    again = precompute_in_process(demo_session, SETTINGS, START, END)
    assert [s["id"] for s in again] == [s["id"] for s in first]
    assert not any(s["created"] for s in again)
    assert demo_session.scalar(select(func.count()).select_from(FallbackSchedule)) == 7


def test_fallback_is_stale_once_an_absence_changes_its_window(demo_session: Session) -> None:
    precompute_in_process(demo_session, SETTINGS, START, END)
    assert not list_fallbacks(demo_session).stale
    add_absence(
        demo_session,
        AbsenceEntry("F004", START + timedelta(days=2), START + timedelta(days=2), "sick"),
        actor="test",
    )
    listing = list_fallbacks(demo_session)
    assert listing.stale == {r.id for r in listing.rows} and len(listing.rows) == 7
    fresh = precompute_in_process(demo_session, SETTINGS, START, END)
    assert all(s["created"] and not s["stale"] for s in fresh)
    assert not list_fallbacks(demo_session).stale


def test_loss_ranking_reads_a_fresh_report_and_matches_the_analysis(
    demo_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = load_snapshot(demo_session, start=START, end=END)
    computed = loss_ranking(demo_session, snapshot, START, END)
    result = analyze_contingency(build_site_half_days(snapshot, START, END))
    assert computed.critical == result.critical_ranking()[0].person_ids
    assert computed.pair == result.pair_ranking()[0].person_ids
    run_contingency_report(demo_session, start=START, days_ahead=14)

    def refuse(*args: object) -> None:
        raise AssertionError("a fresh report must be read, not recomputed")

    monkeypatch.setattr(service, "analyze_contingency", refuse)
    assert loss_ranking(demo_session, snapshot, START, END) == computed


def test_get_fallback_names_an_unknown_id(demo_session: Session) -> None:
    with pytest.raises(NotFound, match="no fallback with id 999"):
        get_fallback(demo_session, 999)


def test_icalendar_export_is_valid_zoned_and_keeps_uids_across_recomputation(
    demo_session: Session,
) -> None:
    precompute_in_process(demo_session, SETTINGS, START, END)
    row = _pcs(demo_session)
    clock, names, activities = export_context(demo_session, SETTINGS)
    calendars = fallback_calendars(row.result, clock, names, activities, utcnow())
    moves = row.result["moves"]
    assert moves and set(calendars) == {m["person_id"] for m in moves}
    zone = ZoneInfo("America/New_York")
    uids = set()
    for person_id, content in calendars.items():
        cal = Calendar.from_ical(content)
        assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/New_York"]
        mine = [m for m in moves if m["person_id"] == person_id]
        events = cal.walk("VEVENT")
        assert len(events) == len(mine)
        for event, move in zip(events, mine, strict=True):
            begin = event.decoded("DTSTART")
            assert begin.tzinfo is not None and begin.utcoffset() == zone.utcoffset(begin)
            assert begin.date().isoformat() == move["date"]
            assert begin.time() == (time(8) if move["half"] == "AM" else time(13))
            assert event.decoded("DTEND") - begin == timedelta(hours=4)
            uids.add(str(event["UID"]))
    assert len(uids) == len(moves)
    # Recomputed from scratch (same input), the events keep their UIDs: calendars update.
    demo_session.execute(delete(FallbackSchedule))
    precompute_in_process(demo_session, SETTINGS, START, END)
    again = fallback_calendars(_pcs(demo_session).result, clock, names, activities, utcnow())
    assert {
        str(e["UID"]) for c in again.values() for e in Calendar.from_ical(c).walk("VEVENT")
    } == uids


def test_csv_export_has_one_row_per_changed_half_day(demo_session: Session) -> None:
    precompute_in_process(demo_session, SETTINGS, START, END)
    row = _pcs(demo_session)
    _, names, _ = export_context(demo_session, SETTINGS)
    rows = list(csv.DictReader(io.StringIO(fallback_csv(row.result, names))))
    assert [(r["date"], r["half"], r["person_id"], r["activity_id"]) for r in rows] == [
        (m["date"], m["half"], m["person_id"], m["activity_id"]) for m in row.result["moves"]
    ]
    assert all(r["person_name"] == names[r["person_id"]] for r in rows)


@pytest.mark.parametrize("days", [0, -3])
def test_a_fallback_window_of_no_days_is_refused_before_anything_is_read(
    session: Session, days: int
) -> None:
    with pytest.raises(InputError, match="at least 1"):
        fallback_window(session, Settings(), days_ahead=days, start=date(2026, 12, 1), now=utcnow())
