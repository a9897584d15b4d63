"""Variable-length sequence batches: validation at the edge, padding with explicit lengths.

Accepted inputs (``to_sequences``):

* a 3-D array (n, T, F), all of length T, or right-padded with ``lengths`` (n,) given;
* a 2-D array (n, T): univariate, F = 1;
* a list of (T_i, F) or (T_i,) arrays of different lengths;
* a long-format DataFrame: one row per (id, time step), feature columns, sorted by
  ``time_col`` within each ``id_col`` group (ids keep their order of first appearance).
  Feature columns may be of any numeric or boolean pandas dtype (NumPy, nullable ``Int64``/
  ``Float64`` with ``pd.NA``, Arrow-backed, categorical with numeric categories); text columns
  are refused naming the column, and a missing value is named by its sequence id, column,
  time and row.

Padding is never trusted: a batch is ``x`` (B, T_max, F) zero-padded plus ``lengths`` (B,),
and models mask or pack with ``lengths``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from pandas.api.types import is_bool_dtype, is_complex_dtype, is_numeric_dtype

from lstmkit.errors import DataError, ShapeError, suggest

__all__ = ["to_sequences", "pad_sequences", "SequenceDataset", "downsample", "patch"]


_MAX_LISTED = 3  # items named per problem before "(and N more)"


def _check_finite(seqs: list[np.ndarray], name: str) -> None:
    for i, s in enumerate(seqs):
        if not np.isfinite(s).all():
            t, f = np.argwhere(~np.isfinite(s))[0]
            raise DataError(
                f"{name}[{i}] has a non-finite value (NaN or inf) at step {t}, feature {f}; "
                "impute or drop missing values first"
            )


def _more(total: int, listed: int) -> str:
    """`` (and N more)`` after naming ``listed`` of ``total`` items; empty when all were named."""
    return f" (and {total - listed} more)" if total > listed else ""


def _show(v: Any) -> str:
    """A value as the user wrote it: ``'s3'``, ``27``, ``2020-01-31 00:00:00`` (no ``np.int64(...)``)."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, str) else str(v)


