"""``residency-scheduler alerts list|ack|resend-failed``, run as a user would."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from app.auth.service import add_user, create_token
from app.cli.main import app as cli_app
from app.core.config import Settings
from app.models.alert import Alert
from app.models.delivery import AlertDelivery
from app.notifications.service import acknowledge_alert, raise_alert, resolve_alert
from tests.support.broker_swap import celery_app_broker

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SETTINGS = Settings(
    _env_file=None,  # type: ignore[call-arg]
    WEBHOOK_URLS="https://hooks.example.org/services/T0/B0/token-123",
    WEBHOOK_SECRET="whsec_" + base64.b64encode(b"k" * 32).decode(),
)
BROKER_DB = 13
runner = CliRunner()


@pytest.fixture
def alerts(configured_database: Engine) -> dict[str, int]:
    """Two open alerts; the first one's webhook delivery failed for good."""
    with Session(configured_database) as session:
        a = raise_alert(session, "warning", "Clinic short", {"dedup_key": "a"}, now=T0,
                        settings=SETTINGS)  # fmt: skip
        b = raise_alert(session, "critical", "Inpatient gap", {"dedup_key": "b"}, now=T0,
                        settings=SETTINGS)  # fmt: skip
        failed = session.get(AlertDelivery, a.delivery_ids[0])
        assert failed is not None
        failed.status, failed.attempts, failed.last_error = "failed", 7, "answered 410"
        delivered = session.get(AlertDelivery, b.delivery_ids[0])
        assert delivered is not None
        delivered.status, delivered.attempts = "delivered", 1
        session.commit()
        return {"a": a.alert_id, "b": b.alert_id, "failed": failed.id}


@pytest.fixture
def tokens(configured_database: Engine) -> dict[str, str]:
    """A token of a coordinator (``pd.office``) and one of a viewer."""
    with Session(configured_database) as session:
        add_user(session, "pd.office", "coordinator")
        add_user(session, "resident.rep", "viewer")
        _, coordinator = create_token(session, "pd.office")
        _, viewer = create_token(session, "resident.rep")
        session.commit()
    return {"coordinator": coordinator, "viewer": viewer}


@pytest.fixture
def private_broker(celery_redis_url: str) -> Iterator[redis.Redis]:
    """The CLI's Celery app sends to database 13 of the private test Redis (emptied)."""
    url = f"{celery_redis_url}/{BROKER_DB}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        with celery_app_broker(url):
            yield client
    finally:
        client.flushdb()
        client.close()


def test_alerts_list_shows_deliveries_without_webhook_token_when_run(
    alerts: dict[str, int],
) -> None:
    result = runner.invoke(cli_app, ["alerts", "list", "--json"])

    assert result.exit_code == 0, result.output
    rows = {r["dedup_key"]: r for r in json.loads(result.output)}
    assert set(rows) == {"a", "b"}
    channels = {(d["channel"], d["status"]) for d in rows["a"]["deliveries"]}
    assert channels == {("in_app", "delivered"), ("webhook", "failed")}
    hook = next(d for d in rows["a"]["deliveries"] if d["channel"] == "webhook")
    assert hook["target"] == "https://hooks.example.org/..."
    assert hook["last_error"] == "answered 410"
    assert "token-123" not in result.output

    table = runner.invoke(cli_app, ["alerts", "list"])
    assert table.exit_code == 0
    assert (
        "    raised webhook https://hooks.example.org/...: failed, 7 attempt(s) (answered 410)\n"
        in table.output
    )


