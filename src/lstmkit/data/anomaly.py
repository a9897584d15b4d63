"""Series for anomaly detection: reading and validating them, and the fitted pipeline.

:func:`read_anomaly_series` takes what a user has (a 1-D or 2-D array, a pandas Series or
DataFrame, or a CSV/Parquet file) and returns a :class:`LabelledSeries`: float values (T, F),
the column names, optional 0/1 labels (a label column) and the time index. Gaps (NaN) follow
``nan_policy`` as in the forecaster: ``"error"`` names them, ``"interpolate"`` (linear, ends
held) or ``"ffill"`` (then back-fill at the start) fills them.

:class:`AnomalyPipeline` is fitted on the training series only: the value columns and their
standardisation, and, after the network is trained, the scale of its errors and the training
scores (for the ``"quantile"`` threshold). It saves as JSON.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.data.timeseries import read_table
from lstmkit.errors import ConfigError, DataError, suggest

__all__ = ["NAN_POLICIES", "AnomalyPipeline", "LabelledSeries", "flag_runs", "read_anomaly_series"]

NAN_POLICIES = ("error", "interpolate", "ffill")
LABEL_NAMES = ("label", "labels", "is_anomaly", "is_anomalous", "anomaly", "anomalous")  # found without label_col
TIME_NAMES = ("timestamp", "time", "date", "datetime", "ds")  # never values unless named in columns


@dataclasses.dataclass
class LabelledSeries:
    """values (T, F) float64, columns (F names), labels (T,) int8 0/1 or None, index (T,);
    ``named`` is False for an array, whose column names were made up."""

    values: np.ndarray
    columns: list[str]
    labels: np.ndarray | None
    index: pd.Index
    named: bool = True

    def __len__(self) -> int:
        return int(self.values.shape[0])


def read_anomaly_series(
    X: Any,
    *,
    columns: list[str] | None = None,
    label_col: str | None = None,
    time_col: str | None = None,
    nan_policy: str = "error",
    name: str = "X",
    strict: bool = True,
) -> LabelledSeries:
    """Read and validate one series (univariate or multivariate) for anomaly detection.

    Args:
        X: array (T,) or (T, F); pandas Series; DataFrame (one column per channel); or the
            path of a .csv/.tsv/.parquet file.
        columns: the value columns of a DataFrame/file (default: every numeric column that is
            not the label or time column).
        label_col: a 0/1 column of known anomalies (default: a column named ``label``,
            ``labels``, ``is_anomaly``, ``is_anomalous``, ``anomaly`` or ``anomalous``, if there
            is one). It is never a value column.
        time_col: a time column used as the index (default: none). Without ``columns``, columns
            named ``timestamp``, ``time``, ``date``, ``datetime`` or ``ds`` are never values.
        nan_policy: ``"error"``, ``"interpolate"`` or ``"ffill"`` for NaN gaps in the values.
        name: the argument's name in messages.
        strict: False when scoring: a ``label_col`` or ``time_col`` the data lacks is ignored
            (live data has no labels) instead of an error.

    Raises:
        DataError: empty input, non-numeric or missing columns, labels other than 0/1 or
            missing, NaN/inf values under ``nan_policy="error"`` (naming the column and rows),
            or a column that is entirely NaN.
        ConfigError: an unknown ``nan_policy``.
    """
    if nan_policy not in NAN_POLICIES:
        raise ConfigError(f"nan_policy must be one of {list(NAN_POLICIES)}, got {nan_policy!r}"
                          f"{suggest(str(nan_policy), NAN_POLICIES)}")
    if isinstance(columns, str):
        columns = [columns]
    named = True
    if isinstance(X, (str, os.PathLike)):
        df = read_table(Path(X))
        name = f"{name} ({Path(X).name})"
    elif isinstance(X, pd.DataFrame):
        df = X
    elif isinstance(X, pd.Series):
        df = X.to_frame(name=str(X.name) if X.name is not None else "value")
    else:
        try:
            arr = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name} must be numeric (an array, Series, DataFrame or file), got "
                            f"{type(X).__name__}: {exc}") from None
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2:
            raise DataError(f"{name} must be 1-D (T,) or 2-D (T, F), got shape {arr.shape}")
        df = pd.DataFrame(arr, columns=[f"x{j}" for j in range(arr.shape[1])] if arr.shape[1] > 1 else ["value"])
        named = False
    if len(df) == 0:
        raise DataError(f"{name} is empty: give at least one time step")
    cols = [str(c) for c in df.columns]
    df = df.set_axis(cols, axis=1)
    problems: list[str] = []
    for arg, col in (("label_col", label_col), ("time_col", time_col)):
        if col is not None and col not in cols:
            if strict:
                problems.append(f"{arg} {col!r} is not a column of {name}; columns: {cols}{suggest(col, cols)}")
            elif arg == "label_col":
                label_col = None
            else:
                time_col = None
    if label_col is None:
        label_col = next((c for c in cols if c.lower() in LABEL_NAMES), None)
    skip = {label_col, time_col}
    if columns is None:
        skip |= {c for c in cols if c.lower() in TIME_NAMES}
        candidates = [c for c in cols if c not in skip]
        value_cols = [c for c in candidates if _numeric(df[c])]
        for c in candidates:  # a numeric column spoiled by a few text cells is an error, not a dropped column
            if c not in value_cols and _mostly_numeric(df[c]):
                problems.append(_non_numeric(df[c], c, name))
        if not value_cols and not problems:
            problems.append(f"{name} has no numeric value column; columns: {cols}")
    else:
        value_cols = [str(c) for c in columns]
        if not value_cols:
            problems.append("columns must name at least one value column, got an empty list")
        for c in value_cols:
            if c in (label_col, time_col):
                role = "label_col" if c == label_col else "time_col"
                problems.append(f"column {c!r} is the {role} of {name}; it cannot also be a value column")
            elif c not in cols:
                problems.append(f"column {c!r} is missing from {name}; columns: {cols}{suggest(c, cols)}")
            elif not _numeric(df[c]):
                problems.append(_non_numeric(df[c], c, name))
    if problems:
        raise DataError("; ".join(problems))
    labels = None
    if label_col is not None:
        labels = _labels(df[label_col], label_col, name)
    values = df[value_cols].to_numpy(dtype=np.float64, na_value=np.nan)
    values = _fill(values, value_cols, nan_policy, name)
    index = pd.Index(df[time_col]) if time_col is not None else pd.RangeIndex(len(df))
    return LabelledSeries(values, value_cols, labels, index, named)


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype)


def _mostly_numeric(col: pd.Series) -> bool:
    """An object column whose non-empty cells are mostly numbers (a numeric column with typos)."""
    if pd.api.types.is_numeric_dtype(col.dtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
        return False
    present = col.dropna()
    return len(present) > 0 and pd.to_numeric(present, errors="coerce").notna().mean() >= 0.5


def _non_numeric(col: pd.Series, c: str, name: str) -> str:
    bad = col[pd.to_numeric(col, errors="coerce").isna() & col.notna()]
    where = f"; row {bad.index[0]!r} holds {bad.iloc[0]!r}" + (f" ({len(bad)} such rows)" if len(bad) > 1 else "") \
        if len(bad) else ""
    return f"column {c!r} of {name} must be numeric{where}"


def _labels(col: pd.Series, label_col: str, name: str) -> np.ndarray:
    v = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.flatnonzero(~np.isin(v, (0.0, 1.0)))
    if len(bad):
        i = int(bad[0])
        got = col.iloc[i].item() if hasattr(col.iloc[i], "item") else col.iloc[i]
        raise DataError(f"label column {label_col!r} of {name} must hold only 0 and 1; row {i} holds "
                        f"{got!r}" + (f" ({len(bad)} such rows)" if len(bad) > 1 else ""))
    return v.astype(np.int8)


def _fill(values: np.ndarray, columns: list[str], nan_policy: str, name: str) -> np.ndarray:
    bad = ~np.isfinite(values)
    if not bad.any():
        return values
    problems = []
    for j, c in enumerate(columns):
        rows = np.flatnonzero(bad[:, j])
        if len(rows) == 0:
            continue
        if len(rows) == len(values):
            problems.append(f"column {c!r} of {name} has no finite value")
        elif nan_policy == "error":
            shown = ", ".join(str(r) for r in rows[:5]) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
            problems.append(f"column {c!r} of {name} has {len(rows)} missing or infinite value(s) at row(s) {shown}; "
                            "fill them first or pass nan_policy='interpolate' or 'ffill'")
    if problems:
        raise DataError("; ".join(problems))
    frame = pd.DataFrame(np.where(bad, np.nan, values))
    if nan_policy == "interpolate":
        frame = frame.interpolate(limit_direction="both")
    else:
        frame = frame.ffill().bfill()
    return frame.to_numpy(dtype=np.float64)


def flag_runs(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive (starts, ends) of the runs of True (or non-zero) in flags (T,), each (R,) int64:
    the one definition of an anomaly range that labels, detections and plots share."""
    edges = np.diff(np.concatenate(([0], np.asarray(flags).astype(bool).astype(np.int8), [0])))  # (T+1,)
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1


