"""Logging for the command line, the worker, beat and the API: one format, secrets masked.

One handler on the root logger, installed by ``configure_logging`` (the CLI calls it; Celery's
``setup_logging`` signal makes worker and beat call it instead of configuring their own). Each
line says when, the level, the process, the logger and, inside a Celery task, the task's name
and id, whatever logger wrote it. ``LOG_FORMAT=json`` writes the same fields as one JSON
object per line, for log shippers.

Connection strings end up in log lines (a failed connection, a banner, a traceback). The
``SecretMaskingFilter`` sits on the handler and replaces the password of any
``scheme://user:password@host`` URL, the user part of an ``http(s)://key@host`` URL (a Sentry
DSN's key), and any ``password=``, ``token=``, ``secret=``, ``api_key=`` pair or ``Bearer``
credential, with ``***`` before the record is written, tracebacks included.

Celery prints the broker as kombu renders it, with ``**`` for a password whether there is one
or not (``Connected to redis://:**@127.0.0.1:6379/0``). For a host whose configured URLs have
no password the filter drops that placeholder (``redis://127.0.0.1:6379/0``); anywhere else it
is masked as any password is.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Collection, Iterable
from datetime import UTC, datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

from app.core.config import get_settings

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)(?P<secret>[^@\s/]+)@")
_URL_KEY = re.compile(r"(?P<head>https?://)(?P<secret>[^/\s:@]+)@", re.IGNORECASE)
_KEY_VALUE_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|token|secret|api[_-]?key|basic[_-]?auth)"
    r"\s*[=:]\s*['\"]?)(?P<secret>[^\s'\",;&]+)",
    re.IGNORECASE,
)
_KOMBU_PLACEHOLDER = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^/\s:@]*):\*\*@(?P<host>[^/\s:@?#]+)"
)
"""A URL as kombu's ``Connection.as_uri()`` renders it: ``**`` for a password that may not
exist."""
_BEARER = re.compile(r"(?P<head>\bBearer\s+)(?P<secret>[A-Za-z0-9._~+/=-]+)", re.IGNORECASE)

TEXT_FORMAT = "%(asctime)s %(levelname)-7s [%(processName)s] %(name)s: %(message)s"


def passwordless_hosts(urls: Iterable[str]) -> frozenset[str]:
    """The ``scheme://[user@]host`` of ``urls`` for which none of ``urls`` has a password.

    Args:
        urls: connection URLs, e.g. ``redis://127.0.0.1:6379/0``; empty ones are skipped.

    Returns:
        Lower-cased keys such as ``redis://127.0.0.1`` or ``redis://app@cache``: a host
        reached with and without a password (another port, another user) is not among them.
    """
    open_hosts: set[str] = set()
    guarded: set[str] = set()
    for url in urls:
        try:
            parts = urlsplit(url.strip())
            host = parts.hostname
        except ValueError:
            continue
        if not host:
            continue
        user = f"{parts.username}@" if parts.username else ""
        key = f"{parts.scheme}://{user}{host}".lower()
        (guarded if parts.password is not None else open_hosts).add(key)
    return frozenset(open_hosts - guarded)


def mask_secrets(text: str, passwordless: Collection[str] = ()) -> str:
    """``text`` with the passwords of URLs and ``password=`` pairs replaced by ``***``.

    Args:
        text: any text, e.g. ``redis://:hunter2@redis:6379/0``.
        passwordless: ``passwordless_hosts`` of the configured URLs: kombu's ``**``
            placeholder in a URL of one of these hosts is dropped, not masked.

    Returns:
        The same text with secrets masked, e.g. ``redis://:***@redis:6379/0``.
    """
    if passwordless:

        def unmask(match: re.Match[str]) -> str:
            scheme, user, host = match["scheme"], match["user"], match["host"]
            at = f"{user}@" if user else ""
            if f"{scheme}://{at}{host}".lower() not in passwordless:
                return match[0]  # masked below
            return f"{scheme}://{at}{host}"

        text = _KOMBU_PLACEHOLDER.sub(unmask, text)
    text = _URL_PASSWORD.sub(rf"\g<head>{MASK}@", text)
    text = _URL_KEY.sub(rf"\g<head>{MASK}@", text)
    text = _BEARER.sub(rf"\g<head>{MASK}", text)
    return _KEY_VALUE_PASSWORD.sub(rf"\g<head>{MASK}", text)


class SecretMaskingFilter(logging.Filter):
    """Masks secrets in a record's message and traceback; never drops a record.

    Args:
        passwordless: ``passwordless_hosts`` of the configured URLs (see ``mask_secrets``).
    """

    def __init__(self, passwordless: Collection[str] = ()) -> None:
        super().__init__()
        self.passwordless = frozenset(passwordless)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_secrets(message, self.passwordless)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            # Format the traceback once here so handlers print the masked copy.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text, self.passwordless)
        return True


def _current_task() -> tuple[str, str] | None:
    """``(name, id)`` of the Celery task running in this process, if any."""
    from celery import current_task

    request = getattr(current_task, "request", None) if current_task else None
    task_id = getattr(request, "id", None)
    return (str(current_task.name), str(task_id)) if task_id else None


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT``, with ``task=NAME id=ID`` before the message inside a task."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib name)
        task = _current_task()
        if task is None:
            return super().formatMessage(record)
        saved = record.message
        record.message = f"task={task[0]} id={task[1]}: {saved}"
        try:
            return super().formatMessage(record)
        finally:
            record.message = saved


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, process, logger, message, task, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "process": record.processName,
            "pid": record.process,
            "logger": record.name,
            "message": record.getMessage(),
        }
        task = _current_task()
        if task is not None:
            line["task_name"], line["task_id"] = task
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str | None = None, stream: TextIO | None = None) -> None:
    """Log to ``stream`` (standard error by default) at ``level`` (default: LOG_LEVEL), in the
    ``LOG_FORMAT`` of the settings.

    Calling it again replaces the handler it installed before rather than adding a second one.

    Args:
        level: a level name such as ``"INFO"``; ``None`` uses the LOG_LEVEL setting.
        stream: where to write; ``None`` means ``sys.stderr``.
    """
    settings = get_settings()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_scheduler_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._scheduler_handler = True  # type: ignore[attr-defined]
    json_lines = settings.LOG_FORMAT == "json"
    handler.setFormatter(JsonFormatter() if json_lines else TextFormatter())
    # Celery prints the broker and result URLs: the hosts among them without a password.
    urls = [settings.REDIS_URL, settings.broker_url, settings.result_backend]
    handler.addFilter(SecretMaskingFilter(passwordless_hosts(urls)))
    root.addHandler(handler)
    root_level = (level or settings.LOG_LEVEL).upper()
    root.setLevel(root_level)
    # Alembic says "Context impl SQLiteImpl", "Will assume transactional DDL" at INFO on every
    # migration: noise in a command's output. Its INFO lines show only under DEBUG.
    logging.getLogger("alembic").setLevel("DEBUG" if root_level == "DEBUG" else "WARNING")
