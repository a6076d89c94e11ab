"""Chunked analysis: cross-training from per-chunk grant effects equals the whole horizon's."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from app.domain.coverage import build_site_half_days
from app.domain.schedule_rows import ScheduleRows
from app.domain.snapshot_json import snapshot_to_json
from app.resilience.contingency.chunks import (
    ChunkAnalysis,
    analyze_chunk,
    chunk_dates,
    merge_chunks,
    merge_cross_training,
)
from app.resilience.contingency.core import analyze_contingency
from app.resilience.contingency.crosstrain import (
    cross_training_candidates,
    grant_effects,
    rank_grants,
)
from tests.resilience.factories import START, random_problems, random_snapshot


@pytest.mark.parametrize("seed", range(30))
@pytest.mark.parametrize("chunk_days", [1, 2, 3])
def test_cross_training_summed_over_chunks_equals_whole_when_split(
    seed: int, chunk_days: int
) -> None:
    problems = random_problems(random.Random(seed), days=6, max_pool=6)
    whole = cross_training_candidates(problems, analyze_contingency(problems), limit=None)
    assert whole  # every seed here has grants to rank: the comparison is never of two empties

    parts = []
    for a, b in chunk_dates(START, START + timedelta(days=5), chunk_days):
        part = [p for p in problems if a <= p.halfday.date <= b]
        parts.append(grant_effects(part, analyze_contingency(part)))

    assert rank_grants(parts, limit=None) == whole


@pytest.mark.parametrize("seed", range(10))
def test_chunk_analyses_through_json_merge_to_whole_when_chunked(seed: int) -> None:
    snapshot = random_snapshot(random.Random(seed), days=6)
    end = START + timedelta(days=5)
    problems = build_site_half_days(snapshot, START, end)
    # Chunks send no names (the merge names people from the parent's rows): compared unnamed.
    whole = analyze_contingency(problems)

    parts = [
        ChunkAnalysis.from_json(
            analyze_chunk(ScheduleRows.from_json(snapshot_to_json(snapshot, a, b)), a, b).to_json()
        )
        for a, b in chunk_dates(START, end, 2)
    ]
    result = merge_chunks(parts)

    assert whole.gaps or whole.critical_faculty
    assert result == whole
    assert merge_cross_training(parts, limit=5) == cross_training_candidates(
        problems, whole, limit=5
    )
