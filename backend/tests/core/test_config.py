"""Settings: where the broker, results and database are, and which values are refused."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.config import (
    BACKEND_DIR,
    Settings,
    is_placeholder,
    remember_embedded_broker,
    settings_error_message,
)

CELERY_VARIABLES = (
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "EMBEDDED_BROKER",
    "DATABASE_URL",
    "DATA_DIR",
)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's shell must not decide what these tests see."""
    for name in CELERY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def _settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_broker_and_results_use_local_redis_when_nothing_is_set() -> None:
    settings = _settings()

    assert settings.broker_url == "redis://localhost:6379/0"
    assert settings.result_backend == "redis://localhost:6379/1"


def test_broker_and_results_follow_redis_url_when_only_it_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:s3cret@cache.internal:6380/5?health=1")

    settings = _settings()

    # Its database for the broker, the next one for the results.
    assert settings.broker_url == "redis://:s3cret@cache.internal:6380/5?health=1"
    assert settings.result_backend == "redis://:s3cret@cache.internal:6380/6?health=1"


@pytest.mark.parametrize("redis_url", ["redis://cache:6379", "redis://cache:6379/"])
def test_broker_and_results_use_databases_0_and_1_when_redis_url_names_none(
    monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    monkeypatch.setenv("REDIS_URL", redis_url)

    settings = _settings()

    assert (settings.broker_url, settings.result_backend) == (
        "redis://cache:6379/0",
        "redis://cache:6379/1",
    )


def test_redis_url_is_refused_without_its_value_when_its_path_is_not_a_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://:Zq8-secret@cache:6379/queue")

    with pytest.raises(ValidationError) as refused:
        _settings()
    message = settings_error_message(refused.value)

    assert "REDIS_URL: the path after the host must be a database number" in message
    assert "Zq8-secret" not in message and "queue" not in message
    # Not derived from REDIS_URL (both Celery URLs set): not refused.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://cache:6379/3")
    monkeypatch.setenv("CELERY_RESULT_BACKEND", "redis://cache:6379/4")
    assert _settings().result_backend == "redis://cache:6379/4"


def test_celery_urls_win_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://broker:6379/3")
    monkeypatch.setenv("CELERY_RESULT_BACKEND", "redis://results:6379/4")

    settings = _settings()

    assert settings.broker_url == "redis://broker:6379/3"
    assert settings.result_backend == "redis://results:6379/4"


def test_embedded_mode_needs_no_servers_when_enabled(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EMBEDDED_BROKER", "true")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))

    settings = _settings()

    assert settings.broker_url == "filesystem://localhost/"
    assert settings.result_backend == f"db+sqlite:///{tmp_path / 'celery-results.db'}"
    assert settings.database_url == f"sqlite:///{tmp_path / 'scheduler.db'}"


def test_database_url_wins_over_sqlite_when_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://app@db:5432/scheduler")

    assert _settings().database_url == "postgresql+psycopg://app@db:5432/scheduler"


def test_worker_sizes_default_to_seed_values() -> None:
    settings = _settings()

    assert (settings.CELERY_WORKER_CONCURRENCY, settings.CELERY_MAX_TASKS_PER_CHILD) == (4, 1000)
    assert settings.queues == ["default", "resilience", "notifications"]


@pytest.mark.parametrize(
    "name, value",
    [("CELERY_WORKER_CONCURRENCY", "0"), ("CELERY_MAX_TASKS_PER_CHILD", "-1")],
)
def test_worker_sizes_are_refused_when_not_positive(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError):
        _settings()


@pytest.mark.parametrize(
    "levels, accepted",
    [
        ((0.70, 0.80, 0.90, 0.95), True),
        ((0.70, 0.80, 0.90, 0.90), True),  # equal neighbours are still increasing order
        ((0.80, 0.70, 0.90, 0.95), False),  # out of order
        ((0.0, 0.80, 0.90, 0.95), False),  # not positive
    ],
)
def test_utilization_thresholds_are_checked_when_loaded(
    monkeypatch: pytest.MonkeyPatch, levels: tuple[float, float, float, float], accepted: bool
) -> None:
    names = ("UTILIZATION_YELLOW", "UTILIZATION_ORANGE", "UTILIZATION_RED", "UTILIZATION_BLACK")
    for name, level in zip(names, levels, strict=True):
        monkeypatch.setenv(name, str(level))

    if accepted:
        settings = _settings()
        loaded = tuple(getattr(settings, name) for name in names)
        assert loaded == levels
    else:
        with pytest.raises(ValidationError):
            _settings()


@pytest.mark.parametrize(("setting", "url"), [("API_URL", "api_url"), ("PUBLIC_URL", "public_url")])
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "http://localhost:8000"),
        ({"API_PORT": "8017"}, "http://localhost:8017"),
        ({"API_PORT": "8017", "URL": "https://scheduler.example.org"},
         "https://scheduler.example.org"),
    ],
)  # fmt: skip
def test_urls_follow_api_port_when_not_set(
    monkeypatch: pytest.MonkeyPatch, setting: str, url: str, env: dict[str, str], expected: str
) -> None:
    for name in ("API_PORT", "API_URL", "PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(setting if name == "URL" else name, value)

    assert getattr(_settings(), url) == expected


def test_env_example_lists_every_setting_when_read() -> None:
    text = (BACKEND_DIR / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))

    assert set(Settings.model_fields) <= listed


