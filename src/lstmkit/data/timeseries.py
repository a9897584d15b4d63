"""Time-series input: read, validate and normalise user data at the edge.

Everything a user hands to the forecaster (a CSV or Parquet file, a pandas DataFrame or
Series, a NumPy array) becomes a :class:`SeriesSet`: a list of :class:`TimeSeries`, each
with a regular index (timestamps or integers), a float64 target and optional covariates.
Every problem is reported as a :class:`~lstmkit.errors.DataError` naming the column, the
row (0-based position in the input table) and the likely fix; several problems are
reported together.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "TimeSeries",
    "SeriesSet",
    "NAN_POLICIES",
    "read_table",
    "read_series",
    "from_pandas",
    "check_min_length",
    "future_index",
]

NAN_POLICIES = ("error", "interpolate", "ffill")
_MAX_LISTED = 3  # problems listed per kind before "and N more"


@dataclass
class TimeSeries:
    """One validated series: a regular ``index``, ``target`` (T,) and ``covariates`` (T, F)."""

    id: str
    index: pd.Index  # DatetimeIndex with a freq, or an integer Index with a constant step
    target: np.ndarray  # (T,) float64, finite
    covariates: np.ndarray  # (T, F) float64, finite; F may be 0

    def __len__(self) -> int:
        return len(self.target)


@dataclass
class SeriesSet:
    """Many series sharing one frequency, target name and covariate names."""

    series: list[TimeSeries]
    target_name: str = "y"
    covariate_names: list[str] = field(default_factory=list)
    freq: str | int | None = None  # pandas offset alias, integer step, or None (1 point only)
    time_name: str | None = None
    id_name: str | None = None

    def __len__(self) -> int:
        return len(self.series)

    def __iter__(self):
        return iter(self.series)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.series]

    def by_id(self) -> dict[str, TimeSeries]:
        return {s.id: s for s in self.series}


# --- reading ------------------------------------------------------------------------------


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame (DataError if missing or unreadable)."""
    p = Path(path)
    if not p.is_file():
        raise DataError(f"data file {str(p)!r} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise DataError(
                    f"reading {str(p)!r} needs pyarrow: pip install 'lstmkit[forecast]'"
                ) from None
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt", ".tsv"):
            return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",")
    except DataError:
        raise
    except Exception as exc:  # pandas/pyarrow parser errors
        raise DataError(f"cannot read {str(p)!r}: {type(exc).__name__}: {exc}") from None
    raise DataError(f"data file {str(p)!r}: expected a .csv, .tsv or .parquet file, got {suffix or 'no suffix'!r}")


def read_series(
    source: Any,
    X: Any = None,
    *,
    time_col: str | None = None,
    target: str | None = None,
    id_col: str | None = None,
    covariates: list[str] | None = None,
    nan_policy: str = "error",
    freq: str | None = None,
) -> SeriesSet:
    """Read a file path, DataFrame, Series or array into a validated :class:`SeriesSet`.

    For a table: ``time_col`` (default: the DatetimeIndex, else the first column other than
    ``id_col``; when that column is the ``target`` or a listed covariate, time is the row
    position), ``target`` (default: the only remaining column), ``id_col`` for many series in
    long format, ``covariates`` (default: every other column). A 1-D array is one series, a
    2-D array is (n_series, T).

    ``X``: covariates of a single series given apart from it, scikit-learn style: a DataFrame
    with exactly the index of a Series ``source``, or an (T, K) array beside a 1-D array.
    """
    if X is not None:
        return _with_covariates(source, X, nan_policy=nan_policy, time_col=time_col, freq=freq)
    if isinstance(source, pd.DataFrame) and target is None and id_col is None and source.shape[1] == 1:
        target = str(source.columns[0])
    if isinstance(source, (str, os.PathLike)):
        return from_pandas(
            read_table(source), time_col=time_col, target=target, id_col=id_col,
            covariates=covariates, nan_policy=nan_policy, freq=freq,
        )
    if isinstance(source, (pd.DataFrame, pd.Series)):
        return from_pandas(
            source, time_col=time_col, target=target, id_col=id_col,
            covariates=covariates, nan_policy=nan_policy, freq=freq,
        )
    if isinstance(source, (np.ndarray, list, tuple)):
        return from_array(source, nan_policy=nan_policy)
    raise DataError(
        "data must be a file path, pandas DataFrame/Series or NumPy array, "
        f"got {type(source).__name__}"
    )


