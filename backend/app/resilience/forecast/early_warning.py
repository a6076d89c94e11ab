"""Early warning of a tipping point (the seed's "bifurcation points", RESILIENCE_MODEL.md s. 7).

A system slowly losing its resilience recovers more slowly from each small upset ("critical
slowing down"): its fluctuations grow (variance) and last longer (lag-1 autocorrelation)
before it tips. On the daily series of the realised coverage margin, both indicators are
computed over a rolling window of ``window_days`` values, and each indicator's trend over
time is tested with Kendall's tau (one-sided: rising). The warning fires when both rise with
a p-value below ``p_value``. With fewer than ``min_days`` daily values the answer is "not
enough history", never a guess.

The p-values treat the rolling indicators as independent points, which overlapping windows
are not: they are optimistic, and the warning is a prompt to look, not a proof.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

NOT_ENOUGH_HISTORY = "not enough history"
WARNING = "rising variance and autocorrelation"
NO_WARNING = "no warning"


@dataclass(frozen=True)
class Trend:
    """Kendall's tau of an indicator against time and its one-sided p-value (rising)."""

    tau: float
    p_value: float

    def rising(self, p_value: float) -> bool:
        return self.tau > 0 and self.p_value < p_value

    def to_json(self) -> dict[str, float | None]:
        return {
            "kendall_tau": None if math.isnan(self.tau) else round(self.tau, 4),
            "p_value": None if math.isnan(self.p_value) else round(self.p_value, 6),
        }


@dataclass(frozen=True)
class EarlyWarning:
    """The verdict of the early-warning test on a daily series."""

    status: str
    history_days: int
    min_days: int
    window_days: int
    p_threshold: float
    variance: Trend | None = None
    autocorrelation: Trend | None = None

    @property
    def warning(self) -> bool:
        return self.status == WARNING

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "warning": self.warning,
            "history_days": self.history_days,
            "min_days": self.min_days,
            "window_days": self.window_days,
            "p_threshold": self.p_threshold,
            "variance": None if self.variance is None else self.variance.to_json(),
            "autocorrelation": None
            if self.autocorrelation is None
            else self.autocorrelation.to_json(),
        }


def rolling_variance(series: npt.NDArray[np.float64], window: int) -> npt.NDArray[np.float64]:
    """Sample variance of each run of ``window`` consecutive values."""
    runs = np.lib.stride_tricks.sliding_window_view(series, window)
    return np.asarray(runs.var(axis=1, ddof=1), dtype=np.float64)


def rolling_autocorrelation(
    series: npt.NDArray[np.float64], window: int
) -> npt.NDArray[np.float64]:
    """Lag-1 autocorrelation (Pearson, value against the next) of each run of ``window``;
    NaN for a run whose values do not vary."""
    runs = np.lib.stride_tricks.sliding_window_view(series, window)
    a = runs[:, :-1] - runs[:, :-1].mean(axis=1, keepdims=True)
    b = runs[:, 1:] - runs[:, 1:].mean(axis=1, keepdims=True)
    denominator = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray((a * b).sum(axis=1) / denominator, dtype=np.float64)


def trend(indicator: npt.NDArray[np.float64]) -> Trend:
    """Kendall's tau of ``indicator`` against its position, NaN values left out."""
    keep = ~np.isnan(indicator)
    if keep.sum() < 3 or np.ptp(indicator[keep]) == 0:
        return Trend(math.nan, math.nan)
    # Imported here: scipy.stats takes about a second to import, which every command line
    # start would pay; a worker pays it once, at its first test with enough history.
    from scipy.stats import kendalltau  # type: ignore[import-untyped]

    result = kendalltau(np.flatnonzero(keep), indicator[keep], alternative="greater")
    return Trend(float(result.statistic), float(result.pvalue))


def assess_early_warning(
    series: Sequence[float], *, window_days: int, min_days: int, p_value: float
) -> EarlyWarning:
    """Test a daily series (oldest first) for rising variance and lag-1 autocorrelation.

    Args:
        series: one value per day, oldest first (days without a value left out).
        window_days: values per rolling window.
        min_days: the fewest values tested (at least ``window_days + 2``).
        p_value: significance level of each one-sided test.
    """
    verdict = EarlyWarning(NOT_ENOUGH_HISTORY, len(series), min_days, window_days, p_value)
    if len(series) < max(min_days, window_days + 2):
        return verdict
    values = np.asarray(series, dtype=np.float64)
    variance = trend(rolling_variance(values, window_days))
    autocorrelation = trend(rolling_autocorrelation(values, window_days))
    both = variance.rising(p_value) and autocorrelation.rising(p_value)
    return EarlyWarning(
        WARNING if both else NO_WARNING,
        len(series),
        min_days,
        window_days,
        p_value,
        variance,
        autocorrelation,
    )
