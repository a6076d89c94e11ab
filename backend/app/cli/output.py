"""How every command reports an engine error (one message on stderr and its exit code),
prints JSON (compact and streamed, or indented with ``--pretty``) and writes to a terminal or
a pipe (``OutputConsole``)."""

from __future__ import annotations

import errno
import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO

import typer

from app.core.config import get_settings
from app.core.errors import SchedulerError, exit_code_for, translate_error
from app.core.json_codec import dumps_bytes

if TYPE_CHECKING:
    from rich.console import Console


class OutputConsole:
    """A rich ``Console``, made when first used, that leaves a broken pipe to ``app.cli.main``.

    Made late, so that a command that prints only JSON never imports rich (a tenth of a
    short command's start-up). ``console`` is the rich console itself, for what takes one
    (a progress bar); anything else asked of this object is asked of it.

    Rich ends the program itself when the reader of its output has gone (``| head``), with
    exit status 1: an engine error here. Raised on, the ``BrokenPipeError`` reaches the one
    place that ends every command quietly when its reader stops reading.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            self._console = _console_class()(**self._options)
        return self._console

    def print(self, *objects: Any, **options: Any) -> None:
        self.console.print(*objects, **options)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # not made yet (copy, pickle): nothing to forward to
            raise AttributeError(name)
        return getattr(self.console, name)


@cache
def _console_class() -> type[Console]:
    from rich.console import Console

    class PipeConsole(Console):
        def on_broken_pipe(self) -> None:
            """Raise the broken pipe again, for ``app.cli.main`` (rich's own handler exits 1)."""
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))

    return PipeConsole


stderr = OutputConsole(stderr=True, soft_wrap=True, highlight=False)


@contextmanager
def reported_errors() -> Iterator[None]:
    """Turn an engine error into ``error: ...`` on stderr and its exit code (2: bad input).

    Errors from below (an unreachable database or broker, a schema that needs migrating) are
    first translated into the engine's own (``app.core.errors.translate_error``); any other
    exception is a bug and keeps its traceback. A broken pipe is standard output's reader
    gone (``| head``), not a broker's connection: it goes on to ``app.cli.main``.
    """
    try:
        yield
    except SchedulerError as exc:
        _report(exc)
    except BrokenPipeError:
        raise
    except Exception as exc:
        error = translate_error(exc, database_url=get_settings().database_url)
        if error is None:
            raise
        _report(error)


def _report(error: SchedulerError) -> None:
    from rich.markup import escape

    # Escaped: places like ``assignments[17]`` must not be read as rich markup.
    stderr.print(f"[red]error:[/red] {escape(str(error))}")
    raise typer.Exit(exit_code_for(error)) from None


def metrics_outlive_command() -> bool:
    """Whether metrics a command sets can reach a scrape: only in prometheus_client's
    multiprocess mode (``PROMETHEUS_MULTIPROC_DIR`` set), whose files an exporter reads.
    Otherwise they would end with the process, and prometheus_client is not even imported
    (a tenth of the start-up of a short command)."""
    return "PROMETHEUS_MULTIPROC_DIR" in os.environ


_SLICE = 2000
"""List items encoded per call when streaming: few calls, each through orjson."""


def print_json(data: Any, *, pretty: bool = False, out: TextIO | None = None) -> None:
    """Write ``data`` as JSON and a newline to ``out`` (standard output).

    Compact by default, in UTF-8 (orjson), written piece by piece: the two outer levels of
    objects and lists are walked here and long lists are encoded a slice at a time, so no
    single string holds a large report. ``pretty`` indents by one space (slower: Python's
    indenting encoder, which writes non-ASCII characters as ``\\u`` escapes).
    """
    out = out or sys.stdout
    if pretty:
        json.dump(data, out, indent=1)
        out.write("\n")
        return
    binary: BinaryIO | None = getattr(out, "buffer", None)
    if binary is None:  # a text-only stream (a StringIO)
        for piece in _pieces(data, depth=3):
            out.write(piece.decode())
        out.write("\n")
        return
    out.flush()  # what was printed as text before goes first
    for piece in _pieces(data, depth=3):
        binary.write(piece)
    binary.write(b"\n")


def _pieces(value: Any, depth: int) -> Iterator[bytes]:
    if depth and isinstance(value, dict):
        yield b"{"
        for i, (key, item) in enumerate(value.items()):
            yield (b"," if i else b"") + dumps_bytes(str(key)) + b":"
            yield from _pieces(item, depth - 1)
        yield b"}"
    elif depth and isinstance(value, list) and len(value) > _SLICE:
        yield b"["
        for i in range(0, len(value), _SLICE):
            yield (b"," if i else b"") + dumps_bytes(value[i : i + _SLICE])[1:-1]
        yield b"]"
    elif depth and isinstance(value, list):
        yield b"["
        for i, item in enumerate(value):
            yield b"," if i else b""
            yield from _pieces(item, depth - 1)
        yield b"]"
    else:
        yield dumps_bytes(value)
