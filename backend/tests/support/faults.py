"""Faults made real for the tests: a Redis server to stop and restart, a TCP proxy to cut.

* ``RedisServer``: a private ``redis-server`` (append-only file on, as docker-compose runs it)
  on a fixed port and folder, so that ``stop()`` then ``start()`` is a Redis restart.
* ``TcpProxy``: a threaded TCP proxy in front of a server (the local PostgreSQL). Its ``mode``
  is ``FORWARD`` (pass bytes both ways), ``CUT`` (drop every connection and refuse new ones by
  closing them at once: the database is down) or ``SILENT`` (accept, then never answer: a
  hung server or a half-open network path).
* ``SLOW_TASKS_DIR``: put it on a worker's ``PYTHONPATH`` and set ``TEST_SLOW_TASKS`` to
  ``"task.name=seconds,..."``: each of those tasks sleeps that long before it runs, in the
  worker's child (a ``task_prerun`` handler), with no change to the application.
"""

from __future__ import annotations

import contextlib
import selectors
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import redis

from tests.support.services import free_port

SLOW_TASKS_DIR = Path(__file__).parent / "slow_tasks"
STOP_TIMEOUT_S = 20.0


class RedisServer:
    """A private ``redis-server`` with its append-only file, restartable on the same port."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.binary = binary
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "yes", "--appendfsync", "always"]
        argv += ["--daemonize", "no", "--dir", str(self.folder)]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.answers():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{self.log()}")

    def stop(self) -> None:
        """Shut Redis down as an operator or Compose would (SIGTERM: it syncs its AOF)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def answers(self) -> bool:
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def client(self, db: int) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=5)

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


class TcpProxy:
    """A TCP proxy on a free local port in front of ``target_host:target_port``."""

    FORWARD = "forward"
    CUT = "cut"
    SILENT = "silent"

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = self.FORWARD
        self.accepted = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        """Switch mode; ``CUT`` also drops the connections open now."""
        self.mode = mode
        if mode == self.CUT:
            with self._lock:
                for sock in list(self._open):
                    _close(sock)
                self._open.clear()

    def close(self) -> None:
        self._closed.set()
        _close(self._listener)
        self.set_mode(self.CUT)
        self._thread.join(timeout=5)

    def _accept_loop(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == self.CUT:
                _close(client)
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        with self._lock:
            self._open.add(client)
        try:
            while self.mode == self.SILENT and not self._closed.is_set():
                time.sleep(0.05)  # accepted, never answered: no upstream, nothing read
            if self.mode != self.FORWARD:
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            with self._lock:
                self._open.add(upstream)
            self._pump(client, upstream)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.discard(client)
                if upstream is not None:
                    self._open.discard(upstream)
            _close(client)
            if upstream is not None:
                _close(upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peer = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            while not self._closed.is_set():
                if self.mode == self.CUT:
                    return
                if self.mode == self.SILENT:
                    time.sleep(0.05)  # keep the bytes, answer nothing
                    continue
                for key, _ in selector.select(timeout=0.1):
                    sock = key.fileobj
                    assert isinstance(sock, socket.socket)
                    data = sock.recv(65536)
                    if not data:
                        return
                    peer[sock].sendall(data)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