def test_env_example_values_load_when_used_as_env_file() -> None:
    settings = Settings(_env_file=BACKEND_DIR / ".env.example")  # type: ignore[call-arg]

    assert settings.model_dump(exclude={"DATA_DIR"}) == _settings().model_dump(exclude={"DATA_DIR"})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AM_START": "25:00"}, "AM_START"),
        ({"PM_END": "five pm"}, "PM_END"),
        ({"AM_END": "13:30"}, "AM_START < AM_END <= PM_START < PM_END"),
        ({"PM_START": "07:00"}, "AM_START < AM_END <= PM_START < PM_END"),
        ({"PROGRAM_TIMEZONE": "Mars/Olympus_Mons"}, "not an IANA time zone"),
    ],
)
def test_clock_settings_are_refused_when_not_times_in_order(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError, match=re.escape(message)):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_clock_settings_load_as_times_when_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AM_START", "07:30")
    monkeypatch.setenv("PM_END", "18:15")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert (settings.AM_START.hour, settings.AM_START.minute) == (7, 30)
    assert (settings.PM_END.hour, settings.PM_END.minute) == (18, 15)


def test_remember_embedded_broker_writes_env_file_when_no_broker_is_configured(
    tmp_path: Path,
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=INFO", encoding="utf-8")

    assert remember_embedded_broker(env_file)
    assert not remember_embedded_broker(env_file)  # second run: already there

    assert env_file.read_text(encoding="utf-8").splitlines()[0] == "LOG_LEVEL=INFO"
    assert env_file.read_text(encoding="utf-8").count("EMBEDDED_BROKER=true") == 1
    later = Settings(_env_file=env_file)  # type: ignore[call-arg]  # what any other tool reads
    assert later.EMBEDDED_BROKER and later.broker_url == "filesystem://localhost/"
    assert later.result_backend.startswith("db+sqlite:///")


@pytest.mark.parametrize(
    ("environment", "env_file_text"),
    [
        ({"REDIS_URL": "redis://redis:6379/0"}, ""),
        ({"CELERY_BROKER_URL": "redis://redis:6379/0"}, ""),
        ({"EMBEDDED_BROKER": "false"}, ""),
        ({}, "REDIS_URL=redis://localhost:6379/0\n"),
        ({}, "export EMBEDDED_BROKER=false\n"),
    ],
)
def test_remember_embedded_broker_writes_nothing_when_a_broker_is_configured(
    environment: dict[str, str],
    env_file_text: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    env_file = tmp_path / ".env"
    env_file.write_text(env_file_text, encoding="utf-8")
    assert not remember_embedded_broker(env_file)
    assert env_file.read_text(encoding="utf-8") == env_file_text


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"UTILIZATION_YELLOW": "0.99"}, "UTILIZATION_* thresholds must be positive"),
        ({"CELERY_WORKER_CONCURRENCY": "many"}, "CELERY_WORKER_CONCURRENCY: Input should be"),
        ({"EMBEDDED_BROKER": "Qsecret-token"}, "EMBEDDED_BROKER: Input should be"),
    ],
)
def test_cli_names_bad_setting_without_any_secret_when_settings_are_invalid(
    tmp_path: Path, bad: dict[str, str], named: str
) -> None:
    secrets = {
        "REDIS_URL": "redis://:Qredispass@localhost:6379/0",
        "DATABASE_URL": "postgresql+psycopg://scheduler:Qdbpass@localhost:5432/x",
        "CELERY_BROKER_URL": "redis://:Qbrokerpass@localhost:6379/0",
        "CELERY_RESULT_BACKEND": "redis://:Qresultpass@localhost:6379/1",
    }
    env = {**os.environ, **secrets, **bad, "DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "app.cli", "analyze", "health"],
        cwd=BACKEND_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert output.startswith("error: bad settings"), output
    assert named in output
    assert "Traceback" not in output
    # Every secret starts with Q: not even its first character may show.
    assert ":Q" not in output and "Qsecret" not in output


def test_chord_expiry_is_refused_when_shorter_than_a_redelivery() -> None:
    with pytest.raises(ValidationError, match="RESULT_CHORD_EXPIRES_S"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, BROKER_VISIBILITY_TIMEOUT_S=3600, RESULT_CHORD_EXPIRES_S=3600
        )
    ok = Settings(  # type: ignore[call-arg]
        _env_file=None, BROKER_VISIBILITY_TIMEOUT_S=20, RESULT_CHORD_EXPIRES_S=800
    )
    assert ok.chord_state_must_outlive_s == 20 + 100 + 600 + 60


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgresql+psycopg://scheduler:CHANGE-ME@db:5432/scheduler"),
        ("DATABASE_URL", "postgresql+psycopg://scheduler@db:5432/scheduler"),
        ("REDIS_URL", "redis://:changeme@redis:6379/0"),
        ("CELERY_BROKER_URL", "redis://:password@redis:6379/0"),
        ("FLOWER_BASIC_AUTH", "admin:CHANGE-ME"),
    ],
)
def test_placeholder_password_is_refused_when_environment_is_production(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as caught:
        _settings()

    assert name in str(caught.value) and "placeholder" in str(caught.value)


def test_placeholder_password_is_accepted_when_environment_is_not_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://scheduler:CHANGE-ME@db:5432/x")
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "admin:CHANGE-ME")

    assert _settings().FLOWER_BASIC_AUTH == "admin:CHANGE-ME"


