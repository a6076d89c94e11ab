"""Bad input: a clear error, and nothing stored or sent."""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.core.errors import ConfigurationError, InputError
from app.models.alert import Alert
from app.models.delivery import AlertDelivery
from app.notifications.messages import (
    EmailMessage,
    WebhookMessage,
    check_details,
    check_email_address,
    check_level,
    check_url,
    webhook_key,
)
from app.resilience.tasks import send_resilience_alert


@pytest.mark.parametrize("level", ["WARNING", "severe", "", None, 2])
def test_check_level_refuses_when_level_is_unknown(level: Any) -> None:
    with pytest.raises(InputError, match="unknown alert level"):
        check_level(level)


@pytest.mark.parametrize(
    ("details", "where"),
    [
        ({"when": date(2026, 1, 1)}, "details.when: a date"),
        ({"x": math.nan}, "details.x: nan"),
        ({"x": {"y": [1, {2, 3}]}}, "details.x.y[1]: a set"),
        ({1: "a"}, "key 1 is not text"),
        ([1, 2], "must be a JSON object"),
        ("text", "must be a JSON object"),
        ({"big": "x" * 20_000}, "larger than"),
    ],
)
def test_check_details_refuses_when_not_json(details: Any, where: str) -> None:
    with pytest.raises(InputError, match=where.replace("[", r"\[").replace("]", r"\]")):
        check_details(details)


@pytest.mark.parametrize(
    "address",
    ["pd", "pd@", "@example.org", "Dr PD <pd@example.org>", "pd@example.org\r\nBcc: x@y.z",
     "pd@exa mple.org", "pd@-example.org"],
)  # fmt: skip
def test_check_email_address_refuses_when_not_plain(address: str) -> None:
    with pytest.raises(InputError, match="invalid email address"):
        check_email_address(address)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org/x", "example.org/hook", "http:///nohost", "https://u:p@example.org/",
     "https://example.org:99999/", "https://exa mple.org/"],
)  # fmt: skip
def test_check_url_refuses_when_not_http_with_host(url: str) -> None:
    with pytest.raises(InputError, match="invalid webhook URL") as caught:
        check_url(url)
    assert "u:p" not in str(caught.value)


@pytest.mark.parametrize(
    "secret", ["", "abc", "whsec_!!!", "whsec_" + "QUJD", "whsec_" + "A" * 200]
)
def test_webhook_key_refuses_when_secret_malformed(secret: str) -> None:
    with pytest.raises(InputError, match="WEBHOOK_SECRET") as caught:
        webhook_key(secret)
    assert secret[6:] not in str(caught.value) or not secret[6:]


def test_messages_refuse_bad_fields_when_made() -> None:
    with pytest.raises(InputError, match="at least one recipient"):
        EmailMessage(to=(), subject="s", text="t")
    with pytest.raises(InputError, match="subject"):
        EmailMessage(to=("a@example.org",), subject="a\nBcc: b@example.org", text="t")
    with pytest.raises(InputError, match="not a JSON value"):
        WebhookMessage("https://example.org/", {"x": object()}, "msg_1")
    with pytest.raises(InputError, match="webhook id"):
        WebhookMessage("https://example.org/", {}, "msg 1\r\n")


@pytest.mark.parametrize(
    "values",
    [
        {"RESILIENCE_ALERT_RECIPIENTS": "pd@example.org, not-an-address"},
        {"WEBHOOK_URLS": "https://example.org/a, nothttp"},
        {"WEBHOOK_URLS": "https://example.org/a"},  # no secret
        {"SMTP_TLS": "none", "ENVIRONMENT": "production"},
    ],
)
def test_settings_refuse_bad_notification_values_when_loaded(values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="RESILIENCE|webhook|WEBHOOK|SMTP|email"):
        Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("level", "message", "details", "error"),
    [
        ("severe", "Clinic short", {}, "unknown alert level"),
        ("warning", "", {}, "non-empty"),
        ("warning", "two\nlines", {}, "one line"),
        ("warning", "Clinic short", {"when": date(2026, 1, 1)}, "not a JSON value"),
        ("warning", "Clinic short", ["a"], "JSON object"),
    ],
)
def test_send_resilience_alert_stores_nothing_when_input_is_bad(
    configured_database: Engine, level: str, message: str, details: Any, error: str
) -> None:
    with pytest.raises(InputError, match=error):
        send_resilience_alert(level, message, details)

    with Session(configured_database) as session:
        assert session.scalar(select(func.count()).select_from(Alert)) == 0
        assert session.scalar(select(func.count()).select_from(AlertDelivery)) == 0


def test_configuration_error_names_setting_without_value_when_recipient_bad(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.core.config import get_settings

    monkeypatch.setenv("RESILIENCE_ALERT_RECIPIENTS", "secret-looking-value")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError) as caught:
            get_settings()
    finally:
        get_settings.cache_clear()
    assert "RESILIENCE_ALERT_RECIPIENTS: invalid email address" in str(caught.value)
    assert "secret-looking-value" not in str(caught.value)
