"""Failed sign-ins, counted per client address: too many in a window get HTTP 429.

Bad tokens (API bearer tokens and the dashboard's sign-in form alike) are counted; a client
that has made ``SIGNIN_MAX_FAILURES`` of them within ``SIGNIN_WINDOW_S`` is refused, even with
a good token, until the oldest falls out of the window. The count lives in this process (one
API process per deployment; several processes each keep their own).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from fastapi import HTTPException


class SignInLimiter:
    """A sliding window of failure times per client address."""

    def __init__(self, max_failures: int, window_s: float) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, now: float | None = None) -> None:
        """Refuse ``client`` with HTTP 429 (and Retry-After) while it is over the limit."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            if times is None or len(times) < self.max_failures:
                return
            wait = math.ceil(times[0] + self.window_s - now)
        raise HTTPException(
            status_code=429,
            detail=f"too many failed sign-ins from this address; try again in {wait} s",
            headers={"Retry-After": str(max(wait, 1))},
        )

    def failed(self, client: str, now: float | None = None) -> None:
        """Count one failed sign-in of ``client``."""
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._recent(client, now)
            if times is None:
                times = self._failures[client] = deque()
            times.append(now)

    def _recent(self, client: str, now: float) -> deque[float] | None:
        """The failures of ``client`` still in the window (an idle client is forgotten)."""
        times = self._failures.get(client)
        if times is None:
            return None
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times
