"""Per-series scalers fitted on training data only, serialisable to JSON.

A scaler maps values to ``(x - center) / scale`` column by column; ``to_dict`` /
``scaler_from_dict`` round-trip exactly (Python's JSON writes floats with ``repr``).
Constant columns get scale 1, so nothing divides by zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstmkit.errors import ConfigError, DataError, NotFittedError, suggest

__all__ = ["Scaler", "StandardScaler", "MinMaxScaler", "RobustScaler", "IdentityScaler", "make_scaler",
           "scaler_from_dict", "SCALERS"]


class Scaler:
    """Affine per-column scaler: ``transform(x) = (x - center_) / scale_``."""

    kind = "base"

    def __init__(self) -> None:
        self.center_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def _stats(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def fit(self, x: np.ndarray) -> "Scaler":
        x = _as_2d(x)
        if x.shape[0] == 0:
            raise DataError(f"{type(self).__name__}.fit: no rows to fit on")
        if not np.all(np.isfinite(x)):
            raise DataError(f"{type(self).__name__}.fit: values must be finite")
        center, scale = self._stats(x)
        scale = np.where(np.isfinite(scale) & (scale > 1e-12 * np.maximum(1.0, np.abs(center))), scale, 1.0)
        self.center_, self.scale_ = center.astype(np.float64), scale.astype(np.float64)
        return self

    def _check(self) -> None:
        if self.center_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(x) first")

    def transform(self, x: np.ndarray) -> np.ndarray:
        self._check()
        squeeze = np.ndim(x) == 1
        out = (_as_2d(x) - self.center_) / self.scale_
        return out[:, 0] if squeeze else out

    def inverse_transform(self, x: np.ndarray, column: int | None = None) -> np.ndarray:
        """Undo ``transform``; with ``column``, ``x`` (any shape) holds values of that column only."""
        self._check()
        if column is not None:
            return np.asarray(x, dtype=np.float64) * self.scale_[column] + self.center_[column]
        squeeze = np.ndim(x) == 1
        out = _as_2d(x) * self.scale_ + self.center_
        return out[:, 0] if squeeze else out

    def to_dict(self) -> dict[str, Any]:
        self._check()
        return {"kind": self.kind, "center": self.center_.tolist(), "scale": self.scale_.tolist()}


class StandardScaler(Scaler):
    """Mean 0, standard deviation 1."""

    kind = "standard"

    def _stats(self, x):
        return x.mean(axis=0), x.std(axis=0)


class MinMaxScaler(Scaler):
    """Training range mapped to [0, 1]."""

    kind = "minmax"

    def _stats(self, x):
        lo, hi = x.min(axis=0), x.max(axis=0)
        return lo, hi - lo


class RobustScaler(Scaler):
    """Median 0, interquartile range 1: insensitive to outliers."""

    kind = "robust"

    def _stats(self, x):
        q1, med, q3 = np.percentile(x, [25, 50, 75], axis=0)
        return med, q3 - q1


class IdentityScaler(Scaler):
    """No scaling (center 0, scale 1)."""

    kind = "none"

    def _stats(self, x):
        return np.zeros(x.shape[1]), np.ones(x.shape[1])


SCALERS: dict[str, type[Scaler]] = {
    c.kind: c for c in (StandardScaler, MinMaxScaler, RobustScaler, IdentityScaler)
}


def make_scaler(kind: str | None) -> Scaler:
    kind = "none" if kind is None else kind
    if kind not in SCALERS:
        raise ConfigError(f"scaler must be one of {sorted(SCALERS)}, got {kind!r}{suggest(str(kind), SCALERS)}")
    return SCALERS[kind]()


def scaler_from_dict(d: dict[str, Any]) -> Scaler:
    s = make_scaler(d["kind"])
    s.center_ = np.asarray(d["center"], dtype=np.float64)
    s.scale_ = np.asarray(d["scale"], dtype=np.float64)
    return s


def _as_2d(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return x[:, None] if x.ndim == 1 else x
