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
