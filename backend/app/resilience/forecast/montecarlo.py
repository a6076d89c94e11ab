"""Probability that unplanned absences uncover a day (RESILIENCE_MODEL.md section 7).

Each sample draws, for every faculty member in some pool of the day, whether an unplanned
absence takes them out for the whole day (independently, with their rate for that weekday).
A day is *short* in a sample when some site-half-day of it cannot fill every slot with the
members left. The share of short samples estimates the probability; with ``n`` samples its
95 % error is at most ``1.96 * sqrt(0.25 / n)`` (0.0098 for 10,000 samples).

Coverage is decided exactly, never by a head count. A site-half-day is reduced to its shape
(``problem_shape``: demand per demanded qualification, interchangeable faculty types) and a
sample to the members it takes from each type. By Hall's theorem the rest covers every slot
iff for every set ``S`` of demanded qualifications the members left holding something in
``S`` are at least the demand of ``S``; only sets within one connected component of
qualifications need checking. The sets are compiled once per shape into a 0/1 matrix, so
all samples are checked at once with numpy; distinct loss vectors are checked once. A
component of more than ``HALL_MAX_QUALS`` qualifications is decided per distinct loss vector
by the exact matching of ``coverage.is_covered``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import groupby

import numpy as np
import numpy.typing as npt

from app.domain.coverage import SiteHalfDay, is_covered
from app.resilience.contingency.core import MaskCache, ProblemShape, problem_shape
from app.resilience.contingency.shape import component_masks
from app.resilience.forecast.rates import AbsenceRates

HALL_MAX_QUALS = 12
"""Largest component (in qualifications) checked by Hall's sets (``2^k - 1`` of them)."""

Types = tuple[tuple[int, int], ...]
"""Faculty types ``(mask, count)`` of a shape (``ProblemShape.types``)."""

Losses = npt.NDArray[np.int32]
"""Members lost per sample (rows) and faculty type (columns)."""


def error_bound(samples: int) -> float:
    """Half-width of the 95 % interval of an estimated probability, at worst (p = 1/2)."""
    return 1.96 * math.sqrt(0.25 / samples)


@dataclass(frozen=True)
class HallSets:
    """The sets of Hall's condition of one shape, as matrices over its faculty types.

    Attributes:
        meets: (types, sets) 1 where a type's members hold something in the set.
        surplus: (sets,) members holding something in the set minus its demand, with
            nobody lost (all >= 0 when the whole pool covers the shape).
        exact: False when some component was too large for the sets (``HALL_MAX_QUALS``):
            ``meets`` then omits it and losses are decided by matching.
    """

    meets: npt.NDArray[np.int32]
    surplus: npt.NDArray[np.int32]
    exact: bool


@lru_cache(maxsize=4096)
def hall_sets(demands: tuple[int, ...], types: Types) -> HallSets:
    """Every set of Hall's condition of a shape, component by component (shapes repeat)."""
    masks = [m for m, _ in types]
    counts = np.array([c for _, c in types], dtype=np.int32)
    sets: list[int] = []
    exact = True
    for group in component_masks(len(demands), masks):
        bits = [b for b in range(len(demands)) if group >> b & 1]
        if len(bits) > HALL_MAX_QUALS:
            exact = False
            continue
        for chosen in range(1, 1 << len(bits)):
            sets.append(sum(1 << b for i, b in enumerate(bits) if chosen >> i & 1))
    meets = np.array([[1 if m & s else 0 for s in sets] for m in masks], dtype=np.int32)
    meets = meets.reshape(len(masks), len(sets))
    demand = np.array(
        [sum(d for b, d in enumerate(demands) if s >> b & 1) for s in sets], dtype=np.int32
    )
    return HallSets(meets, counts @ meets - demand, exact)


def uncovered_by_losses(
    shape: ProblemShape, problem: SiteHalfDay, losses: Losses
) -> npt.NDArray[np.bool_]:
    """For each row of ``losses``, whether the shape is left with an unfillable slot.

    Args:
        shape: ``problem_shape(problem)``.
        problem: the site-half-day (for components too large for Hall's sets).
        losses: (samples, types) members lost from each type of ``shape.types``.
    """
    out = np.zeros(len(losses), dtype=np.bool_)
    sets = hall_sets(shape.demands, shape.types)
    if (sets.surplus < 0).any() or not (sets.exact or is_covered(problem)):
        out[:] = True  # uncovered with nobody lost: losing people never helps
        return out
    hit = np.flatnonzero(losses.any(axis=1))
    if hit.size == 0:
        return out
    distinct, inverse = _distinct_rows(losses[hit], [c for _, c in shape.types])
    short = np.zeros(len(distinct), dtype=np.bool_)
    # A set can be broken only by losing more members than its surplus.
    fragile = sets.surplus < int(distinct.sum(axis=1).max())
    if fragile.any():
        lost_in = distinct @ sets.meets[:, fragile]
        short = np.asarray((lost_in > sets.surplus[fragile]).any(axis=1), dtype=np.bool_)
    if not sets.exact:
        for i in np.flatnonzero(~short):
            short[i] = not is_covered(problem, _excluded(shape, distinct[i]))
    out[hit] = short[inverse]
    return out


