"""One-line checks for the operational scripts: ``python -m app.core.probe CHECK``.

Each check prints one line (what it found, or the exception that stopped it, never a
traceback) and exits 0 when all is well, 1 when not:

* ``database``: the configured database answers ``SELECT 1`` (a SQLite file not created yet
  passes, named as such: ``residency-scheduler migrate`` creates it).
* ``schema``: the database's Alembic revision is the code's head (``residency-scheduler
  migrate`` fixes one behind; one ahead was migrated by a newer release).
* ``broker [--retries N]``: the broker accepts a connection. An import error (a transport whose
  dependency is missing) is reported as such, not as a broker that does not answer.
* ``beat``: beat is ticking: the newest health-check record that beat sent (task id
  ``beat-...``) finished less than two health-check intervals (2 x 15 min) ago; and, for the
  embedded default's file scheduler, its heartbeat file (``app.core.beat``) is there, written
  by a process that is still alive (checked on the same host) less than
  ``BEAT_HEARTBEAT_STALE_S`` ago, so a stopped beat shows at once, not half an hour later.
* ``api`` / ``dashboard``: the HTTP API answers ``API_URL/health``, the dashboard ``API_URL/``
  (API_URL empty: ``http://localhost:API_PORT``).
  Exit 3, "not deployed", while this checkout has no API (``app.main``) or dashboard
  (``app.web``): the check lights up by itself when they land.

``scripts/start-celery.sh`` and ``scripts/health-check.sh`` run them.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from app.core.logging import mask_secrets

NOT_DEPLOYED = 3
"""Exit status of a check whose component is not part of this checkout."""
HTTP_TIMEOUT_S = 5.0
BEAT_STALE_INTERVALS = 2
"""Beat is taken as down when it has sent no health check for two of its intervals."""


class ProbeFailed(Exception):
    """The check ran and found a problem (its message is the line printed)."""


class NotDeployed(Exception):
    """The component checked is not part of this checkout."""


def _describe(exc: BaseException) -> str:
    text = mask_secrets(str(exc).strip().splitlines()[0] if str(exc).strip() else "")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_database() -> str:
    from sqlalchemy import text

    from app.core.config import get_settings
    from app.core.db import get_engine, sqlite_file

    url = get_settings().database_url
    path = sqlite_file(url) if url.startswith("sqlite") else None
    if path is not None and not path.exists():
        # Nothing to reach, nothing unreachable: the engine refuses a missing file, which
        # only `migrate` creates (start-celery.sh runs it next; the schema check says so).
        return f"{mask_secrets(url)} (no file yet: `residency-scheduler migrate` creates it)"
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))
    return mask_secrets(url)


def check_schema() -> str:
    from app.core.db import get_engine
    from app.core.errors import DatabaseMissing, SchemaNewerThanCode, SchemaOutOfDate
    from app.core.schema_version import HEAD_REVISION, check_schema_version

    try:
        check_schema_version(get_engine())
    except DatabaseMissing:
        raise  # its own message names the file
    except SchemaOutOfDate as exc:
        raise ProbeFailed(
            f"schema out of date: {exc.detail} (run `residency-scheduler migrate`)"
        ) from exc
    except SchemaNewerThanCode as exc:
        raise ProbeFailed(
            f"schema newer than the code: {exc.detail} (run the release that migrated it)"
        ) from exc
    return f"schema at head {HEAD_REVISION}"


def check_broker(retries: int) -> str:
    try:
        from app.core.celery_app import celery_app

        with celery_app.connection_for_write() as conn:
            # Loading the transport is where a missing dependency shows up.
            conn.transport  # noqa: B018
    except ImportError as exc:
        raise ProbeFailed(f"cannot load the broker transport: {_describe(exc)}") from exc
    url = mask_secrets(celery_app.conf.broker_url)
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=retries, interval_start=1, interval_step=1)
    except Exception as exc:
        raise ProbeFailed(f"the broker at {url} does not answer: {_describe(exc)}") from exc
    return url


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # there, but another user's
        return True
    return True


def check_beat_heartbeat(path: Path, now_s: float | None = None) -> str:
    """The embedded beat's heartbeat in ``path``: present, its process alive, recent."""
    from app.core.beat import BEAT_HEARTBEAT_STALE_S, read_heartbeat

    heartbeat = read_heartbeat(path)
    if heartbeat is None:
        raise ProbeFailed(f"beat is not running (no heartbeat at {path})")
    if heartbeat.host == socket.gethostname() and not _pid_alive(heartbeat.pid):
        raise ProbeFailed(f"beat is not running (its process {heartbeat.pid} is gone)")
    age_s = (time.time() if now_s is None else now_s) - heartbeat.at
    if age_s >= BEAT_HEARTBEAT_STALE_S:
        raise ProbeFailed(
            f"beat (pid {heartbeat.pid}) last ticked {age_s:.0f} s ago"
            f" (stale after {BEAT_HEARTBEAT_STALE_S} s)"
        )
    return f"beat pid {heartbeat.pid} ticked {max(age_s, 0):.0f} s ago"


