"""Anomaly plot: the series above its anomaly score, detected ranges shaded red and labelled
(true) ranges shaded green, the threshold's flagged points marked on the score."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from lstmkit.errors import DataError
from lstmkit.models.anomaly import ranges_of
from lstmkit.viz.forecast import save_figure

__all__ = ["plot_anomalies"]


def plot_anomalies(values: np.ndarray, scores: np.ndarray, path: str | os.PathLike, *,
                   predictions: np.ndarray | None = None, labels: np.ndarray | None = None,
                   columns: list[str] | None = None, title: str | None = None, train_size: int = 0) -> Path:
    """Write a PNG/SVG of a scored series. Returns the path.

    Args:
        values: the series (T,) or (T, F); at most 4 columns are drawn.
        scores: anomaly scores (T,).
        predictions: detected 0/1 (T,): shaded red on both panels.
        labels: true 0/1 (T,): shaded green on both panels.
        train_size: the leading points the detector was fitted on, shaded grey.

    Raises:
        DataError: lengths differ; ConfigError: ``path`` not .png / .svg.
    """
    if columns is None and hasattr(values, "columns"):
        columns = [str(c) for c in values.columns]
    elif columns is None and getattr(values, "name", None) is not None:
        columns = [str(values.name)]
    v = np.asarray(values, dtype=np.float64)
    v = v[:, None] if v.ndim == 1 else v
    s = np.asarray(scores, dtype=np.float64)
    T = len(v)
    for name, a in (("scores", s), ("predictions", predictions), ("labels", labels)):
        if a is not None and len(a) != T:
            raise DataError(f"plot_anomalies: {name} has {len(a)} points, values has {T}")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(12, 5.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    try:
        t = np.arange(T)
        names = columns or [f"x{j}" for j in range(v.shape[1])]
        for j in range(min(4, v.shape[1])):
            ax.plot(t, v[:, j], lw=0.7, label=names[j])
        ax2.plot(t, s, lw=0.8, color="k", label="anomaly score")
        for axis in (ax, ax2):
            if train_size:
                axis.axvspan(0, train_size, color="0.9", zorder=0)
            for k, (a, b) in enumerate(ranges_of(labels) if labels is not None else []):
                axis.axvspan(a - 0.5, b + 0.5, color="tab:green", alpha=0.3, zorder=0.5,
                             label="labelled anomaly" if k == 0 and axis is ax else None)
            for k, (a, b) in enumerate(ranges_of(predictions) if predictions is not None else []):
                axis.axvspan(a - 0.5, b + 0.5, color="tab:red", alpha=0.25, zorder=0.6,
                             label="detected" if k == 0 and axis is ax else None)
        if predictions is not None and np.any(predictions):
            flagged = np.flatnonzero(predictions)
            ax2.plot(flagged, s[flagged], ".", color="tab:red", ms=2)
        if train_size:
            ax.text(train_size / 2, 1.0, "training", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8, color="0.4")
        ax.set_ylabel("value")
        ax.legend(loc="upper right", fontsize=8, ncol=3)
        ax2.set_ylabel("score")
        ax2.set_xlabel("time step")
        ax.set_title(title or "anomaly detection")
        fig.tight_layout()
        return save_figure(fig, path)
    finally:
        plt.close(fig)