def _feature_floats(col: pd.Series) -> np.ndarray | None:
    """A numeric or boolean column in any pandas storage (NumPy, nullable, Arrow, categorical of
    numbers) as float64 with NaN for missing values; None for text and other non-numbers."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if not (is_numeric_dtype(dtype.categories.dtype) or is_bool_dtype(dtype.categories.dtype)):
            return None
        codes = col.cat.codes.to_numpy()
        categories = dtype.categories.to_numpy(dtype=np.float64, na_value=np.nan)
        return np.where(codes >= 0, categories[codes], np.nan)  # code -1: no category
    if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)) or is_complex_dtype(dtype):
        return None
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _looks_like_id(df: Any, col: str, time_col: str | None) -> bool:
    """Few distinct values, each repeated, and (with a time column) each time once per value."""
    s = df[col]
    n, k = len(s), int(s.nunique())
    if s.isna().any() or k < 2 or k > n // 2:
        return False
    if time_col is None or time_col not in df.columns:
        return int((s != s.shift()).sum()) == k  # one contiguous block per value
    key = pd.DataFrame({"t": np.asarray(df[time_col].astype(object)), "c": np.asarray(s.astype(object))})
    return bool(key["t"].duplicated().any()) and not bool(key.duplicated().any())


def _from_long(X: Any, name: str, id_col: str, time_col: str | None,
               feature_columns: Sequence[str] | None) -> tuple[list[np.ndarray], list[Any]]:
    """Sequences of a long DataFrame (one row per id and time step) and their ids, validated:
    messages name the column, the sequence id, the time and the row (0-based position in X)."""
    if id_col not in X.columns:
        others = [str(c) for c in X.columns if c != time_col]
        guess = next((c for c in others if _feature_floats(X[c]) is None and _looks_like_id(X, c, time_col)), None)
        hint = (f"; {guess!r} looks like the sequence id: pass id_col={guess!r}" if guess is not None
                else suggest(str(id_col), others))
        raise DataError(
            f"{name}: a long-format DataFrame needs an id column {id_col!r} (one row per id and "
            f"time step); got columns {list(X.columns)[:10]}{hint}"
        )
    empty = X[id_col].isna().to_numpy()
    if empty.any():
        pos = np.flatnonzero(empty)
        raise DataError(f"{name}: column {id_col!r} (id_col) is empty at row {int(pos[0])}{_more(len(pos), 1)}; "
                        "every row needs a sequence id")
    has_time = time_col is not None and time_col in X.columns
    feats = list(feature_columns) if feature_columns is not None else [
        c for c in X.columns if c not in (id_col, time_col)
    ]
    missing = [c for c in feats if c not in X.columns]
    if missing:
        raise DataError(f"{name}: feature column(s) {missing} not found"
                        f"{suggest(str(missing[0]), [str(c) for c in X.columns])}; columns are {list(X.columns)[:10]}")
    if not feats:
        raise DataError(f"{name}: no feature columns besides {id_col!r}" + (f" and {time_col!r}" if has_time else ""))
    values = {c: _feature_floats(X[c]) for c in feats}
    text = [c for c in feats if values[c] is None]
    if text:
        def example(c: str) -> str:
            filled = np.flatnonzero(X[c].notna().to_numpy())
            return f", e.g. {_show(X[c].iloc[filled[0]])} at row {int(filled[0])}" if len(filled) else ""

        listed = "; ".join(f"column {c!r} is not numeric (dtype {X[c].dtype}{example(c)})" for c in text[:_MAX_LISTED])
        raise DataError(
            f"{name}: {listed}{_more(len(text), min(len(text), _MAX_LISTED))}; feature columns must be numeric: "
            "drop or encode them (a class label belongs in y, not in X)"
        )
    ids = X[id_col].to_numpy()
    frame = pd.DataFrame({"id": ids, "row": np.arange(len(X))})
    if has_time:
        frame["time"] = X[time_col].to_numpy()
        frame = frame.sort_values("time", kind="stable")  # groupby keeps this order within each id
    mat = np.column_stack([values[c] for c in feats])  # (N, F), rows of X
    order = list(dict.fromkeys(X[id_col].tolist()))  # ids in order of first appearance
    positions = {k: g["row"].to_numpy() for k, g in frame.groupby("id", sort=False)}
    bad = ~np.isfinite(mat)
    if bad.any():
        rows, cols = np.nonzero(bad)
        first = int(rows[0])
        sid = ids[first]
        step = int(np.flatnonzero(positions[sid] == first)[0])
        when = f"time {_show(X[time_col].iloc[first])}" if has_time else f"step {step}"
        kind = "NaN" if np.isnan(mat[first, cols[0]]) else "inf"
        raise DataError(
            f"{name}: sequence id {_show(sid)}, column {feats[int(cols[0])]!r}, {when} (row {first}) is {kind}"
            f"{_more(len(rows), 1)}; impute or drop missing values first"
        )
    seqs = [mat[positions[k]].astype(np.float32) for k in order]  # (T_i, F) each
    return seqs, order


def to_sequences(
    X: Any,
    lengths: Any = None,
    *,
    name: str = "X",
    id_col: str = "id",
    time_col: str | None = "time",
    feature_columns: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[Any] | None]:
    """Validate ``X``; return (list of float32 (T_i, F) arrays, the ids of a long DataFrame or None)."""
    ids = None
    if hasattr(X, "tocoo") or type(X).__module__.startswith("scipy.sparse"):
        raise DataError(f"{name}: sparse input is not supported; pass a dense array (X.toarray())")
    if isinstance(X, np.ndarray) and np.iscomplexobj(X):
        raise DataError(f"{name}: Complex data not supported (got dtype {X.dtype}); pass real numbers")
    if isinstance(X, pd.DataFrame):  # long format
        seqs, ids = _from_long(X, name, id_col, time_col, feature_columns)
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
