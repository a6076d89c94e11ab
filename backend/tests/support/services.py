"""Where the tests find PostgreSQL and Redis.

``ensure_postgres()`` and ``ensure_redis()`` return the URL of a server, in this order:

1. the one named by ``TEST_POSTGRES_URL`` / ``TEST_REDIS_URL``;
2. the local one on its standard port (127.0.0.1:5432 as user postgres, 127.0.0.1:6379);
3. a throwaway server started from the local binaries on a free port, under a temporary
   folder, stopped and deleted when the test session ends.

When the binary is missing too, the test is skipped with the one command that installs it; with
``CI=true`` it fails instead, so CI never passes by skipping.
"""

from __future__ import annotations

import atexit
import functools
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

POSTGRES_INSTALL = "apt-get install -y postgresql"
REDIS_INSTALL = "apt-get install -y redis-server"
STARTUP_TIMEOUT_S = 30.0


def in_ci() -> bool:
    """True when the tests run under CI (``CI=true``), where no service may be skipped."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def service_unavailable(message: str) -> None:
    """Skip the test, or fail it under CI, because a service cannot be had."""
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _wait_until(
    check: Callable[[], bool], what: str, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if check():
            return
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not start within {STARTUP_TIMEOUT_S:.0f} s")


# --- PostgreSQL ---------------------------------------------------------------------------------


def _postgres_accepts(url: str) -> bool:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        with psycopg.connect(conninfo, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False


def _postgres_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _run_as(user: str | None, argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; the Debian package's "postgres" user can.
    return ["runuser", "-u", user, "--", *argv] if user else argv


def start_postgres_server() -> str:
    """Start a throwaway PostgreSQL server; return its admin URL (stopped at exit)."""
    initdb, pg_ctl = _postgres_binary("initdb"), _postgres_binary("pg_ctl")
    if not initdb or not pg_ctl:
        service_unavailable(f"PostgreSQL is not reachable and not installed: {POSTGRES_INSTALL}")
        raise AssertionError("unreachable")
    user: str | None = None
    folder = Path(tempfile.mkdtemp(prefix="rs-test-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            service_unavailable("running as root needs a 'postgres' user for a throwaway server")
            raise AssertionError("unreachable") from None
        user = "postgres"
        os.chown(folder, owner.pw_uid, owner.pw_gid)
    data, port = folder / "data", free_port()
    subprocess.run(
        _run_as(user, [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        _run_as(user, [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w"])
        + ["start"],
        check=True,
        capture_output=True,
    )

    def stop() -> None:
        subprocess.run(
            _run_as(user, [pg_ctl, "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


@functools.cache
def _postgres_url() -> str:
    explicit = os.environ.get("TEST_POSTGRES_URL")
    if explicit:
        return explicit
    local = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    if _port_open("127.0.0.1", 5432) and _postgres_accepts(local):
        return local
    return start_postgres_server()


def ensure_postgres() -> str:
    """An admin SQLAlchemy URL (database ``postgres``) of a reachable PostgreSQL server."""
    return _postgres_url()


# --- Redis --------------------------------------------------------------------------------------


def _redis_answers(url: str) -> bool:
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def start_redis_server() -> str:
    """Start a private throwaway Redis on a free port; return its base URL (stopped at exit).

    Tests that run a Celery worker use one so that another test session on the same machine
    can never take their tasks.
    """
    binary = shutil.which("redis-server")
    if not binary:
        service_unavailable(f"Redis is not reachable and not installed: {REDIS_INSTALL}")
        raise AssertionError("unreachable")
    folder = Path(tempfile.mkdtemp(prefix="rs-test-redis-"))
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    argv += ["--appendonly", "no", "--daemonize", "no", "--dir", str(folder)]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}"

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    _wait_until(lambda: _redis_answers(url), "redis-server", process)
    return url


def redis_server_binary_available() -> bool:
    """True when ``redis-server`` is installed here (so a private server can be started)."""
    return shutil.which("redis-server") is not None


@functools.cache
def _redis_url() -> str:
    explicit = os.environ.get("TEST_REDIS_URL")
    if explicit:
        return explicit.rstrip("/")
    local = "redis://127.0.0.1:6379"
    if _port_open("127.0.0.1", 6379) and _redis_answers(local):
        return local
    return start_redis_server()


def ensure_redis() -> str:
    """The base URL (no database index) of a reachable Redis server."""
    return _redis_url()
