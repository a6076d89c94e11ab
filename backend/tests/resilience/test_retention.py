"""The prune task: records older than RETENTION_DAYS go, the newest report and open alerts stay."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.migrate import upgrade_database
from app.models.alert import Alert
from app.models.delivery import AlertDelivery, DeliveryAttempt
from app.models.fallback import FallbackSchedule
from app.models.resilience import ContingencyReport, HealthCheckRecord
from app.resilience.retention import PRUNED, Pruned, prune_old_records
from tests.support.celery_fixtures import StartWorker

NOW = datetime(2026, 12, 1, 12, 0)


def _check(task_id: str, age_days: float) -> HealthCheckRecord:
    at = NOW - timedelta(days=age_days)
    return HealthCheckRecord(
        task_id=task_id,
        started_at=at,
        finished_at=at,
        duration_s=0.1,
        window_start=date(2026, 12, 1),
        window_end=date(2026, 12, 7),
        utilization=0.5,
        utilization_level="GREEN",
        defense_level="GREEN",
        gap_count=0,
        n1_status="pass",
        n2_status="pass",
        result={},
    )


def _report(fingerprint: str, age_days: float) -> ContingencyReport:
    return ContingencyReport(
        created_at=NOW - timedelta(days=age_days),
        start=date(2026, 12, 1),
        end=date(2027, 2, 28),
        fingerprint=fingerprint,
        n1_pass=True,
        n2_pass=True,
        gap_count=0,
        critical_count=0,
        fatal_pair_count=0,
        duration_s=1.0,
        report={},
    )


def _alert(key: str, status: str, resolved_age_days: float | None) -> Alert:
    resolved = None if resolved_age_days is None else NOW - timedelta(days=resolved_age_days)
    return Alert(
        created_at=NOW - timedelta(days=200),
        updated_at=NOW - timedelta(days=200),
        level="warning",
        message=key,
        details={},
        dedup_key=key,
        status=status,
        resolved_at=resolved,
    )


def test_prune_deletes_only_what_is_older_than_retention(session: Session) -> None:
    session.add_all([_check("old", 91), _check("edge", 89.9), _check("new", 1)])
    # Both reports are old: the newest stays, as the health check reads it.
    session.add_all([_report("a" * 64, 300), _report("b" * 64, 120)])
    session.add_all(
        [
            _alert("resolved-old", "resolved", 100),
            _alert("resolved-new", "resolved", 10),
            _alert("active-old", "active", None),
        ]
    )
    session.commit()

    deleted = prune_old_records(session, NOW, retention_days=90)
    session.commit()
    again = prune_old_records(session, NOW, retention_days=90)

    assert deleted == {
        "health_check_record": 1,
        "contingency_report": 1,
        "alert": 1,
        "utilization_forecast": 0,
        "fallback_schedule": 0,
        "alert_delivery": 0,
    }
    assert set(again.values()) == {0}
    assert set(session.scalars(select(HealthCheckRecord.task_id))) == {"edge", "new"}
    assert set(session.scalars(select(ContingencyReport.fingerprint))) == {"b" * 64}
    assert set(session.scalars(select(Alert.dedup_key))) == {"resolved-new", "active-old"}


def _fallback(scenario: str, fingerprint: str, age_days: float) -> FallbackSchedule:
    return FallbackSchedule(
        created_at=NOW - timedelta(days=age_days),
        scenario=scenario,
        start=date(2026, 12, 1),
        end=date(2027, 2, 28),
        fingerprint=fingerprint,
        status="OPTIMAL",
        moves=0,
        uncovered_slots=0,
        n1_pass=True,
        n2_pass=True,
        result={},
    )


def test_prune_keeps_the_newest_fallback_of_each_scenario(session: Session) -> None:
    session.add_all(
        [
            _fallback("pandemic", "old", 200),
            _fallback("pandemic", "new", 1),
            _fallback("weather", "only", 200),  # reused for months: still the one to switch to
            _fallback("weather-2", "a", 120),
            _fallback("weather-2", "b", 100),
        ]
    )
    session.commit()

    deleted = prune_old_records(session, NOW, retention_days=90)
    session.commit()

    assert deleted["fallback_schedule"] == 2
    kept = set(session.execute(select(FallbackSchedule.scenario, FallbackSchedule.fingerprint)))
    assert kept == {("pandemic", "new"), ("weather", "only"), ("weather-2", "b")}


def test_prune_skips_a_table_missing_from_the_database(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "app.resilience.retention.PRUNED", (*PRUNED, Pruned("not_yet_migrated", "created_at"))
    )

    deleted = prune_old_records(session, NOW, retention_days=90)

    assert "not_yet_migrated" not in deleted
    assert set(deleted) == {p.table for p in PRUNED}


@pytest.mark.redis
def test_prune_task_runs_on_a_worker_when_sent(
    start_celery_worker: StartWorker, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'pruned.db'}"
    upgrade_database(url)
    worker = start_celery_worker(url, extra_env={"RETENTION_DAYS": "30"})

    result = worker.client().send_task("app.resilience.tasks.prune_old_records")

    assert result.get(timeout=90) == {
        "health_check_record": 0,
        "contingency_report": 0,
        "alert": 0,
        "utilization_forecast": 0,
        "fallback_schedule": 0,
        "alert_delivery": 0,
    }
    assert "pruned records older than 30 days" in worker.log()


def test_prune_keeps_failed_and_recent_deliveries_and_drops_old_attempts(session: Session) -> None:
    alert = _alert("active-with-notices", "active", None)
    session.add(alert)
    session.flush()

    def delivery(key: str, status: str, age_days: float) -> AlertDelivery:
        at = NOW - timedelta(days=age_days)
        row = AlertDelivery(
            alert_id=alert.id,
            event="raised",
            level="warning",
            channel="webhook",
            target="https://example.org/hook",
            idempotency_key=key,
            status=status,
            attempts=1,
            created_at=at,
            updated_at=at,
        )
        session.add(row)
        session.flush()
        session.add(DeliveryAttempt(delivery_id=row.id, number=1, at=at, ok=status == "delivered"))
        return row

    delivery("old-delivered", "delivered", 120)
    delivery("old-failed", "failed", 120)
    delivery("new-delivered", "delivered", 10)
    session.commit()

    deleted = prune_old_records(session, NOW, retention_days=90)
    session.commit()

    assert deleted["alert_delivery"] == 1
    kept = set(session.scalars(select(AlertDelivery.idempotency_key)))
    assert kept == {"old-failed", "new-delivered"}
    assert session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 2
