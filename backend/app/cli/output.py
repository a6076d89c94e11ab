"""How every command reports an engine error: one message on stderr and its exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from app.core.config import get_settings
from app.core.errors import SchedulerError, exit_code_for, translate_error

stderr = Console(stderr=True, soft_wrap=True, highlight=False)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn an engine error into ``error: ...`` on stderr and its exit code (2: bad input).

    Errors from below (an unreachable database or broker, a schema that needs migrating) are
    first translated into the engine's own (``app.core.errors.translate_error``); any other
    exception is a bug and keeps its traceback.
    """
    try:
        yield
    except SchedulerError as exc:
        _report(exc)
    except Exception as exc:
        error = translate_error(exc, database_url=get_settings().database_url)
        if error is None:
            raise
        _report(error)


def _report(error: SchedulerError) -> None:
    # Escaped: places like ``assignments[17]`` must not be read as rich markup.
    stderr.print(f"[red]error:[/red] {escape(str(error))}")
    raise typer.Exit(exit_code_for(error)) from None
