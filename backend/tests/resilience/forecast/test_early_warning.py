"""Early warning on synthetic series that do and do not approach a tipping point."""

from __future__ import annotations

import itertools
import random
import statistics

import numpy as np
import pytest

from app.resilience.forecast.early_warning import (
    NO_WARNING,
    NOT_ENOUGH_HISTORY,
    WARNING,
    assess_early_warning,
    rolling_autocorrelation,
    rolling_variance,
    trend,
)


def _ar1(phis: list[float], sigmas: list[float], seed: int) -> list[float]:
    """Margin 0.3 plus an AR(1) deviation ``x[t] = phi[t] x[t-1] + sigma[t] e[t]``."""
    rng = random.Random(seed)
    x, out = 0.0, []
    for phi, sigma in zip(phis, sigmas, strict=True):
        x = phi * x + rng.gauss(0, sigma)
        out.append(0.3 + x)
    return out


def _approaching(n: int, seed: int) -> list[float]:
    """Critical slowing down: recovery slows (phi to 0.95) and shocks grow."""
    return _ar1(
        [0.1 + 0.85 * t / (n - 1) for t in range(n)],
        [0.01 + 0.02 * t / (n - 1) for t in range(n)],
        seed,
    )


def _steady(n: int, seed: int) -> list[float]:
    return _ar1([0.3] * n, [0.02] * n, seed)


def _assess(series: list[float]) -> str:
    return assess_early_warning(series, window_days=14, min_days=30, p_value=0.05).status


def test_series_approaching_a_tipping_point_warns() -> None:
    warned = sum(_assess(_approaching(120, seed)) == WARNING for seed in range(20))
    assert warned >= 16


def test_steady_series_rarely_warns() -> None:
    warned = sum(_assess(_steady(120, seed)) == WARNING for seed in range(20))
    assert warned <= 3


def test_short_history_says_so_and_guesses_nothing() -> None:
    verdict = assess_early_warning(_approaching(29, 1), window_days=14, min_days=30, p_value=0.05)
    assert verdict.status == NOT_ENOUGH_HISTORY
    assert verdict.history_days == 29
    assert verdict.variance is None and verdict.autocorrelation is None
    assert verdict.to_json()["warning"] is False


def test_flat_series_has_no_trend_and_no_warning() -> None:
    assert _assess([0.25] * 60) == NO_WARNING


def test_rolling_indicators_match_the_statistics_module() -> None:
    rng = random.Random(4)
    series = [rng.random() for _ in range(40)]
    variance = rolling_variance(np.array(series), 10)
    auto = rolling_autocorrelation(np.array(series), 10)
    assert len(variance) == len(auto) == 31
    for i in range(31):
        run = series[i : i + 10]
        assert variance[i] == pytest.approx(statistics.variance(run))
        assert auto[i] == pytest.approx(statistics.correlation(run[:-1], run[1:]))


def test_kendall_tau_matches_counting_pairs() -> None:
    rng = random.Random(5)
    for _ in range(20):
        values = [rng.random() for _ in range(rng.randint(5, 40))]
        pairs = list(itertools.combinations(range(len(values)), 2))
        concordant = sum(1 for i, j in pairs if values[j] > values[i])
        discordant = len(pairs) - concordant
        result = trend(np.array(values))
        assert result.tau == pytest.approx((concordant - discordant) / len(pairs))
    # Exactly increasing: the smallest one-sided p-value, 1 / n! (exact test, no ties).
    rising = trend(np.arange(8, dtype=np.float64))
    assert rising.tau == pytest.approx(1.0)
    assert rising.p_value == pytest.approx(1 / 40320)
