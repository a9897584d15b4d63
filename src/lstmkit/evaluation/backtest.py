"""Rolling-origin backtests of an LSTMForecaster against classical baselines, one report.

For each origin o (the first forecast point), every model sees ``y[:o]`` and forecasts
``horizon`` steps; the LSTM is refitted at every origin (``refit=True``), every ``refit``
origins (an int), or only at the first (``refit=False``, later origins forecast from their
own history with the same weights). Baselines are cheap and refit at every origin.
Scores pool every forecast point of every origin.

Many series (a long DataFrame with an id column): the origins count back from the end of
each series, the LSTM (a global model) is fitted once per origin on every series cut at its
own origin, the baselines are fitted per series, and each series is scored as a single
series would be; the summary is the mean of the per-series scores.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from lstmkit.data.timeseries import SeriesSet, TimeSeries, read_series
from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.evaluation.baselines import make_baseline, season_length_for
from lstmkit.evaluation.metrics import coverage, mae, mape, mase, rmse, smape

__all__ = ["BacktestResult", "backtest", "holdout_origins"]

SCORES = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE", "coverage")  # the metric columns, in order
_LISTED = 5  # series ids listed in an error message


@dataclass
class BacktestResult:
    """What :func:`backtest` found: every forecast point, scores per model and per series.

    Attributes:
        forecasts: one row per model, origin and forecast step; columns ``model``, ``origin``
            (position of the first forecast point in its series), ``time``, ``actual``, ``mean``,
            ``lower``, ``upper`` (the interval at ``level``; NaN for a model without one), in the
            target's units. For many series a first column ``series`` holds the series id.
        summary: index ``model``; columns ``MAE``, ``RMSE`` (target units), ``MAPE``, ``sMAPE``,
            ``coverage`` (percent), ``MASE`` (unitless), ``fit_s`` (seconds spent fitting and
            forecasting, all origins and series). For many series each metric is the mean over
            series of the per-series value (series where it is undefined, e.g. MAPE with a zero
            actual, are left out of that mean).
        horizon: forecast steps per origin.
        origins: timestamps (or integer positions) of the first forecast point of each origin;
            for many series a dict series id -> that list.
        level: the interval's nominal coverage (0.8 for q0.1..q0.9).
        models: the last fitted model per name; for many series a baseline's entry is a dict
            series id -> fitted baseline.
        per_series: long table, one row per series, model and metric; columns ``series``,
            ``model``, ``metric`` (one of MAE, RMSE, MAPE, sMAPE, MASE, coverage), ``value``.
        id_col, time_col, target_col: the columns of the long table that was read (None for
            one series); :func:`lstmkit.viz.plot_backtest` reads the table again with them.
    """

    forecasts: pd.DataFrame  # columns: [series,] model, origin, time, actual, mean, lower, upper
    summary: pd.DataFrame  # index: model; columns: MAE, RMSE, MAPE, sMAPE, MASE, coverage, fit_s
    horizon: int
    origins: list[Any] | dict[str, list[Any]]
    level: float
    models: dict[str, Any] = field(default_factory=dict)  # last fitted model per name
    per_series: pd.DataFrame | None = None  # columns: series, model, metric, value
    id_col: str | None = None
    time_col: str | None = None
    target_col: str | None = None

    @property
    def series(self) -> list[str]:
        """The ids of the scored series, in the order of the input."""
        if self.per_series is None:
            return []
        return list(dict.fromkeys(self.per_series["series"]))

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
    """Origins (0-based positions of the first forecast point) so that the last origin's forecast
    ends exactly at the end of a series of ``n`` points; ``stride`` (default ``horizon``) apart,
    ascending. Positions may be negative for a short series: callers check the first one."""
    stride = horizon if stride is None else stride
    last = n - horizon
    return sorted(last - k * stride for k in range(n_origins))


def backtest(
    forecaster: Any,
    y: pd.Series | pd.DataFrame | np.ndarray,
    *,
    horizon: int | None = None,
    n_origins: int = 1,
    stride: int | None = None,
    refit: bool | int = True,
    baselines: tuple[str, ...] = ("naive", "seasonal_naive", "holt_winters", "sarima"),
    season_length: int | None = None,
    name: str = "lstmkit",
    series: str | Sequence[str] | None = None,
    id_col: str | None = None,
    time_col: str | None = None,
    target_col: str | None = None,
) -> BacktestResult:
    """Rolling-origin evaluation of ``forecaster`` (an unfitted LSTMForecaster) and baselines.

    ``n_origins`` origins spaced by ``stride`` (default: the horizon), the last one
    forecasting the final ``horizon`` points of each series. ``forecaster=None`` scores only
    the baselines.

    Args:
        forecaster: an unfitted :class:`~lstmkit.LSTMForecaster` (cloned, never fitted in
            place), or None.
        y: one series (a Series with a DatetimeIndex or integer index, or a 1-D array), or
            many: a long DataFrame with one row per series and time, read with ``id_col``,
            ``time_col`` and ``target_col`` (default: the forecaster's) and its ``nan_policy``
            and ``freq``. The LSTM is fitted once per origin on every series (a global model);
            the baselines are fitted per series.
        horizon: steps forecast from each origin (default: the forecaster's, else 12).
        n_origins, stride: how many origins, and the steps between them.
        refit: True (refit the LSTM at every origin), False (only at the first) or an int k
            (every k-th origin).
        baselines: names from :data:`lstmkit.evaluation.baselines.BASELINES`.
        season_length: seasonal period for the seasonal baselines and MASE (default: from
            the frequency, e.g. 7 for daily, 12 for monthly data).
        name: the LSTM's row in the summary.
        series: ids of the series to score (a str for one); default all. The LSTM still
            trains on every series of ``y``.
        id_col, time_col, target_col: columns of a long DataFrame ``y``.

    Returns:
        A :class:`BacktestResult`; for many series ``per_series`` holds every series' scores
        and ``summary`` their mean per model.

    Raises:
        ConfigError: a bad ``horizon``, ``n_origins``, ``stride``, ``refit`` or ``series``, or
            an ``id_col``/``time_col``/``target_col`` that differs from the forecaster's.
        DataError: ``y`` is not one series nor a long table with an id column, has covariate
            columns (many series), or a series is too short for the origins.
    """
    names_given = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    cols = {k: _resolve(k, v, forecaster) for k, v in names_given.items()}
    if isinstance(y, pd.DataFrame) and cols["id_col"] is not None:
        return _backtest_many(forecaster, y, cols, horizon=horizon, n_origins=n_origins, stride=stride, refit=refit,
                              baselines=baselines, season_length=season_length, name=name, series=series)
    if isinstance(y, np.ndarray):
        y = pd.Series(y, name="y")
    if not isinstance(y, pd.Series):
        raise DataError(f"backtest needs one series (pandas Series or 1-D array) or a long DataFrame with id_col "
                        f"(pass id_col=<column>), got {type(y).__name__}")
    if series is not None:
        raise ConfigError(f"series picks series of a long DataFrame with id_col; y is one series, got series={series!r}")
    data = read_series(y)  # validates (NaN, regular index, numeric)
    s = data.series[0]
    y = pd.Series(s.target, index=s.index, name=data.target_name)
    h, m = _check_args(forecaster, horizon, n_origins, stride, refit, season_length, data)
    origins = holdout_origins(len(y), h, n_origins, stride)
    if origins[0] < max(2 * m, 3):
        raise DataError(f"series of {len(y)} points is too short for {n_origins} origins of horizon {h}")
    level = _level(forecaster)
    names = ([name] if forecaster is not None else []) + list(baselines)
    rows, fit_s, fitted = [], {n: 0.0 for n in names}, {}
    model = None
    for k, o in enumerate(origins):
        train, test = y.iloc[:o], y.iloc[o : o + h]
        if forecaster is not None:
            t0 = time.perf_counter()
            if _refit_now(model, refit, k):
                model = clone(forecaster).set_params(horizon=h).fit(train)
            pred = model.predict(horizon=h, y=train)
            fit_s[name] += time.perf_counter() - t0
            lo, hi = _interval(pred, h)
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
    scores = {n: _scores(fc[fc["model"] == n], y, m) for n in names}
    summary = pd.DataFrame([{"model": n, **scores[n], "fit_s": fit_s[n]} for n in names]).set_index("model")
    return BacktestResult(fc, summary, h, [y.index[o] for o in origins], level, fitted,
                          per_series=_long_scores({s.id: scores}))


def _backtest_many(forecaster: Any, y: pd.DataFrame, cols: dict[str, str | None], *, horizon: int | None,
                   n_origins: int, stride: int | None, refit: bool | int, baselines: tuple[str, ...],
                   season_length: int | None, name: str, series: str | Sequence[str] | None) -> BacktestResult:
    """:func:`backtest` over every series of a long table (see there)."""
    data = read_series(y, time_col=cols["time_col"], target=cols["target_col"], id_col=cols["id_col"],
                       nan_policy=getattr(forecaster, "nan_policy", "error"), freq=getattr(forecaster, "freq", None))
    if data.covariate_names:
        keep = [c for c in (data.id_name, data.time_name, data.target_name) if c is not None]
        raise DataError(f"y: backtest over many series uses the target only, but the table has covariate column(s) "
                        f"{data.covariate_names}; pass y[{keep}]")
    chosen = _pick(series, data.ids)
    h, m = _check_args(forecaster, horizon, n_origins, stride, refit, season_length, data)
    by_id = data.by_id()
    origins = {sid: holdout_origins(len(by_id[sid]), h, n_origins, stride) for sid in data.ids}
    needed = chosen if forecaster is None else data.ids  # the LSTM trains on every series
    short = [(sid, len(by_id[sid])) for sid in needed if origins[sid][0] < max(2 * m, 3)]
    if short:
        listed = ", ".join(f"{sid!r} has {n}" for sid, n in short[:_LISTED])
        more = f" (and {len(short) - _LISTED} more)" if len(short) > _LISTED else ""
        raise DataError(f"y: series too short for {n_origins} origin(s) of horizon {h} (each needs at least "
                        f"{max(2 * m, 3) + h + (n_origins - 1) * (stride or h)} points): {listed}{more}; "
                        "use fewer origins, a shorter horizon, or pick other series with series=[...]")
    level = _level(forecaster)
    names = ([name] if forecaster is not None else []) + list(baselines)
    tname = data.time_name or "time"
    target = {sid: pd.Series(by_id[sid].target, index=by_id[sid].index, name=data.target_name) for sid in data.ids}
    rows, fit_s, fitted = [], {n: 0.0 for n in names}, {b: {} for b in baselines}
    model = None
    for k in range(n_origins):
        cut = {sid: origins[sid][k] for sid in data.ids}
        if forecaster is not None:
            t0 = time.perf_counter()
            if _refit_now(model, refit, k):
                est = clone(forecaster).set_params(horizon=h, id_col=data.id_name, time_col=tname,
                                                   target_col=data.target_name)
                model = est.fit(_long(data, cut, data.ids, tname))
            pred = model.predict(horizon=h, y=_long(data, cut, chosen, tname))
            fit_s[name] += time.perf_counter() - t0
            for sid in chosen:
                p = pred.loc[sid]
                lo, hi = _interval(p, h)
                test = target[sid].iloc[cut[sid] : cut[sid] + h]
                rows.append(_rows(name, cut[sid], test, p["mean"].to_numpy(), lo, hi, sid))
            fitted[name] = model
        for sid in chosen:
            o = cut[sid]
            train, test = target[sid].iloc[:o], target[sid].iloc[o : o + h]
            for b in baselines:
                t0 = time.perf_counter()
                bl = make_baseline(b, m, level=level).fit(train)
                p = bl.predict(h)
                fit_s[b] += time.perf_counter() - t0
                rows.append(_rows(b, o, test, p["mean"].to_numpy(), p["lower"].to_numpy(), p["upper"].to_numpy(), sid))
                fitted[b][sid] = bl
    fc = pd.concat(rows, ignore_index=True)
    scores = {sid: {n: _scores(fc[(fc["series"] == sid) & (fc["model"] == n)], target[sid], m) for n in names}
              for sid in chosen}
    summary = pd.DataFrame([{"model": n, **_mean_over_series([scores[sid][n] for sid in chosen]), "fit_s": fit_s[n]}
                            for n in names]).set_index("model")
    return BacktestResult(fc, summary, h, {sid: [target[sid].index[o] for o in origins[sid]] for sid in chosen},
                          level, fitted, per_series=_long_scores(scores), id_col=data.id_name, time_col=tname,
                          target_col=data.target_name)


# --- helpers --------------------------------------------------------------------------------


def _resolve(arg: str, given: str | None, forecaster: Any) -> str | None:
    """A column name given to backtest, else the forecaster's; both and different: ConfigError."""
    own = getattr(forecaster, arg, None) if forecaster is not None else None
    if given is not None and own is not None and str(given) != str(own):
        raise ConfigError(f"{arg}={given!r} differs from the forecaster's {arg}={own!r}; give it once")
    return given if given is not None else own


def _check_args(forecaster: Any, horizon: int | None, n_origins: int, stride: int | None, refit: bool | int,
                season_length: int | None, data: SeriesSet) -> tuple[int, int]:
    """The horizon and season length, after checking the loop's arguments."""
    h = int(horizon if horizon is not None else getattr(forecaster, "horizon", 12))
    if h < 1 or n_origins < 1 or (stride is not None and stride < 1):
        raise ConfigError(f"horizon, n_origins and stride must be positive, got {h}, {n_origins}, {stride}")
    if not isinstance(refit, (bool, int)) or (not isinstance(refit, bool) and refit < 1):
        raise ConfigError(f"refit must be True, False or a positive int, got {refit!r}")
    return h, (season_length if season_length is not None else season_length_for(data.freq))


def _pick(series: str | Sequence[str] | None, ids: list[str]) -> list[str]:
    """The series ids to score, in the order of the data; ConfigError naming unknown ones."""
    if series is None:
        return list(ids)
    wanted = [series] if isinstance(series, (str, int, np.integer)) else list(series)
    if not wanted:
        raise ConfigError("series must name at least one series id, got an empty list")
    wanted = [str(s) for s in wanted]  # ids are read as strings
    unknown = [s for s in wanted if s not in ids]
    if unknown:
        shown = ids[:_LISTED] + (["..."] if len(ids) > _LISTED else [])
        raise ConfigError("series: " + "; ".join(f"no series {s!r}{suggest(s, ids)}" for s in unknown)
                          + f"; the {len(ids)} series are {shown}")
    keep = set(wanted)
    return [sid for sid in ids if sid in keep]


def _level(forecaster: Any) -> float:
    if forecaster is None:
        return 0.8
    qs = list(getattr(forecaster, "quantiles", (0.1, 0.9)))
    return round(qs[-1] - qs[0], 6)


def _refit_now(model: Any, refit: bool | int, k: int) -> bool:
    return model is None or refit is True or (not isinstance(refit, bool) and k % int(refit) == 0)


def _interval(pred: pd.DataFrame, h: int) -> tuple[np.ndarray, np.ndarray]:
    """The outer quantile columns of a forecast as (lower, upper), NaN without quantiles."""
    qcols = [c for c in pred.columns if str(c).startswith("q")]
    lo = pred[qcols[0]].to_numpy() if qcols else np.full(h, np.nan)
    hi = pred[qcols[-1]].to_numpy() if qcols else np.full(h, np.nan)
    return lo, hi


def _long(data: SeriesSet, cut: dict[str, int], ids: list[str], tname: str) -> pd.DataFrame:
    """The validated series ``ids`` cut before position ``cut[id]``, as a long table."""
    by_id: dict[str, TimeSeries] = data.by_id()
    parts = []
    for sid in ids:
        s, o = by_id[sid], cut[sid]
        parts.append(pd.DataFrame({data.id_name: sid, tname: s.index[:o], data.target_name: s.target[:o]}))
    return pd.concat(parts, ignore_index=True)


def _scores(part: pd.DataFrame, y: pd.Series, m: int) -> dict[str, float]:
    """One series' scores for one model over all its origins (MASE scaled per origin by ``y[:origin]``)."""
    mases = [mase(g["actual"], g["mean"], y.iloc[: g["origin"].iloc[0]], m) for _, g in part.groupby("origin")]
    return {
        "MAE": mae(part["actual"], part["mean"]),
        "RMSE": rmse(part["actual"], part["mean"]),
        "MAPE": mape(part["actual"], part["mean"]),
        "sMAPE": smape(part["actual"], part["mean"]),
        "MASE": float(np.mean(mases)),
        "coverage": coverage(part["actual"], part["lower"], part["upper"]),
    }


def _mean_over_series(scores: list[dict[str, float]]) -> dict[str, float]:
    out = {}
    for metric in SCORES:
        v = np.array([s[metric] for s in scores], dtype=np.float64)
        v = v[~np.isnan(v)]
        out[metric] = float(v.mean()) if v.size else float("nan")
    return out


def _long_scores(scores: dict[str, dict[str, dict[str, float]]]) -> pd.DataFrame:
    """{series: {model: {metric: value}}} as a long table: series, model, metric, value."""
    rows = [(sid, n, metric, per_model[n][metric]) for sid, per_model in scores.items() for n in per_model
            for metric in SCORES]
    return pd.DataFrame(rows, columns=["series", "model", "metric", "value"])


def _rows(model: str, origin: int, test: pd.Series, mean, lower, upper, sid: str | None = None) -> pd.DataFrame:
    cols = {"model": model, "origin": origin, "time": test.index, "actual": test.to_numpy(),
            "mean": mean, "lower": lower, "upper": upper}
    return pd.DataFrame(cols if sid is None else {"series": sid, **cols})
