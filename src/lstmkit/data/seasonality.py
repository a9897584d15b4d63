"""Seasonal period of a series: from its frequency, or detected from its autocorrelation.

Used by the forecaster's ``"auto"`` rules and by the seasonal baselines and MASE of
:mod:`lstmkit.evaluation` (which re-exports :func:`season_length_for`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pandas.tseries.frequencies import to_offset

__all__ = ["season_length_for", "detect_season_length", "naive_scale"]

MIN_ACF = 0.3  # the weakest mean autocorrelation that detect_season_length calls a season


# the usual period of each pandas offset class, in steps of one unit of it
_PERIODS = {"MonthBegin": 12, "MonthEnd": 12, "BusinessMonthBegin": 12, "BusinessMonthEnd": 12, "SemiMonthBegin": 24,
            "SemiMonthEnd": 24, "QuarterBegin": 4, "QuarterEnd": 4, "BQuarterBegin": 4, "BQuarterEnd": 4, "Week": 52,
            "Day": 7, "BusinessDay": 5, "Hour": 24, "Minute": 60, "Second": 60}


def season_length_for(freq: Any) -> int:
    """Usual seasonal period for a pandas frequency: monthly 12, quarterly 4, weekly 52, daily 7,
    business daily 5, hourly 24, minutely and secondly 60; 1 for yearly data, integer steps and
    unknown frequencies. A multiple divides the period when it can ("2h": 12, "15min": 4; "5h": 1).
    """
    if freq is None or isinstance(freq, (int, np.integer)):
        return 1
    try:
        offset = to_offset(freq)
    except (TypeError, ValueError):
        return 1
    m = _PERIODS.get(type(offset).__name__, 1)
    n = abs(int(getattr(offset, "n", 1) or 1))
    if n > 1:
        m = m // n if m % n == 0 else 1
    return max(m, 1)


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