def test_alerts_list_says_delivered_in_app_without_attempts_when_in_app(
    alerts: dict[str, int],
) -> None:
    # An in-app delivery is stored with its alert: it never makes a network attempt.
    rows = json.loads(runner.invoke(cli_app, ["alerts", "list", "--json"]).output)
    in_app = [d for r in rows for d in r["deliveries"] if d["channel"] == "in_app"]
    assert len(in_app) == 2
    assert {d["outcome"] for d in in_app} == {"delivered in app"}
    hooks = {d["status"]: d["outcome"] for r in rows for d in r["deliveries"]
             if d["channel"] == "webhook"}  # fmt: skip
    assert hooks == {"failed": "failed, 7 attempt(s) (answered 410)",
                     "delivered": "delivered, 1 attempt(s)"}  # fmt: skip

    table = runner.invoke(cli_app, ["alerts", "list"]).output
    in_app_lines = [line for line in table.splitlines() if " in_app " in line]
    assert in_app_lines == ["    raised in_app app: delivered in app"] * 2


def test_alerts_list_json_timestamps_carry_utc_offset_when_listed(
    alerts: dict[str, int],
) -> None:
    rows = json.loads(runner.invoke(cli_app, ["alerts", "list", "--json"]).output)

    assert [r["updated_at"] for r in rows] == ["2026-12-01T09:00:00+00:00"] * 2
    for r in rows:
        moment = datetime.fromisoformat(r["updated_at"])
        assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
        assert moment == T0


def test_alerts_ack_records_caller_when_coordinator_acknowledges(
    alerts: dict[str, int], tokens: dict[str, str]
) -> None:
    env = {"RESIDENCY_SCHEDULER_TOKEN": tokens["coordinator"]}
    result = runner.invoke(cli_app, ["alerts", "ack", str(alerts["b"])], env=env)

    assert result.exit_code == 0, result.output
    said = re.fullmatch(
        rf"alert {alerts['b']} acknowledged by pd\.office at (\d{{4}}-\d\d-\d\d \d\d:\d\d UTC)\n",
        result.output,
    )
    assert said, result.output
    rows = json.loads(runner.invoke(cli_app, ["alerts", "list", "--json"]).output)
    by_key = {r["dedup_key"]: (r["status"], r["acknowledged_by"]) for r in rows}
    assert by_key == {"a": ("active", None), "b": ("acknowledged", "pd.office")}
    listed = runner.invoke(cli_app, ["alerts", "list"]).output
    assert f"#{alerts['b']} CRITICAL acknowledged by pd.office at {said[1]} (raised" in listed


def test_alerts_list_says_when_raised_acknowledged_and_resolved_when_readable(
    alerts: dict[str, int], configured_database: Engine
) -> None:
    with Session(configured_database) as session:
        acknowledge_alert(session, alerts["b"], "pd.office", now=T0 + timedelta(hours=5, minutes=5))
        resolve_alert(session, "a", now=T0 + timedelta(days=1, minutes=30), settings=SETTINGS)
        raise_alert(session, "info", "Forecast high risk", {"dedup_key": "c"},
                    now=T0 + timedelta(hours=2), settings=SETTINGS)  # fmt: skip
        session.commit()
        c = session.scalars(select(Alert.id).where(Alert.dedup_key == "c")).one()

    result = runner.invoke(cli_app, ["alerts", "list", "--all"])

    assert result.exit_code == 0, result.output
    heads = [line for line in result.output.splitlines() if line.startswith("#")]
    assert heads == [
        f"#{alerts['a']} WARNING resolved at 2026-12-02 09:30 UTC"
        " (raised 2026-12-01 09:00 UTC): Clinic short",
        f"#{alerts['b']} CRITICAL acknowledged by pd.office at 2026-12-01 14:05 UTC"
        " (raised 2026-12-01 09:00 UTC): Inpatient gap",
        f"#{c} INFO active since 2026-12-01 11:00 UTC: Forecast high risk",
    ]
    with Session(configured_database) as session:
        b = session.get(Alert, alerts["b"])
        assert b is not None and b.acknowledged_at == T0 + timedelta(hours=5, minutes=5)