def _distinct_rows(losses: Losses, counts: Sequence[int]) -> tuple[Losses, npt.NDArray[np.intp]]:
    """The distinct rows of ``losses`` and, per row, the index of its distinct row.

    Each row is read as one number in a mixed radix (type ``t``'s digit runs to its member
    count), so sorting integers replaces the much slower sort of rows; rows too wide for 63
    bits are compared whole.
    """
    radix = np.cumprod([1, *(c + 1 for c in counts[:-1])], dtype=np.float64)
    if radix[-1] * (counts[-1] + 1) >= 2.0**62:
        distinct, inverse = np.unique(losses, axis=0, return_inverse=True)
        return distinct, inverse.reshape(-1)
    keys = losses.astype(np.int64) @ radix.astype(np.int64)
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return losses[first], inverse.reshape(-1)


def _excluded(shape: ProblemShape, lost: npt.NDArray[np.int32]) -> frozenset[str]:
    """Some members realising a loss vector (members of one type are interchangeable)."""
    ids: list[str] = []
    for (mask, _), n in zip(shape.types, lost.tolist(), strict=True):
        ids.extend(shape.members_of[mask][:n])
    return frozenset(ids)


@dataclass(frozen=True)
class DayShortfall:
    """The Monte Carlo estimate of one day.

    Attributes:
        short_samples: samples in which some slot of the day could not be filled.
        covered_as_planned: every slot can be filled when nobody else is absent.
    """

    day: date
    samples: int
    short_samples: int
    covered_as_planned: bool

    @property
    def probability(self) -> float:
        return self.short_samples / self.samples

    @property
    def standard_error(self) -> float:
        p = self.probability
        return math.sqrt(p * (1 - p) / self.samples)


def day_shortfall(
    problems: Sequence[SiteHalfDay],
    rates: AbsenceRates,
    samples: int,
    rng: np.random.Generator,
    mask_cache: MaskCache | None = None,
) -> DayShortfall:
    """Estimate the shortfall probability of one day from its site-half-days.

    Args:
        problems: every site-half-day of one date (both halves, every site).
        rates: unplanned absence rates (the day's weekday is used).
        samples: Monte Carlo samples.
        rng: the random source (seeded by the caller for reproducible forecasts).
    """
    day = problems[0].halfday.date
    shapes = [(p, problem_shape(p, mask_cache)) for p in problems if p.demands]
    people = sorted({pid for _, s in shapes for ids in s.members_of.values() for pid in ids})
    column = {pid: i for i, pid in enumerate(people)}
    weekday = day.weekday()
    chance = np.array([rates.rate(pid, weekday) for pid in people], dtype=np.float64)
    draws = rng.random((samples, len(people)), dtype=np.float32)
    # Absences are rare: keep them as (sample, person column) pairs.
    hit_rows, hit_cols = np.nonzero(draws < chance.astype(np.float32))
    short = np.zeros(samples, dtype=np.bool_)
    planned = True
    for problem, shape in shapes:
        if not shape.types:  # demand, and nobody on hand holds what it needs
            planned = False
            short[:] = True
            continue
        n_types = len(shape.types)
        type_of = np.full(len(people), -1, dtype=np.int64)
        for t, (mask, _) in enumerate(shape.types):
            type_of[[column[pid] for pid in shape.members_of[mask]]] = t
        hit_types = type_of[hit_cols]
        mine = hit_types >= 0
        cells = hit_rows[mine] * n_types + hit_types[mine]
        losses = np.bincount(cells, minlength=samples * n_types).reshape(samples, n_types)
        baseline = uncovered_by_losses(shape, problem, np.zeros((1, n_types), np.int32))
        planned = planned and not bool(baseline[0])
        short |= uncovered_by_losses(shape, problem, losses.astype(np.int32))
    return DayShortfall(day, samples, int(short.sum()), planned)


def shortfall_by_day(
    problems: Sequence[SiteHalfDay],
    rates: AbsenceRates,
    samples: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> dict[date, DayShortfall]:
    """``day_shortfall`` of every date of ``problems`` (in time order), from one seed.

    Args:
        progress: called with (days done, days) after each day.
    """
    rng = np.random.default_rng(seed)
    cache = MaskCache()
    by_day = [list(g) for _, g in groupby(problems, key=lambda p: p.halfday.date)]
    out: dict[date, DayShortfall] = {}
    for done, group in enumerate(by_day, start=1):
        out[group[0].halfday.date] = day_shortfall(group, rates, samples, rng, cache)
        if progress is not None:
            progress(done, len(by_day))
    return out
