"""Real local receivers for notification tests: an HTTP server and SMTP servers (aiosmtpd).

* ``WebhookReceiver``: ``http.server`` in a thread on 127.0.0.1; answers each POST with the
  next scripted status (then 200), records headers and body.
* ``SmtpReceiver``: aiosmtpd's controller on 127.0.0.1, plain, STARTTLS or implicit TLS,
  optionally with AUTH; scripted replies to RCPT and DATA; records each message.
* ``make_ca`` / ``make_server_cert``: a throwaway CA and a server certificate for
  ``localhost`` and 127.0.0.1, made with the ``openssl`` command line.
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """A local HTTP server that records POSTs and answers with scripted statuses."""

    def __init__(
        self,
        statuses: list[int] | None = None,
        delay_s: float = 0.0,
        respond: Callable[[Received, list[Received]], int] | None = None,
        cert: tuple[Path, Path] | None = None,
    ) -> None:
        """``respond(request, received so far)``, when given, picks each status instead;
        ``cert`` (certificate, key) serves HTTPS."""
        self.received: list[Received] = []
        self.statuses: deque[int] = deque(statuses or [])
        self.delay_s = delay_s
        self.respond = respond
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                got = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver.lock:
                    receiver.received.append(got)
                    if receiver.respond is not None:
                        status = receiver.respond(got, receiver.received)
                    else:
                        status = receiver.statuses.popleft() if receiver.statuses else 200
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, host: str = "127.0.0.1", path: str = "/hook") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpHandler:
    """aiosmtpd handler: scripted RCPT/DATA replies, messages recorded."""

    refuse: dict[str, str] = field(default_factory=dict)
    """Address -> reply to its RCPT (e.g. ``550 5.1.1 no such user``)."""
    data_replies: deque[str] = field(default_factory=deque)
    """Replies to the next DATA commands (then ``250``)."""
    messages: list[tuple[Envelope, EmailMessage]] = field(default_factory=list)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's name
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's name
        self, server: Any, session: Session, envelope: Envelope
    ) -> str:
        if self.data_replies:
            return self.data_replies.popleft()
        assert isinstance(envelope.content, bytes)
        mime = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(mime, EmailMessage)
        self.messages.append((envelope, mime))
        return "250 Message accepted"


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode() == user
            and data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False)

    return check


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1: ``tls`` is None (plain), ``"starttls"`` or ``"tls"``."""

    def __init__(
        self,
        handler: SmtpHandler,
        *,
        tls: str | None = None,
        cert: tuple[Path, Path] | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self.handler = handler
        self.port = free_port()
        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*cert)
        kwargs: dict[str, Any] = {}
        if tls == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        if auth is not None:
            kwargs.update(
                authenticator=_authenticator(*auth),
                auth_required=True,
                auth_require_tls=True,
                auth_exclude_mechanism=["LOGIN"],
            )
        self.controller = Controller(
            handler,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=context if tls == "tls" else None,
            server_hostname="localhost",
            **kwargs,
        )

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(folder: Path, name: str = "ca") -> tuple[Path, Path]:
    """A throwaway CA in ``folder``: (certificate, key)."""
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=Throwaway {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )  # fmt: skip
    return folder / f"{name}.pem", folder / f"{name}.key"


def make_server_cert(
    folder: Path, ca: tuple[Path, Path], name: str = "server"
) -> tuple[Path, Path]:
    """A certificate for ``localhost``/127.0.0.1 signed by ``ca``: (certificate, key)."""
    (folder / f"{name}.ext").write_text(
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key",
        "-out", f"{name}.csr", "-subj", "/CN=localhost",
        cwd=folder,
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", str(ca[0]), "-CAkey", str(ca[1]),
        "-CAcreateserial", "-days", "1", "-out", f"{name}.pem", "-extfile", f"{name}.ext",
        cwd=folder,
    )  # fmt: skip
    return folder / f"{name}.pem", folder / f"{name}.key"
