"""Log lines never show a password, whatever the handler."""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator

import pytest
from kombu import Connection

from app.core.config import get_settings
from app.core.logging import (
    MASK,
    SecretMaskingFilter,
    configure_logging,
    mask_secrets,
    passwordless_hosts,
)

SECRETS = ["hunter2", "p@ss:word", "s3cr%40t"]


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


TEMPLATES = [
    "redis://:{s}@redis:6379/0",
    "postgresql+psycopg://scheduler:{s}@db:5432/scheduler",
    "host=db user=app password={s} dbname=x",
]
# An unencoded "@" is not valid in a URL's password, so URLs get only the other secrets.
CASES = [(t, s) for t in TEMPLATES for s in SECRETS if "://" not in t or "@" not in s]


@pytest.mark.parametrize("template, secret", CASES)
def test_mask_secrets_hides_password_when_text_holds_one(template: str, secret: str) -> None:
    text = f"cannot connect to {template.format(s=secret)}"

    masked = mask_secrets(text)

    assert secret not in masked and MASK in masked


def test_mask_secrets_keeps_text_when_no_password() -> None:
    text = "redis://redis:6379/0 and http://localhost:8000/health at 08:00"

    assert mask_secrets(text) == text


def test_configured_logging_masks_message_and_traceback_when_logged(
    root_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    configure_logging("INFO", stream=stream)  # a second call must not double the output
    log = logging.getLogger("tests.logging")

    log.info("broker at %s", "redis://:hunter2@cache:6379/0")
    try:
        raise ConnectionError("password=hunter2 refused")
    except ConnectionError:
        log.exception("lost the database")

    output = stream.getvalue()
    assert "hunter2" not in output
    assert output.count("broker at redis://:***@cache:6379/0") == 1
    assert "ConnectionError: password=*** refused" in output


def test_filter_never_drops_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("text",), None)

    assert SecretMaskingFilter().filter(record)
    assert record.getMessage() == "plain text"


def test_passwordless_hosts_leaves_out_a_host_when_any_of_its_urls_has_a_password() -> None:
    urls = [
        "redis://127.0.0.1:6379/0",
        "redis://app@Cache.internal/1",
        "redis://guarded:6379/0",
        "redis://:hunter2@guarded:6380/1",
        "db+sqlite:////tmp/results.db",
        "",
    ]

    assert passwordless_hosts(urls) == {"redis://127.0.0.1", "redis://app@cache.internal"}


def test_mask_secrets_drops_kombu_placeholder_only_when_the_host_has_no_password() -> None:
    known = passwordless_hosts(["redis://127.0.0.1:6379/9", "rediss://app@cache:6380/0"])
    text = "Connected to {}"

    shown = [
        mask_secrets(text.format(url), known)
        for url in (
            "redis://:**@127.0.0.1:6379/9",
            "rediss://app:**@cache:6380/0",
            "redis://:**@elsewhere:6379/0",
            "redis://:hunter2@127.0.0.1:6379/9",
            "https://abc123key@o1.ingest.sentry.io/5",
        )
    ]

    assert shown == [
        "Connected to redis://127.0.0.1:6379/9",
        "Connected to rediss://app@cache:6380/0",
        f"Connected to redis://:{MASK}@elsewhere:6379/0",
        f"Connected to redis://:{MASK}@127.0.0.1:6379/9",
        f"Connected to https://{MASK}@o1.ingest.sentry.io/5",
    ]
    assert mask_secrets(text.format("redis://:**@127.0.0.1:6379/9")) == text.format(
        f"redis://:{MASK}@127.0.0.1:6379/9"
    )


@pytest.fixture
def broker_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Make REDIS_URL the only broker setting (the caller's shell must not decide)."""
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "EMBEDDED_BROKER"):
        monkeypatch.delenv(name, raising=False)

    def use(redis_url: str) -> None:
        monkeypatch.setenv("REDIS_URL", redis_url)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("redis_url", "shown"),
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://app@127.0.0.1:6379/0", "redis://app@127.0.0.1:6379/0"),
        ("redis://:hunter2@127.0.0.1:6379/0", f"redis://:{MASK}@127.0.0.1:6379/0"),
        ("rediss://app:hunter2@cache:6380/0", f"rediss://app:{MASK}@cache:6380/0"),
    ],
)
def test_configured_logging_masks_broker_password_only_when_it_has_one(
    root_logger: logging.Logger,
    broker_settings: Callable[[str], None],
    redis_url: str,
    shown: str,
) -> None:
    broker_settings(redis_url)
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)

    # As Celery's worker says it: kombu renders the URL with "**" for any password or none.
    logging.getLogger("celery.worker.consumer.connection").info(
        "Connected to %s", Connection(get_settings().broker_url).as_uri()
    )

    assert f"Connected to {shown}\n" in stream.getvalue()
    assert "hunter2" not in stream.getvalue()
