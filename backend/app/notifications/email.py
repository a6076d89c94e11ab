"""Sending email over SMTP (standard library), TLS always verified.

``SMTP_TLS``: ``starttls`` upgrades a plain connection (port 587), ``tls`` starts in TLS
(port 465); both verify the server's certificate and host name against the system's CAs, or
``SMTP_CA_FILE``. ``none`` sends in clear text (local relays and tests only; refused in
production). The password is read from the settings when sending: never logged, never in a
task's arguments.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import formatdate

from app.core.config import Settings
from app.core.errors import DeliveryFailed
from app.notifications.messages import EmailMessage

logger = logging.getLogger(__name__)

TRANSIENT_REPLY = range(400, 500)
"""SMTP replies 4xx mean "try again later"; 5xx are final."""


def mime_message(message: EmailMessage, sender: str, domain: str) -> MimeMessage:
    """``message`` as MIME: text, with the HTML as an alternative part when there is one."""
    mime = MimeMessage()
    mime["From"] = sender
    mime["To"] = ", ".join(message.to)
    mime["Subject"] = message.subject
    mime["Date"] = formatdate(localtime=False, usegmt=True)
    if message.message_id:
        mime["Message-ID"] = f"<{message.message_id}@{domain}>"
    mime.set_content(message.text)
    if message.html is not None:
        mime.add_alternative(message.html, subtype="html")
    return mime


class SmtpSender:
    """Sends ``EmailMessage``s through the configured SMTP server (one connection each)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        if not s.SMTP_HOST:
            raise DeliveryFailed("email is off: SMTP_HOST is not set", retryable=False)
        context = ssl.create_default_context(cafile=str(s.SMTP_CA_FILE) if s.SMTP_CA_FILE else None)
        if s.SMTP_TLS == "tls":
            return smtplib.SMTP_SSL(
                s.SMTP_HOST, s.SMTP_PORT, timeout=s.SMTP_TIMEOUT_S, context=context
            )
        smtp = smtplib.SMTP(s.SMTP_HOST, s.SMTP_PORT, timeout=s.SMTP_TIMEOUT_S)
        try:
            if s.SMTP_TLS == "starttls":
                smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        """Send ``message``; every recipient must be accepted.

        Raises:
            DeliveryFailed: retryable on a timeout, a lost connection or a 4xx reply (for
                every refused recipient); final on a 5xx reply, a failed login or a
                certificate that does not verify.
        """
        s = self._settings
        mime = mime_message(message, s.SMTP_FROM, s.SMTP_FROM.rsplit("@", 1)[-1])
        try:
            with self._connect() as smtp:
                if s.SMTP_USER:
                    smtp.login(s.SMTP_USER, s.SMTP_PASSWORD.get_secret_value())
                refused = smtp.send_message(mime, from_addr=s.SMTP_FROM, to_addrs=list(message.to))
        except smtplib.SMTPRecipientsRefused as exc:
            raise _refused(exc.recipients) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(f"SMTP login refused ({exc.smtp_code})", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(
                f"SMTP server replied {exc.smtp_code}: {_text(exc.smtp_error)}",
                retryable=exc.smtp_code in TRANSIENT_REPLY,
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryFailed(
                f"SMTP server certificate not trusted: {exc.verify_message}", retryable=False
            ) from None
        except (smtplib.SMTPException, OSError) as exc:  # timeouts, resets, TLS errors
            raise DeliveryFailed(
                f"SMTP {type(exc).__name__}: {_text(str(exc)) or 'no reply'}", retryable=True
            ) from None
        if refused:
            raise _refused(refused)
        logger.info("email %s sent to %s recipient(s)", message.message_id, len(message.to))


def _text(value: bytes | str) -> str:
    text = value.decode(errors="replace") if isinstance(value, bytes) else value
    return " ".join(text.split())[:200]


def _refused(recipients: dict[str, tuple[int, bytes]]) -> DeliveryFailed:
    codes = {address: code for address, (code, _) in recipients.items()}
    shown = ", ".join(f"{a} ({c})" for a, c in sorted(codes.items()))
    retryable = all(c in TRANSIENT_REPLY for c in codes.values())
    return DeliveryFailed(f"recipient(s) refused: {shown}", retryable=retryable)
