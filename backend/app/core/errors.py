"""The one exception hierarchy of the engine.

::

    SchedulerError                 exit 1, HTTP 500
    ├── ConfigurationError         exit 1, HTTP 500
    │   ├── SchemaOutOfDate        exit 78, HTTP 503 (run `residency-scheduler migrate`)
    │   │   └── DatabaseMissing    exit 78, HTTP 503 (no SQLite file there: a typo, or migrate)
    │   └── SchemaNewerThanCode    exit 78, HTTP 503 (a newer release migrated the database)
    ├── InputError                 exit 2, HTTP 422  (bad file, bad argument)
    │   └── ValidationFailed       exit 2, HTTP 422  (a document with located problems)
    ├── NotFound                   exit 3, HTTP 404
    │   └── NoSchedule             exit 3, HTTP 404  (no program loaded: nothing to judge)
    ├── PermissionDenied           exit 4, HTTP 403  (the caller's role is too low)
    │   └── NotAuthenticated       exit 4, HTTP 401  (no token, or an unknown or revoked one)
    ├── TransientError             exit 75, HTTP 503 (retry later: database or broker away)
    └── DeliveryFailed             exit 1, HTTP 502  (an email or webhook was not delivered)

The two mappings live in ``EXIT_CODES`` and ``HTTP_STATUS``: the CLI and the API look codes up
there and nowhere else. ``translate_error`` is the one place where errors of the libraries
underneath (SQLAlchemy, psycopg, kombu, redis) become errors of this tree: a database or broker
that cannot be reached is a ``TransientError``, a missing table or column a ``SchemaOutOfDate``.
The schema's revision itself is compared with the code's where a process first opens a session
(``app.core.schema_version``): behind raises ``SchemaOutOfDate``, ahead ``SchemaNewerThanCode``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the pure core imports this module: SQLAlchemy only where it is needed
    from sqlalchemy.exc import DBAPIError


class SchedulerError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigurationError(SchedulerError):
    """A setting is missing or unsafe."""


class SchemaOutOfDate(ConfigurationError):
    """The database's tables are older than the code (or absent): it needs migrating."""

    def __init__(self, detail: str | None = None) -> None:
        self.detail = detail
        message = "the database schema is not up to date: run `residency-scheduler migrate`"
        super().__init__(f"{message} ({detail})" if detail else message)


class SchemaNewerThanCode(ConfigurationError):
    """The database was migrated by a newer release than this one: ``migrate`` cannot help
    (it never goes back); run the release that migrated it."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(
            "the database schema is newer than this release of the engine: run the release"
            f" that migrated it ({detail})"
        )


class DatabaseMissing(SchemaOutOfDate):
    """The configured SQLite database file does not exist.

    SQLite would create it, empty: a mistyped ``DATABASE_URL`` would then be a new database
    with no tables (or, once migrated, no data). Only ``residency-scheduler migrate`` creates
    the file.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.detail = f"no database file {path}"
        super(SchemaOutOfDate, self).__init__(  # its own message, not "not up to date"
            f"the database file {path} does not exist: check DATABASE_URL, or run"
            " `residency-scheduler migrate` to create it",
        )


class InputError(SchedulerError):
    """Input from a person (file, argument) is not acceptable; nothing was changed."""


@dataclass(frozen=True)
class Problem:
    """One located problem in a document.

    Attributes:
        where: the place, e.g. ``assignments[17].person_id`` or ``leave.csv:4:person_id``.
        reason: what is wrong there, in words a coordinator understands.
    """

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class ValidationFailed(InputError):
    """A document failed validation; ``problems`` names each place and reason."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{source}: {len(problems)} problem(s); nothing was changed\n{shown}{more}"
        )


class NotFound(SchedulerError):
    """A named thing (person, absence, report) does not exist."""


class NoSchedule(NotFound):
    """There is no published schedule to judge: no program was imported (or one with neither
    assignments nor a stated schedule end). An analysis would have no half-day to look at,
    and its verdict (GREEN, N-1 pass) would say nothing; it is refused instead."""

    def __init__(self, program_name: str | None = None) -> None:
        self.program_name = program_name
        super().__init__(
            "no program loaded: import one (residency-scheduler import FILE) or load the demo"
            " (demo-data)"
            if program_name is None
            else f"program {program_name!r} has no schedule (no assignments, no schedule_end):"
            " import one with its assignments (residency-scheduler import FILE)"
        )


class PermissionDenied(SchedulerError):
    """The caller's role does not allow the action."""


