"""Log lines never show a password, whatever the handler."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from app.core.logging import MASK, SecretMaskingFilter, configure_logging, mask_secrets

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
