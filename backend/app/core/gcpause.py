"""Pausing Python's cyclic garbage collector while building many small acyclic objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic collector off (restored after, as it was).

    Building tens of thousands of frozen rows, problems or report entries allocates enough to
    trigger full collections over a large heap again and again, though none of it forms a
    reference cycle; reference counting frees it all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def imports_frozen() -> Iterator[None]:
    """Import modules with the cyclic collector off, then freeze everything made so far.

    Modules, their classes and functions live as long as the process: a collection walking
    them finds nothing to free. Paused while importing, and moved to the permanent generation
    after (``gc.freeze``), they are never walked again; otherwise the first allocations after
    the import would collect all of them once young, and again when old.
    """
    with paused_gc():
        yield
        gc.freeze()


freeze_at_exit = False
"""True while the command line's ``main`` runs a command: it freezes every object and turns
the collector back on when the command ends (``collector_off_for_command``)."""


@contextmanager
def collector_off_for_command() -> Iterator[None]:
    """Run a command's work with the cyclic collector off, and leave it off to its end.

    For commands that build hundreds of thousands of objects without cycles (rows, problems,
    findings, a report's JSON), freed by reference counting: each collection would walk them
    again, and each ``paused_gc`` that ended would leave a collection of all it made. Not for
    commands that make cyclic garbage as they go (the solver's): it would stay until the end.

    Under the command line's ``main`` (``freeze_at_exit``) the collector stays off: ``main``
    freezes everything and turns it back on. Called otherwise (a test's runner), it is turned
    back on here, as it was.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled and not freeze_at_exit:
            gc.enable()
