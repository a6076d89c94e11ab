"""The resilience tasks through a real broker: real workers on Redis, results in the database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from celery import Celery
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from app.core.claims import ClaimMissing
from app.demo.generator import generate_demo_program
from app.domain.coverage import build_site_half_days
from app.domain.snapshot import load_rows, load_snapshot
from app.models.resilience import ContingencyReport, HealthCheckRecord
from app.programs.absences import AbsenceEntry, add_absence
from app.programs.service import import_program
from app.resilience.contingency.chunks import chunk_dates
from app.resilience.contingency.core import ContingencyResult
from app.resilience.contingency.crosstrain import cross_training_candidates
from app.resilience.reports import report_fingerprint, with_current_names
from tests.resilience.factories import chunked_analysis, with_demo_program
from tests.support.celery_fixtures import CeleryWorkerProcess, StartWorker

pytestmark = pytest.mark.redis

START = date(2026, 11, 30)


def _rows_and_fingerprint(engine: Engine, start: date, end: date):  # type: ignore[no-untyped-def]
    """The rows of ``start``..``end`` as the parent task reads them, and their fingerprint."""
    with Session(engine) as session:
        rows = load_rows(session, start=start, end=end)
    return rows, report_fingerprint(rows, start, end)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def demo_engine(engine: Engine) -> Engine:
    return with_demo_program(engine, seed=5, faculty=12, weeks=8, start=START)


@pytest.fixture
def celery_database_url(demo_engine: Engine) -> str:
    return _url(demo_engine)


def test_health_check_runs_through_broker_and_stores_record(
    demo_engine: Engine, celery_worker_proc: CeleryWorkerProcess, celery_client: Celery
) -> None:
    from app.resilience.tasks import periodic_health_check

    # The seed's example: apply_async on the task, then .get(); sent here with the test client.
    result = celery_client.send_task(periodic_health_check.name, queue="resilience")
    summary = result.get(timeout=90)
    assert f"{periodic_health_check.name}[{result.id}] received" in celery_worker_proc.log()
    with Session(demo_engine) as session:
        record = session.get(HealthCheckRecord, summary["record_id"])
        assert record is not None
        assert record.defense_level == summary["defense_level"]
        assert record.utilization_level == summary["utilization_level"]
        assert record.n1_status == summary["n1_status"] != "not_analysed"
        assert record.result["gap_slots"] == summary["gap_slots"]


def test_contingency_chord_on_two_workers_equals_single_process(
    demo_engine: Engine, start_celery_worker: StartWorker
) -> None:
    extra = {"CONTINGENCY_CHUNK_DAYS": "7"}
    first = start_celery_worker(_url(demo_engine), extra_env=extra)
    second = start_celery_worker(_url(demo_engine), extra_env=extra)
    client = first.client()
    redis_client = client.backend.client
    earlier = set(redis_client.scan_iter("resilience-claim:*"))  # another test's, expiring
    result = client.send_task(
        "app.resilience.tasks.run_contingency_analysis",
        kwargs={"days_ahead": 49, "start": START.isoformat()},
        queue="resilience",
    )
    summary = result.get(timeout=180)
    chunk_task = "app.resilience.tasks.analyze_contingency_chunk"
    logs = [first.log(), second.log()]
    # No report of this window yet: the chord was sent first, and the schedule read as its
    # chunks ran (contingency.stream).
    assert sum(log.count("read and written as the chunks ran") for log in logs) == 1
    assert sum(log.count(f"{chunk_task}[") for log in logs) >= 7
    assert all(chunk_task in log for log in logs), "both workers should take chunks"
    # The chunks' schedules and findings went through the result backend (Redis) as claims,
    # not in the messages, and the merge deleted them all but the fingerprint's (it expires).
    assert all("{'claim': 'resilience-claim:" in log for log in logs)
    left = list(set(redis_client.scan_iter("resilience-claim:*")) - earlier)
    end = START + timedelta(days=48)
    _, fingerprint = _rows_and_fingerprint(demo_engine, START, end)
    assert [json.loads(redis_client.get(k)) for k in left] == [fingerprint]
    assert redis_client.ttl(left[0]) > 0
    with Session(demo_engine) as session:
        row = session.get(ContingencyReport, summary["report_id"])
        assert row is not None
        snapshot = load_snapshot(session)
        expected = chunked_analysis(snapshot, START, end, chunk_days=49)
        assert (row.start, row.end) == (START, end)
        assert row.fingerprint == fingerprint
        names = {p.id: p.name for p in snapshot.people}
        assert ContingencyResult.from_json(with_current_names(row.report, names)) == expected
        assert summary["critical_faculty"] == len(expected.critical_faculty)
        problems = build_site_half_days(snapshot, START, end)
        options = cross_training_candidates(problems, expected, limit=5)
        assert row.report["cross_training"] == [o.to_json() for o in options]
    # Re-running on unchanged input returns the same stored report, and sends no chunk: the
    # fingerprint is checked before anything is analysed.
    chunks_sent = sum(log.count(f"{chunk_task}[") for log in [first.log(), second.log()])
    again = client.send_task(
        "app.resilience.tasks.run_contingency_analysis",
        kwargs={"days_ahead": 49, "start": START.isoformat()},
        queue="resilience",
    ).get(timeout=180)
    assert again["report_id"] == summary["report_id"] and again["created"] is False
    assert sum(log.count(f"{chunk_task}[") for log in [first.log(), second.log()]) == chunks_sent
    # Changed input with a report of the window stored: read whole first (plan_chord), then a
    # new report under the new input's fingerprint.
    with Session(demo_engine) as session:
        person = load_snapshot(session).people[0].id
        entry = AbsenceEntry(person_id=person, start=START + timedelta(days=3),
                             end=START + timedelta(days=5), type="sick")  # fmt: skip
        add_absence(session, entry, actor="test")
        session.commit()
    changed = client.send_task(
        "app.resilience.tasks.run_contingency_analysis",
        kwargs={"days_ahead": 49, "start": START.isoformat()},
        queue="resilience",
    ).get(timeout=180)
    assert changed["created"] is True and changed["report_id"] != summary["report_id"]
    logs = [first.log(), second.log()]
    assert sum(log.count("schedule read and fingerprint") for log in logs) == 1
    assert sum(log.count("read and written as the chunks ran") for log in logs) == 1
    _, new_fingerprint = _rows_and_fingerprint(demo_engine, START, end)
    with Session(demo_engine) as session:
        row = session.get(ContingencyReport, changed["report_id"])
        assert row is not None and row.fingerprint == new_fingerprint != fingerprint
    assert set(redis_client.scan_iter("resilience-claim:*")) - earlier == set(left)


SCHEDULE_TABLES = ("assignment", "absence", "person", "activity", "holiday", "program")


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine of this process runs meanwhile."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]).lower())

    event.listen(Engine, "before_cursor_execute", record)
    yield seen
    event.remove(Engine, "before_cursor_execute", record)


def test_chunk_and_merge_tasks_read_no_schedule_when_given_parents_snapshot(
    demo_engine: Engine, configured_database: Engine, statements: list[str]
) -> None:
    from app.resilience.tasks import analyze_contingency_chunk, merge_contingency_chunks

    end = START + timedelta(days=48)
    rows, fingerprint = _rows_and_fingerprint(demo_engine, START, end)
    snapshot = rows.snapshot()
    expected = chunked_analysis(snapshot, START, end, chunk_days=49)
    problems = build_site_half_days(snapshot, START, end)
    options = cross_training_candidates(problems, expected, limit=5)
    names = {p.id: p.name for p in snapshot.people}
    statements.clear()

    # In process, as the chord would run them (the broker round trip is JSON).
    chunks = [
        json.loads(
            json.dumps(
                analyze_contingency_chunk(
                    a.isoformat(), b.isoformat(), json.loads(json.dumps(rows.to_json(a, b)))
                )
            )
        )
        for a, b in chunk_dates(START, end, 10)
    ]
    assert statements == []
    summary = merge_contingency_chunks(
        chunks, START.isoformat(), end.isoformat(), fingerprint, names
    )

    read = [s for s in statements if any(f"from {t}" in s for t in SCHEDULE_TABLES)]
    assert read == []
    with Session(demo_engine) as session:
        row = session.get(ContingencyReport, summary["report_id"])
        assert row is not None
        assert row.fingerprint == fingerprint
        assert ContingencyResult.from_json(with_current_names(row.report, names)) == expected
        assert row.report["cross_training"] == [o.to_json() for o in options]


def test_merge_delivered_again_after_its_claims_are_gone_returns_the_stored_report(
    demo_engine: Engine, configured_database: Engine
) -> None:
    from app.resilience.tasks import analyze_contingency_chunk, merge_contingency_chunks

    end = START + timedelta(days=13)
    rows, fingerprint = _rows_and_fingerprint(demo_engine, START, end)
    names = {p.id: p.name for p in rows.base.people}
    chunks = [
        analyze_contingency_chunk(a.isoformat(), b.isoformat(), rows.to_json(a, b))
        for a, b in chunk_dates(START, end, 7)
    ]
    gone = [{"claim": "resilience-claim:gone"}]
    # No report of this input yet: the merge's inputs are lost, it fails (and the analysis is
    # started again, test_task_policy).
    with pytest.raises(ClaimMissing):
        merge_contingency_chunks(gone, START.isoformat(), end.isoformat(), fingerprint, names)
    first = merge_contingency_chunks(chunks, START.isoformat(), end.isoformat(), fingerprint, names)

    again = merge_contingency_chunks(gone, START.isoformat(), end.isoformat(), fingerprint, names)

    assert first["created"] is True
    assert again["report_id"] == first["report_id"] and again["created"] is False
    assert again["critical_faculty"] == first["critical_faculty"]
    # The names travel as a claim too: gone with the rest, they are read from the people.
    names_gone = {"claim": "resilience-claim:names-gone"}
    third = merge_contingency_chunks(
        gone, START.isoformat(), end.isoformat(), fingerprint, names_gone
    )
    assert third["report_id"] == first["report_id"] and third["created"] is False


def test_merge_reports_parents_state_when_import_commits_before_it(
    demo_engine: Engine, configured_database: Engine
) -> None:
    """An import committed between the parent's load and the merge (it used to crash the merge
    with a KeyError in cross_training_candidates) changes nothing in the report."""
    from app.resilience.tasks import analyze_contingency_chunk, merge_contingency_chunks

    end = START + timedelta(days=27)
    rows, fingerprint = _rows_and_fingerprint(demo_engine, START, end)  # the parent's one load
    snapshot = rows.snapshot()
    expected = chunked_analysis(snapshot, START, end, chunk_days=28)
    names = {p.id: p.name for p in snapshot.people}
    chunks = [
        json.loads(json.dumps(analyze_contingency_chunk(
            a.isoformat(), b.isoformat(), json.loads(json.dumps(rows.to_json(a, b)))
        )))
        for a, b in chunk_dates(START, end, 7)
    ]  # fmt: skip
    # Meanwhile another program, with other people and half the faculty, is imported.
    with Session(demo_engine) as session:
        other = generate_demo_program(seed=9, faculty=6, weeks=8, start=START)
        import_program(session, other, source="other", actor="test")
        session.commit()
        assert {p.id for p in load_snapshot(session).people} != set(names)

    summary = merge_contingency_chunks(
        chunks, START.isoformat(), end.isoformat(), fingerprint, names
    )

    with Session(demo_engine) as session:
        row = session.get(ContingencyReport, summary["report_id"])
        assert row is not None
        assert row.fingerprint == fingerprint
        assert ContingencyResult.from_json(with_current_names(row.report, names)) == expected
        problems = build_site_half_days(snapshot, START, end)
        options = cross_training_candidates(problems, expected, limit=5)
        assert row.report["cross_training"] == [o.to_json() for o in options]
