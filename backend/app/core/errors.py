"""The one exception hierarchy of the engine.

::

    SchedulerError                 exit 1, HTTP 500
    ├── ConfigurationError         exit 1, HTTP 500
    ├── InputError                 exit 2, HTTP 422  (bad file, bad argument)
    │   └── ValidationFailed       exit 2, HTTP 422  (a document with located problems)
    ├── NotFound                   exit 3, HTTP 404
    ├── PermissionDenied           exit 4, HTTP 403
    └── TransientError             exit 75, HTTP 503 (retry later: database or broker away)

The two mappings live in ``EXIT_CODES`` and ``HTTP_STATUS``: the CLI and the API look codes up
there and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass


class SchedulerError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigurationError(SchedulerError):
    """A setting is missing or unsafe."""


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


class PermissionDenied(SchedulerError):
    """The caller's role does not allow the action."""


class TransientError(SchedulerError):
    """A passing failure of the database or broker; the action may be retried."""


EXIT_CODES: dict[type[SchedulerError], int] = {
    SchedulerError: 1,
    ConfigurationError: 1,
    InputError: 2,
    ValidationFailed: 2,
    NotFound: 3,
    PermissionDenied: 4,
    TransientError: 75,
}

HTTP_STATUS: dict[type[SchedulerError], int] = {
    SchedulerError: 500,
    ConfigurationError: 500,
    InputError: 422,
    ValidationFailed: 422,
    NotFound: 404,
    PermissionDenied: 403,
    TransientError: 503,
}


def exit_code_for(error: SchedulerError) -> int:
    """The CLI exit code of ``error`` (its nearest class in ``EXIT_CODES``)."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