class AnomalyPipeline:
    """What the detector learns from its training series besides the network's weights.

    Attributes:
        columns: the value columns, in order (a later series must have them all).
        center, scale: per-column standardisation (training mean and std).
        error_center, error_precision: set after training from the training series' errors: the
            prediction scorer's per-column median absolute error (center 0, precision diag 1/median);
            the reconstruction scorer's error Gaussian (mean and inverse covariance, Malhotra 2016).
        threshold: the fixed threshold of the ``"quantile"`` rule (a quantile of the training
            scores), or None.
    """

    def __init__(self, columns: list[str], center: np.ndarray, scale: np.ndarray) -> None:
        self.columns = list(columns)
        self.center = np.asarray(center, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)
        self.error_center: np.ndarray | None = None  # (F,)
        self.error_precision: np.ndarray | None = None  # (F, F): inverse covariance, or diag 1/mean|e|
        self.threshold: float | None = None

    @classmethod
    def fit(cls, data: LabelledSeries) -> "AnomalyPipeline":
        """Standardisation of each column on the training series.

        Raises:
            DataError: a constant column (nothing can be learned from it, and any later change
                would be infinitely anomalous), naming it.
        """
        v = data.values
        center, scale = v.mean(0), v.std(0)
        flat = [c for c, s, m in zip(data.columns, scale, center) if not s > 1e-12 * max(1.0, abs(m))]
        if flat:
            raise DataError(f"column(s) {flat} are constant in the training series (value "
                            f"{center[data.columns.index(flat[0])]:g}): an LSTM detector cannot learn normal "
                            "behaviour from a constant series; drop the column or give a longer training series")
        return cls(data.columns, center, scale)

    def select(self, data: LabelledSeries, name: str = "X") -> np.ndarray:
        """The fitted columns of ``data``, standardised: (T, F) float64.

        Raises:
            DataError: a fitted column is missing (named), or the number of columns of an
                unnamed array differs.
        """
        if data.columns == self.columns:
            v = data.values
        elif all(c in data.columns for c in self.columns):
            v = data.values[:, [data.columns.index(c) for c in self.columns]]
        elif not data.named and data.values.shape[1] == len(self.columns):
            v = data.values  # an array (no names) of the right width: its columns in the fitted order
        elif not data.named:
            raise DataError(f"{name} has {data.values.shape[1]} column(s); the detector was fitted on "
                            f"{len(self.columns)}: {self.columns}")
        else:
            missing = [c for c in self.columns if c not in data.columns]
            raise DataError(f"{name} lacks the column(s) {missing} the detector was fitted on; it has "
                            f"{data.columns} (fitted on {self.columns})")
        return (v - self.center) / self.scale

    def to_dict(self) -> dict[str, Any]:
        return {"columns": self.columns, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "error_center": None if self.error_center is None else self.error_center.tolist(),
                "error_precision": None if self.error_precision is None else self.error_precision.tolist(),
                "threshold": self.threshold}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "AnomalyPipeline":
        p = cls(d["columns"], np.array(d["center"]), np.array(d["scale"]))
        p.error_center = None if d["error_center"] is None else np.array(d["error_center"], dtype=np.float64)
        p.error_precision = None if d["error_precision"] is None else np.array(d["error_precision"], dtype=np.float64)
        p.threshold = d["threshold"]
        return p
