"""Notifications as plain data: checked values, messages, and the protocol of a sender.

Every check raises ``InputError`` with a clear reason before anything is stored or sent. A
message is a frozen dataclass that checks itself when made; rendering (``render``) makes
messages, senders (``email``, ``webhook``) send them, and neither knows about the other.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from app.core.errors import InputError

MAX_MESSAGE_CHARS = 500
MAX_DETAILS_BYTES = 16_384
WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_KEY_BYTES = (24, 64)
"""Standard Webhooks: the secret is 24 to 64 random bytes."""

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*")
_WEBHOOK_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def check_level(level: object) -> str:
    """``level`` if it is an alert level (info, warning, critical, emergency)."""
    # Here, not at the top: the settings check levels, and every command reads the settings;
    # the models (and SQLAlchemy's ORM) are loaded only where a level is checked.
    from app.models.alert import AlertLevel

    names = [lv.value for lv in AlertLevel]
    if not isinstance(level, str) or level not in names:
        raise InputError(f"unknown alert level {level!r}: expected one of {', '.join(names)}")
    return level


def check_message(message: object) -> str:
    """``message`` if it is one non-empty line of at most ``MAX_MESSAGE_CHARS``."""
    if not isinstance(message, str) or not message.strip():
        raise InputError("an alert message must be non-empty text")
    if len(message) > MAX_MESSAGE_CHARS or any(c in message for c in "\r\n\x00"):
        raise InputError(f"an alert message is one line of at most {MAX_MESSAGE_CHARS} characters")
    return message


def _strict_json(value: Any, where: str) -> None:
    if value is None or isinstance(value, bool | int | str):
        if isinstance(value, str) and "\x00" in value:
            raise InputError(f"details{where}: NUL character in text")
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"details{where}: {value} is not a JSON number")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _strict_json(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"details{where}: key {key!r} is not text")
            _strict_json(item, f"{where}.{key}")
        return
    raise InputError(f"details{where}: a {type(value).__name__} is not a JSON value")


def check_details(details: object) -> dict[str, Any]:
    """``details`` if it is a JSON object (text keys; no NaN, sets, dates...), at most 16 KB."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise InputError(f"details must be a JSON object, not a {type(details).__name__}")
    _strict_json(details, "")
    if len(json.dumps(details)) > MAX_DETAILS_BYTES:
        raise InputError(f"details are larger than {MAX_DETAILS_BYTES} bytes of JSON")
    return dict(details)


def check_email_address(address: object) -> str:
    """``address`` if it is a plain ``local@domain`` address (no name, no line break)."""
    if not isinstance(address, str) or not _EMAIL.fullmatch(address):
        raise InputError(f"invalid email address: expected local@domain, got {address!r}")
    return address


def check_url(url: object) -> str:
    """``url`` if it is http(s) with a host and no user or password (the URL is not echoed:
    it may carry a token)."""
    if not isinstance(url, str) or any(c.isspace() for c in url):
        raise InputError("invalid webhook URL: expected http(s)://host/path without spaces")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InputError("invalid webhook URL: bad host or port") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("invalid webhook URL: expected http(s)://host/path")
    if parts.username is not None or parts.password is not None:
        raise InputError("invalid webhook URL: a user or password in the URL is refused")
    return url


def webhook_key(secret: str) -> bytes:
    """The signing key of a ``whsec_``-prefixed base64 secret (the value is never echoed)."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise InputError("WEBHOOK_SECRET must be 'whsec_' + base64 of 24-64 random bytes")
    try:
        key = base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise InputError("WEBHOOK_SECRET: the part after 'whsec_' is not base64") from None
    low, high = WEBHOOK_KEY_BYTES
    if not low <= len(key) <= high:
        raise InputError(f"WEBHOOK_SECRET must decode to {low}-{high} bytes")
    return key


@dataclass(frozen=True)
class EmailMessage:
    """An email: plain text, optionally an HTML alternative, to one or more addresses."""

    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    message_id: str | None = None
    """Kept on every attempt, so that a receiver can tell a repeat (the idempotency key)."""

    def __post_init__(self) -> None:
        if not self.to:
            raise InputError("an email needs at least one recipient")
        for address in self.to:
            check_email_address(address)
        if not self.subject.strip() or any(c in self.subject for c in "\r\n\x00"):
            raise InputError("an email subject is one non-empty line")
        if not self.text.strip():
            raise InputError("an email needs a text body")
        if self.message_id is not None and not _WEBHOOK_ID.fullmatch(self.message_id):
            raise InputError("a message id is 1-64 letters, digits, '_', '.' or '-'")


@dataclass(frozen=True)
class WebhookMessage:
    """A webhook call: a JSON object posted to ``url`` with ``webhook_id`` as its identity."""

    url: str
    payload: dict[str, Any]
    webhook_id: str

    def __post_init__(self) -> None:
        check_url(self.url)
        if not isinstance(self.payload, dict):
            raise InputError("a webhook payload must be a JSON object")
        _strict_json(self.payload, "")
        if not _WEBHOOK_ID.fullmatch(self.webhook_id):
            raise InputError("a webhook id is 1-64 letters, digits, '_', '.' or '-'")

    def body(self) -> bytes:
        """The exact bytes posted (and signed)."""
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True).encode()


M_contra = TypeVar("M_contra", contravariant=True)


class Sender(Protocol[M_contra]):
    """Sends one message or raises ``DeliveryFailed`` (``retryable`` says if a retry may help)."""

    def send(self, message: M_contra) -> None: ...
