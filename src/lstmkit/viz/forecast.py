"""Forecast plots: history, forecast with intervals, actuals; training curves. PNG or SVG.

Every function returns the matplotlib Figure and, given ``path``, writes it atomically
(format from the suffix: .png or .svg). The non-interactive Agg backend is used, so
plots work on machines without a display.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import ConfigError
from lstmkit.utils.io import atomic_write

__all__ = ["plot_forecast", "plot_backtest", "plot_training_curves", "save_figure"]

_FORMATS = {".png": "png", ".svg": "svg"}
_COLORS = {"lstmkit": "#d62728", "naive": "#7f7f7f", "seasonal_naive": "#bcbd22", "holt_winters": "#2ca02c",
           "sarima": "#1f77b4", "ar": "#9467bd"}


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "svg", "pdf"):
        matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Write ``fig`` to ``path`` (.png or .svg) atomically."""
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ConfigError(f"plot path must end in .png or .svg, got {str(p)!r}")
    atomic_write(p, lambda tmp: fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight"))
    return p


def plot_forecast(
    history: pd.Series,
    forecast: pd.DataFrame,
    actual: pd.Series | None = None,
    *,
    title: str | None = None,
    last: int | None = None,
    path: str | os.PathLike | None = None,
    label: str = "lstmkit",
) -> Any:
    """History line, forecast mean, the outer quantile band (q-columns) and actuals if given."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4.2))
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
    _finish(ax, fig, title or "Forecast", history.name)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_backtest(y: pd.Series, result: Any, *, models: list[str] | None = None, last: int | None = None,
                  title: str | None = None, path: str | os.PathLike | None = None) -> Any:
    """Actuals plus every model's forecasts from a :class:`BacktestResult`; interval of the first model."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 4.6))
    fc = result.forecasts
    names = models or list(dict.fromkeys(fc["model"]))
    first_origin = y.index.get_loc(fc["time"].min())
    start = max(0, first_origin - (last or first_origin))
    ax.plot(y.index[start:], y.to_numpy()[start:], color="black", lw=1.5, label="actual")
    for i, n in enumerate(names):
        part = fc[fc["model"] == n]
        color = _COLORS.get(n)
        for j, (_, g) in enumerate(part.groupby("origin")):
            if i == 0 and g["lower"].notna().all():
                ax.fill_between(g["time"], g["lower"], g["upper"], color=color or "C0", alpha=0.15,
                                label=f"{n} {int(round(result.level * 100))}% interval" if j == 0 else None)
            ax.plot(g["time"], g["mean"], color=color, lw=2.2 if i == 0 else 1.2, ls="-" if i == 0 else "--",
                    label=n if j == 0 else None)
    ax.axvline(fc["time"].min(), color="grey", lw=0.8, ls=":")
    _finish(ax, fig, title or "Backtest", y.name)
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_training_curves(history: list[dict[str, Any]] | list[list[dict[str, Any]]], *, title: str | None = None,
                         path: str | os.PathLike | None = None) -> Any:
    """Train and validation loss per epoch (one line pair per ensemble member)."""
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


def _finish(ax: Any, fig: Any, title: str, ylabel: Any) -> None:
    ax.set_title(title)
    if ylabel is not None:
        ax.set_ylabel(str(ylabel))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.autofmt_xdate()
    fig.tight_layout()