def _with_covariates(y: Any, X: Any, *, nan_policy: str, time_col: str | None, freq: str | None) -> SeriesSet:
    if isinstance(y, pd.Series):
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"X must be a DataFrame indexed like y, got {type(X).__name__}")
        if not X.index.equals(y.index):
            raise DataError("X must have exactly the index of y (same timestamps, same order)")
        name = str(y.name) if y.name is not None else "y"
        if name in map(str, X.columns):
            raise DataError(f"X has a column named like the target {name!r}")
        return from_pandas(pd.concat([y.rename(name), X], axis=1), time_col=time_col, target=name,
                           covariates=[str(c) for c in X.columns], nan_policy=nan_policy, freq=freq)
    if isinstance(y, (np.ndarray, list)) and np.ndim(y) == 1:
        Xa = np.asarray(X)
        Xa = Xa[:, None] if Xa.ndim == 1 else Xa
        if Xa.ndim != 2 or len(Xa) != len(y):
            raise DataError(f"X must have shape ({len(y)}, n_covariates) like y, got {Xa.shape}")
        frame = pd.DataFrame({"y": np.asarray(y), **{f"x{i}": Xa[:, i] for i in range(Xa.shape[1])}})
        return from_pandas(frame, time_col=None, target="y", nan_policy=nan_policy)
    raise DataError("X is supported with a Series or 1-D array y; for long DataFrames put covariates in columns")