def test_alerts_list_says_active_again_when_level_rose_after_acknowledgement(
    alerts: dict[str, int], configured_database: Engine
) -> None:
    with Session(configured_database) as session:
        acknowledge_alert(session, alerts["a"], "pd.office", now=T0 + timedelta(minutes=5))
        raise_alert(session, "critical", "Clinic short", {"dedup_key": "a"},
                    now=T0 + timedelta(hours=1), settings=SETTINGS)  # fmt: skip
        acknowledge_alert(session, alerts["b"], "pd.office", now=T0 + timedelta(minutes=6))
        resolve_alert(session, "b", now=T0 + timedelta(hours=3), settings=SETTINGS)
        session.commit()

    heads = [line for line in runner.invoke(cli_app, ["alerts", "list", "--all"]).output
             .splitlines() if line.startswith("#")]  # fmt: skip

    assert heads == [
        f"#{alerts['b']} CRITICAL resolved at 2026-12-01 12:00 UTC (raised 2026-12-01 09:00 UTC;"
        " acknowledged by pd.office at 2026-12-01 09:06 UTC): Inpatient gap",
        f"#{alerts['a']} CRITICAL active again, its level rose (raised 2026-12-01 09:00 UTC;"
        " acknowledged by pd.office at 2026-12-01 09:05 UTC): Clinic short",
    ]


def test_alerts_list_json_has_no_readable_times_when_listed(alerts: dict[str, int]) -> None:
    rows = json.loads(runner.invoke(cli_app, ["alerts", "list", "--json"]).output)

    assert {tuple(sorted(r)) for r in rows} == {
        ("acknowledged_by", "dedup_key", "deliveries", "id", "level", "message", "occurrences",
         "status", "updated_at")
    }  # fmt: skip


@pytest.mark.parametrize(
    ("who", "code", "error"),
    [("viewer", 4, "coordinator role"), (None, 4, "needs an API token"), ("bogus", 4, "")],
)
def test_alerts_ack_and_resend_refused_when_caller_is_not_a_coordinator(
    alerts: dict[str, int], tokens: dict[str, str], who: str | None, code: int, error: str
) -> None:
    env = {"RESIDENCY_SCHEDULER_TOKEN": tokens.get(who or "", "rs_bogus") if who else ""}
    for argv in (["alerts", "ack", str(alerts["a"])], ["alerts", "resend-failed"]):
        result = runner.invoke(cli_app, argv, env=env)
        assert result.exit_code == code, result.output
        assert error in result.output
    rows = json.loads(runner.invoke(cli_app, ["alerts", "list", "--json"]).output)
    assert {r["status"] for r in rows} == {"active"}
    failed = [d for r in rows for d in r["deliveries"] if d["status"] == "failed"]
    assert len(failed) == 1


def test_alerts_ack_exits_3_when_alert_is_unknown(
    alerts: dict[str, int], tokens: dict[str, str]
) -> None:
    env = {"RESIDENCY_SCHEDULER_TOKEN": tokens["coordinator"]}
    result = runner.invoke(cli_app, ["alerts", "ack", "999999"], env=env)
    assert result.exit_code == 3
    assert "no alert with id 999999" in result.output


def test_alerts_resend_failed_queues_ids_only_when_deliveries_failed(
    alerts: dict[str, int],
    tokens: dict[str, str],
    private_broker: redis.Redis,
    configured_database: Engine,
) -> None:
    env = {"RESIDENCY_SCHEDULER_TOKEN": tokens["coordinator"]}
    result = runner.invoke(cli_app, ["alerts", "resend-failed", "--json"], env=env)

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"reopened": [alerts["failed"]], "queued": 1}
    with Session(configured_database) as session:
        row = session.scalars(
            select(AlertDelivery).where(AlertDelivery.id == alerts["failed"])
        ).one()
        assert row.status == "pending"
    [raw] = private_broker.lrange("notifications", 0, -1)
    message = json.loads(raw)
    assert message["headers"]["task"] == "app.notifications.tasks.deliver_alert_notification"
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([alerts["failed"]], {})
    assert b"token" not in raw and b"whsec" not in raw
