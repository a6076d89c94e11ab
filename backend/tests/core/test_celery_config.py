"""The seed's Celery settings hold, and the reliability settings are consistent."""

from __future__ import annotations

import importlib
from pathlib import Path

from celery.schedules import crontab

from app.core.celery_app import (
    SEED_PERIODIC_TASKS,
    PeriodicTask,
    RegisteredBeatSchedule,
    celery_app,
    existing_task_modules,
    make_celery_app,
)
from app.core.config import Settings

SEED_CRONTABS = {
    "resilience-health-check": crontab(minute="*/15"),
    "resilience-contingency-analysis": crontab(hour=2, minute=0),
    "resilience-fallback-precomputation": crontab(hour=3, minute=0, day_of_week=0),
    "resilience-utilization-forecast": crontab(hour=6, minute=0),
}


def _registered_app_tasks() -> set[str]:
    for module in existing_task_modules():
        importlib.import_module(module)
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_serialization_is_json_only_when_app_is_built() -> None:
    conf = celery_app.conf

    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert list(conf.result_accept_content) == ["json"]


def test_seed_limits_hold_when_app_is_built() -> None:
    conf = celery_app.conf

    assert (conf.timezone, conf.enable_utc) == ("UTC", True)
    assert (conf.task_time_limit, conf.task_soft_time_limit) == (600, 540)
    assert conf.result_expires == 3600
    assert conf.worker_prefetch_multiplier == 1


def test_worker_sizes_come_from_settings_when_app_is_built() -> None:
    default = make_celery_app(_settings(), set_as_current=False)
    tuned = make_celery_app(
        _settings(CELERY_WORKER_CONCURRENCY=7, CELERY_MAX_TASKS_PER_CHILD=50),
        set_as_current=False,
    )

    assert (default.conf.worker_concurrency, default.conf.worker_max_tasks_per_child) == (4, 1000)
    assert (tuned.conf.worker_concurrency, tuned.conf.worker_max_tasks_per_child) == (7, 50)


def test_queues_and_routes_match_seed_when_app_is_built() -> None:
    conf = celery_app.conf

    assert [q.name for q in conf.task_queues] == ["default", "resilience", "notifications"]
    assert conf.task_default_queue == "default"
    router = celery_app.amqp.router
    for task, queue in [
        ("app.resilience.tasks.periodic_health_check", "resilience"),
        ("app.resilience.tasks.send_resilience_alert", "resilience"),
        ("app.notifications.tasks.send_email", "notifications"),
        ("app.programs.tasks.anything", "default"),
    ]:
        assert router.route({}, task)["queue"].name == queue


def test_seed_table_has_four_entries_on_resilience_queue() -> None:
    table = {p.entry: p for p in SEED_PERIODIC_TASKS}

    assert {name: p.schedule for name, p in table.items()} == SEED_CRONTABS
    assert {p.queue for p in SEED_PERIODIC_TASKS} == {"resilience"}
    assert all(p.task.startswith("app.resilience.tasks.") for p in SEED_PERIODIC_TASKS)


def test_beat_schedule_holds_exactly_registered_tasks_when_read() -> None:
    registered = _registered_app_tasks()

    schedule = dict(celery_app.conf.beat_schedule)

    # Today every seed task and the prune task exist (README, "What runs when").
    assert set(schedule) == {
        "resilience-health-check",
        "resilience-contingency-analysis",
        "resilience-fallback-precomputation",
        "resilience-utilization-forecast",
        "resilience-prune-old-records",
    }
    crontabs = SEED_CRONTABS | {"resilience-prune-old-records": crontab(hour=4, minute=30)}
    for name, entry in schedule.items():
        assert entry["schedule"] == crontabs[name]
        assert entry["options"] == {"queue": "resilience"}
        assert entry["task"] in registered


def test_beat_schedule_shows_task_when_it_gets_registered() -> None:
    app = make_celery_app(_settings(), set_as_current=False)
    # Every seed task is built by now: an entry of a task not built yet stands in for one.
    missing = PeriodicTask("test-not-built", "app.resilience.tasks.not_built_yet", crontab(0))
    schedule = RegisteredBeatSchedule(app, (*SEED_PERIODIC_TASKS, missing))
    before = dict(schedule)

    @app.task(name=missing.task)
    def stand_in() -> None:  # registered on this private app only
        return None

    after = dict(schedule)
    assert missing.entry not in before and set(before) == {p.entry for p in SEED_PERIODIC_TASKS}
    assert after[missing.entry]["schedule"] == crontab(0)


def test_reliability_settings_hold_when_broker_is_redis() -> None:
    app = make_celery_app(_settings(REDIS_URL="redis://cache:6379/0"), set_as_current=False)
    conf = app.conf
    options = conf.broker_transport_options

    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.broker_connection_retry_on_startup
    longest_countdown_s = Settings(_env_file=None).TASK_RETRY_BACKOFF_MAX_S  # type: ignore[call-arg]
    assert options["visibility_timeout"] > longest_countdown_s + conf.task_time_limit
    assert options["socket_keepalive"] and options["health_check_interval"] > 0
    assert conf.redis_socket_keepalive and conf.redis_backend_health_check_interval > 0
    # Issue #14: keep running tasks over a lost connection, reconnect for ever, and keep a
    # chord's state longer than a dead worker's chunk takes to come back and run.
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is False
    assert conf.broker_connection_max_retries is None
    assert conf.worker_consumer == "app.core.consumer:ReconnectingConsumer"
    settings = _settings()
    sweep_s = options["unacked_restore_interval"] * options["unacked_restore_throttle"]
    assert sweep_s == settings.BROKER_RESTORE_SWEEP_S == 100
    assert options["visibility_timeout"] == settings.BROKER_VISIBILITY_TIMEOUT_S
    redelivered_by_s = options["visibility_timeout"] + sweep_s + conf.task_time_limit
    assert conf.result_chord_expires > redelivered_by_s + longest_countdown_s


def test_embedded_mode_uses_filesystem_folders_under_data_dir(tmp_path: Path) -> None:
    app = make_celery_app(_settings(EMBEDDED_BROKER=True, DATA_DIR=tmp_path), set_as_current=False)
    options = app.conf.broker_transport_options

    assert app.conf.broker_url == "filesystem://localhost/"
    assert app.conf.result_backend == f"db+sqlite:///{tmp_path / 'celery-results.db'}"
    assert options["data_folder_in"] == options["data_folder_out"]
    for key in ("data_folder_in", "processed_folder", "control_folder"):
        folder = Path(options[key])
        assert folder.is_dir() and folder.is_relative_to(tmp_path / "broker")


def test_task_modules_are_included_when_present() -> None:
    # Both of the seed's task modules exist in this checkout.
    assert list(celery_app.conf.include) == ["app.resilience.tasks", "app.notifications.tasks"]