class NotAuthenticated(PermissionDenied):
    """No caller could be established: no token, or one that is unknown, revoked, or whose
    user is disabled."""


class TransientError(SchedulerError):
    """A passing failure of the database or broker; the action may be retried."""


class DeliveryFailed(SchedulerError):
    """An email or webhook was not delivered; ``retryable`` when a later try may succeed
    (a timeout, a 4xx SMTP reply, a 5xx HTTP status), not when it cannot (a refused
    recipient, a 4xx HTTP status, a refused address, an untrusted certificate)."""

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.retryable = retryable


EXIT_CODES: dict[type[SchedulerError], int] = {
    SchedulerError: 1,
    ConfigurationError: 1,
    SchemaOutOfDate: 78,
    SchemaNewerThanCode: 78,
    DatabaseMissing: 78,
    InputError: 2,
    ValidationFailed: 2,
    NotFound: 3,
    NoSchedule: 3,
    PermissionDenied: 4,
    NotAuthenticated: 4,
    TransientError: 75,
    DeliveryFailed: 1,
}

HTTP_STATUS: dict[type[SchedulerError], int] = {
    SchedulerError: 500,
    ConfigurationError: 500,
    SchemaOutOfDate: 503,
    SchemaNewerThanCode: 503,
    DatabaseMissing: 503,
    InputError: 422,
    ValidationFailed: 422,
    NotFound: 404,
    NoSchedule: 404,
    PermissionDenied: 403,
    NotAuthenticated: 401,
    TransientError: 503,
    DeliveryFailed: 502,
}


def exit_code_for(error: SchedulerError) -> int:
    """The CLI exit code of ``error`` (its nearest class in ``EXIT_CODES``)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1


# PostgreSQL's SQLSTATE codes for "undefined table" and "undefined column".
_PG_UNDEFINED = {"42P01", "42703"}
_SQLITE_UNDEFINED = ("no such table", "no such column")


def translate_error(error: BaseException, *, database_url: str) -> SchedulerError | None:
    """The engine error ``error`` stands for, or None when it is not one we know (a bug).

    Args:
        error: an exception from below: SQLAlchemy, psycopg, kombu or redis.
        database_url: the configured database, named (without user or password) in messages.

    Returns:
        ``error`` itself for engine errors; a ``TransientError`` for a database or broker that
        cannot be reached; a ``SchemaOutOfDate`` for a missing table or column; else None.
    """
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, SchedulerError):
        return error
    if isinstance(error, DBAPIError):
        return _translate_database_error(error, database_url)
    if _is_psycopg_connection_error(error):
        return TransientError(_unreachable(database_url, error))
    if _is_broker_connection_error(error):
        return TransientError(f"the broker is unavailable ({_first_line(error)}); try again")
    return None


def _translate_database_error(error: DBAPIError, url: str) -> SchedulerError | None:
    from sqlalchemy.exc import InterfaceError, OperationalError

    orig = error.orig
    reason = _first_line(orig if orig is not None else error)
    if getattr(orig, "sqlstate", None) in _PG_UNDEFINED or (reason.startswith(_SQLITE_UNDEFINED)):
        return SchemaOutOfDate(reason)
    if isinstance(error, OperationalError | InterfaceError) and (
        error.statement is None or error.connection_invalidated
    ):
        return TransientError(_unreachable(url, orig if orig is not None else error))
    if isinstance(error, OperationalError) and "database is locked" in reason:
        return TransientError(f"the database is busy ({reason}); try again")
    return None


def _unreachable(url: str, error: BaseException) -> str:
    reason = _first_line(error)
    # psycopg: 'connection failed: connection to server at "h", port 1 failed: <why>'
    reason = reason.rsplit(" failed: ", 1)[-1].removeprefix("FATAL:").strip()
    return f"cannot reach the database {_describe(url)}: {reason}; try again when it is up"


def _describe(url: str) -> str:
    """The database of ``url`` by host, port and name: never its user or password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return "(unparsable DATABASE_URL)"
    if parsed.get_backend_name() == "sqlite":
        return f"file {parsed.database}"
    where = f"{parsed.host or 'localhost'}" + (f":{parsed.port}" if parsed.port else "")
    return f"{parsed.database or '(no name)'} on {where}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0].strip() if text else type(error).__name__


def _is_psycopg_connection_error(error: BaseException) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a requirement
        return False
    return isinstance(error, psycopg.OperationalError | psycopg.InterfaceError)


def _is_broker_connection_error(error: BaseException) -> bool:
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return isinstance(
        error, KombuOperationalError | RedisConnectionError | RedisTimeoutError | ConnectionError
    )
