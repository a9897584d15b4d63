"""Attention plots of encoder-decoders, saved atomically as PNG: a heat map for a sentence pair,
and the attention of each generated word over an image (a grid of overlays) or a clip's frames."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import numpy as np

from lstmkit.errors import ShapeError
from lstmkit.utils.io import atomic_write

__all__ = ["plot_attention", "plot_image_attention"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def plot_attention(weights: np.ndarray, source_tokens: Sequence[str], target_tokens: Sequence[str],
                   path: str | os.PathLike, title: str = "Attention") -> None:
    """Heat map of attention ``weights`` (T_out, S): one row per generated token (``target_tokens``,
    ``<eos>`` appended when there is one row more), one column per source token.

    Raises:
        ShapeError: the weights do not match the token lists.
    """
    w = np.asarray(weights, dtype=float)
    targets = list(target_tokens)
    if w.ndim == 2 and w.shape[0] == len(targets) + 1:
        targets.append("<eos>")
    if w.ndim != 2 or w.shape != (len(targets), len(source_tokens)):
        raise ShapeError(f"weights must be (T_out, S) = ({len(targets)}, {len(source_tokens)}) for these tokens, "
                         f"got shape {w.shape}")
    plt = _pyplot()
    cell = 0.32
    fig, ax = plt.subplots(figsize=(max(4.0, cell * w.shape[1] + 2.0), max(3.0, cell * w.shape[0] + 1.5)))
    try:
        im = ax.imshow(w, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(w.shape[1]), [repr(t)[1:-1] if t.isspace() else t for t in source_tokens], rotation=90,
                      fontsize=8)
        ax.set_yticks(range(w.shape[0]), [repr(t)[1:-1] if t.isspace() else t for t in targets], fontsize=8)
        ax.set_xlabel("source")
        ax.set_ylabel("generated")
        ax.set_title(title)
        fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
        fig.tight_layout()
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    finally:
        plt.close(fig)


def plot_image_attention(image: np.ndarray, weights: np.ndarray, words: Sequence[str], path: str | os.PathLike,
                         title: str | None = None) -> None:
    """One panel per generated word: the image with that word's attention over its regions
    (``weights`` (T_out, h, w), upsampled to the image) as a translucent overlay; for a clip,
    ``image`` (T, H, W, C) and ``weights`` (T_out, T): a row of frames per word, each frame's
    border as bright as its weight.

    Raises:
        ShapeError: shapes that do not fit together.
    """
    img = np.asarray(image)
    w = np.asarray(weights, dtype=float)
    words = list(words)
    if len(w) == len(words) + 1:
        words.append("<eos>")
    if len(w) != len(words):
        raise ShapeError(f"weights has {len(w)} rows for {len(words)} words")
    plt = _pyplot()
    if img.ndim == 4:  # a clip: (T, H, W, C), weights (T_out, T)
        if w.ndim != 2 or w.shape[1] != img.shape[0]:
            raise ShapeError(f"a clip of {img.shape[0]} frames needs weights (T_out, {img.shape[0]}), got {w.shape}")
        fig, axes = plt.subplots(len(words), img.shape[0], figsize=(1.1 * img.shape[0], 1.2 * len(words)), squeeze=False)
        try:
            for r, word in enumerate(words):
                for t in range(img.shape[0]):
                    ax = axes[r, t]
                    ax.imshow(img[t].squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    for side in ax.spines.values():
                        side.set_edgecolor((1.0, 0.8, 0.0, float(w[r, t])))
                        side.set_linewidth(4)
                    if t == 0:
                        ax.set_ylabel(word, rotation=0, ha="right", va="center", fontsize=9)
            if title:
                fig.suptitle(title)
            fig.tight_layout()
            atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
        finally:
            plt.close(fig)
        return
    if img.ndim != 3 or w.ndim != 3:
        raise ShapeError(f"an image (H, W, C) needs weights (T_out, h, w), got image {img.shape} and weights {w.shape}")
    cols = min(6, len(words))
    rows = math.ceil(len(words) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.0 * cols, 2.2 * rows), squeeze=False)
    H, W = img.shape[:2]
    try:
        for k, ax in enumerate(axes.flat):
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= len(words):
                ax.axis("off")
                continue
            ax.imshow(img.squeeze(), cmap="gray" if img.shape[-1] == 1 else None)
            ax.imshow(w[k] / max(w[k].max(), 1e-12), cmap="magma", alpha=0.55, extent=(-0.5, W - 0.5, H - 0.5, -0.5),
                      interpolation="bilinear")
            ax.set_title(words[k], fontsize=10)
        if title:
            fig.suptitle(title)
        fig.tight_layout()
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(fig)
