"""Logging for the command line, the worker and beat, with secrets masked.

Connection strings end up in log lines (a failed connection, a banner, a traceback). The
``SecretMaskingFilter`` sits on every handler we configure and replaces the password of any
``scheme://user:password@host`` URL, and any ``password=...`` pair, with ``***`` before the
record is written, tracebacks included.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from app.core.config import get_settings

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<secret>[^@\s/]+)@")
_KEY_VALUE_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*['\"]?)(?P<secret>[^\s'\",;&]+)", re.IGNORECASE
)

LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def mask_secrets(text: str) -> str:
    """``text`` with the passwords of URLs and ``password=`` pairs replaced by ``***``.

    Args:
        text: any text, e.g. ``redis://:hunter2@redis:6379/0``.

    Returns:
        The same text with secrets masked, e.g. ``redis://:***@redis:6379/0``.
    """
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    return _KEY_VALUE_PASSWORD.sub(rf"\g<head>{MASK}", text)


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Format the traceback once here so handlers print the masked copy.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


def install_secret_filter(logger: logging.Logger) -> None:
    """Put a ``SecretMaskingFilter`` on each handler of ``logger`` (once per handler)."""
    for handler in logger.handlers:
        if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
            handler.addFilter(SecretMaskingFilter())


def configure_logging(level: str | None = None, stream: TextIO | None = None) -> None:
    """Log to ``stream`` (standard error by default) at ``level`` (default: LOG_LEVEL).

    Calling it again replaces the handler it installed before rather than adding a second one.

    Args:
        level: a level name such as ``"INFO"``; ``None`` uses the LOG_LEVEL setting.
        stream: where to write; ``None`` means ``sys.stderr``.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_scheduler_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._scheduler_handler = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(SecretMaskingFilter())
    root.addHandler(handler)
    root_level = (level or get_settings().LOG_LEVEL).upper()
    root.setLevel(root_level)
    # Alembic says "Context impl SQLiteImpl", "Will assume transactional DDL" at INFO on every
    # migration: noise in a command's output. Its INFO lines show only under DEBUG.
    logging.getLogger("alembic").setLevel("DEBUG" if root_level == "DEBUG" else "WARNING")
