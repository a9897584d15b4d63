"""Class labels of any hashable JSON type, encoded to codes 0..C-1 and back exactly."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import ConfigError, DataError, NotFittedError

__all__ = ["LabelEncoder", "label_array", "labels_to_json", "labels_from_json", "to_python"]


def to_python(v: Any) -> Any:
    """A NumPy scalar as the Python value it holds (other values unchanged)."""
    return v.item() if isinstance(v, np.generic) else v


def label_array(y: Any) -> np.ndarray:
    """``y`` as an array without changing any label: an object array where NumPy would coerce."""
    arr = np.asarray(y)
    if isinstance(y, np.ndarray):
        return arr
    if arr.ndim > 1:  # e.g. tuple labels: keep each as one object
        items = list(y)
    elif arr.dtype.kind in "US" and not all(isinstance(v, (str, bytes)) for v in y):
        items = list(y)  # mixed labels such as [1, 'one']: NumPy would turn 1 into '1'
    else:
        return arr
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def labels_to_json(classes: np.ndarray) -> dict[str, Any]:
    """``{"values", "dtype"}``; ConfigError if a label is not a JSON value."""
    values = [to_python(c) for c in classes]
    try:
        ok = json.loads(json.dumps(values)) == values
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(
            "class labels must be JSON values (str, int, float, bool) to save the model, got "
            f"{sorted({type(v).__name__ for v in values})}"
        )
    return {"values": values, "dtype": classes.dtype.str if classes.dtype != object else "object"}


def labels_from_json(d: dict[str, Any]) -> np.ndarray:
    if d["dtype"] == "object":
        out = np.empty(len(d["values"]), dtype=object)
        out[:] = d["values"]
        return out
    return np.asarray(d["values"], dtype=np.dtype(d["dtype"]))


class LabelEncoder:
    """Sorted classes (order of first appearance when labels are not orderable) <-> codes.

    ``fit_transform(y)`` learns ``classes_`` (C,) and returns codes (n,) int64;
    ``transform`` raises DataError for labels never seen at fit time; ``inverse_transform``
    maps codes back to labels of the original types.
    """

    def __init__(self, classes: np.ndarray | None = None) -> None:
        self.classes_ = classes

    def fit_transform(self, y: Any, name: str = "y") -> np.ndarray:
        arr = label_array(y)
        if arr.ndim != 1:
            raise DataError(f"{name} must be 1-D (one label per sample), got shape {arr.shape}")
        if arr.dtype.kind in "fc" and np.isnan(arr).any():
            raise DataError(f"{name} contains NaN labels at index {int(np.flatnonzero(np.isnan(arr))[0])}")
        if arr.dtype == object:  # text or nullable pandas labels: None, NaN or pd.NA
            missing = np.flatnonzero([v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) for v in arr])
            if len(missing):
                more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
                raise DataError(f"{name} contains missing labels (None, NaN or pd.NA) at index {int(missing[0])}{more}; "
                                "drop those samples or give them a label")
        try:
            classes, codes = np.unique(arr, return_inverse=True)
        except TypeError:  # mixed, unorderable types: order of first appearance
            seen: dict[Any, int] = {}
            codes = np.array([seen.setdefault(v, len(seen)) for v in arr])
            classes = np.empty(len(seen), dtype=object)
            for k, i in seen.items():
                classes[i] = k
        self.classes_ = classes
        return codes.reshape(-1).astype(np.int64)

    def _check(self) -> np.ndarray:
        if self.classes_ is None:
            raise NotFittedError("LabelEncoder is not fitted; call fit_transform(y) first")
        return self.classes_

    def transform(self, y: Any, name: str = "y") -> np.ndarray:
        classes = self._check()
        index = {to_python(c): i for i, c in enumerate(classes)}
        vals = [to_python(v) for v in (y.tolist() if isinstance(y, np.ndarray) else list(y))]
        unknown = sorted({repr(v) for v in vals if v not in index})
        if unknown:
            raise DataError(
                f"{name} contains label(s) never seen at fit time: {', '.join(unknown[:5])}; "
                f"the model knows {[to_python(c) for c in classes][:20]}"
            )
        return np.array([index[v] for v in vals], dtype=np.int64)

    def inverse_transform(self, codes: Any) -> np.ndarray:
        return self._check()[np.asarray(codes, dtype=np.int64)]

    def to_dict(self) -> dict[str, Any]:
        return labels_to_json(self._check())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "LabelEncoder":
        return cls(labels_from_json(d))
