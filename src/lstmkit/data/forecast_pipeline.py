"""What a forecaster learns from its training series, fitted once and inverted exactly.

:class:`ForecastPipeline` holds the column roles (target, past-only and known-future
covariates), the target transform, one scaler per series fitted on that series' training
part, the frequency, and the last ``lookback`` points of every series (the context the next
forecast starts from). It serialises to plain JSON and back without loss.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from lstmkit.data.scalers import Scaler, make_scaler, scaler_from_dict
from lstmkit.data.timeseries import SeriesSet, TimeSeries, check_min_length, future_index
from lstmkit.data.transforms import TargetTransform
from lstmkit.errors import DataError, suggest

__all__ = ["ForecastPipeline"]


@dataclasses.dataclass
class ForecastPipeline:
    """Fitted by :meth:`fit`; see the module docstring. Columns of a model matrix (T, C):
    transformed target, then covariates in ``column_order`` (past-only first, known-future last)."""

    lookback: int
    transform: TargetTransform
    target_name: str
    covariate_names: list[str]
    column_order: list[str]
    n_future: int
    freq: Any
    time_name: str | None
    id_name: str | None
    scaler: str  # kind of the per-series scalers (a series new at predict time gets a fresh one)
    scalers: dict[str, Scaler]
    contexts: dict[str, TimeSeries]  # last `lookback` raw points of each training series

    # --- fitting ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, data: SeriesSet, *, lookback: int, transform: str | None, scaler: str,
            past_covariates: list[str] | None, val_size: int | list[int]) -> tuple["ForecastPipeline", list[np.ndarray]]:
        """Fit on ``data``; return the pipeline and each series' scaled matrix (T_i, C).

        Scalers see only each series' first ``T_i - val_size`` points (never the validation part);
        ``val_size``: one count for every series, or one per series.
        """
        names = data.covariate_names
        past = list(past_covariates or [])
        unknown = [c for c in past if c not in names]
        if unknown:
            raise DataError(
                "past_covariates: " + "; ".join(f"{c!r} is not a covariate{suggest(c, names)}" for c in unknown)
                + f"; covariates are {names}"
            )
        order = past + [c for c in names if c not in past]
        pipe = cls(lookback=lookback, transform=TargetTransform(transform), target_name=data.target_name,
                   covariate_names=list(names), column_order=order, n_future=len(names) - len(past), freq=data.freq,
                   time_name=data.time_name, id_name=data.id_name, scaler=scaler, scalers={}, contexts={})
        make_scaler(scaler)  # a bad kind fails before any work
        mats = []
        held_out = list(val_size) if isinstance(val_size, (list, tuple)) else [int(val_size)] * len(data)
        for s, v in zip(data, held_out):
            m = pipe.matrix(s)
            sc = make_scaler(scaler).fit(m[: len(m) - v])
            pipe.scalers[s.id] = sc
            mats.append(sc.transform(m))
            pipe.contexts[s.id] = _tail(s, lookback)
        return pipe, mats

    @property
    def n_past(self) -> int:
        return len(self.column_order) - self.n_future

    @property
    def future_names(self) -> list[str]:
        return self.column_order[self.n_past:]

    def matrix(self, s: TimeSeries) -> np.ndarray:
        """(T, C) unscaled: transformed target, then covariates in model order."""
        order = [self.covariate_names.index(c) for c in self.column_order]
        return np.concatenate([self.transform.transform(s.target, s.id)[:, None], s.covariates[:, order]], axis=1)

    # --- prediction -------------------------------------------------------------------------
    def contexts_for(self, data: SeriesSet | None, *, keep_single_scaler: bool) -> dict[str, tuple[TimeSeries, Scaler]]:
        """The context and scaler of each series to forecast: the training series when ``data`` is
        None, else the last ``lookback`` points of ``data`` (or fewer: the forecaster left-pads
        them as in fit; series seen in fit keep their scaler,
        new ones are scaled on their own history; ``keep_single_scaler``: one series in, one out)."""
        if data is None:
            return {sid: (ctx, self.scalers[sid]) for sid, ctx in self.contexts.items()}
        if data.covariate_names != self.covariate_names:
            raise DataError(f"covariates {data.covariate_names} differ from those seen in fit {self.covariate_names}")
        check_min_length(data, 1, why="a context to forecast from; shorter than the lookback is left-padded")
        fitted_dt = isinstance(next(iter(self.contexts.values())).index, pd.DatetimeIndex)
        for s in data:
            if isinstance(s.index, pd.DatetimeIndex) != fitted_dt:
                got = "timestamps" if not fitted_dt else "integer positions (an array, or no time column)"
                want = f"timestamps (frequency {self.freq})" if fitted_dt else "integer positions"
                raise DataError(f"y: series {s.id!r} is indexed by {got}, but the model was fitted on {want}; "
                                "pass the history indexed like the training data")
        out = {}
        for s in data:
            if keep_single_scaler and len(data) == 1:
                sc = next(iter(self.scalers.values()))
            elif s.id in self.scalers:
                sc = self.scalers[s.id]
            else:  # a series not seen in fit: scale it on its own history
                sc = make_scaler(self.scaler).fit(self.matrix(s))
            out[s.id] = (_tail(s, self.lookback), sc)
        return out

    def future_index(self, context: TimeSeries, steps: int) -> pd.Index:
        return future_index(context.index, self.freq, steps)

    def future_covariates(self, X_future: Any, contexts: dict[str, tuple[TimeSeries, Scaler]], steps: int) -> dict[str, np.ndarray]:
        """Known-future covariates (steps, n_future) per series from ``X_future``, validated."""
        if self.n_future == 0:
            return {}
        names = self.future_names
        if X_future is None:
            raise DataError(f"X_future is required: the model uses known-future covariates {names}")
        if not isinstance(X_future, pd.DataFrame):
            raise DataError(f"X_future must be a DataFrame with columns {names}, got {type(X_future).__name__}")
        missing = [c for c in names if c not in X_future.columns]
        if missing:
            raise DataError(f"X_future lacks covariate column(s) {missing}; columns are {list(X_future.columns)}")
        numbers = {c: _floats(X_future[c]) for c in names}
        text = [c for c, v in numbers.items() if v is None]
        if text:
            raise DataError(f"X_future: covariate column(s) {text} are not numeric (dtype "
                            f"{', '.join(str(X_future[c].dtype) for c in text)}); pass numbers")
        X_future = X_future.assign(**numbers)
        out = {}
        for sid, (ctx, _) in contexts.items():
            fi = self.future_index(ctx, steps)
            part = X_future
            if self.id_name is not None and self.id_name in X_future.columns:
                part = X_future[X_future[self.id_name].astype(str) == sid]
            if self.time_name is not None and self.time_name in part.columns:  # a table (e.g. a CSV): index by its time column
                t = part[self.time_name]
                part = part.set_index(pd.to_datetime(t) if isinstance(ctx.index, pd.DatetimeIndex) else t)
            try:
                vals = part.loc[fi, names].to_numpy(dtype=np.float64, na_value=np.nan)  # pd.NA -> NaN
            except KeyError:
                raise DataError(
                    f"X_future must cover the {steps} steps {fi[0]} .. {fi[-1]} of series {sid!r} (index by those timestamps)"
                ) from None
            if not np.all(np.isfinite(vals)):
                raise DataError(f"X_future has NaN/inf for series {sid!r}")
            out[sid] = vals
        return out

    def scale_future(self, values: np.ndarray, scaler: Scaler) -> np.ndarray:
        """Known-future covariates (h, n_future) scaled with their columns' scaler."""
        C = 1 + len(self.column_order)
        raw = np.concatenate([np.zeros((len(values), C - self.n_future)), values], axis=1)
        return scaler.transform(raw)[:, C - self.n_future:]

    def inverse_target(self, z: np.ndarray, scaler: Scaler) -> np.ndarray:
        """Scaled target values (any shape) back to the series' own units."""
        return self.transform.inverse_transform(scaler.inverse_transform(z, column=0))

    # --- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "lookback": self.lookback, "transform": self.transform.kind, "target_name": self.target_name,
            "covariate_names": self.covariate_names, "column_order": self.column_order, "n_future": self.n_future,
            "freq": self.freq, "time_name": self.time_name, "id_name": self.id_name, "scaler": self.scaler,
            "scalers": {sid: sc.to_dict() for sid, sc in self.scalers.items()},
            "contexts": {sid: _series_to_dict(s) for sid, s in self.contexts.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ForecastPipeline":
        n_cov = len(d["covariate_names"])
        return cls(
            lookback=int(d["lookback"]), transform=TargetTransform(d["transform"]), target_name=d["target_name"],
            covariate_names=list(d["covariate_names"]), column_order=list(d["column_order"]),
            n_future=int(d["n_future"]), freq=d["freq"], time_name=d["time_name"], id_name=d["id_name"],
            scaler=d["scaler"], scalers={sid: scaler_from_dict(sc) for sid, sc in d["scalers"].items()},
            contexts={sid: _series_from_dict(sid, c, d["freq"], n_cov) for sid, c in d["contexts"].items()},
        )


def _floats(col: pd.Series) -> np.ndarray | None:
    """A column of numbers in any pandas storage (NumPy, nullable, Arrow, categorical, numbers as
    text) as float64 with NaN for missing values; None when some value is not a number."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype(object)
    if not (is_numeric_dtype(col.dtype) or is_bool_dtype(col.dtype)):
        converted = pd.to_numeric(col.astype(object), errors="coerce")  # Arrow strings would give NaN, not NA
        if (converted.isna() & col.notna()).any():
            return None
        col = converted
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _tail(s: TimeSeries, n: int) -> TimeSeries:
    return TimeSeries(s.id, s.index[-n:], s.target[-n:], s.covariates[-n:])


def _series_to_dict(s: TimeSeries) -> dict[str, Any]:
    dt = isinstance(s.index, pd.DatetimeIndex)
    return {"index": [str(t) for t in s.index] if dt else [int(t) for t in s.index], "index_kind": "datetime" if dt else "int",
            "target": s.target.tolist(), "covariates": s.covariates.tolist()}


def _series_from_dict(sid: str, c: dict[str, Any], freq: Any, n_cov: int) -> TimeSeries:
    if c["index_kind"] == "datetime":
        index: pd.Index = pd.DatetimeIndex(pd.to_datetime(c["index"]), freq=freq)
    else:
        index = pd.Index(c["index"], dtype="int64")
    target = np.asarray(c["target"], dtype=np.float64)
    return TimeSeries(sid, index, target, np.asarray(c["covariates"], dtype=np.float64).reshape(len(target), n_cov))
