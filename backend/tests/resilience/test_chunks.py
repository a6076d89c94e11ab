"""Chunked analysis: cross-training from per-chunk grant effects equals the whole horizon's."""

from __future__ import annotations

import json
import random
from dataclasses import replace
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
    rank_grant_json,
    rank_grants,
)
from app.resilience.contingency.result import ContingencyResult
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
    # The merge ranks the effects as they crossed the broker, half-days built for the kept.
    sent = json.loads(json.dumps([[e.to_json() for e in part] for part in parts]))
    for limit in (None, 1, 3):
        assert rank_grant_json(sent, limit) == (whole if limit is None else whole[:limit])


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


def _unnamed(result: ContingencyResult) -> ContingencyResult:
    return replace(
        result,
        critical_faculty=tuple(replace(c, name=None) for c in result.critical_faculty),
        fatal_pairs=tuple(replace(p, names=(None, None)) for p in result.fatal_pairs),
    )


@pytest.mark.parametrize("seed", range(5))
def test_chunk_result_of_the_version_before_is_read_when_workers_are_mixed(seed: int) -> None:
    snapshot = random_snapshot(random.Random(seed), days=4)
    end = START + timedelta(days=3)
    rows = ScheduleRows.from_json(snapshot_to_json(snapshot, START, end))
    part = analyze_chunk(rows, START, end)
    assert part.result.critical_faculty or part.result.fatal_pairs or part.result.gaps
    # The form the version before the wire form sent: the report's JSON and dict half-days.
    old = {
        **part.to_json(),
        "result": part.result.to_json(ranking_limit=0),
        "grants": [
            [g.person_id, g.qualification, g.candidate, *g.delta,
             [{"date": h.halfday.date.isoformat(), "half": h.halfday.half.value, "site": h.site}
              for h in g.half_days]]
            for g in part.grants
        ],
    }  # fmt: skip
    new = ChunkAnalysis.from_json(json.loads(json.dumps(part.to_json())))
    read = ChunkAnalysis.from_json(json.loads(json.dumps(old)))

    whole = analyze_contingency(build_site_half_days(snapshot, START, end))  # unnamed
    assert _unnamed(merge_chunks([read])) == merge_chunks([new]) == whole
    assert read.grants == new.grants == part.grants


def test_chunk_payload_has_no_assignments_key_so_an_older_worker_fails_loudly() -> None:
    snapshot = random_snapshot(random.Random(1), days=3)
    end = START + timedelta(days=2)
    payload = ScheduleRows.from_json(snapshot_to_json(snapshot, START, end)).to_json(START, end)

    assert "assignments" not in payload
    assert payload["assignment_groups"]
