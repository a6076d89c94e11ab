"""Fingerprints of analysis input, so a stored result knows when it has gone stale.

A site-half-day's digest covers exactly what the contingency analysis reads from it (demand
per activity with its residents, and the pool with qualifications). The fingerprint of a
window is the digest of its site-half-day digests in time order, so a horizon split into
chunks and merged gets the same fingerprint as the whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from app.domain.coverage import SiteHalfDay


def site_half_day_digest(problem: SiteHalfDay) -> str:
    """A stable hex digest of one site-half-day's coverage problem."""
    canonical = [
        problem.halfday.date.isoformat(),
        problem.halfday.half.value,
        problem.site,
        [
            [d.activity_id, d.category.value, d.qualification, d.demand, list(d.residents)]
            for d in problem.demands
        ],
        [[m.person_id, sorted(m.qualifications)] for m in problem.pool],
    ]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def window_fingerprint(digests: Iterable[str]) -> str:
    """The fingerprint of a window from its site-half-day digests (in time order)."""
    h = hashlib.sha256()
    for d in digests:
        h.update(d.encode())
    return h.hexdigest()
