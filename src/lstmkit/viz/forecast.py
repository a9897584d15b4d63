"""Forecast plots: history, forecast with intervals, actuals; backtests; training curves. PNG or SVG.

Every function returns the matplotlib Figure and, given ``path``, writes it atomically
(format from the suffix: .png or .svg). The non-interactive Agg backend is used, so
plots work on machines without a display.

A forecast of many series (a DataFrame indexed by (id, time), as
:meth:`lstmkit.LSTMForecaster.predict` returns for a long table) is drawn for one chosen
series (``series="id"``) or as a grid of small multiples, one panel per series, at most
``max_series`` of them.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import ConfigError, suggest
from lstmkit.utils.io import atomic_write

__all__ = ["plot_forecast", "plot_backtest", "plot_training_curves", "save_figure"]

_FORMATS = {".png": "png", ".svg": "svg"}
_COLORS = {"lstmkit": "#d62728", "naive": "#7f7f7f", "seasonal_naive": "#bcbd22", "holt_winters": "#2ca02c",
           "sarima": "#1f77b4", "ar": "#9467bd"}
_LISTED = 5  # series ids listed in an error message


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (.png or .svg) atomically; returns the path.

    Raises:
        ConfigError: ``path`` does not end in .png or .svg.
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ConfigError(f"plot path must end in .png or .svg, got {str(p)!r}")
    atomic_write(p, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))
    return p


def plot_forecast(
    history: pd.Series | pd.DataFrame,
    forecast: pd.DataFrame,
    actual: pd.Series | pd.DataFrame | None = None,
    *,
    series: str | Sequence[str] | None = None,
    max_series: int = 6,
    target_col: str | None = None,
    title: str | None = None,
    last: int | None = None,
    path: str | os.PathLike | None = None,
    label: str = "lstmkit",
) -> Any:
    """History line, forecast mean, the outer quantile band (q-columns) and actuals if given.

    Args:
        history: the observed values before the forecast, in the target's units. One series:
            a Series indexed by time. Many series: the long table the model was fitted on
            (columns named like the forecast's index levels, e.g. ``store`` and ``date``, plus
            the target), or a Series indexed by (id, time); a plain Series if one series is chosen.
        forecast: the output of :meth:`LSTMForecaster.predict`: index time, or (id, time) for
            many series; column ``mean`` and optionally ``q<level>`` columns (the outermost two
            are drawn as a band).
        actual: what happened over the forecast steps, shaped like ``history`` (optional;
            series missing from it get no actual line).
        series: many series only: one id (one panel, as for a single series) or a list of ids
            (a grid). Default: every series, up to ``max_series`` panels (the title says how
            many were left out).
        max_series: the most panels in a grid.
        target_col: the target column of a long ``history``/``actual`` (default: the only
            column besides the id and time columns).
        title: figure title (default "Forecast"); last: history points shown per series;
        path: write the figure there (.png or .svg); label: the forecast's legend name.

    Returns:
        The matplotlib Figure (one Axes per panel).

    Raises:
        ConfigError: ``forecast`` lacks a ``mean`` column or has more than two index levels;
            ``series`` is given for a one-series forecast, names unknown ids, or lists more than
            ``max_series``; ``history``/``actual`` do not match the forecast (naming the
            argument, what was expected and what was received); a bad ``path`` suffix.
    """
    _check_forecast(forecast)
    plt = _plt()
    if not isinstance(forecast.index, pd.MultiIndex):
        if series is not None:
            raise ConfigError(f"series picks series of a forecast indexed by (id, time); this forecast is one series "
                              f"(index {type(forecast.index).__name__}), got series={series!r}")
        if not isinstance(history, pd.Series):
            raise ConfigError(f"history must be a pandas Series indexed by time for a one-series forecast, "
                              f"got {type(history).__name__}")
        if actual is not None and not isinstance(actual, pd.Series):
            raise ConfigError(f"actual must be a pandas Series indexed by time for a one-series forecast, "
                              f"got {type(actual).__name__}")
        fig, ax = plt.subplots(figsize=(9, 4.2))
        _draw_forecast(ax, history, forecast, actual, label=label, last=last)
        _finish(ax, fig, title or "Forecast", history.name)
        if path is not None:
            save_figure(fig, path)
        return fig

    id_name, time_name = forecast.index.names
    ids = list(dict.fromkeys(forecast.index.get_level_values(0).astype(str)))
    chosen, left_out = _choose(series, ids, max_series)
    fcs = {sid: part.droplevel(0) for sid, part in forecast.groupby(level=0, sort=False)}
    fcs = {str(k): v for k, v in fcs.items()}
    one_series = len(chosen) == 1
    hist = _by_series(history, "history", id_name, time_name, target_col, chosen, fcs, one_series)
    act = _by_series(actual, "actual", id_name, time_name, target_col, chosen, fcs, one_series) if actual is not None else {}
    missing = [sid for sid in chosen if sid not in hist]
    if missing:
        raise ConfigError(f"history has no rows for series {missing[:_LISTED]} (column {id_name!r}); pass the table "
                          "the model forecast from")
    fig, axes = _grid(plt, len(chosen))
    ylabel = next(iter(hist.values())).name
    for k, (ax, sid) in enumerate(zip(axes, chosen)):
        _draw_forecast(ax, hist[sid], fcs[sid], act.get(sid), label=label, last=last, legend=k == 0)
        if not one_series:
            _panel(ax, f"{id_name} {sid}", ylabel if k % _ncols(len(chosen)) == 0 else None,
                   isinstance(fcs[sid].index, pd.DatetimeIndex))
    if one_series:
        _finish(axes[0], fig, f"{title or 'Forecast'}: {id_name} {chosen[0]}", ylabel)
    else:
        fig.suptitle(_grid_title(title or "Forecast", len(chosen), left_out))
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_backtest(y: pd.Series | pd.DataFrame, result: Any, *, models: list[str] | None = None,
                  series: str | Sequence[str] | None = None, max_series: int = 6, last: int | None = None,
                  title: str | None = None, path: str | os.PathLike | None = None) -> Any:
    """Actuals plus every model's forecasts from a :class:`~lstmkit.evaluation.BacktestResult`.

    The first model's interval is drawn as a band; a dotted line marks the first origin.

    Args:
        y: the data given to :func:`~lstmkit.evaluation.backtest`: one Series, or the long
            table of many series (read with the result's ``id_col``, ``time_col`` and
            ``target_col``); a plain Series is accepted for one chosen series.
        result: the backtest's result.
        models: the models to draw (default: all, the LSTM first).
        series: many series only: one id (one panel) or a list of ids (a grid); default the
            scored series, up to ``max_series`` panels.
        max_series: the most panels in a grid.
        last: history points shown before the first origin; title, path: as in
            :func:`plot_forecast`.

    Returns:
        The matplotlib Figure (one Axes per panel).

    Raises:
        ConfigError: unknown ``models`` or ``series``, ``series`` for a one-series result, more
            ``series`` than ``max_series``, a ``y`` that does not match the result, a bad ``path``.
    """
    fc = result.forecasts
    all_models = list(dict.fromkeys(fc["model"]))
    names = list(models) if models else all_models
    unknown = [n for n in names if n not in all_models]
    if unknown:
        raise ConfigError("models: " + "; ".join(f"no model {n!r}{suggest(str(n), all_models)}" for n in unknown)
                          + f"; the backtest has {all_models}")
    plt = _plt()
    if "series" not in fc.columns:
        if series is not None:
            raise ConfigError(f"series picks series of a backtest over many series; this result is one series, "
                              f"got series={series!r}")
        if not isinstance(y, pd.Series):
            raise ConfigError(f"y must be the pandas Series the backtest was run on, got {type(y).__name__}")
        fig, ax = plt.subplots(figsize=(10, 4.6))
        _draw_backtest(ax, y, fc, names, result.level, last)
        _finish(ax, fig, title or "Backtest", y.name)
        if path is not None:
            save_figure(fig, path)
        return fig

    ids = list(dict.fromkeys(fc["series"]))
    chosen, left_out = _choose(series, ids, max_series)
    one_series = len(chosen) == 1
    parts = {sid: fc[fc["series"] == sid] for sid in chosen}
    spans = {sid: p.set_index("time") for sid, p in parts.items()}
    ys = _by_series(y, "y", result.id_col, result.time_col, result.target_col, chosen, spans, one_series)
    missing = [sid for sid in chosen if sid not in ys]
    if missing:
        raise ConfigError(f"y has no rows for series {missing[:_LISTED]} (column {result.id_col!r}); pass the table "
                          "the backtest was run on")
    fig, axes = _grid(plt, len(chosen), single=(10, 4.6))
    ylabel = result.target_col
    for k, (ax, sid) in enumerate(zip(axes, chosen)):
        _draw_backtest(ax, ys[sid], parts[sid], names, result.level, last, legend=k == 0)
        if not one_series:
            _panel(ax, f"{result.id_col} {sid}", ylabel if k % _ncols(len(chosen)) == 0 else None,
                   isinstance(ys[sid].index, pd.DatetimeIndex))
    if one_series:
        _finish(axes[0], fig, f"{title or 'Backtest'}: {result.id_col} {chosen[0]}", ylabel)
    else:
        fig.suptitle(_grid_title(title or "Backtest", len(chosen), left_out))
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_training_curves(history: list[dict[str, Any]] | list[list[dict[str, Any]]], *, title: str | None = None,
                         path: str | os.PathLike | None = None) -> Any:
    """Train and validation loss per epoch (one line pair per ensemble member).

    ``history``: an estimator's ``history_`` (a list of per-epoch dicts with ``epoch``,
    ``train_loss`` and optionally ``val_loss``, or one such list per ensemble member).
    """
    plt = _plt()
    runs = history if history and isinstance(history[0], list) else [history]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    for k, h in enumerate(runs):
        ep = np.array([r.get("epoch", i + 1) for i, r in enumerate(h)])
        suffix = f" (model {k})" if len(runs) > 1 else ""
        ax.plot(ep, [r.get("train_loss", np.nan) for r in h], color=f"C{k}", lw=1.3, label="train" + suffix)
        if any("val_loss" in r for r in h):
            ax.plot(ep, [r.get("val_loss", np.nan) for r in h], color=f"C{k}", lw=1.3, ls="--", label="validation" + suffix)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title or "Training curves")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


# --- drawing ------------------------------------------------------------------------------


def _draw_forecast(ax: Any, history: pd.Series, forecast: pd.DataFrame, actual: pd.Series | None, *, label: str,
                   last: int | None, legend: bool = True) -> None:
    hist = history.iloc[-last:] if last else history
    ax.plot(hist.index, hist.to_numpy(), color="black", lw=1.4, label="history")
    qcols = [c for c in forecast.columns if str(c).startswith("q")]
    if len(qcols) >= 2:
        lo, hi = qcols[0], qcols[-1]
        pct = int(round((float(hi[1:]) - float(lo[1:])) * 100))
        ax.fill_between(forecast.index, forecast[lo], forecast[hi], color=_COLORS["lstmkit"], alpha=0.18,
                        label=f"{pct}% interval")
    ax.plot(forecast.index, forecast["mean"], color=_COLORS["lstmkit"], lw=2, label=f"{label} forecast")
    if actual is not None:
        ax.plot(actual.index, actual.to_numpy(), color="black", lw=1.4, ls="--", marker="o", ms=3, label="actual")
    if legend:
        ax.legend(fontsize=8, loc="upper left")


def _draw_backtest(ax: Any, y: pd.Series, fc: pd.DataFrame, names: list[str], level: float, last: int | None,
                   legend: bool = True) -> None:
    first_origin = int(y.index.searchsorted(fc["time"].min()))
    start = max(0, first_origin - (last or first_origin))
    ax.plot(y.index[start:], y.to_numpy()[start:], color="black", lw=1.5, label="actual")
    for i, n in enumerate(names):
        part = fc[fc["model"] == n]
        color = _COLORS.get(n)
        for j, (_, g) in enumerate(part.groupby("origin")):
            if i == 0 and g["lower"].notna().all():
                ax.fill_between(g["time"], g["lower"], g["upper"], color=color or "C0", alpha=0.15,
                                label=f"{n} {int(round(level * 100))}% interval" if j == 0 else None)
            ax.plot(g["time"], g["mean"], color=color, lw=2.2 if i == 0 else 1.2, ls="-" if i == 0 else "--",
                    label=n if j == 0 else None)
    ax.axvline(fc["time"].min(), color="grey", lw=0.8, ls=":")
    if legend:
        ax.legend(fontsize=8, loc="upper left")


def _finish(ax: Any, fig: Any, title: str, ylabel: Any) -> None:
    ax.set_title(title)
    if ylabel is not None:
        ax.set_ylabel(str(ylabel))
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()


def _panel(ax: Any, title: str, ylabel: Any, dates: bool) -> None:
    """One small multiple: its title, grid, compact date ticks (each panel keeps its own x range)."""
    import matplotlib.dates as mdates

    ax.set_title(title, fontsize=10)
    if ylabel is not None:
        ax.set_ylabel(str(ylabel))
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)
    if dates:
        locator = mdates.AutoDateLocator(maxticks=6)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.xaxis.get_offset_text().set_fontsize(8)


def _ncols(n: int) -> int:
    return 1 if n == 1 else 2 if n in (2, 4) else 3


def _grid(plt: Any, n: int, single: tuple[float, float] = (9, 4.2)) -> tuple[Any, list[Any]]:
    """A figure of ``n`` panels (one: the one-series size); unused cells are removed."""
    if n == 1:
        fig, ax = plt.subplots(figsize=single)
        return fig, [ax]
    ncols = _ncols(n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.0 * ncols, 3.3 * nrows), squeeze=False, layout="constrained")
    flat = list(axes.ravel())
    for ax in flat[n:]:
        fig.delaxes(ax)
    return fig, flat[:n]


def _grid_title(title: str, shown: int, left_out: int) -> str:
    return f"{title} (first {shown} of {shown + left_out} series; pick others with series=[...])" if left_out else title


# --- many series: choosing and splitting --------------------------------------------------


def _check_forecast(forecast: Any) -> None:
    if not isinstance(forecast, pd.DataFrame) or "mean" not in forecast.columns:
        got = list(forecast.columns) if isinstance(forecast, pd.DataFrame) else type(forecast).__name__
        raise ConfigError(f"forecast must be a DataFrame with a 'mean' column (LSTMForecaster.predict's output), got {got}")
    if isinstance(forecast.index, pd.MultiIndex) and forecast.index.nlevels != 2:
        raise ConfigError(f"forecast must be indexed by time or by (id, time), got {forecast.index.nlevels} index "
                          f"levels {list(forecast.index.names)}")


def _choose(series: str | Sequence[str] | None, ids: list[str], max_series: int) -> tuple[list[str], int]:
    """The ids to draw (in the data's order unless listed) and how many were left out."""
    if isinstance(max_series, bool) or not isinstance(max_series, (int, np.integer)) or max_series < 1:
        raise ConfigError(f"max_series must be a positive int, got {max_series!r}")
    if series is None:
        return ids[:max_series], max(0, len(ids) - max_series)
    wanted = [series] if isinstance(series, (str, int, np.integer)) else list(series)
    wanted = list(dict.fromkeys(str(s) for s in wanted))
    if not wanted:
        raise ConfigError("series must name at least one series id, got an empty list")
    unknown = [s for s in wanted if s not in ids]
    if unknown:
        shown = ids[:_LISTED] + (["..."] if len(ids) > _LISTED else [])
        raise ConfigError("series: " + "; ".join(f"no series {s!r}{suggest(s, ids)}" for s in unknown)
                          + f"; the {len(ids)} series are {shown}")
    if len(wanted) > max_series:
        raise ConfigError(f"series lists {len(wanted)} series, more than max_series={max_series}; "
                          "pass fewer or raise max_series")
    return wanted, 0


def _by_series(data: Any, arg: str, id_name: Any, time_name: Any, target_col: str | None, chosen: list[str],
               reference: dict[str, pd.DataFrame], one_series: bool) -> dict[str, pd.Series]:
    """Split ``data`` (a long table, a Series indexed by (id, time), or one plain Series when one
    series is drawn) into a Series per chosen id, with times like the forecast's."""
    if isinstance(data, pd.Series) and not isinstance(data.index, pd.MultiIndex):
        if one_series:
            return {chosen[0]: _like(data, reference[chosen[0]].index)}
        raise ConfigError(
            f"{arg} must be the long table with column {id_name!r} (or a Series indexed by ({id_name}, {time_name})) "
            f"to draw {len(chosen)} series, got a Series indexed by {type(data.index).__name__}; "
            f"or draw one series with series=<id>")
    if isinstance(data, pd.Series):
        if data.index.nlevels != 2:
            raise ConfigError(f"{arg} must be indexed by ({id_name}, {time_name}), got {data.index.nlevels} levels")
        name = data.name
        groups = {str(k): part.droplevel(0) for k, part in data.groupby(level=0, sort=False)}
    elif isinstance(data, pd.DataFrame):
        df = data
        if time_name not in df.columns and time_name in df.index.names:
            df = df.reset_index()
        missing = [c for c in (id_name, time_name) if c not in df.columns]
        if missing:
            raise ConfigError(f"{arg} has no column(s) {missing} (the forecast's index levels "
                              f"[{id_name!r}, {time_name!r}]); its columns are {list(map(str, df.columns))}")
        rest = [c for c in df.columns if c not in (id_name, time_name)]
        if target_col is None:
            if len(rest) != 1:
                raise ConfigError(f"{arg}: cannot tell the target among the columns {list(map(str, rest))}; "
                                  "pass target_col=<column>")
            target_col = rest[0]
        elif target_col not in df.columns:
            raise ConfigError(f"{arg} has no target column {target_col!r}{suggest(str(target_col), map(str, df.columns))}; "
                              f"its columns are {list(map(str, df.columns))}")
        name = target_col
        groups = {str(k): part.set_index(time_name)[target_col] for k, part in df.groupby(id_name, sort=False)}
    else:
        raise ConfigError(f"{arg} must be a long pandas DataFrame or a Series indexed by ({id_name}, {time_name}), "
                          f"got {type(data).__name__}")
    return {sid: _like(groups[sid].rename(name), reference[sid].index) for sid in chosen if sid in groups}


def _like(s: pd.Series, ref: pd.Index) -> pd.Series:
    """``s`` sorted by time, its times parsed as dates when the forecast's are dates."""
    if isinstance(ref, pd.DatetimeIndex) and not isinstance(s.index, pd.DatetimeIndex):
        s = s.set_axis(pd.to_datetime(s.index))
    return s.sort_index()
