"""Variance-stabilising transforms of a forecast target, with their exact inverses."""

from __future__ import annotations

import numpy as np

from lstmkit.errors import ConfigError, DataError, suggest

__all__ = ["TargetTransform", "TRANSFORMS"]

TRANSFORMS = (None, "log", "log1p")


class TargetTransform:
    """``None`` (identity), ``"log"`` (positive values) or ``"log1p"`` (values > -1).

    Multiplicative seasonality becomes additive under ``log``. ``transform`` raises
    DataError naming the series and position of the first value out of the domain.
    """

    def __init__(self, kind: str | None = None) -> None:
        if kind not in TRANSFORMS:
            raise ConfigError(f"transform must be one of {list(TRANSFORMS)}, got {kind!r}{suggest(str(kind), ['log', 'log1p'])}")
        self.kind = kind

    def transform(self, v: np.ndarray, series: str = "0") -> np.ndarray:
        if self.kind is None:
            return v
        low, f, need = (0.0, np.log, "positive values") if self.kind == "log" else (-1.0, np.log1p, "values > -1")
        bad = np.flatnonzero(v <= low)
        if len(bad):
            i = int(bad[0])
            raise DataError(f"transform={self.kind!r} needs {need}; series {series!r} has {float(v[i])!r} at position {i}")
        return f(v)

    def inverse_transform(self, v: np.ndarray) -> np.ndarray:
        if self.kind == "log":
            return np.exp(v)
        if self.kind == "log1p":
            return np.expm1(v)
        return v