def check_beat(now: datetime | None = None) -> str:
    from sqlalchemy import select

    from app.core.beat import BEAT_TASK_ID_PREFIX
    from app.core.celery_app import HEALTH_CHECK_INTERVAL_MIN, celery_app
    from app.core.db import session_scope
    from app.models.resilience import HealthCheckRecord

    ticking = ""
    heartbeat_file = celery_app.conf.get("beat_heartbeat_filename")
    if heartbeat_file:  # the file scheduler (embedded default) writes one
        ticking = check_beat_heartbeat(Path(heartbeat_file)) + "; "
    from app.core.errors import NoSchedule
    from app.domain.snapshot import require_schedule

    with session_scope() as session:
        finished = session.scalar(
            select(HealthCheckRecord.finished_at)
            .where(HealthCheckRecord.task_id.like(f"{BEAT_TASK_ID_PREFIX}%"))
            .order_by(HealthCheckRecord.finished_at.desc())
            .limit(1)
        )
        why = ""
        try:
            require_schedule(session)
        except NoSchedule as exc:  # the health check stores nothing then: say why
            why = f" ({exc})"
    if finished is None:
        raise ProbeFailed(f"{ticking}no health check sent by beat recorded yet{why}")
    stale_min = BEAT_STALE_INTERVALS * HEALTH_CHECK_INTERVAL_MIN
    age_min = ((now or datetime.now(UTC)) - finished).total_seconds() / 60
    line = f"{ticking}last health check from beat finished {age_min:.0f} min ago"
    if age_min >= stale_min:
        raise ProbeFailed(f"{line} (stale after {stale_min} min){why}")
    if why:
        raise ProbeFailed(f"{line}{why}")
    return line


def check_http(module: str, path: str) -> str:
    """GET ``api_url + path`` (API_URL, else localhost on API_PORT) once ``module`` exists;
    any answer below 500 is up (a page that asks for a sign-in is served)."""
    import importlib.util
    import urllib.error
    import urllib.request

    from app.core.config import get_settings

    if importlib.util.find_spec(module) is None:
        raise NotDeployed(f"not deployed ({module} is not part of this release)")
    url = get_settings().api_url.rstrip("/") + path
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        exc.close()
    except (OSError, ValueError) as exc:
        raise ProbeFailed(f"{mask_secrets(url)} does not answer: {_describe(exc)}") from exc
    if status >= 500:
        raise ProbeFailed(f"{mask_secrets(url)} answered HTTP {status}")
    return f"{mask_secrets(url)} answered HTTP {status}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.core.probe")
    parser.add_argument(
        "check", choices=["database", "schema", "broker", "beat", "api", "dashboard"]
    )
    parser.add_argument("--retries", type=int, default=1, help="broker connection retries")
    args = parser.parse_args(argv)
    checks: dict[str, Callable[[], str]] = {
        "database": check_database,
        "schema": check_schema,
        "broker": lambda: check_broker(args.retries),
        "beat": check_beat,
        "api": lambda: check_http("app.main", "/health"),
        "dashboard": lambda: check_http("app.web", "/"),
    }
    try:
        print(checks[args.check]())
    except ProbeFailed as exc:
        print(exc)
        return 1
    except NotDeployed as exc:
        print(exc)
        return NOT_DEPLOYED
    except Exception as exc:  # the one line an operator needs, not a traceback
        print(_describe(exc))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
