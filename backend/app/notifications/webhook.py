"""Signed webhooks over HTTP(S) (httpx), to checked public addresses only.

Signing follows Standard Webhooks (standardwebhooks.com), so receivers can use its verifier
libraries: headers ``webhook-id`` (the idempotency key, the same on every retry),
``webhook-timestamp`` (Unix seconds of this attempt) and ``webhook-signature``:
``v1,`` + base64(HMAC-SHA256(key, f"{id}.{timestamp}.{body}")), where key is the base64 part of
``WEBHOOK_SECRET`` (``whsec_...``) decoded.

Address checks (server-side request forgery): the host is resolved once; unless
``WEBHOOK_ALLOW_PRIVATE`` is set, every address must be a public one (not loopback, private,
link-local, the cloud metadata service, shared or reserved space). The connection then goes to
the address that was checked (``PinnedBackend``), while the Host header, TLS SNI and the
certificate check keep the URL's host name. Redirects are not followed; proxies from the
environment are not used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import logging
import socket
import ssl
import time
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from app.core.config import Settings
from app.core.errors import DeliveryFailed
from app.notifications.messages import WebhookMessage, webhook_key

logger = logging.getLogger(__name__)

USER_AGENT = "residency-scheduler-webhooks/1"


def signature(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    """The ``webhook-signature`` header value of one attempt."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def refused_reason(address: str) -> str | None:
    """Why ``address`` may not receive webhooks, or None for a public address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata)"
    if ip.is_private:
        return "private"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


def resolve_checked(host: str, port: int, *, allow_private: bool) -> str:
    """The address to connect to for ``host``: resolved once, every answer checked.

    Raises:
        DeliveryFailed: the name does not resolve (retryable), or an answer is refused.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DeliveryFailed(
            f"webhook host {host!r} does not resolve: {exc}", retryable=True
        ) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not allow_private:
        for address in addresses:
            reason = refused_reason(address)
            if reason is not None:
                raise DeliveryFailed(
                    f"webhook host {host!r} resolves to a {reason} address ({address}):"
                    " refused (WEBHOOK_ALLOW_PRIVATE is off)",
                    retryable=False,
                )
    return addresses[0]


class PinnedBackend(httpcore.SyncBackend):
    """Connects to the checked address of each (host, port) and to nothing else."""

    def __init__(self, pins: dict[tuple[str, int], str]) -> None:
        self._pins = pins

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        address = self._pins.get((host.lower(), port))
        if address is None:
            raise httpcore.ConnectError(f"{host}:{port} was not checked")
        return super().connect_tcp(address, port, timeout, local_address, socket_options)


@lru_cache
def _tls_context() -> ssl.SSLContext:
    """The system's CAs, host names checked (made once: loading the CAs is slow)."""
    return ssl.create_default_context()


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport, its connection pool on a ``PinnedBackend``."""

    def __init__(self, pins: dict[tuple[str, int], str]) -> None:
        super().__init__(verify=_tls_context(), retries=0)
        self._pool._network_backend = PinnedBackend(pins)


def _untrusted_certificate(exc: BaseException) -> bool:
    """Whether a failed connection was a certificate that did not verify (final)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class WebhookSender:
    """Posts ``WebhookMessage``s, signed with ``WEBHOOK_SECRET``."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def send(self, message: WebhookMessage) -> None:
        """Post ``message`` once.

        Raises:
            DeliveryFailed: retryable on a timeout, a connection error or a 5xx status; final
                on any other non-2xx status (a redirect included), a refused address, an
                untrusted certificate or a missing secret.
        """
        s = self._settings
        secret = s.WEBHOOK_SECRET.get_secret_value()
        if not secret:
            raise DeliveryFailed("webhooks are unsigned: set WEBHOOK_SECRET", retryable=False)
        key = webhook_key(secret)
        parts = urlsplit(message.url)
        host = (parts.hostname or "").lower()
        port = parts.port or (443 if parts.scheme == "https" else 80)
        address = resolve_checked(host, port, allow_private=s.WEBHOOK_ALLOW_PRIVATE)
        body = message.body()
        timestamp = str(int(time.time()))
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": message.webhook_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature(key, message.webhook_id, timestamp, body),
        }
        client = httpx.Client(
            transport=PinnedTransport({(host, port): address}),
            timeout=httpx.Timeout(s.WEBHOOK_TIMEOUT_S),
            follow_redirects=False,
            trust_env=False,
        )
        try:
            with client:
                response = client.post(message.url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise DeliveryFailed(f"webhook to {host} timed out", retryable=True) from None
        except httpx.ConnectError as exc:
            if _untrusted_certificate(exc):
                raise DeliveryFailed(
                    f"webhook to {host}: certificate not trusted ({exc})", retryable=False
                ) from None
            raise DeliveryFailed(
                f"webhook to {host}: ConnectError: {exc}", retryable=True
            ) from None
        except httpx.TransportError as exc:
            raise DeliveryFailed(
                f"webhook to {host}: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            logger.info("webhook %s delivered to %s (%s)", message.webhook_id, host, status)
            return
        raise DeliveryFailed(
            f"webhook to {host} answered {status}"
            + (" (redirect not followed)" if 300 <= status < 400 else ""),
            retryable=status >= 500,
        )
