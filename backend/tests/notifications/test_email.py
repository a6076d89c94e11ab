"""Email over real SMTP conversations (aiosmtpd): plain, STARTTLS and TLS with a throwaway CA."""

from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.errors import DeliveryFailed
from app.notifications.email import SmtpSender
from app.notifications.messages import EmailMessage
from tests.support.receivers import SmtpHandler, SmtpReceiver, make_ca, make_server_cert

MESSAGE = EmailMessage(
    to=("pd@example.org",),
    subject="[WARNING] Clinic short",
    text="Who: Dr. A\nWhat to do: cover it\n",
    html="<p>Who: <b>Dr. A</b></p>",
    message_id="msg_0001",
)


def settings(port: int, **values: Any) -> Settings:
    base: dict[str, Any] = {
        "SMTP_HOST": "localhost",
        "SMTP_PORT": port,
        "SMTP_TLS": "none",
        "SMTP_FROM": "scheduler@example.org",
        "SMTP_TIMEOUT_S": 5,
    }
    return Settings(_env_file=None, **(base | values))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """A throwaway CA with a server certificate, and a second CA nobody trusts."""
    folder = tmp_path_factory.mktemp("pki")
    ca = make_ca(folder, "ca")
    rogue = make_ca(folder, "rogue")
    return {
        "ca": ca,
        "server": make_server_cert(folder, ca, "server"),
        "rogue_server": make_server_cert(folder, rogue, "rogue_server"),
    }


def test_email_sends_text_and_html_alternative_when_server_accepts() -> None:
    handler = SmtpHandler()
    with SmtpReceiver(handler) as server:
        SmtpSender(settings(server.port)).send(MESSAGE)

    [(envelope, mime)] = handler.messages
    assert envelope.mail_from == "scheduler@example.org"
    assert envelope.rcpt_tos == ["pd@example.org"]
    assert mime["Subject"] == "[WARNING] Clinic short"
    assert mime["Message-ID"] == "<msg_0001@example.org>"
    assert mime.get_content_type() == "multipart/alternative"
    parts = {p.get_content_type(): p.get_payload(decode=True).decode().replace("\r\n", "\n")
             for p in mime.walk()
             if not p.is_multipart()}  # fmt: skip
    assert parts["text/plain"] == "Who: Dr. A\nWhat to do: cover it\n"
    assert parts["text/html"].strip() == "<p>Who: <b>Dr. A</b></p>"


def test_email_failure_is_retryable_then_sent_when_server_fails_transiently() -> None:
    handler = SmtpHandler(data_replies=deque(["451 4.3.0 try again later"]))
    with SmtpReceiver(handler) as server:
        sender = SmtpSender(settings(server.port))
        with pytest.raises(DeliveryFailed, match="451") as caught:
            sender.send(MESSAGE)
        assert caught.value.retryable
        assert handler.messages == []
        sender.send(MESSAGE)

    assert len(handler.messages) == 1


def test_email_failure_is_final_when_server_refuses_recipient() -> None:
    handler = SmtpHandler(refuse={"gone@example.org": "550 5.1.1 no such user"})
    message = EmailMessage(to=("gone@example.org",), subject="s", text="t")
    expected = pytest.raises(DeliveryFailed, match=r"gone@example.org \(550\)")
    with SmtpReceiver(handler) as server, expected as caught:
        SmtpSender(settings(server.port)).send(message)

    assert not caught.value.retryable
    assert handler.messages == []


def test_email_failure_names_refused_one_when_other_recipient_accepted() -> None:
    handler = SmtpHandler(refuse={"gone@example.org": "550 5.1.1 no such user"})
    message = EmailMessage(to=("pd@example.org", "gone@example.org"), subject="s", text="t")
    expected = pytest.raises(DeliveryFailed, match="gone@example.org")
    with SmtpReceiver(handler) as server, expected as caught:
        SmtpSender(settings(server.port)).send(message)

    assert not caught.value.retryable
    assert [e.rcpt_tos for e, _ in handler.messages] == [["pd@example.org"]]


def test_email_failure_is_retryable_when_recipient_deferred_with_4xx() -> None:
    handler = SmtpHandler(refuse={"busy@example.org": "450 4.2.1 mailbox busy"})
    message = EmailMessage(to=("busy@example.org",), subject="s", text="t")
    with SmtpReceiver(handler) as server, pytest.raises(DeliveryFailed) as caught:
        SmtpSender(settings(server.port)).send(message)
    assert caught.value.retryable


def test_email_sent_over_starttls_with_login_when_ca_is_trusted(
    pki: dict[str, tuple[Path, Path]],
) -> None:
    handler = SmtpHandler()
    receiver = SmtpReceiver(handler, tls="starttls", cert=pki["server"], auth=("bot", "s3cret"))
    with receiver as server:
        SmtpSender(
            settings(
                server.port,
                SMTP_TLS="starttls",
                SMTP_CA_FILE=pki["ca"][0],
                SMTP_USER="bot",
                SMTP_PASSWORD="s3cret",
            )
        ).send(MESSAGE)
    assert len(handler.messages) == 1


def test_email_failure_is_final_when_login_is_wrong(pki: dict[str, tuple[Path, Path]]) -> None:
    handler = SmtpHandler()
    receiver = SmtpReceiver(handler, tls="starttls", cert=pki["server"], auth=("bot", "s3cret"))
    with receiver as server, pytest.raises(DeliveryFailed, match="login refused") as caught:
        SmtpSender(
            settings(
                server.port,
                SMTP_TLS="starttls",
                SMTP_CA_FILE=pki["ca"][0],
                SMTP_USER="bot",
                SMTP_PASSWORD="wrong",
            )
        ).send(MESSAGE)
    assert not caught.value.retryable
    assert "wrong" not in str(caught.value)
    assert handler.messages == []


def test_email_sent_over_implicit_tls_when_ca_is_trusted(
    pki: dict[str, tuple[Path, Path]],
) -> None:
    handler = SmtpHandler()
    with SmtpReceiver(handler, tls="tls", cert=pki["server"]) as server:
        SmtpSender(settings(server.port, SMTP_TLS="tls", SMTP_CA_FILE=pki["ca"][0])).send(MESSAGE)
    assert len(handler.messages) == 1


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_email_refused_when_server_certificate_is_untrusted(
    pki: dict[str, tuple[Path, Path]], mode: str
) -> None:
    handler = SmtpHandler()
    expected = pytest.raises(DeliveryFailed, match="not trusted")
    with SmtpReceiver(handler, tls=mode, cert=pki["rogue_server"]) as server, expected as caught:
        SmtpSender(settings(server.port, SMTP_TLS=mode, SMTP_CA_FILE=pki["ca"][0])).send(MESSAGE)
    assert not caught.value.retryable
    assert handler.messages == []


def test_email_failure_is_retryable_when_nothing_listens() -> None:
    with SmtpReceiver(SmtpHandler()) as server:
        port = server.port
    with pytest.raises(DeliveryFailed) as caught:
        SmtpSender(settings(port)).send(MESSAGE)
    assert caught.value.retryable


def test_email_failure_is_final_when_smtp_host_is_not_set() -> None:
    with pytest.raises(DeliveryFailed, match="SMTP_HOST") as caught:
        SmtpSender(settings(25, SMTP_HOST="")).send(MESSAGE)
    assert not caught.value.retryable
