"""Variable-length sequence batches: validation at the edge, padding with explicit lengths.

Accepted inputs (``to_sequences``):

* a 3-D array (n, T, F), all of length T, or right-padded with ``lengths`` (n,) given;
* a 2-D array (n, T): univariate, F = 1;
* a list of (T_i, F) or (T_i,) arrays of different lengths;
* a long-format DataFrame: one row per (id, time step), feature columns, sorted by
  ``time_column`` within each ``id_column`` group (ids keep their order of first appearance).

Padding is never trusted: a batch is ``x`` (B, T_max, F) zero-padded plus ``lengths`` (B,),
and models mask or pack with ``lengths``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from lstmkit.errors import DataError, ShapeError

__all__ = ["to_sequences", "pad_sequences", "SequenceDataset", "downsample", "patch"]


def _check_finite(seqs: list[np.ndarray], name: str) -> None:
    for i, s in enumerate(seqs):
        if not np.isfinite(s).all():
            t, f = np.argwhere(~np.isfinite(s))[0]
            raise DataError(
                f"{name}[{i}] has a non-finite value (NaN or inf) at step {t}, feature {f}; "
                "impute or drop missing values before fitting"
            )


def to_sequences(
    X: Any,
    lengths: Any = None,
    *,
    name: str = "X",
    id_column: str = "id",
    time_column: str | None = "time",
    feature_columns: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[Any] | None]:
    """Validate ``X``; return (list of float32 (T_i, F) arrays, ids or None for DataFrames' ids)."""
    ids = None
    if hasattr(X, "tocoo") or type(X).__module__.startswith("scipy.sparse"):
        raise DataError(f"{name}: sparse input is not supported; pass a dense array (X.toarray())")
    if np.iscomplexobj(X) if isinstance(X, np.ndarray) else False:
        raise DataError(f"{name}: complex values are not supported; got dtype {X.dtype}")
    if hasattr(X, "columns") and hasattr(X, "groupby"):  # pandas DataFrame (long format)
        if id_column not in X.columns:
            raise DataError(
                f"{name}: a long-format DataFrame needs an id column {id_column!r} (one row per id and "
                f"time step); got columns {list(X.columns)[:10]}"
            )
        df = X
        if time_column is not None and time_column in df.columns:
            df = df.sort_values([id_column, time_column], kind="stable")
        feats = list(feature_columns) if feature_columns is not None else [
            c for c in df.columns if c not in (id_column, time_column)
        ]
        bad = [c for c in feats if c not in df.columns or not np.issubdtype(df[c].dtype, np.number)]
        if bad or not feats:
            raise DataError(f"{name}: feature columns must be numeric, got non-numeric or missing {bad or 'none'}")
        order = list(dict.fromkeys(X[id_column].tolist()))
        groups = {k: g[feats].to_numpy(np.float32) for k, g in df.groupby(id_column, sort=False)}
        seqs = [groups[k] for k in order]
        ids = order
        if lengths is not None:
            raise DataError(f"{name}: lengths= is not used with a long-format DataFrame (each id's row count is its length)")
    elif isinstance(X, (list, tuple)) or (isinstance(X, np.ndarray) and X.dtype == object):
        seqs = []
        for i, s in enumerate(X):
            try:
                a = np.asarray(s, dtype=np.float32)
            except (ValueError, TypeError):
                raise DataError(f"{name}[{i}] is not a numeric array (T_i, F); got {type(s).__name__}") from None
            if a.ndim == 1:
                a = a[:, None]
            if a.ndim != 2:
                raise ShapeError(f"{name}[{i}] must be 1-D (T,) or 2-D (T, F), got shape {a.shape}")
            seqs.append(a)
        if lengths is not None:
            lens = np.asarray(lengths)
            if len(lens) != len(seqs) or any(int(n) != len(s) for n, s in zip(lens, seqs)):
                raise DataError(f"{name}: lengths= disagrees with the lengths of the arrays in the list; omit lengths for lists")
    else:
        try:
            a = np.asarray(X, dtype=np.float32)
        except (ValueError, TypeError):
            raise DataError(
                f"{name}: could not read as a numeric array (ragged nested lists?); pass a list of "
                "(T_i, F) numpy arrays, a 3-D array with lengths=, or a long-format DataFrame"
            ) from None
        if a.ndim == 2:
            a = a[:, :, None]
        if a.ndim != 3:
            raise ShapeError(f"{name} must be 3-D (n_samples, T, F), 2-D (n_samples, T) or a list of arrays, got shape {a.shape}")
        if lengths is None:
            if a.shape[1] and np.isnan(a[:, -1, :]).all(axis=1).any():
                k = int(np.isnan(a[:, -1, :]).all(axis=1).sum())
                raise DataError(
                    f"{name}: {k} sample(s) end in NaN rows, which looks like ragged sequences padded with NaN; "
                    "pass lengths= (true length of each sample) or a list of (T_i, F) arrays"
                )
            seqs = list(a)
        else:
            lens = np.asarray(lengths)
            if lens.ndim != 1 or len(lens) != len(a):
                raise ShapeError(f"lengths must be 1-D with one entry per sample ({len(a)}), got shape {lens.shape}")
            if not np.issubdtype(lens.dtype, np.integer) or (lens < 1).any() or (lens > a.shape[1]).any():
                raise DataError(f"lengths must be integers in [1, {a.shape[1]}] (the padded T), got {lens[:5]}...")
            seqs = [a[i, : int(n)] for i, n in enumerate(lens)]
    if not seqs:
        raise DataError(f"{name} holds no samples")
    n_feat = {s.shape[1] for s in seqs}
    if len(n_feat) != 1:
        raise ShapeError(f"{name}: every sequence must have the same number of features F, got {sorted(n_feat)}")
    empty = [i for i, s in enumerate(seqs) if s.shape[0] == 0]
    if empty:
        raise DataError(f"{name}[{empty[0]}] is empty (length 0); every sequence needs at least one step")
    _check_finite(seqs, name)
    return seqs, ids


def downsample(seqs: list[np.ndarray], factor: int) -> list[np.ndarray]:
    """Average non-overlapping windows of ``factor`` steps (the last window may be shorter)."""
    if factor == 1:
        return seqs
    out = []
    for s in seqs:
        T, F = s.shape
        n = -(-T // factor)
        padded = np.full((n * factor, F), np.nan, dtype=s.dtype)
        padded[:T] = s
        out.append(np.nanmean(padded.reshape(n, factor, F), axis=1).astype(s.dtype))  # (ceil(T/k), F)
    return out


def patch(seqs: list[np.ndarray], size: int) -> list[np.ndarray]:
    """Stack non-overlapping frames of ``size`` steps into one step of size*F features.

    (T, F) -> (ceil(T/size), size*F); the last frame is zero-padded. Unlike ``downsample``
    nothing is averaged away; the LSTM takes size times fewer steps.
    """
    if size == 1:
        return seqs
    out = []
    for s in seqs:
        T, F = s.shape
        n = -(-T // size)
        padded = np.zeros((n * size, F), dtype=s.dtype)
        padded[:T] = s
        out.append(padded.reshape(n, size * F))  # (n, size*F), frame-major
    return out


def pad_sequences(seqs: list[np.ndarray], fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad to (B, T_max, ...) and return it with ``lengths`` (B,) int64."""
    lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
    T = int(lengths.max())
    first = np.asarray(seqs[0])
    out = np.full((len(seqs), T) + first.shape[1:], fill, dtype=first.dtype)
    for i, s in enumerate(seqs):
        out[i, : len(s)] = s
    return torch.from_numpy(out), lengths


class SequenceDataset(torch.utils.data.Dataset):
    """Sequences with optional targets; ``collate`` pads a batch into a dict.

    Batch: ``{"x": (B, T, F) float, "lengths": (B,) long, "y": (B,) long or (B, T) long}``;
    per-step targets are padded with -100 (ignored by the loss).
    """

    def __init__(self, seqs: list[np.ndarray], targets: Any = None) -> None:
        self.seqs = seqs
        self.targets = targets

    def __len__(self) -> int:
        return len(self.seqs)

    def __getitem__(self, i: int) -> tuple[np.ndarray, Any]:
        return self.seqs[i], (None if self.targets is None else self.targets[i])

    @staticmethod
    def collate(items: list[tuple[np.ndarray, Any]]) -> dict[str, torch.Tensor]:
        x, lengths = pad_sequences([s for s, _ in items])
        batch = {"x": x, "lengths": lengths}
        ys = [y for _, y in items]
        if ys[0] is not None:
            if np.ndim(ys[0]) == 0:
                batch["y"] = torch.tensor(np.asarray(ys), dtype=torch.long)
            else:
                batch["y"], _ = pad_sequences([np.asarray(y, dtype=np.int64) for y in ys], fill=-100)
        return batch
