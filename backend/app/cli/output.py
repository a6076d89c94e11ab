"""How every command reports an engine error: one message on stderr and its exit code."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.markup import escape

from app.core.errors import SchedulerError, exit_code_for

stderr = Console(stderr=True, soft_wrap=True, highlight=False)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn an engine error into ``error: ...`` on stderr and its exit code (2: bad input)."""
    try:
        yield
    except SchedulerError as exc:
        # Escaped: places like ``assignments[17]`` must not be read as rich markup.
        stderr.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(exit_code_for(exc)) from None