def test_real_passwords_load_when_environment_is_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://scheduler:Xk3-9fQ@db:5432/x")
    monkeypatch.setenv("REDIS_URL", "redis://:Tq8-w2L@redis:6379/0")
    monkeypatch.setenv("FLOWER_BASIC_AUTH", "admin:Zr4-p7M")

    assert _settings().ENVIRONMENT == "production"


REAL_WEBHOOK_SECRET = "whsec_" + base64.b64encode(bytes(range(7, 39))).decode()
PRODUCTION_SECRETS = {
    "SMTP_HOST": "smtp.example.org",
    "SMTP_USER": "scheduler",
    "SMTP_PASSWORD": "Vb6-q1Ns",
    "WEBHOOK_URLS": "https://hooks.example.org/scheduler",
    "WEBHOOK_SECRET": REAL_WEBHOOK_SECRET,
    "SESSION_SECRET": "Jx4pR8vN2mK6tQ0wB5yH9cL3fD7gS1aZ",
    "METRICS_TOKEN": "Wm5-t8Kp-r2Qs",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SMTP_PASSWORD", ""),
        ("SMTP_PASSWORD", "Change-Me"),
        ("WEBHOOK_SECRET", "whsec_" + base64.b64encode(bytes(32)).decode()),
        ("WEBHOOK_SECRET", "whsec_" + base64.b64encode(b"change-me-change-me-change-me").decode()),
        ("SESSION_SECRET", "CHANGE-ME-to-32-random-characters!"),
        ("SESSION_SECRET", "x" * 40),
        ("METRICS_TOKEN", "CHANGEME"),
        ("METRICS_TOKEN", "changeme-token"),
    ],
)
def test_placeholder_secret_is_refused_by_name_when_environment_is_production(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    for other, real in PRODUCTION_SECRETS.items():
        monkeypatch.setenv(other, real)
    monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as caught:
        _settings()
    message = settings_error_message(caught.value)

    assert re.search(rf"{name}: placeholder", message), message
    assert [n for n in PRODUCTION_SECRETS if n in message] == [name]
    assert not value or value not in message


def test_real_secrets_load_when_environment_is_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    for name, value in PRODUCTION_SECRETS.items():
        monkeypatch.setenv(name, value)

    settings = _settings()

    assert settings.ENVIRONMENT == "production"
    assert settings.SESSION_SECRET.startswith("Jx4pR8")


@pytest.mark.parametrize(
    "unused",
    [
        {"SMTP_USER": "", "SMTP_PASSWORD": ""},  # a relay that takes mail without sign-in
        {"SMTP_HOST": "", "SMTP_PASSWORD": "changeme"},  # email off
        {"WEBHOOK_URLS": "", "WEBHOOK_SECRET": ""},  # webhooks off
        {"SESSION_SECRET": "", "METRICS_TOKEN": ""},  # the API checks its own; /metrics open
    ],
)
def test_secret_of_a_feature_turned_off_is_not_checked_when_environment_is_production(
    monkeypatch: pytest.MonkeyPatch, unused: dict[str, str]
) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    for name, value in (PRODUCTION_SECRETS | unused).items():
        monkeypatch.setenv(name, value)

    assert _settings().ENVIRONMENT == "production"


@pytest.mark.parametrize(
    ("secret", "placeholder"),
    [
        ("", True),
        ("PASSWORD", True),
        ("change_me_please", True),
        ("abab" * 10, True),
        ("abcabcabc", True),
        ("abcd", False),
        ("Xk3-9fQ", False),
        (bytes(32), True),
        (bytes(range(32)), False),
    ],
)
def test_placeholder_is_told_from_a_real_secret_when_checked(
    secret: str | bytes, placeholder: bool
) -> None:
    assert is_placeholder(secret) is placeholder
