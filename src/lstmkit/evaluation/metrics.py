"""Point and interval forecast metrics (pure NumPy).

All take ``actual`` and ``forecast`` array-likes of the same size (any shape; flattened) and
return a float. MAE and RMSE are in the target's units; MAPE, sMAPE and coverage are in
percent; MASE is unitless: the MAE divided by the in-sample MAE of the seasonal naive
forecast on the training series (Hyndman & Koehler 2006). Every function raises
:class:`~lstmkit.errors.DataError` when the sizes differ or there is no point to score.
"""

from __future__ import annotations

import numpy as np

from lstmkit.data.seasonality import naive_scale
from lstmkit.errors import DataError

__all__ = ["mae", "rmse", "mape", "smape", "mase", "coverage", "METRICS"]


def _pair(actual, forecast) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(actual, dtype=np.float64).ravel()
    f = np.asarray(forecast, dtype=np.float64).ravel()
    if a.shape != f.shape:
        raise DataError(f"actual and forecast must have the same length, got {a.size} and {f.size}")
    if a.size == 0:
        raise DataError("no points to score")
    return a, f


def mae(actual, forecast) -> float:
    """Mean absolute error, in the target's units."""
    a, f = _pair(actual, forecast)
    return float(np.mean(np.abs(a - f)))


def rmse(actual, forecast) -> float:
    """Root mean squared error, in the target's units."""
    a, f = _pair(actual, forecast)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(actual, forecast) -> float:
    """Mean absolute percentage error (%); NaN if any actual is 0."""
    a, f = _pair(actual, forecast)
    if np.any(a == 0):
        return float("nan")
    return float(100 * np.mean(np.abs((a - f) / a)))


def smape(actual, forecast) -> float:
    """Symmetric MAPE (%), 0..200; points where both are 0 count as 0."""
    a, f = _pair(actual, forecast)
    den = np.abs(a) + np.abs(f)
    terms = np.where(den == 0, 0.0, 2 * np.abs(a - f) / np.where(den == 0, 1, den))
    return float(100 * np.mean(terms))


def mase(actual, forecast, train, season_length: int = 1) -> float:
    """MAE scaled by the in-sample MAE of the seasonal naive forecast on ``train`` (unitless).

    ``train``: the series before the forecast (T,); ``season_length`` m falls back to 1 when
    ``train`` has no more than m points. NaN when the scale is 0 (a constant series) or
    ``train`` has a single point.
    """
    a, f = _pair(actual, forecast)
    scale = naive_scale(train, season_length)
    return float(np.mean(np.abs(a - f)) / scale) if scale > 0 else float("nan")


def coverage(actual, lower, upper) -> float:
    """Percentage of actuals inside [lower, upper] (bounds included); NaN when a bound is all NaN."""
    a, lo = _pair(actual, lower)
    _, hi = _pair(actual, upper)
    if np.all(np.isnan(lo)) or np.all(np.isnan(hi)):
        return float("nan")
    return float(100 * np.mean((a >= lo) & (a <= hi)))


METRICS = {"MAE": mae, "RMSE": rmse, "MAPE": mape, "sMAPE": smape}
