"""What an alert notification says, with nothing private in it, as an email or a webhook body.

Privacy (RESILIENCE_MODEL.md section 8): absence types and medical or family reasons never
leave the system. ``public_details`` drops every detail whose key names an absence, a type or
a reason, and any value that is an absence type; ``redact`` replaces the names of absence
types in free text (the message too) with ``[private]``. The analyses put no such thing in
their alerts; this is the net under a caller of ``send_resilience_alert`` that does.

Details a notification shows by name: ``who`` (names), ``halfdays`` (e.g. ``2026-12-03 AM``)
and ``action`` (what to do); the other public details follow as a list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.domain.schedule import ABSENCE_TYPES
from app.notifications.messages import EmailMessage

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).parent / "templates"
SHOWN_ITEMS = 20
"""Names and half-days listed in one notification (the dashboard has the rest)."""

_GENERIC_WORDS = {"other", "training"}
"""Absence types that are ordinary words ("cross-training"): dropped as values, not redacted."""
_PRIVATE_KEY = re.compile(r"absence|reason$|^type$|medical|diagnos|family|note", re.IGNORECASE)
_REDACTED = re.compile(
    r"\b(?:"
    + "|".join(
        sorted(
            {t.replace("_", "[ _-]") for t in ABSENCE_TYPES if t not in _GENERIC_WORDS},
            key=len,
            reverse=True,
        )
    )
    + r")\b",
    re.IGNORECASE,
)

DEFAULT_ACTIONS = {
    "info": "No action needed; see the dashboard for details.",
    "warning": "Review the finding on the dashboard and plan cover before it is due.",
    "critical": "Arrange cover for the half-days named above today.",
    "emergency": "Act now: the schedule cannot be covered as it stands.",
}


def redact(text: str) -> str:
    """``text`` with every absence type's name replaced by ``[private]``."""
    return _REDACTED.sub("[private]", text)


def _public(value: Any) -> Any:
    if isinstance(value, str):
        return None if value.lower() in ABSENCE_TYPES else redact(value)
    if isinstance(value, list):
        return [p for p in (_public(v) for v in value) if p is not None]
    if isinstance(value, dict):
        return public_details(value)
    return value


def public_details(details: dict[str, Any]) -> dict[str, Any]:
    """The details that may leave the system (see the module docstring)."""
    out: dict[str, Any] = {}
    for key, value in details.items():
        if _PRIVATE_KEY.search(key):
            continue
        public = _public(value)
        if public is not None or value is None:
            out[key] = public
    return out


@dataclass(frozen=True)
class AlertNotice:
    """One notification of an alert: public content only (make it with ``notice_of``)."""

    alert_id: int
    event: str
    level: str
    message: str
    dedup_key: str
    details: dict[str, Any]
    occurred_at: str
    dashboard_url: str

    @property
    def who(self) -> list[str]:
        return [str(w) for w in self.details.get("who", [])][:SHOWN_ITEMS]

    @property
    def halfdays(self) -> list[str]:
        return [str(h) for h in self.details.get("halfdays", [])][:SHOWN_ITEMS]

    @property
    def action(self) -> str:
        if self.event == "resolved":
            return "Nothing: the finding has gone away."
        return str(self.details.get("action") or DEFAULT_ACTIONS[self.level])

    @property
    def other_details(self) -> list[tuple[str, Any]]:
        skip = {"who", "halfdays", "action", "dedup_key"}
        return [(k, v) for k, v in sorted(self.details.items()) if k not in skip]

    @property
    def subject(self) -> str:
        tag = "RESOLVED" if self.event == "resolved" else self.level.upper()
        return f"[{tag}] {self.message}"[:200]


def notice_of(
    *,
    alert_id: int,
    event: str,
    level: str,
    message: str,
    dedup_key: str,
    details: dict[str, Any],
    occurred_at: str,
    public_url: str,
) -> AlertNotice:
    """The public notice of an alert: private details dropped, free text redacted."""
    return AlertNotice(
        alert_id=alert_id,
        event=event,
        level=level,
        message=redact(message),
        dedup_key=redact(dedup_key),
        details=public_details(details),
        occurred_at=occurred_at,
        dashboard_url=f"{public_url.rstrip('/')}/alerts/{alert_id}",
    )


@lru_cache
def _environment() -> Environment:
    # Imported here: command lines that never render an email need not pay for jinja2.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def alert_email(notice: AlertNotice, to: tuple[str, ...], message_id: str) -> EmailMessage:
    """The email of ``notice``: text and HTML from ``templates/alert.txt`` and ``alert.html``."""
    env = _environment()
    return EmailMessage(
        to=to,
        subject=notice.subject,
        text=env.get_template("alert.txt").render(n=notice),
        html=env.get_template("alert.html").render(n=notice),
        message_id=message_id,
    )


def alert_payload(notice: AlertNotice) -> dict[str, Any]:
    """The webhook body of ``notice`` (Standard Webhooks' ``type``/``timestamp``/``data``)."""
    return {
        "type": f"alert.{notice.event}",
        "timestamp": notice.occurred_at,
        "data": {
            "alert_id": notice.alert_id,
            "level": notice.level,
            "message": notice.message,
            "dedup_key": notice.dedup_key,
            "who": notice.who,
            "halfdays": notice.halfdays,
            "action": notice.action,
            "details": notice.details,
            "url": notice.dashboard_url,
        },
    }
