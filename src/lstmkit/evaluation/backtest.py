"""Rolling-origin backtests of an LSTMForecaster against classical baselines, one report.

For each origin o (the first forecast point), every model sees ``y[:o]`` and forecasts
``horizon`` steps; the LSTM is refitted at every origin (``refit=True``), every ``refit``
origins (an int), or only at the first (``refit=False``, later origins forecast from their
own history with the same weights). Baselines are cheap and refit at every origin.
Scores pool every forecast point of every origin.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from lstmkit.data.timeseries import read_series
from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluation.baselines import make_baseline, season_length_for
from lstmkit.evaluation.metrics import coverage, mae, mape, mase, rmse, smape

__all__ = ["BacktestResult", "backtest", "holdout_origins"]


@dataclass
class BacktestResult:
    """Per-model forecasts (long DataFrame) and the summary table (one row per model)."""

    forecasts: pd.DataFrame  # columns: model, origin, time, actual, mean, lower, upper
    summary: pd.DataFrame  # index: model; columns: MAE, RMSE, MAPE, sMAPE, MASE, coverage, fit_s
    horizon: int
    origins: list[Any]
    level: float
    models: dict[str, Any] = field(default_factory=dict)  # last fitted model per name

    def table(self, title: str | None = None):
        """A rich Table of the summary (best value per metric in bold)."""
        from rich.table import Table

        t = Table(title=title)
        t.add_column("model")
        cols = [c for c in self.summary.columns]
        for c in cols:
            t.add_column(c if c != "coverage" else f"cover {int(round(self.level * 100))}%", justify="right")
        best = {c: self.summary[c].min() for c in ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")}
        for name, row in self.summary.iterrows():
            cells = []
            for c in cols:
                v = row[c]
                s = "-" if pd.isna(v) else (f"{v:.2f}" if c != "fit_s" else f"{v:.1f}")
                if c in best and not pd.isna(v) and v == best[c]:
                    s = f"[bold]{s}[/bold]"
                cells.append(s)
            t.add_row(str(name), *cells)
        return t


def holdout_origins(n: int, horizon: int, n_origins: int = 1, stride: int | None = None) -> list[int]:
    """Origins (positions) so that the last origin's forecast ends exactly at the series end."""
    stride = horizon if stride is None else stride
    last = n - horizon
    return sorted(last - k * stride for k in range(n_origins))


def backtest(
    forecaster: Any,
    y: pd.Series,
    *,
    horizon: int | None = None,
    n_origins: int = 1,
    stride: int | None = None,
    refit: bool | int = True,
    baselines: tuple[str, ...] = ("naive", "seasonal_naive", "holt_winters", "sarima"),
    season_length: int | None = None,
    name: str = "lstmkit",
) -> BacktestResult:
    """Rolling-origin evaluation of ``forecaster`` (an unfitted LSTMForecaster) and baselines.

    ``n_origins`` origins spaced by ``stride`` (default: the horizon), the last one
    forecasting the final ``horizon`` points of ``y``. ``forecaster=None`` scores only the
    baselines. ``y``: a Series (DatetimeIndex or integer index) or a 1-D array.
    """
    if isinstance(y, np.ndarray):
        y = pd.Series(y, name="y")
    if not isinstance(y, pd.Series):
        raise DataError(f"backtest needs one series (pandas Series or 1-D array), got {type(y).__name__}")
    data = read_series(y)  # validates (NaN, regular index, numeric)
    s = data.series[0]
    y = pd.Series(s.target, index=s.index, name=data.target_name)
    h = int(horizon if horizon is not None else getattr(forecaster, "horizon", 12))
    if h < 1 or n_origins < 1 or (stride is not None and stride < 1):
        raise ConfigError(f"horizon, n_origins and stride must be positive, got {h}, {n_origins}, {stride}")
    if not isinstance(refit, (bool, int)) or (not isinstance(refit, bool) and refit < 1):
        raise ConfigError(f"refit must be True, False or a positive int, got {refit!r}")
    m = season_length if season_length is not None else season_length_for(data.freq)
    origins = holdout_origins(len(y), h, n_origins, stride)
    if origins[0] < max(2 * m, 3):
        raise DataError(f"series of {len(y)} points is too short for {n_origins} origins of horizon {h}")
    level = 0.8
    if forecaster is not None:
        qs = list(getattr(forecaster, "quantiles", (0.1, 0.9)))
        level = round(qs[-1] - qs[0], 6)
    names = ([name] if forecaster is not None else []) + list(baselines)
    rows, fit_s, fitted = [], {n: 0.0 for n in names}, {}
    model = None
    for k, o in enumerate(origins):
        train, test = y.iloc[:o], y.iloc[o : o + h]
        if forecaster is not None:
            t0 = time.perf_counter()
            do_fit = model is None or refit is True or (not isinstance(refit, bool) and k % int(refit) == 0)
            if do_fit:
                model = clone(forecaster).set_params(horizon=h).fit(train)
            pred = model.predict(horizon=h, y=train)
            fit_s[name] += time.perf_counter() - t0
            qcols = [c for c in pred.columns if c.startswith("q")]
            lo = pred[qcols[0]].to_numpy() if qcols else np.full(h, np.nan)
            hi = pred[qcols[-1]].to_numpy() if qcols else np.full(h, np.nan)
            rows.append(_rows(name, o, test, pred["mean"].to_numpy(), lo, hi))
            fitted[name] = model
        for b in baselines:
            t0 = time.perf_counter()
            bl = make_baseline(b, m, level=level).fit(train)
            p = bl.predict(h)
            fit_s[b] += time.perf_counter() - t0
            rows.append(_rows(b, o, test, p["mean"].to_numpy(), p["lower"].to_numpy(), p["upper"].to_numpy()))
            fitted[b] = bl
    fc = pd.concat(rows, ignore_index=True)
    summary = []
    for n in names:
        part = fc[fc["model"] == n]
        mases = [mase(g["actual"], g["mean"], y.iloc[: g["origin"].iloc[0]], m) for _, g in part.groupby("origin")]
        summary.append({
            "model": n,
            "MAE": mae(part["actual"], part["mean"]),
            "RMSE": rmse(part["actual"], part["mean"]),
            "MAPE": mape(part["actual"], part["mean"]),
            "sMAPE": smape(part["actual"], part["mean"]),
            "MASE": float(np.mean(mases)),
            "coverage": coverage(part["actual"], part["lower"], part["upper"]),
            "fit_s": fit_s[n],
        })
    return BacktestResult(fc, pd.DataFrame(summary).set_index("model"), h, [y.index[o] for o in origins], level, fitted)


def _rows(model: str, origin: int, test: pd.Series, mean, lower, upper) -> pd.DataFrame:
    return pd.DataFrame({"model": model, "origin": origin, "time": test.index, "actual": test.to_numpy(),
                         "mean": mean, "lower": lower, "upper": upper})
