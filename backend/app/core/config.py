"""The one settings object.

Every setting is read here and nowhere else (CONVENTIONS.md rule 3). Values come from the
environment, then from ``backend/.env``, then from the defaults below; ``backend/.env.example``
lists each one with its default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import time
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, computed_field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.errors import ConfigurationError, InputError

BACKEND_DIR = Path(__file__).resolve().parents[2]
"""The ``backend/`` folder: the default home of ``.env`` and of the embedded data folder."""

ENV_FILE = BACKEND_DIR / ".env"
"""The settings file every tool (CLI, worker, beat, scripts) reads after the environment."""

_BROKER_SETTINGS = ("REDIS_URL", "CELERY_BROKER_URL", "EMBEDDED_BROKER")

TASK_TIME_LIMIT_S = 600
"""Hard time limit of every task (the seed's); the soft limit is ``TASK_SOFT_TIME_LIMIT_S``."""
TASK_SOFT_TIME_LIMIT_S = 540

AlertLevelName = Literal["info", "warning", "critical", "emergency"]

FORECAST_MAX_DAYS = 366
"""Longest forecast (days ahead) accepted."""
CONTINGENCY_MAX_DAYS = 1096
"""Longest contingency or fallback window accepted, in days: three years, leap day included
(a schedule is published a year or so ahead; past its end nothing is analysed)."""


def redis_db(url: str) -> int:
    """The database number of a redis:// URL (its path; none means 0).

    Raises:
        ValueError: the path is not a database number.
    """
    path = urlsplit(url).path.strip("/")
    if path and not (path.isascii() and path.isdigit()):
        raise ValueError("the path after the host must be a database number, such as /0")
    return int(path or 0)


def _with_redis_db(url: str, offset: int) -> str:
    """Return ``url`` pointing at its own Redis database plus ``offset``."""
    parts = urlsplit(url)
    db = redis_db(url) + offset
    return urlunsplit((parts.scheme, parts.netloc, f"/{db}", parts.query, parts.fragment))


class Settings(BaseSettings):
    """Settings of the engine, worker, beat and command line."""

    model_config = SettingsConfigDict(env_file=ENV_FILE, env_file_encoding="utf-8", extra="ignore")

    ENVIRONMENT: Literal["development", "test", "production"] = "development"
    LOG_LEVEL: str = "INFO"

    # Data
    DATA_DIR: Path = BACKEND_DIR / "var"
    DATABASE_URL: str = ""
    """SQLAlchemy URL; empty means SQLite at ``DATA_DIR/scheduler.db``."""

    # Broker and results
    REDIS_URL: str = "redis://localhost:6379/0"
    """Redis server and database N (none: 0): the broker uses N, the results N + 1."""
    CELERY_BROKER_URL: str = ""
    """Empty means ``REDIS_URL`` (its database N)."""
    CELERY_RESULT_BACKEND: str = ""
    """Empty means ``REDIS_URL`` with database N + 1."""
    EMBEDDED_BROKER: bool = False
    """Use kombu's filesystem transport and SQLite results under DATA_DIR (no servers)."""
    CELERY_WORKER_CONCURRENCY: int = Field(default=4, ge=1)
    CELERY_MAX_TASKS_PER_CHILD: int = Field(default=1000, ge=1)
    CELERY_LOG_LEVEL: str = "info"
    CELERY_QUEUES: str = "default,resilience,notifications"
    TASK_RETRY_MAX: int = Field(default=8, ge=0)
    """Retries of a task that failed on a passing database or broker error."""
    TASK_RETRY_BACKOFF_MAX_S: float = Field(default=60, gt=0)
    """Longest wait between two retries (exponential backoff from 2 s, with jitter)."""
    BROKER_VISIBILITY_TIMEOUT_S: int = Field(default=3600, ge=1)
    """Redis hands an unacknowledged task to another worker after this long (a worker died)."""
    BROKER_RESTORE_SWEEP_S: float = Field(default=100, gt=0)
    """How often a worker looks for unacknowledged tasks older than the visibility timeout and
    requeues them (kombu's default: ``unacked_restore_interval`` 10 s x ``unacked_restore_throttle``
    10); a worker also looks once each time it connects."""
    RESULT_CHORD_EXPIRES_S: int = Field(default=86400, ge=1)
    """How long a chord's state (its finished parts) lives in Redis: longer than any redelivery
    (checked: see ``chord_state_must_outlive_s``)."""
    BROKER_RECONNECT_INTERVAL_MAX_S: float = Field(default=30, gt=0)
    """Longest wait between two attempts of a worker to reconnect to the broker (forever)."""
    DATABASE_CONNECT_TIMEOUT_S: int = Field(default=10, ge=2)
    """PostgreSQL: give up a connection attempt after this long (libpq's minimum is 2 s)."""
    DATABASE_STATEMENT_TIMEOUT_S: float = Field(default=120, ge=0)
    """PostgreSQL: the server cancels a statement running longer than this (0: never)."""

    # Program clock (RESILIENCE_MODEL.md section 0)
    PROGRAM_TIMEZONE: str = "America/New_York"
    AM_START: time = time(8, 0)
    AM_END: time = time(12, 0)
    PM_START: time = time(13, 0)
    PM_END: time = time(17, 0)
    """Clock times (HH:MM) of the half-days, in the program's time zone: AM before PM."""

    # Utilization levels (RESILIENCE_MODEL.md section 4)
    UTILIZATION_YELLOW: float = 0.70
    UTILIZATION_ORANGE: float = 0.80
    UTILIZATION_RED: float = 0.90
    UTILIZATION_BLACK: float = 0.95

    # Health check
    HEALTH_CHECK_DAYS: int = Field(default=7, ge=1)
    CONTINGENCY_HEALTH_DAYS: int = Field(default=14, ge=1)
    URGENT_GAP_HOURS: int = Field(default=48, ge=1)
    """A gap in patient-safety or ACGME work starting within this many hours is BLACK."""
    CONTINGENCY_CHUNK_DAYS: int = Field(default=30, ge=1)
    """Days per chunk when the daily analysis is split into a chord across workers."""
    CONTINGENCY_DAYS: int = Field(default=90, ge=1, le=CONTINGENCY_MAX_DAYS)
    """Days the daily contingency report (and ``analyze contingency``) covers by default."""
    CONTINGENCY_RERUN_MAX: int = Field(default=3, ge=0)
    """Times the daily analysis is started again after it (or its merge) finally failed on a
    database or broker error, its retries spent."""
    CONTINGENCY_RERUN_DELAY_S: float = Field(default=900, gt=0)
    """Wait before such a re-run (keep it below BROKER_VISIBILITY_TIMEOUT_S)."""

    # Fallback schedules (RESILIENCE_MODEL.md section 6)
    FALLBACK_DAYS: int = Field(default=90, ge=1, le=CONTINGENCY_MAX_DAYS)
    """Days ahead the weekly fallback precomputation covers by default."""
    FALLBACK_SOLVER_TIME_LIMIT_S: float = Field(default=120, gt=0)
    """Time limit of one CP-SAT solve (a fallback makes a few: keep their sum below the task's
    soft time limit, 540 s)."""
    FALLBACK_SOLVER_WORKERS: int = Field(default=1, ge=1)
    """CP-SAT's parallel workers per solve; 1 gives the same fallback for the same seed."""
    FALLBACK_SOLVER_SEED: int = Field(default=0, ge=0)
    """CP-SAT's random seed."""

    # Forecast and early warning (RESILIENCE_MODEL.md section 7)
    FORECAST_DAYS: int = Field(default=90, ge=1, le=FORECAST_MAX_DAYS)
    """Days ahead the daily forecast (and ``analyze forecast``) covers by default."""
    FORECAST_SAMPLES: int = Field(default=10000, ge=100, le=1_000_000)
    """Monte Carlo samples per day (10,000: 95 % error at most +/-0.0098)."""
    SHORTFALL_PROBABILITY_THRESHOLD: float = Field(default=0.10, gt=0, lt=1)
    """A day whose shortfall probability exceeds this is high-risk."""
    UNPLANNED_ABSENCE_DEFAULT_RATE: float = Field(default=0.02, ge=0, lt=1)
    """Daily chance of an unplanned absence per faculty member while the history is too short."""
    FORECAST_HISTORY_DAYS: int = Field(default=365, ge=1)
    """Days of past absences the unplanned absence rates are learned from."""
    FORECAST_MIN_HISTORY_DAYS: int = Field(default=28, ge=1)
    """Below this many days of recorded history the default rate is used."""
    EARLY_WARNING_WINDOW_DAYS: int = Field(default=14, ge=3)
    """Daily values per rolling window of the early-warning indicators."""
    EARLY_WARNING_MIN_DAYS: int = Field(default=30, ge=5)
    """Fewest days of health-check history the early warning is tested on (at least the
    window plus 2)."""
    EARLY_WARNING_P_VALUE: float = Field(default=0.05, gt=0, lt=1)
    """Significance of each one-sided Kendall test (variance and autocorrelation rising)."""

    # Automatic load shedding (RESILIENCE_MODEL.md section 5)
    AUTO_SHED_LOAD: bool = False
    """Let the health check shed load by itself, following the defense level up to ORANGE."""
    AUTO_SHED_RECOVERY_MIN: int = Field(default=60, ge=1)
    """Automatic shedding steps down only after the level stayed lower this many minutes."""

    # Alerts (RESILIENCE_MODEL.md section 8)
    ALERT_COOLDOWN_HOURS: float = Field(default=24, gt=0)
    """An unchanged active alert notifies again only after this many hours."""
    RESILIENCE_ALERT_RECIPIENTS: str = ""
    """Comma-separated email addresses that receive alerts (the seed's name; empty: none)."""
    ALERT_EMAIL_MIN_LEVEL: AlertLevelName = "warning"
    """Alerts below this level are not emailed (in-app always shows them)."""
    ALERT_WEBHOOK_MIN_LEVEL: AlertLevelName = "info"
    """Alerts below this level are not posted to the webhooks."""
    WEBHOOK_URLS: str = ""
    """Comma-separated http(s) URLs that receive every alert as a signed POST."""
    WEBHOOK_SECRET: SecretStr = SecretStr("")
    """Signing secret, ``whsec_`` + base64 of 24-64 random bytes (Standard Webhooks)."""
    WEBHOOK_ALLOW_PRIVATE: bool = False
    """Allow webhook URLs on loopback, private, link-local or metadata addresses."""
    WEBHOOK_TIMEOUT_S: float = Field(default=10, gt=0)
    SMTP_HOST: str = ""
    """Mail server; empty turns email off."""
    SMTP_PORT: int = Field(default=587, ge=1, le=65535)
    SMTP_TLS: Literal["starttls", "tls", "none"] = "starttls"
    """``starttls`` (port 587), ``tls`` (implicit TLS, port 465) or ``none`` (not in
    production); the server's certificate is always verified."""
    SMTP_USER: str = ""
    SMTP_PASSWORD: SecretStr = SecretStr("")
    SMTP_FROM: str = "residency-scheduler@localhost"
    SMTP_CA_FILE: Path | None = None
    """CA bundle to verify the mail server with (default: the system's)."""
    SMTP_TIMEOUT_S: float = Field(default=10, gt=0)
    PUBLIC_URL: str = ""
    """Where people open the dashboard; emails and webhooks link there. Empty means
    ``http://localhost:API_PORT`` (see ``public_url``)."""
    NOTIFICATION_RETRY_MAX: int = Field(default=6, ge=0)
    """Retries of a delivery that failed on a passing error (backoff as TASK_RETRY_*)."""

    # Operations
    BEAT_LOCK_TIMEOUT_S: int = Field(default=60, ge=15)
    """Redis: a beat that stops renewing its lock (killed, host lost) loses it after this long,
    and a waiting beat takes over."""
    RETENTION_DAYS: int = Field(default=90, ge=1)
    """Health checks, contingency reports (the newest kept), resolved alerts and deliveries
    older than this many days are deleted by the daily prune task."""
    FLOWER_BASIC_AUTH: str = ""
    """``user:password`` Flower asks for (``celery ... flower`` refuses to start without it
    under docker-compose); Flower itself has no authentication."""
    SENTRY_DSN: str = ""
    """When set, worker, beat and CLI errors go to this Sentry project."""
    LOG_FORMAT: Literal["text", "json"] = "text"
    """``json``: one JSON object per log line, for log shippers."""
    API_URL: str = ""
    """Where ``scripts/health-check.sh`` looks for the HTTP API once it is deployed; empty
    means ``http://localhost:API_PORT`` (see ``api_url``)."""

    # Metrics
    METRICS_PORT: int = 9808
    """Port of the worker's Prometheus exposition (0 turns it off)."""
    METRICS_HOST: str = "127.0.0.1"
    """Address the exposition binds: loopback unless a container publishes it (0.0.0.0)."""

    # HTTP API and dashboard
    API_HOST: str = "127.0.0.1"
    """Address the API (uvicorn) binds in ``make run``: loopback unless published."""
    API_PORT: int = Field(default=8000, ge=1, le=65535)
    METRICS_TOKEN: str = ""
    """When set, the API's ``/metrics`` needs ``Authorization: Bearer <METRICS_TOKEN>``."""
    SESSION_SECRET: str = ""
    """Signs dashboard sessions and CSRF tokens (32+ characters). The API refuses to start in
    production without it; elsewhere empty means a random one per process (sessions end when
    the API restarts)."""
    SESSION_MAX_AGE_S: int = Field(default=8 * 3600, ge=60)
    """A dashboard session ends this long after sign-in."""
    SIGNIN_MAX_FAILURES: int = Field(default=5, ge=1)
    """Failed sign-ins (bad tokens) one client address may make per SIGNIN_WINDOW_S; more get
    HTTP 429 until the window has passed."""
    SIGNIN_WINDOW_S: float = Field(default=300, gt=0)

    @model_validator(mode="after")
    def _check_thresholds(self) -> Settings:
        levels = [
            self.UTILIZATION_YELLOW,
            self.UTILIZATION_ORANGE,
            self.UTILIZATION_RED,
            self.UTILIZATION_BLACK,
        ]
        if levels != sorted(levels) or not all(0 < x <= 10 for x in levels):
            raise ValueError("UTILIZATION_* thresholds must be positive and increasing")
        if self.EARLY_WARNING_MIN_DAYS < self.EARLY_WARNING_WINDOW_DAYS + 2:
            raise ValueError(
                "EARLY_WARNING_MIN_DAYS must be at least EARLY_WARNING_WINDOW_DAYS + 2"
            )
        if not self.AM_START < self.AM_END <= self.PM_START < self.PM_END:
            raise ValueError("half-day times must satisfy AM_START < AM_END <= PM_START < PM_END")
        if not self.chord_state_must_outlive_s < self.RESULT_CHORD_EXPIRES_S:
            raise ValueError(
                f"RESULT_CHORD_EXPIRES_S ({self.RESULT_CHORD_EXPIRES_S}) must exceed"
                f" {self.chord_state_must_outlive_s:.0f} s: BROKER_VISIBILITY_TIMEOUT_S"
                f" + BROKER_RESTORE_SWEEP_S + {TASK_TIME_LIMIT_S} s time limit"
                " + TASK_RETRY_BACKOFF_MAX_S, or a chord whose worker died mid-chunk"
                " never merges"
            )
        derives_from_redis = not (self.CELERY_BROKER_URL and self.CELERY_RESULT_BACKEND)
        if derives_from_redis and not self.EMBEDDED_BROKER:
            try:
                redis_db(self.REDIS_URL)
            except ValueError as exc:  # never the value: the URL may hold a password
                raise ValueError(f"REDIS_URL: {exc}") from None
        if self.SESSION_SECRET and len(self.SESSION_SECRET) < 32:
            raise ValueError("SESSION_SECRET must be at least 32 characters")
        self._check_notifications()
        if self.ENVIRONMENT == "production" and (weak := placeholder_secrets(self)):
            raise ValueError(
                f"{', '.join(weak)}: placeholder or missing password or secret refused when"
                " ENVIRONMENT=production (set a real one)"
            )
        try:
            ZoneInfo(self.PROGRAM_TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"PROGRAM_TIMEZONE {self.PROGRAM_TIMEZONE!r} is not an IANA time zone"
            ) from None
        return self

    def _check_notifications(self) -> None:
        # Imported here: the notification rules import nothing from the settings.
        from app.notifications.messages import check_email_address, check_url, webhook_key

        # Each problem names the setting, never the value (a URL may carry a token).
        checks: list[tuple[str, Callable[[str], object], str]] = [
            ("RESILIENCE_ALERT_RECIPIENTS", check_email_address, a) for a in self.alert_recipients
        ]
        checks += [("SMTP_FROM", check_email_address, self.SMTP_FROM)]
        checks += [("WEBHOOK_URLS", check_url, u) for u in self.webhook_urls]
        if self.webhook_urls:
            checks += [("WEBHOOK_SECRET", webhook_key, self.WEBHOOK_SECRET.get_secret_value())]
        for name, check, value in checks:
            try:
                check(value)
            except InputError as exc:
                reason = str(exc).split(":", 1)[0] if name != "WEBHOOK_SECRET" else str(exc)
                raise ValueError(f"{name}: {reason}") from None
        if self.SMTP_TLS == "none" and self.ENVIRONMENT == "production":
            raise ValueError("SMTP_TLS=none is refused in production: use starttls or tls")

    @property
    def alert_recipients(self) -> list[str]:
        """RESILIENCE_ALERT_RECIPIENTS as a list."""
        return [a.strip() for a in self.RESILIENCE_ALERT_RECIPIENTS.split(",") if a.strip()]

    @property
    def webhook_urls(self) -> list[str]:
        """WEBHOOK_URLS as a list."""
        return [u.strip() for u in self.WEBHOOK_URLS.split(",") if u.strip()]

    @property
    def chord_state_must_outlive_s(self) -> float:
        """Longest time from a chord part's last sign of life to its redelivered run's end.

        A part delivered to a worker that dies stays unacknowledged; Redis hands it out again
        once it is older than the visibility timeout, at the next restore sweep; it then runs
        (up to the hard time limit, after its retry countdown at most). Every finished part
        renews the chord's expiry, so the state must outlive this span.
        """
        return (
            self.BROKER_VISIBILITY_TIMEOUT_S
            + self.BROKER_RESTORE_SWEEP_S
            + TASK_TIME_LIMIT_S
            + self.TASK_RETRY_BACKOFF_MAX_S
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def database_url(self) -> str:
        """The database in use: DATABASE_URL, else SQLite in DATA_DIR."""
        if self.DATABASE_URL:
            return self.DATABASE_URL
        return f"sqlite:///{self.DATA_DIR / 'scheduler.db'}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def api_url(self) -> str:
        """The HTTP API's address: API_URL, else this host on API_PORT (where ``make run``
        serves it)."""
        return self.API_URL or f"http://localhost:{self.API_PORT}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def public_url(self) -> str:
        """Where emails and webhooks link to: PUBLIC_URL, else the dashboard on this host's
        API_PORT (where ``make run`` serves it)."""
        return self.PUBLIC_URL or f"http://localhost:{self.API_PORT}"

    @computed_field  # type: ignore[prop-decorator]
    @property
    def broker_url(self) -> str:
        """The Celery broker in use."""
        if self.CELERY_BROKER_URL:
            return self.CELERY_BROKER_URL
        if self.EMBEDDED_BROKER:
            return "filesystem://localhost/"
        return _with_redis_db(self.REDIS_URL, 0)  # REDIS_URL's own database

    @computed_field  # type: ignore[prop-decorator]
    @property
    def result_backend(self) -> str:
        """The Celery result backend in use."""
        if self.CELERY_RESULT_BACKEND:
            return self.CELERY_RESULT_BACKEND
        if self.EMBEDDED_BROKER:
            return f"db+sqlite:///{self.DATA_DIR / 'celery-results.db'}"
        return _with_redis_db(self.REDIS_URL, 1)  # the one after the broker's

    @property
    def queues(self) -> list[str]:
        return [q.strip() for q in self.CELERY_QUEUES.split(",") if q.strip()]


PLACEHOLDER_PASSWORDS = frozenset({"", "change-me", "changeme", "password", "secret", "scheduler"})
"""Passwords refused in production: the examples' and docker-compose's defaults, and none."""
MIN_DISTINCT_CHARACTERS = 4
"""A secret of fewer distinct characters (``xxxxxxxx``, a key of zero bytes) is a placeholder."""


def is_placeholder(secret: str | bytes) -> bool:
    """Whether ``secret`` is a placeholder: one of PLACEHOLDER_PASSWORDS (any case), anything
    containing "change me" (``CHANGE-ME-32-random-characters``), or fewer than
    MIN_DISTINCT_CHARACTERS distinct characters; a decoded key's bytes are read as Latin-1."""
    text = secret.decode("latin-1") if isinstance(secret, bytes) else secret
    squeezed = re.sub(r"[^a-z0-9]", "", text.lower())
    return (
        len(set(text)) < MIN_DISTINCT_CHARACTERS
        or text.lower() in PLACEHOLDER_PASSWORDS
        or "changeme" in squeezed
    )


def placeholder_secrets(settings: Settings) -> list[str]:
    """Names of the settings whose password or secret is a placeholder (never the value).

    A URL with no password is refused only for PostgreSQL: Redis on a private network
    without ``requirepass`` is an operator's choice (docs/operations.md says why not).
    SMTP_PASSWORD is checked when the engine signs in to a mail server (SMTP_HOST and
    SMTP_USER set), WEBHOOK_SECRET when WEBHOOK_URLS is set; SESSION_SECRET and METRICS_TOKEN
    when set (empty: the API refuses to start in production without SESSION_SECRET, and
    ``/metrics`` is open without METRICS_TOKEN).
    """
    weak = []
    urls = {"DATABASE_URL": settings.DATABASE_URL, "REDIS_URL": settings.REDIS_URL}
    urls |= {"CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
    for name, url in urls.items():
        if not url.strip():
            continue
        password = urlsplit(url).password
        if password is None and not url.startswith("postgresql"):
            continue
        if is_placeholder(password or ""):
            weak.append(name)
    if settings.FLOWER_BASIC_AUTH:
        pairs = settings.FLOWER_BASIC_AUTH.split(",")
        if any(is_placeholder(pair.partition(":")[2]) for pair in pairs):
            weak.append("FLOWER_BASIC_AUTH")
    smtp_password = settings.SMTP_PASSWORD.get_secret_value()
    if settings.SMTP_HOST and settings.SMTP_USER and is_placeholder(smtp_password):
        weak.append("SMTP_PASSWORD")
    if settings.webhook_urls and _webhook_secret_is_placeholder(settings):
        weak.append("WEBHOOK_SECRET")
    for name in ("SESSION_SECRET", "METRICS_TOKEN"):
        value = getattr(settings, name)
        if value and is_placeholder(value):
            weak.append(name)
    return weak


def _webhook_secret_is_placeholder(settings: Settings) -> bool:
    from app.notifications.messages import WEBHOOK_SECRET_PREFIX, webhook_key

    secret = settings.WEBHOOK_SECRET.get_secret_value()
    try:
        key = webhook_key(secret)
    except InputError:
        return True  # not a key at all (refused with its reason before this check)
    return is_placeholder(secret.removeprefix(WEBHOOK_SECRET_PREFIX)) or is_placeholder(key)


def settings_error_message(error: ValidationError) -> str:
    """What is wrong with the settings: each field and the reason, never a value.

    Pydantic's own message shows each bad input, and for a check across fields the whole
    input, cut short: the start of a password in ``REDIS_URL`` or ``DATABASE_URL`` could show.
    """
    problems = []
    for item in error.errors(include_url=False, include_input=False, include_context=False):
        field = ".".join(str(part) for part in item["loc"])
        reason = item["msg"].removeprefix("Value error, ")
        problems.append(f"{field}: {reason}" if field else reason)
    return "bad settings (environment or backend/.env): " + "; ".join(problems)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``).

    Raises:
        ConfigurationError: a setting is invalid; the message names it and the reason, and
            shows no value (it may be a secret).
    """
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigurationError(settings_error_message(exc)) from None


def remember_embedded_broker(env_file: Path = ENV_FILE) -> bool:
    """Write ``EMBEDDED_BROKER=true`` to ``env_file`` when no broker is configured anywhere.

    ``make run`` calls this, so that every other tool started later (the CLI, ``celery
    inspect``, ``scripts/health-check.sh``) finds the same embedded broker without the user
    setting anything. Nothing is written when the environment sets ``REDIS_URL`` or
    ``CELERY_BROKER_URL``, or sets ``EMBEDDED_BROKER`` to false, or when ``env_file`` already
    has a line for any of the three.

    Returns:
        Whether the line was written.
    """
    if any(os.environ.get(name) for name in _BROKER_SETTINGS[:2]):
        return False
    if os.environ.get("EMBEDDED_BROKER", "true").strip().lower() not in ("true", "1", "yes"):
        return False
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    names = "|".join(_BROKER_SETTINGS)
    if re.search(rf"^\s*(?:export\s+)?(?:{names})\s*=", text, re.MULTILINE):
        return False
    lead = "" if not text or text.endswith("\n") else "\n"
    env_file.write_text(
        f"{text}{lead}# Written by `make run`: no REDIS_URL configured, so every tool uses the\n"
        "# embedded broker (kombu's filesystem transport) under DATA_DIR.\n"
        "EMBEDDED_BROKER=true\n",
        encoding="utf-8",
    )
    return True
