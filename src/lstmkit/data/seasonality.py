"""Seasonal period of a series: from its frequency, or detected from its autocorrelation.

Used by the forecaster's ``"auto"`` rules and by the seasonal baselines and MASE of
:mod:`lstmkit.evaluation` (which re-exports :func:`season_length_for`). NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["season_length_for", "detect_season_length", "naive_scale"]

MIN_ACF = 0.3  # the weakest mean autocorrelation that detect_season_length calls a season


def season_length_for(freq: Any) -> int:
    """Usual seasonal period for a pandas frequency (MS -> 12, QS -> 4, D -> 7, h -> 24...);
    1 for yearly data, integer steps and unknown frequencies."""
    if freq is None or isinstance(freq, int):
        return 1
    f = str(freq).upper().lstrip("0123456789")
    for prefix, m in (("MS", 12), ("ME", 12), ("M", 12), ("QS", 4), ("QE", 4), ("Q", 4), ("W", 52), ("D", 7),
                      ("B", 5), ("H", 24), ("T", 60), ("MIN", 60)):
        if f.startswith(prefix):
            return m
    return 1


def _acf(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Sample autocorrelation at lags 0..max_lag (the biased estimator, as statsmodels' acf)."""
    x = x - x.mean()
    den = float(np.dot(x, x))
    if den == 0.0:
        return np.zeros(max_lag + 1)
    return np.array([np.dot(x[: len(x) - k], x[k:]) / den for k in range(max_lag + 1)])


def _detrend(x: np.ndarray) -> np.ndarray:
    t = np.arange(len(x), dtype=np.float64)
    return x - np.polyval(np.polyfit(t, x, 1), t)


def detect_season_length(series: Sequence[np.ndarray], max_lag: int | None = None) -> int:
    """The seasonal period shared by ``series`` (1-D arrays of one or many series), or 1.

    Each series loses its least-squares line (so a trend does not mask the cycle) and its
    autocorrelation function (ACF) computed up to lag ``min(T_i // 3, max_lag)``; the ACFs
    are averaged over the series, lag by lag. The period is the lag m >= 2 of the highest
    local maximum of that mean ACF, if it is at least ``MIN_ACF`` (0.3) and above the
    white-noise band 3.5 / sqrt(n), n the points of all series together (wide: the maximum over many lags is
    taken); else 1 (no season). This reads the ACF as Hyndman & Athanasopoulos, *Forecasting:
    Principles and Practice*, 3rd ed., section 2.8, do, applied to the mean ACF of a global
    model's series.

    Example: yearly sunspot numbers (309 points) give 10 (the solar cycle, 9-12 years); white
    noise gives 1, and random walks almost always (2 % of 200-step walks gave a period).
    """
    arrays = [np.asarray(s, dtype=np.float64).ravel() for s in series]
    arrays = [_detrend(a[np.isfinite(a)]) for a in arrays if np.isfinite(a).sum() >= 8]
    if not arrays:
        return 1
    n = float(sum(len(a) for a in arrays))  # the mean ACF's noise shrinks with every series averaged
    top = max(len(a) // 3 for a in arrays)
    if max_lag is not None:
        top = min(top, int(max_lag))
    if top < 3:
        return 1
    total, count = np.zeros(top + 1), np.zeros(top + 1)
    for a in arrays:
        k = min(len(a) // 3, top)
        total[: k + 1] += _acf(a, k)
        count[: k + 1] += 1
    acf = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    band = max(MIN_ACF, 3.5 / np.sqrt(n))
    peaks = [m for m in range(2, top) if acf[m] >= acf[m - 1] and acf[m] >= acf[m + 1] and acf[m] > band]
    return max(peaks, key=lambda m: acf[m]) if peaks else 1


def naive_scale(train: np.ndarray, season_length: int = 1) -> float:
    """In-sample mean absolute error of the seasonal naive forecast on ``train`` (T,): the
    denominator of MASE (Hyndman & Koehler 2006). m falls back to 1 when ``train`` has no more
    than m points; NaN when ``train`` has a single point."""
    t = np.asarray(train, dtype=np.float64).ravel()
    m = max(int(season_length), 1)
    if t.size <= m:
        m = 1
    if t.size <= m:
        return float("nan")
    return float(np.mean(np.abs(t[m:] - t[:-m])))
