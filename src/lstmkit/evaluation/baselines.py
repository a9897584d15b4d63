"""Classical baselines reported next to the LSTM: naive, seasonal naive, Holt-Winters, (S)ARIMA, AR.

Each baseline is fitted on one ``pandas.Series`` and predicts ``h`` steps as a DataFrame
with a ``mean`` column plus ``lower``/``upper`` columns at the requested interval level
when the method provides intervals (NaN otherwise). statsmodels is an optional extra.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lstmkit.data.seasonality import season_length_for
from lstmkit.data.timeseries import future_index
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = ["Baseline", "Naive", "SeasonalNaive", "HoltWinters", "SARIMA", "AR", "make_baseline", "BASELINES",
           "season_length_for"]

def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def _statsmodels():
    try:
        import statsmodels.tsa.api as tsa
    except ImportError:
        raise DataError("statistical baselines need statsmodels: pip install 'lstmkit[forecast]'") from None
    return tsa


class Baseline:
    """A baseline: ``fit(y)`` on one Series (DatetimeIndex with a freq, or an integer index with a
    constant step), then ``predict(h)`` -> DataFrame of ``h`` rows indexed by the next ``h``
    timestamps, columns ``mean``, ``lower``, ``upper`` (the interval at ``level``, a fraction
    such as 0.8; NaN where the method has none), in the target's units."""

    name = "baseline"

    def __init__(self, level: float = 0.8) -> None:
        self.level = level

    def fit(self, y: pd.Series) -> "Baseline":
        self.y_ = y
        return self

    def predict(self, h: int) -> pd.DataFrame:
        raise NotImplementedError

    def _index(self, h: int) -> pd.Index:
        idx = self.y_.index
        freq = idx.freqstr if isinstance(idx, pd.DatetimeIndex) else (int(idx[1] - idx[0]) if len(idx) > 1 else 1)
        return future_index(idx, freq, h)

    def _frame(self, mean, lower=None, upper=None) -> pd.DataFrame:
        h = len(mean)
        nan = np.full(h, np.nan)
        return pd.DataFrame({"mean": np.asarray(mean, float), "lower": nan if lower is None else np.asarray(lower, float),
                             "upper": nan if upper is None else np.asarray(upper, float)}, index=self._index(h))


class Naive(Baseline):
    """Last value repeated; interval from one-step residuals, widening as sqrt(h)."""

    name = "naive"

    def predict(self, h: int) -> pd.DataFrame:
        v = self.y_.to_numpy(float)
        sigma = np.std(np.diff(v)) if len(v) > 2 else np.nan
        mean = np.full(h, v[-1])
        w = _z(self.level) * sigma * np.sqrt(np.arange(1, h + 1))
        return self._frame(mean, mean - w, mean + w)


class SeasonalNaive(Baseline):
    """Value of the same season last cycle; interval widens with complete cycles ahead."""

    name = "seasonal_naive"

    def __init__(self, season_length: int = 12, level: float = 0.8) -> None:
        super().__init__(level)
        self.season_length = season_length

    def predict(self, h: int) -> pd.DataFrame:
        v = self.y_.to_numpy(float)
        m = self.season_length
        if len(v) < m:
            raise DataError(f"seasonal naive needs at least one season ({m} points), got {len(v)}")
        mean = np.array([v[len(v) - m + (i % m)] for i in range(h)])
        sigma = np.std(v[m:] - v[:-m]) if len(v) > m + 1 else np.nan
        k = np.arange(h) // m
        w = _z(self.level) * sigma * np.sqrt(k + 1)
        return self._frame(mean, mean - w, mean + w)


class HoltWinters(Baseline):
    """statsmodels ExponentialSmoothing: additive (damped) trend, multiplicative season if positive."""

    name = "holt_winters"

    def __init__(self, season_length: int = 12, seasonal: str | None = None, damped_trend: bool = False,
                 level: float = 0.8) -> None:
        super().__init__(level)
        self.season_length, self.seasonal, self.damped_trend = season_length, seasonal, damped_trend

    def fit(self, y: pd.Series) -> "HoltWinters":
        tsa = _statsmodels()
        self.y_ = y
        v = y.to_numpy(float)
        m = self.season_length
        seasonal = self.seasonal or ("mul" if np.all(v > 0) else "add")
        use_season = m > 1 and len(v) >= 2 * m
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.res_ = tsa.ExponentialSmoothing(
                v, trend="add", damped_trend=self.damped_trend, seasonal=seasonal if use_season else None,
                seasonal_periods=m if use_season else None, initialization_method="estimated",
            ).fit()
        return self

    def predict(self, h: int) -> pd.DataFrame:
        return self._frame(self.res_.forecast(h))


class SARIMA(Baseline):
    """statsmodels SARIMAX (optionally on log values); intervals from the state-space model."""

    name = "sarima"

    def __init__(self, order=(0, 1, 1), seasonal_order=(0, 1, 1, 12), log: bool = True, trend: str | None = None,
                 level: float = 0.8) -> None:
        super().__init__(level)
        self.order, self.seasonal_order, self.log, self.trend = order, seasonal_order, log, trend

    def fit(self, y: pd.Series) -> "SARIMA":
        tsa = _statsmodels()
        self.y_ = y
        v = y.to_numpy(float)
        self.use_log_ = self.log and bool(np.all(v > 0))
        z = np.log(v) if self.use_log_ else v
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.res_ = tsa.SARIMAX(z, order=tuple(self.order), seasonal_order=tuple(self.seasonal_order),
                                    trend=self.trend).fit(disp=False)
        return self

    def predict(self, h: int) -> pd.DataFrame:
        fc = self.res_.get_forecast(h)
        mean = np.asarray(fc.predicted_mean)
        ci = np.asarray(fc.conf_int(alpha=1 - self.level))
        f = np.exp if self.use_log_ else (lambda x: x)
        return self._frame(f(mean), f(ci[:, 0]), f(ci[:, 1]))


class AR(SARIMA):
    """Autoregression AR(p) with a constant, fitted by statsmodels ARIMA(order=(p, 0, 0))."""

    name = "ar"

    def __init__(self, lags: int = 9, level: float = 0.8) -> None:
        super().__init__(order=(lags, 0, 0), seasonal_order=(0, 0, 0, 0), log=False, level=level)
        self.lags = lags

    def fit(self, y: pd.Series) -> "AR":
        tsa = _statsmodels()
        self.y_, self.use_log_ = y, False
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.res_ = tsa.ARIMA(y.to_numpy(float), order=(self.lags, 0, 0)).fit()
        return self


BASELINES = {"naive": Naive, "seasonal_naive": SeasonalNaive, "holt_winters": HoltWinters, "sarima": SARIMA, "ar": AR}


def make_baseline(name: str, season_length: int = 12, level: float = 0.8) -> Baseline:
    """A baseline by name (a key of ``BASELINES``), with the seasonal period applied where it matters.

    Raises:
        ConfigError: an unknown ``name`` (with the closest name suggested).
    """
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r}{suggest(name, BASELINES)}; choose from {sorted(BASELINES)}")
    m = max(int(season_length), 1)
    if name == "seasonal_naive":
        return SeasonalNaive(m, level=level)
    if name == "holt_winters":
        return HoltWinters(m, level=level)
    if name == "sarima":
        return SARIMA(seasonal_order=(0, 1, 1, m) if m > 1 else (0, 0, 0, 0), level=level)
    if name == "ar":
        return AR(9, level=level)
    return Naive(level=level)
