"""Confusion-matrix plot, saved atomically as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from lstmkit.errors import ConfigError
from lstmkit.utils.io import atomic_write

__all__ = ["plot_confusion_matrix"]


def plot_confusion_matrix(cm: np.ndarray, labels: Sequence[object], path: str | os.PathLike, title: str = "Confusion matrix") -> None:
    """Write a PNG of ``cm`` (rows: true label, columns: predicted), counts in the cells.

    Args:
        cm: (K, K) counts, e.g. ``sklearn.metrics.confusion_matrix(y_true, y_pred)``.
        labels: the K class labels, in the order of ``cm``'s rows and columns.
        path: the PNG file to write (atomically: a crash leaves any old file whole).
        title: shown with the accuracy (trace / total).

    Raises:
        ConfigError: ``cm`` is not a (K, K) matrix with K = ``len(labels)``.
    """
    cm = np.asarray(cm)
    n = len(labels)
    if cm.shape != (n, n):
        raise ConfigError(f"cm must be a ({n}, {n}) matrix for {n} labels, got shape {cm.shape}")
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    size = max(4.0, 0.45 * n + 2.5)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    try:
        ax.imshow(cm, cmap="Blues")
        ax.set_xticks(range(n), [str(v) for v in labels], rotation=45, ha="right")
        ax.set_yticks(range(n), [str(v) for v in labels])
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        acc = np.trace(cm) / max(cm.sum(), 1)
        ax.set_title(f"{title} (accuracy {acc:.3f})")
        hi = cm.max() if cm.size else 0
        if n <= 30:
            for i in range(n):
                for j in range(n):
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                            color="white" if cm[i, j] > hi / 2 else "black")
        fig.tight_layout()
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(fig)