def from_array(values: Any, *, nan_policy: str = "error", name: str = "y") -> SeriesSet:
    """A 1-D array (one series) or 2-D array (n_series, T) with an integer index."""
    _check_policy(nan_policy)
    try:
        arr = np.asarray(values)
    except Exception as exc:
        raise DataError(f"data could not be converted to an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise DataError(f"array data must be numeric, got dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise DataError(f"array data must be 1-D (T,) or 2-D (n_series, T), got shape {arr.shape}")
    series = []
    problems: list[str] = []
    for i, row in enumerate(arr.astype(np.float64)):
        sid = str(i) if arr.shape[0] > 1 else "0"
        clean = _fix_missing(pd.Series(row), nan_policy, column=name, sid=sid, rows=np.arange(len(row)),
                             problems=problems, labels=None)
        series.append(TimeSeries(sid, pd.RangeIndex(len(row)), clean, np.zeros((len(row), 0))))
    _raise(problems)
    return SeriesSet(series, target_name=name, covariate_names=[], freq=1)


def from_pandas(
    data: pd.DataFrame | pd.Series,
    *,
    time_col: str | None = None,
    target: str | None = None,
    id_col: str | None = None,
    covariates: list[str] | None = None,
    nan_policy: str = "error",
    freq: str | None = None,
) -> SeriesSet:
    """Validate a pandas Series (index = time) or DataFrame (wide single series or long format)."""
    _check_policy(nan_policy)
    if isinstance(data, pd.Series):
        name = str(data.name) if data.name is not None else (target or "y")
        df = data.to_frame(name)
        target = name
        if isinstance(df.index, pd.MultiIndex):
            raise DataError("a Series with a MultiIndex is not supported: pass a long DataFrame with id_col")
    else:
        df = data
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame or Series, got {type(df).__name__}")
    if len(df) == 0:
        raise DataError("data is empty (0 rows)")
    df = df.copy()
    df.columns = [str(c) for c in df.columns]
    dup_cols = sorted({c for c in df.columns if list(df.columns).count(c) > 1})
    if dup_cols:
        raise DataError(f"duplicate column names {dup_cols}")

    # the time column: explicit, the index, or the first column (other than id_col)
    time_defaulted = False
    if time_col is None:
        if isinstance(df.index, pd.DatetimeIndex) or (
            isinstance(df.index, pd.RangeIndex) is False and df.index.dtype.kind in "iu"
        ):
            time_col = str(df.index.name or "time")
            df = df.reset_index(names=time_col) if time_col not in df.columns else df.reset_index(drop=True)
        else:
            first = str(next((c for c in df.columns if c != id_col), df.columns[0]))
            taken = {str(target)} if target is not None else set()
            taken |= {str(c) for c in covariates or []}
            if isinstance(df.index, pd.RangeIndex) and id_col is None and (df.shape[1] == 1 or first in taken):
                time_col = None  # positional integer time: the first column is the target or a covariate
            else:
                time_col, time_defaulted = first, True
    else:
        df = df.reset_index(drop=True)
    for role, col in (("time_col", time_col), ("id_col", id_col), ("target", target)):
        if col is not None and col not in df.columns:
            raise DataError(
                f"{role}: column {col!r} not found{suggest(col, df.columns)}; columns are {list(df.columns)}"
            )
    reserved = {c for c in (time_col, id_col) if c is not None}
    if target is None:
        candidates = [c for c in df.columns if c not in reserved and c not in (covariates or [])]
        if len(candidates) != 1:
            raise DataError(
                f"target: cannot guess the target column among {candidates}; pass target=<column>"
            )
        target = candidates[0]
    if covariates is None:
        covariates = [c for c in df.columns if c not in reserved and c != target]
    else:
        covariates = [str(c) for c in covariates]
        missing = [c for c in covariates if c not in df.columns]
        if missing:
            raise DataError(
                "covariates: " + "; ".join(f"column {c!r} not found{suggest(c, df.columns)}" for c in missing)
                + f"; columns are {list(df.columns)}"
            )
        if target in covariates or reserved & set(covariates):
            raise DataError(f"covariates {covariates} must not include the target, time or id column")

    df["__row__"] = np.arange(len(df))
    problems: list[str] = []

    # numeric value columns
    for col in [target, *covariates]:
        df[col] = _numeric_column(df[col], col, problems)
    _raise(problems)

    # time
    if time_col is None:
        times = pd.Series(np.arange(len(df)), index=df.index)
    else:
        times = _time_column(df[time_col], time_col, problems)
        if problems and time_defaulted:
            problems.append(f"no time_col was given, so the first column {time_col!r} is the time column; "
                            "pass time_col=<column> (CLI: --time-col)")
    _raise(problems)
    df["__time__"] = times.values

    # groups
    if id_col is not None:
        if df[id_col].isna().any():
            r = int(df.loc[df[id_col].isna(), "__row__"].iloc[0])
            raise DataError(f"column {id_col!r} (id_col) is empty at row {r}")
        df[id_col] = df[id_col].astype(str)
        groups = [(str(k), g) for k, g in df.groupby(id_col, sort=False)]
    else:
        groups = [("0" if target is None else str(target), df)]

    series: list[TimeSeries] = []
    freqs: list[Any] = []
    for sid, g in groups:
        g = g.sort_values(["__time__", "__row__"], kind="stable")
        rows = g["__row__"].to_numpy()
        t = g["__time__"]
        dup = t.duplicated(keep="first").to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            first = int(rows[t.to_numpy() == t.to_numpy()[i]][0])
            problems.append(
                f"{_where(time_col, id_col, sid)}: duplicate timestamp {t.iloc[i]} at rows {first} and {int(rows[i])}"
                f"{_more(int(dup.sum()))}; aggregate duplicates first (e.g. df.groupby(...).mean())"
            )
            continue
        index, f = _regular_index(t, freq, time_col, id_col, sid, rows, problems)
        if index is None:
            continue
        freqs.append(f)
        labels = index
        y = _fix_missing(g[target].reset_index(drop=True), nan_policy, column=target, sid=sid if id_col else None,
                         rows=rows, problems=problems, labels=labels)
        cov = np.zeros((len(g), 0))
        if covariates:
            cols = [
                _fix_missing(g[c].reset_index(drop=True), nan_policy, column=c, sid=sid if id_col else None,
                             rows=rows, problems=problems, labels=labels)
                for c in covariates
            ]
            cov = np.stack(cols, axis=1)
        series.append(TimeSeries(sid, index, y, cov))
    _raise(problems)
    distinct = {str(f) for f in freqs if f is not None}
    if len(distinct) > 1:
        raise DataError(f"series have different frequencies {sorted(distinct)}; resample them to one frequency")
    common = next((f for f in freqs if f is not None), None)
    return SeriesSet(series, target_name=str(target), covariate_names=list(covariates), freq=common,
                     time_name=time_col, id_name=id_col)


# --- checks ---------------------------------------------------------------------------------


def check_min_length(data: SeriesSet, min_length: int, *, why: str) -> None:
    """DataError naming every series shorter than ``min_length`` points."""
    short = [(s.id, len(s)) for s in data if len(s) < min_length]
    if short:
        listed = ", ".join(f"{sid!r} has {n}" for sid, n in short[:_MAX_LISTED])
        raise DataError(
            f"series too short: need at least {min_length} points ({why}); {listed}"
            f"{_more(len(short))}; use a shorter lookback/horizon or drop short series"
        )


def future_index(index: pd.Index, freq: Any, steps: int) -> pd.Index:
    """The ``steps`` timestamps after the end of ``index``."""
    if isinstance(index, pd.DatetimeIndex):
        return pd.date_range(index[-1], periods=steps + 1, freq=freq)[1:]
    step = int(freq or 1)
    last = int(index[-1])
    return pd.Index(np.arange(last + step, last + step * (steps + 1), step), dtype="int64")


# --- helpers --------------------------------------------------------------------------------


def _check_policy(nan_policy: str) -> None:
    if nan_policy not in NAN_POLICIES:
        raise ConfigError(f"nan_policy must be one of {list(NAN_POLICIES)}, got {nan_policy!r}{suggest(str(nan_policy), NAN_POLICIES)}")


def _raise(problems: list[str]) -> None:
    if problems:
        raise DataError("; ".join(problems))


def _more(count: int) -> str:
    return f" (and {count - 1} more)" if count > 1 else ""


def _where(col: str | None, id_col: str | None, sid: str | None) -> str:
    s = f"column {col!r}" if col is not None else "time index"
    return s + (f" of series {sid!r}" if id_col is not None and sid is not None else "")


def _numeric_column(col: pd.Series, name: str, problems: list[str]) -> pd.Series:
    if col.dtype.kind in "biuf":
        return col.astype(np.float64)
    if col.dtype.kind in "mM":
        problems.append(f"column {name!r} holds dates, not numbers; pass it as time_col or drop it")
        return col
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & col.notna()
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        problems.append(
            f"column {name!r} is not numeric: row {int(pos[0])} holds {col.iloc[pos[0]]!r}{_more(len(pos))}; "
            "drop or encode non-numeric columns (or choose covariates=[...])"
        )
    return converted.astype(np.float64)


def _time_column(col: pd.Series, name: str, problems: list[str]) -> pd.Series:
    if col.isna().any():
        pos = np.flatnonzero(col.isna().to_numpy())
        problems.append(f"column {name!r} (time) is empty at row {int(pos[0])}{_more(len(pos))}")
        return col
    if col.dtype.kind in "M":
        return col
    if col.dtype.kind in "iu":
        return col.astype(np.int64)
    if col.dtype.kind == "f":
        if np.all(np.isfinite(col)) and np.all(col == np.round(col)):
            return col.astype(np.int64)
        problems.append(f"column {name!r} (time) holds non-integer numbers, e.g. {col.iloc[0]!r}; use timestamps or integers")
        return col
    parsed = pd.to_datetime(col, errors="coerce", format="mixed")
    bad = parsed.isna()
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        problems.append(
            f"column {name!r} (time): cannot parse {col.iloc[pos[0]]!r} at row {int(pos[0])} as a timestamp"
            f"{_more(len(pos))}; use ISO dates like 2020-01-31"
        )
        return col
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed


def _regular_index(t: pd.Series, freq: Any, time_col: str | None, id_col: str | None, sid: str,
                   rows: np.ndarray, problems: list[str]) -> tuple[pd.Index | None, Any]:
    where = _where(time_col, id_col, sid)
    values = t.to_numpy()
    n = len(values)
    if np.issubdtype(values.dtype, np.datetime64):
        idx = pd.DatetimeIndex(values)
        if n < 2:
            return pd.DatetimeIndex(idx, freq=freq) if freq else idx, freq
        cand = freq
        if cand is None:
            cand = pd.infer_freq(idx) if n >= 3 else None
            if cand is None:  # find the frequency of the first rows, then the first row that breaks it
                for j in range(min(n, 25), 2, -1):
                    cand = pd.infer_freq(idx[:j])
                    if cand is not None:
                        break
            if cand is None:
                cand = pd.tseries.frequencies.to_offset(idx[1] - idx[0])
        try:
            expected = pd.date_range(idx[0], periods=n, freq=cand)
        except (ValueError, TypeError) as exc:
            problems.append(f"{where}: invalid frequency {cand!r}: {exc}")
            return None, None
        mismatch = np.flatnonzero(expected.values != idx.values)
        if len(mismatch):
            i = int(mismatch[0])
            fs = cand if isinstance(cand, str) else getattr(cand, "freqstr", str(cand))
            problems.append(
                f"{where}: irregular frequency at row {int(rows[i])}: got {idx[i]}, expected {expected[i]} "
                f"for frequency {fs!r}{_more(len(mismatch))}; fill missing timestamps (resample) or pass freq=..."
            )
            return None, None
        fs = cand if isinstance(cand, str) else cand.freqstr
        return pd.DatetimeIndex(idx, freq=fs), fs
    ints = values.astype(np.int64)
    if n < 2:
        return pd.Index(ints, dtype="int64"), None
    steps = np.diff(ints)
    step = int(freq) if freq is not None and str(freq).lstrip("-").isdigit() else int(steps[0])
    bad = np.flatnonzero(steps != step)
    if len(bad) or step <= 0:
        i = int(bad[0]) + 1 if len(bad) else 1
        problems.append(
            f"{where}: irregular step at row {int(rows[i])}: got {ints[i]} after {ints[i - 1]}, expected step {step}"
            f"{_more(len(bad))}; fill the gaps first"
        )
        return None, None
    return pd.Index(ints, dtype="int64"), step


def _fix_missing(col: pd.Series, policy: str, *, column: str, sid: str | None, rows: np.ndarray,
                 problems: list[str], labels: pd.Index | None) -> np.ndarray:
    v = col.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(v)
    if not bad.any():
        return v
    where = f"column {column!r}" + (f" of series {sid!r}" if sid is not None else "")
    pos = np.flatnonzero(bad)
    kind = "NaN" if np.isnan(v[pos[0]]) else "inf"
    at = f" ({labels[pos[0]]})" if labels is not None else ""
    if policy == "error":
        problems.append(
            f"{where} has {kind} at row {int(rows[pos[0]])}{at}{_more(len(pos))}; "
            "clean it or pass nan_policy='interpolate' or 'ffill'"
        )
        return v
    s = pd.Series(np.where(bad, np.nan, v))
    if policy == "interpolate":
        s = s.interpolate(method="linear", limit_direction="both")
    else:  # ffill
        s = s.ffill()
    if s.isna().any():
        first = int(np.flatnonzero(s.isna().to_numpy())[0])
        problems.append(
            f"{where}: nan_policy={policy!r} cannot fill row {int(rows[first])} "
            "(no earlier value); use 'interpolate' or drop the leading rows"
        )
        return v
    if s.isna().all():
        problems.append(f"{where} has no finite values")
    return s.to_numpy()
