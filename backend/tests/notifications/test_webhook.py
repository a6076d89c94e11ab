"""Signed webhooks against a real local HTTP server; address checks; retry classes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.core.errors import DeliveryFailed
from app.notifications import webhook
from app.notifications.messages import WebhookMessage
from app.notifications.webhook import PinnedTransport, WebhookSender, refused_reason
from tests.support.receivers import WebhookReceiver, make_ca, make_server_cert

KEY = os.urandom(32)
SECRET = "whsec_" + base64.b64encode(KEY).decode()


def settings(**values: Any) -> Settings:
    base: dict[str, Any] = {"WEBHOOK_SECRET": SECRET, "WEBHOOK_ALLOW_PRIVATE": True}
    return Settings(_env_file=None, **(base | values))  # type: ignore[arg-type]


def verify(headers: dict[str, str], body: bytes, key: bytes, tolerance_s: int = 300) -> bool:
    """The Standard Webhooks verification recipe, written from the spec (docs/operations.md)."""
    msg_id, stamp = headers["webhook-id"], headers["webhook-timestamp"]
    if abs(time.time() - int(stamp)) > tolerance_s:
        return False
    expected = base64.b64encode(
        hmac.new(key, msg_id.encode() + b"." + stamp.encode() + b"." + body, "sha256").digest()
    ).decode()
    return any(
        version == "v1" and hmac.compare_digest(sig, expected)
        for version, _, sig in (p.partition(",") for p in headers["webhook-signature"].split())
    )


def test_webhook_posts_signed_body_when_receiver_accepts() -> None:
    payload = {"type": "alert.raised", "data": {"level": "warning", "n": 1.5}}
    with WebhookReceiver() as receiver:
        WebhookSender(settings()).send(WebhookMessage(receiver.url(), payload, "msg_abc"))

    [got] = receiver.received
    assert got.path == "/hook"
    assert got.json() == payload
    assert got.headers["content-type"] == "application/json"
    assert got.headers["webhook-id"] == "msg_abc"
    assert verify(got.headers, got.body, KEY)
    assert not verify(got.headers, got.body + b" ", KEY)
    assert not verify(got.headers, got.body, os.urandom(32))
    digest = hmac.new(KEY, f"msg_abc.{got.headers['webhook-timestamp']}.".encode() + got.body,
                      hashlib.sha256).digest()  # fmt: skip
    assert got.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


def test_webhook_keeps_host_header_when_connecting_to_pinned_address() -> None:
    with WebhookReceiver() as receiver:
        pins = {("alerts.example.test", receiver.port): "127.0.0.1"}
        with httpx.Client(transport=PinnedTransport(pins), trust_env=False) as client:
            client.post(f"http://alerts.example.test:{receiver.port}/x", content=b"{}")
            with pytest.raises(httpx.ConnectError, match="not checked"):
                client.post(f"http://other.example.test:{receiver.port}/x", content=b"{}")

    [got] = receiver.received
    assert got.headers["host"] == f"alerts.example.test:{receiver.port}"


@pytest.mark.parametrize("status", [500, 502, 503])
def test_webhook_failure_is_retryable_when_receiver_answers_5xx(status: int) -> None:
    with WebhookReceiver([status]) as receiver, pytest.raises(DeliveryFailed) as caught:
        WebhookSender(settings()).send(WebhookMessage(receiver.url(), {}, "msg_1"))
    assert caught.value.retryable
    assert str(status) in str(caught.value)


@pytest.mark.parametrize("status", [400, 401, 404, 410, 422])
def test_webhook_failure_is_final_when_receiver_answers_4xx(status: int) -> None:
    with WebhookReceiver([status]) as receiver, pytest.raises(DeliveryFailed) as caught:
        WebhookSender(settings()).send(WebhookMessage(receiver.url(), {}, "msg_1"))
    assert not caught.value.retryable
    assert len(receiver.received) == 1


def test_webhook_redirect_not_followed_when_receiver_answers_302() -> None:
    expected = pytest.raises(DeliveryFailed, match="redirect not followed")
    with WebhookReceiver([302]) as receiver, expected as caught:
        WebhookSender(settings()).send(WebhookMessage(receiver.url(), {}, "msg_1"))
    assert not caught.value.retryable
    assert len(receiver.received) == 1


def test_webhook_failure_is_retryable_when_receiver_times_out() -> None:
    expected = pytest.raises(DeliveryFailed, match="timed out")
    with WebhookReceiver(delay_s=1.5) as receiver, expected as caught:
        WebhookSender(settings(WEBHOOK_TIMEOUT_S=0.3)).send(
            WebhookMessage(receiver.url(), {}, "msg_1")
        )
    assert caught.value.retryable


def test_webhook_failure_is_retryable_when_nothing_listens() -> None:
    with WebhookReceiver() as receiver:
        url = receiver.url()
    with pytest.raises(DeliveryFailed) as caught:
        WebhookSender(settings()).send(WebhookMessage(url, {}, "msg_1"))
    assert caught.value.retryable


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.1.2.3"])
def test_webhook_refused_when_host_is_loopback_and_private_not_allowed(host: str) -> None:
    expected = pytest.raises(DeliveryFailed, match="loopback")
    with WebhookReceiver() as receiver, expected as caught:
        WebhookSender(settings(WEBHOOK_ALLOW_PRIVATE=False)).send(
            WebhookMessage(receiver.url(host), {}, "msg_1")
        )
    assert not caught.value.retryable
    assert receiver.received == []


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("fe80::1", "link-local (cloud metadata)"),
        ("fd00:ec2::254", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local (cloud metadata)"),
        ("100.100.100.200", "not a public address"),
        ("0.0.0.0", "private"),
        ("224.0.0.1", "not a public address"),
        ("8.8.8.8", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refused_reason_names_address_class_when_checked(address: str, reason: str | None) -> None:
    assert refused_reason(address) == reason


def test_webhook_refused_before_connecting_when_metadata_address() -> None:
    with pytest.raises(DeliveryFailed, match="link-local") as caught:
        WebhookSender(settings(WEBHOOK_ALLOW_PRIVATE=False)).send(
            WebhookMessage("http://169.254.169.254/latest/meta-data", {}, "msg_1")
        )
    assert not caught.value.retryable


def test_webhook_refused_when_no_secret_is_set() -> None:
    with WebhookReceiver() as receiver, pytest.raises(DeliveryFailed, match="WEBHOOK_SECRET"):
        WebhookSender(settings(WEBHOOK_SECRET="")).send(WebhookMessage(receiver.url(), {}, "msg_1"))
    assert receiver.received == []


@pytest.fixture
def trusted_ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    """A throwaway CA that the process trusts (SSL_CERT_FILE) and a ``localhost`` server
    certificate it signed."""
    ca = make_ca(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca[0]))
    webhook._tls_context.cache_clear()
    yield make_server_cert(tmp_path, ca)
    webhook._tls_context.cache_clear()


def test_webhook_verifies_certificate_for_host_name_when_connecting_to_pinned_address(
    trusted_ca: tuple[Path, Path],
) -> None:
    with WebhookReceiver(cert=trusted_ca) as receiver:
        # Pinned to 127.0.0.1, checked as "localhost": the certificate names localhost.
        WebhookSender(settings()).send(WebhookMessage(receiver.url("localhost"), {}, "msg_1"))
        # The same address under a name the certificate does not hold: refused, so the check
        # is made for the URL's host name, not for the address connected to.
        pins = {("alerts.example.test", receiver.port): "127.0.0.1"}
        client = httpx.Client(transport=PinnedTransport(pins), trust_env=False)
        with client, pytest.raises(httpx.ConnectError, match="certificate|hostname"):
            client.post(f"https://alerts.example.test:{receiver.port}/x", content=b"{}")

    [got] = receiver.received
    assert got.headers["host"] == f"localhost:{receiver.port}"


def test_webhook_refused_when_certificate_is_untrusted(tmp_path: Path) -> None:
    rogue = make_server_cert(tmp_path, make_ca(tmp_path, "rogue"))
    webhook._tls_context.cache_clear()
    expected = pytest.raises(DeliveryFailed, match="certificate not trusted")
    with WebhookReceiver(cert=rogue) as receiver, expected as caught:
        WebhookSender(settings()).send(WebhookMessage(receiver.url("localhost"), {}, "m"))
    assert not caught.value.retryable
    assert receiver.received == []
