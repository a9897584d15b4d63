"""Time-series input: read, validate and normalise user data at the edge.

Everything a user hands to the forecaster (a CSV or Parquet file, a pandas DataFrame or
Series, a NumPy array) becomes a :class:`SeriesSet`: a list of :class:`TimeSeries`, each
with a regular index (timestamps or integers), a float64 target and optional covariates.
Every problem is reported as a :class:`~lstmkit.errors.DataError` naming the column, the
row (``line n`` of a CSV file read here, else ``row r``, the 0-based position in the input
table) and the likely fix, spelled for Python or for the command line; several problems are
reported together. Gaps in the timestamps are named, and filled on request (``fill_missing``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_complex_dtype,
    is_datetime64_any_dtype,
    is_integer_dtype,
    is_numeric_dtype,
)
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, Tick

from lstmkit.errors import ConfigError, DataError, suggest

__all__ = [
    "TimeSeries",
    "SeriesSet",
    "NAN_POLICIES",
    "SPELLINGS",
    "read_table",
    "read_series",
    "from_pandas",
    "check_min_length",
    "future_index",
]

NAN_POLICIES = ("error", "interpolate", "ffill")
SPELLINGS = ("python", "cli")  # how messages spell a fix: nan_policy='ffill' or --nan-policy ffill
_MAX_LISTED = 3  # items named per problem before "(and N more)"
_MAX_PROBLEMS = 10  # problems named per error before "(and N more problems)"
_MAX_GRID_PER_POINT, _MAX_GRID_EXTRA = 100, 100_000  # a regular grid larger than this is a wrong frequency


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
    freq: str | int | None = None,
    fill_missing: bool = False,
    spelling: str = "python",
) -> SeriesSet:
    """Read a file path, DataFrame, Series or array into a validated :class:`SeriesSet`.

    For a table: ``time_col`` (default: the DatetimeIndex, else the first column other than
    ``id_col``; when that column is the ``target`` or a listed covariate, time is the row
    position), ``target`` (default: the only remaining column), ``id_col`` for many series in
    long format, ``covariates`` (default: every other column). A 1-D array is one series, a
    2-D array is (n_series, T).

    ``X``: covariates of a single series given apart from it, scikit-learn style: a DataFrame
    with exactly the index of a Series ``source``, or an (T, K) array beside a 1-D array.

    ``freq``: the frequency (a pandas alias such as ``"D"``, or an integer step for integer
    time); default: inferred per series, from the most common step when there are gaps.
    ``fill_missing``: add the timestamps missing from that regular frequency (values NaN), then
    fill them with ``nan_policy`` (``"interpolate"`` or ``"ffill"``; ``"error"`` names them).
    A :class:`SeriesSet` (already validated) is returned as it is.
    ``spelling``: how messages spell the fix, ``"python"`` (``nan_policy='interpolate'``) or
    ``"cli"`` (``--nan-policy interpolate``).

    Messages name rows as ``line n`` of a CSV/TSV file read here (the header is line 1), else as
    ``row r``, the 0-based position in the table.
    """
    if isinstance(source, SeriesSet):  # already read and validated at the edge (e.g. by the CLI)
        if X is not None:
            raise DataError("X cannot be given with a SeriesSet: its covariates are part of it")
        return source
    spell = _Spell(spelling)
    opts = {"time_col": time_col, "target": target, "id_col": id_col, "covariates": covariates,
            "nan_policy": nan_policy, "freq": freq, "fill_missing": fill_missing, "spell": spell}
    if X is not None:
        return _with_covariates(source, X, **opts)
    if isinstance(source, pd.DataFrame) and target is None and id_col is None and source.shape[1] == 1:
        opts["target"] = str(source.columns[0])
    if isinstance(source, (str, os.PathLike)):
        table = read_table(source)
        return _from_pandas(table, **opts, at=_Rows.of_file(source, len(table)))
    if isinstance(source, (pd.DataFrame, pd.Series)):
        return _from_pandas(source, **opts, at=_Rows())
    if isinstance(source, (np.ndarray, list, tuple)):
        return _from_array(source, nan_policy=nan_policy, spell=spell)
    raise DataError(
        "data must be a file path, pandas DataFrame/Series or NumPy array, "
        f"got {type(source).__name__}"
    )


def _with_covariates(y: Any, X: Any, *, covariates: list[str] | None, target: str | None, id_col: str | None,
                     **opts: Any) -> SeriesSet:
    if isinstance(y, pd.Series):
        if not isinstance(X, pd.DataFrame):
            raise DataError(f"X must be a DataFrame indexed like y, got {type(X).__name__}")
        if not X.index.equals(y.index):
            raise DataError("X must have exactly the index of y (same timestamps, same order)")
        name = str(y.name) if y.name is not None else "y"
        if name in map(str, X.columns):
            raise DataError(f"X has a column named like the target {name!r}")
        return _from_pandas(pd.concat([y.rename(name), X], axis=1), target=name, id_col=None,
                            covariates=[str(c) for c in X.columns], at=_Rows(), **opts)
    if isinstance(y, (np.ndarray, list)) and np.ndim(y) == 1:
        Xa = np.asarray(X)
        Xa = Xa[:, None] if Xa.ndim == 1 else Xa
        if Xa.ndim != 2 or len(Xa) != len(y):
            raise DataError(f"X must have shape ({len(y)}, n_covariates) like y, got {Xa.shape}")
        frame = pd.DataFrame({"y": np.asarray(y), **{f"x{i}": Xa[:, i] for i in range(Xa.shape[1])}})
        return _from_pandas(frame, target="y", id_col=None, covariates=None, at=_Rows(),
                            **{**opts, "time_col": None, "freq": None})
    raise DataError("X is supported with a Series or 1-D array y; for long DataFrames put covariates in columns")


def from_array(values: Any, *, nan_policy: str = "error", name: str = "y") -> SeriesSet:
    """A 1-D array (one series) or 2-D array (n_series, T) with an integer index."""
    return _from_array(values, nan_policy=nan_policy, name=name, spell=_Spell("python"))


def _from_array(values: Any, *, nan_policy: str, spell: "_Spell", name: str = "y") -> SeriesSet:
    _check_policy(nan_policy, spell)
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
        clean = _fix_missing(row, nan_policy, column=name, sid=sid, rows=np.arange(len(row)), problems=problems,
                             labels=None, at=_Rows(), spell=spell)
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
    freq: str | int | None = None,
    fill_missing: bool = False,
    spelling: str = "python",
) -> SeriesSet:
    """Validate a pandas Series (index = time) or DataFrame (wide single series or long format).

    The arguments are :func:`read_series`'s; rows are named by their 0-based position.
    """
    return _from_pandas(data, time_col=time_col, target=target, id_col=id_col, covariates=covariates,
                        nan_policy=nan_policy, freq=freq, fill_missing=fill_missing, spell=_Spell(spelling),
                        at=_Rows())


def _from_pandas(
    data: pd.DataFrame | pd.Series,
    *,
    time_col: str | None,
    target: str | None,
    id_col: str | None,
    covariates: list[str] | None,
    nan_policy: str,
    freq: str | int | None,
    fill_missing: bool,
    spell: "_Spell",
    at: "_Rows",
) -> SeriesSet:
    _check_policy(nan_policy, spell)
    if not isinstance(fill_missing, (bool, np.bool_)):
        raise ConfigError(f"{spell.name('fill_missing')} must be True or False, got {fill_missing!r}")
    freq = _check_freq(freq, spell)
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
            not isinstance(df.index, pd.RangeIndex) and is_integer_dtype(df.index.dtype)
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
                f"{spell.name(role)}: column {col!r} not found{suggest(col, df.columns)}; columns are {list(df.columns)}"
            )
    reserved = {c for c in (time_col, id_col) if c is not None}
    if target is None:
        candidates = [c for c in df.columns if c not in reserved and c not in (covariates or [])]
        if len(candidates) != 1:
            raise DataError(
                f"{spell.name('target')}: cannot guess the target column among {candidates}; "
                f"pass {spell('target', '<column>', raw=True)}"
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

    # numeric value columns; a text column that is a forgotten id or time column says so
    check_id = id_col is None
    raw_times = _raw_times(df, time_col, time_defaulted, [target, *covariates]) if check_id else None
    for col in [target, *covariates]:
        df[col] = _numeric_column(df[col], col, problems, at=at, spell=spell, check_id=check_id, times=raw_times)
    if check_id and time_defaulted and problems and _looks_like_id(df[time_col], raw_times):
        problems.append(_id_hint(time_col, df[time_col], raw_times, spell))
    _raise(problems)

    # time
    if time_col is None:
        times = np.arange(len(df), dtype=np.int64)
    else:
        times = _time_column(df[time_col], time_col, problems, at=at)
        if problems and time_defaulted:
            if check_id and _looks_like_id(df[time_col], None):
                problems.append(_id_hint(time_col, df[time_col], None, spell))
            problems.append(f"no {spell.name('time_col')} was given, so the first column {time_col!r} is the time "
                            f"column; pass {spell('time_col', '<column>', raw=True)}")
    _raise(problems)
    df["__time__"] = times

    # groups
    if id_col is not None:
        empty = df[id_col].isna().to_numpy()
        if empty.any():
            pos = np.flatnonzero(empty)
            raise DataError(f"column {id_col!r} ({spell.name('id_col')}) is empty at {at(int(pos[0]))}"
                            f"{_more(len(pos), 1)}; every row needs a series id")
        df[id_col] = df[id_col].astype(object).astype(str)
        groups = [(str(k), g) for k, g in df.groupby(id_col, sort=False)]
    else:
        groups = [("0" if target is None else str(target), df)]

    series: list[TimeSeries] = []
    freqs: list[Any] = []
    for sid, g in groups:
        g = g.sort_values(["__time__", "__row__"], kind="stable")
        rows = g["__row__"].to_numpy()
        t = g["__time__"]
        where = _where(time_col, id_col, sid)
        dup = t.duplicated(keep="first").to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            first = int(rows[t.to_numpy() == t.to_numpy()[i]][0])
            hint = ""
            if id_col is None:
                named = next((c for c in covariates if _looks_like_id(df[c], df["__time__"])), None)
                hint = f"; {_id_hint(named, df[named], df['__time__'], spell)}" if named else ""
            problems.append(
                f"{where}: duplicate timestamp {_fmt_time(t.iloc[i])} at {at.pair(first, int(rows[i]))}"
                f"{_more(int(dup.sum()), 1)}{hint or '; aggregate duplicates first (e.g. df.groupby(...).mean())'}"
            )
            continue
        grid = _regular_index(t.to_numpy(), freq, where=where, rows=rows, at=at, spell=spell,
                              fill_missing=fill_missing, nan_policy=nan_policy, problems=problems)
        if grid is None:
            continue
        index, f, present = grid
        freqs.append(f)
        if present is not None:  # fill_missing: the added timestamps have no row and NaN values
            full_rows = np.full(len(index), -1, dtype=np.int64)
            full_rows[present] = rows
            rows = full_rows
        sid_named = sid if id_col else None
        y = _fix_missing(_spread(g[target], present), nan_policy, column=target, sid=sid_named, rows=rows, problems=problems,
                         labels=index, at=at, spell=spell)
        cov = np.zeros((len(index), 0))
        if covariates:
            cov = np.stack([_fix_missing(_spread(g[c], present), nan_policy, column=c, sid=sid_named, rows=rows,
                                         problems=problems, labels=index, at=at, spell=spell)
                            for c in covariates], axis=1)
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
    """DataError naming every series shorter than ``min_length`` points (the first few of them)."""
    short = [(s.id, len(s)) for s in data if len(s) < min_length]
    if short:
        listed = ", ".join(f"{sid!r} has {n}" for sid, n in short[:_MAX_LISTED])
        raise DataError(
            f"series too short: need at least {min_length} points ({why}); {listed}"
            f"{_more(len(short), min(len(short), _MAX_LISTED))}; use a shorter lookback/horizon or drop short series"
        )


def future_index(index: pd.Index, freq: Any, steps: int) -> pd.Index:
    """The ``steps`` timestamps after the end of ``index``."""
    if isinstance(index, pd.DatetimeIndex):
        return pd.date_range(index[-1], periods=steps + 1, freq=freq)[1:]
    step = int(freq or 1)
    last = int(index[-1])
    return pd.Index(np.arange(last + step, last + step * (steps + 1), step), dtype="int64")


# --- messages -------------------------------------------------------------------------------


class _Spell:
    """Options as the user types them: ``nan_policy='ffill'`` in Python, ``--nan-policy ffill`` on the CLI."""

    _CLI = {"target": "--target-col"}  # read_series' ``target`` is the estimators' ``target_col``

    def __init__(self, spelling: str) -> None:
        if spelling not in SPELLINGS:
            raise ConfigError(f"spelling must be one of {list(SPELLINGS)}, got {spelling!r}"
                              f"{suggest(str(spelling), SPELLINGS)}")
        self.cli = spelling == "cli"

    def name(self, option: str) -> str:
        """The option's name: ``time_col`` or ``--time-col``."""
        return self._CLI.get(option, "--" + option.replace("_", "-")) if self.cli else option

    def __call__(self, option: str, *values: Any, raw: bool = False) -> str:
        """The option set to one of ``values``: ``nan_policy='interpolate' or 'ffill'``,
        ``--nan-policy interpolate or ffill``; ``True`` alone is the bare flag on the CLI."""
        if self.cli:
            if values == (True,):
                return self.name(option)
            return f"{self.name(option)} " + " or ".join(str(v) for v in values)
        return f"{option}=" + " or ".join(str(v) if raw or isinstance(v, bool) else repr(v) for v in values)

    def hint(self, text: str) -> str:
        """A Python-only part of a hint (an argument the CLI does not have); empty on the CLI."""
        return "" if self.cli else text


class _Rows:
    """How messages name a data row: ``row r`` (0-based position in the table), or ``line n`` of the
    CSV/TSV file it was read from (the header is line 1, so data row r is line r + 2 when the file
    has no blank lines; with blank lines or quoted line breaks the lines are counted, and when they
    cannot be matched to rows the message falls back to ``row r``)."""

    def __init__(self, path: str | os.PathLike | None = None, n_rows: int = 0) -> None:
        self.path = path
        self.n_rows = n_rows
        self._lines: np.ndarray | None = None

    @classmethod
    def of_file(cls, path: str | os.PathLike, n_rows: int) -> "_Rows":
        is_text = Path(path).suffix.lower() in (".csv", ".txt", ".tsv")
        return cls(path if is_text else None, n_rows)

    def _line_numbers(self) -> np.ndarray | None:
        """1-based line of each data row, counted only when a message needs it."""
        if self.path is None:
            return None
        if self._lines is None:
            try:
                raw = Path(self.path).read_bytes()
            except OSError:
                self.path = None
                return None
            lines = raw.split(b"\n")
            filled = np.array([i + 1 for i, ln in enumerate(lines) if ln.strip(b"\r")])
            if len(filled) != self.n_rows + 1:  # quoted line breaks or skipped lines: cannot match
                self.path = None
                return None
            self._lines = filled[1:]
        return self._lines

    def __call__(self, r: int) -> str:
        lines = self._line_numbers()
        return f"line {int(lines[r])}" if lines is not None else f"row {int(r)}"

    def pair(self, a: int, b: int) -> str:
        lines = self._line_numbers()
        if lines is not None:
            return f"lines {int(lines[a])} and {int(lines[b])}"
        return f"rows {int(a)} and {int(b)}"


def _check_policy(nan_policy: str, spell: _Spell) -> None:
    if nan_policy not in NAN_POLICIES:
        raise ConfigError(f"{spell.name('nan_policy')} must be one of {list(NAN_POLICIES)}, got {nan_policy!r}"
                          f"{suggest(str(nan_policy), NAN_POLICIES)}")


def _check_freq(freq: Any, spell: _Spell) -> Any:
    """``freq`` as a positive int step, a pandas offset alias (validated), or None."""
    if freq is None:
        return None
    if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool):
        step = int(freq)
    elif isinstance(freq, str) and freq.strip().lstrip("-").isdigit():
        step = int(freq)
    else:
        try:
            to_offset(freq)
        except (ValueError, TypeError):
            raise ConfigError(f"{spell.name('freq')} must be a pandas frequency such as 'D', 'h', 'W' or 'MS' "
                              f"(or an integer step for integer time), got {freq!r}") from None
        return freq
    if step <= 0:
        raise ConfigError(f"{spell.name('freq')} as an integer step must be >= 1, got {freq!r}")
    return step


def _raise(problems: list[str]) -> None:
    if problems:
        listed = problems[:_MAX_PROBLEMS]
        raise DataError("; ".join(listed) + _more(len(problems), len(listed), " problems"))


def _more(total: int, listed: int, what: str = "") -> str:
    """`` (and N more)`` after naming ``listed`` of ``total`` items; empty when all were named."""
    rest = total - listed
    return f" (and {rest} more{what})" if rest > 0 else ""


def _where(col: str | None, id_col: str | None, sid: str | None) -> str:
    s = f"column {col!r}" if col is not None else "time index"
    return s + (f" of series {sid!r}" if id_col is not None and sid is not None else "")


def _show(v: Any) -> str:
    """A value as the user wrote it: ``'high'``, ``27`` (not ``np.int64(27)``)."""
    v = v.item() if isinstance(v, np.generic) else v
    return repr(v) if isinstance(v, str) else str(v)


def _fmt_time(v: Any) -> str:
    """A timestamp without a midnight time of day (``2020-01-31``), or an integer time."""
    if isinstance(v, (np.datetime64, pd.Timestamp)):
        ts = pd.Timestamp(v)
        return ts.strftime("%Y-%m-%d") if ts == ts.normalize() else str(ts)
    return str(v)


# --- columns --------------------------------------------------------------------------------


def _floats(col: pd.Series) -> np.ndarray:
    """A numeric or boolean column (NumPy, nullable, Arrow-backed) as float64; pd.NA -> NaN."""
    return col.to_numpy(dtype=np.float64, na_value=np.nan)


def _category_floats(col: pd.Series) -> np.ndarray:
    """A categorical column of numbers as float64, NaN where no category is set."""
    codes = col.cat.codes.to_numpy()
    return np.where(codes >= 0, col.cat.categories.to_numpy(dtype=np.float64, na_value=np.nan)[codes], np.nan)


def _is_number_column(dtype: Any) -> bool:
    """Numbers or booleans in any pandas storage: NumPy, nullable (Int64, Float64, boolean), Arrow."""
    return (is_numeric_dtype(dtype) or is_bool_dtype(dtype)) and not is_complex_dtype(dtype)


def _parses_as_dates(col: pd.Series) -> bool:
    """Whether the first values of a text column all read as timestamps."""
    sample = col.dropna().iloc[:50]
    if len(sample) == 0 or _is_number_column(sample.dtype) or is_complex_dtype(sample.dtype):
        return False
    try:
        sample = sample.astype(object).astype(str)
        if pd.to_numeric(sample, errors="coerce").notna().any():  # numbers written as text
            return False
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return False
    return bool(parsed.notna().all())


def _raw_times(df: pd.DataFrame, time_col: str | None, time_defaulted: bool, value_cols: list[str]) -> pd.Series | None:
    """The time values (as read) against which a text column is tested for being a series id: the
    time column, or when it was only defaulted and holds no dates, the first column of dates."""
    if time_col is None:
        return None
    if not time_defaulted or is_datetime64_any_dtype(df[time_col].dtype) or _parses_as_dates(df[time_col]):
        return df[time_col]
    for c in value_cols:
        if is_datetime64_any_dtype(df[c].dtype) or (not _is_number_column(df[c].dtype) and _parses_as_dates(df[c])):
            return df[c]
    return df[time_col]


def _looks_like_id(s: pd.Series, times: pd.Series | None) -> bool:
    """A forgotten id column: a few distinct values, each repeated, and every timestamp repeated
    once per value (without a time column: each value in one contiguous block of rows)."""
    if s.isna().any() or s.name == getattr(times, "name", None):
        return False
    n, k = len(s), int(s.nunique())
    if k < 2 or k > n // 2:
        return False
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if times is None:
        return int((s != s.shift()).sum()) == k
    key = pd.DataFrame({"t": np.asarray(times.astype(object)), "c": np.asarray(s.astype(object))})
    return bool(key["t"].duplicated().any()) and not bool(key.duplicated().any())


def _id_hint(col: str, s: pd.Series, times: pd.Series | None, spell: _Spell) -> str:
    how = "each timestamp repeated once per value" if times is not None else "each in one block of rows"
    return (f"{col!r} looks like a series id ({int(s.nunique())} distinct values, {how}): "
            f"pass {spell('id_col', col)}")


def _numeric_column(col: pd.Series, name: str, problems: list[str], *, at: _Rows, spell: _Spell,
                    check_id: bool, times: pd.Series | None) -> pd.Series:
    """``col`` as float64 (NaN for missing values); a problem naming the column when it is not numeric."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        if _is_number_column(dtype.categories.dtype):
            return pd.Series(_category_floats(col), index=col.index)
        col = col.astype(object)
    elif _is_number_column(dtype):
        return pd.Series(_floats(col), index=col.index)
    if is_datetime64_any_dtype(dtype) or _parses_as_dates(col):
        problems.append(f"column {name!r} holds dates, not numbers; pass it as {spell('time_col', name)} or drop it")
        return col
    if check_id and _looks_like_id(col, times):
        problems.append(_id_hint(name, col, times, spell))
        return col
    if is_complex_dtype(dtype):
        problems.append(f"column {name!r} holds complex numbers; pass real numbers (e.g. np.abs or .real)")
        return col
    converted = pd.to_numeric(col.astype(object), errors="coerce")  # (Arrow strings would give NaN, not NA)
    bad = (converted.isna() & col.notna()).to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        problems.append(
            f"column {name!r} is not numeric: {at(int(pos[0]))} holds {_show(col.iloc[pos[0]])}{_more(len(pos), 1)}; "
            f"drop or encode non-numeric columns"
            + spell.hint(" (or pass only the numeric covariate columns: select them in X, or read_series(..., covariates=[...]))")
        )
        return col
    return pd.Series(_floats(converted), index=col.index)


def _time_column(col: pd.Series, name: str, problems: list[str], *, at: _Rows) -> np.ndarray:
    """The time column as datetime64 (timezone dropped) or int64 values."""
    empty = col.isna().to_numpy()
    if empty.any():
        pos = np.flatnonzero(empty)
        problems.append(f"column {name!r} (time) is empty at {at(int(pos[0]))}{_more(len(pos), 1)}")
        return col.to_numpy()
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        col = col.astype(object)
        dtype = col.dtype
    if is_datetime64_any_dtype(dtype):
        parsed = pd.to_datetime(col)
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert(None)
        return parsed.to_numpy()
    if is_bool_dtype(dtype):
        problems.append(f"column {name!r} (time) holds booleans; use timestamps or integers")
        return col.to_numpy()
    if is_integer_dtype(dtype):
        return col.to_numpy(dtype=np.int64)
    if _is_number_column(dtype):
        v = _floats(col)
        whole = np.isfinite(v) & (v == np.round(v))
        if whole.all():
            return v.astype(np.int64)
        pos = np.flatnonzero(~whole)
        problems.append(f"column {name!r} (time) holds non-integer numbers, e.g. {_show(col.iloc[pos[0]])} at "
                        f"{at(int(pos[0]))}; use timestamps or integers")
        return col.to_numpy()
    parsed = pd.to_datetime(col.astype(object), errors="coerce", format="mixed")
    bad = parsed.isna().to_numpy()
    if bad.any():
        pos = np.flatnonzero(bad)
        problems.append(
            f"column {name!r} (time): cannot parse {_show(col.iloc[pos[0]])} at {at(int(pos[0]))} as a timestamp"
            f"{_more(len(pos), 1)}; use ISO dates like 2020-01-31"
        )
        return col.to_numpy()
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed.to_numpy()


# --- frequency and gaps ---------------------------------------------------------------------


def _offset_of(step: pd.Timedelta) -> BaseOffset:
    """A fixed step as an offset, in days when it is whole days (``7D`` rather than ``168h``)."""
    day = pd.Timedelta(days=1)
    return to_offset(f"{step // day}D") if step % day == pd.Timedelta(0) else to_offset(step)


def _grid_too_big(first: Any, last: Any, off: BaseOffset, n: int) -> int | None:
    """The number of grid points when a fixed-step grid would be absurdly large for ``n`` points."""
    if not isinstance(off, Tick):  # calendar frequencies (days and longer): no blow-up
        return None
    size = int((pd.Timestamp(last) - pd.Timestamp(first)).value // off.nanos) + 1
    return size if size > _MAX_GRID_PER_POINT * n + _MAX_GRID_EXTRA else None


def _infer_offset(idx: pd.DatetimeIndex) -> BaseOffset:
    """The frequency of sorted, distinct timestamps: pandas' when they are regular; with gaps the
    most frequent frequency of short runs or the most common step, whichever regular grid holds
    every timestamp with the fewest points (so business days stay 'B', months 'MS')."""
    n = len(idx)
    if n >= 3:
        f = pd.infer_freq(idx)
        if f is not None:
            return to_offset(f)
    votes: list[BaseOffset] = []
    k = min(n, 7)
    if k >= 3:
        for s in np.unique(np.linspace(0, n - k, num=min(n - k + 1, 25)).round().astype(int)):
            try:
                f = pd.infer_freq(idx[s:s + k])
            except (ValueError, TypeError):
                f = None
            if f is not None:
                votes.append(to_offset(f))
    steps = pd.Series(idx[1:] - idx[:-1])
    votes.append(_offset_of(steps.value_counts().index[0]))
    counts: dict[str, tuple[int, BaseOffset]] = {}
    for off in votes:
        c, _ = counts.get(off.freqstr, (0, off))
        counts[off.freqstr] = (c + 1, off)
    ranked = [off for _, off in sorted(counts.values(), key=lambda x: -x[0])]
    best: tuple[int, BaseOffset] | None = None
    for off in ranked:
        if _grid_too_big(idx[0], idx[-1], off, n):
            continue
        grid = pd.date_range(idx[0], idx[-1], freq=off)
        if idx.isin(grid).all() and (best is None or len(grid) < best[0]):
            best = (len(grid), off)
    return best[1] if best is not None else ranked[0]


def _regular_index(values: np.ndarray, freq: Any, *, where: str, rows: np.ndarray, at: _Rows, spell: _Spell,
                   fill_missing: bool, nan_policy: str, problems: list[str]
                   ) -> tuple[pd.Index, Any, np.ndarray | None] | None:
    """(regular index, frequency, mask of the observed points in the index or None without gaps) of one
    series' sorted distinct times; None after adding a problem when the times are not regular."""
    n = len(values)
    if np.issubdtype(values.dtype, np.datetime64):
        idx = pd.DatetimeIndex(values)
        if isinstance(freq, int):
            problems.append(f"{where}: {spell('freq', freq)} is an integer step, but the times are timestamps; "
                            f"give a frequency such as {spell('freq', 'D')}")
            return None
        if n < 2:
            return (pd.DatetimeIndex(idx, freq=freq) if freq else idx), freq, None
        off = to_offset(freq) if freq is not None else _infer_offset(idx)
        fs = off.freqstr
        if idx[0] == off.rollforward(idx[0]) and pd.date_range(idx[0], periods=n, freq=off).equals(idx):
            return pd.DatetimeIndex(idx, freq=off), fs, None  # regular: no gaps
        size = _grid_too_big(idx[0], idx[-1], off, n)
        if size:
            problems.append(f"{where}: frequency {fs!r} would put {size} timestamps between {_fmt_time(idx[0])} and "
                            f"{_fmt_time(idx[-1])} for {n} rows; pass the right {spell('freq', '...', raw=True)}")
            return None
        grid = pd.date_range(idx[0], idx[-1], freq=off)
        on_grid = idx.isin(grid)
        present = grid.isin(idx)
        unit, of_freq = "timestamp", f"for frequency {fs!r}"
        off_grid = f"on the regular {fs!r} grid that starts at {_fmt_time(idx[0])}"
        regularise = f"resample to one frequency first (e.g. pandas' .resample({fs!r}).mean())"
        not_it = f"if {fs!r} is not the frequency"
    else:
        if freq is not None and not isinstance(freq, int):
            problems.append(f"{where}: {spell('freq', freq)} is a calendar frequency, but the times are integers; "
                            f"give an integer step such as {spell('freq', 1)}")
            return None
        ints = values.astype(np.int64)
        if n < 2:
            return pd.Index(ints, dtype="int64"), freq, None
        if freq is not None:
            step = int(freq)
        else:
            diffs, counts = np.unique(np.diff(ints), return_counts=True)
            step = int(diffs[np.argmax(counts)])
        if (np.diff(ints) == step).all():
            return pd.Index(ints, dtype="int64"), step, None  # regular: no gaps
        size = (int(ints[-1]) - int(ints[0])) // step + 1
        if size > _MAX_GRID_PER_POINT * n + _MAX_GRID_EXTRA:
            problems.append(f"{where}: step {step} would put {size} time steps between {ints[0]} and {ints[-1]} "
                            f"for {n} rows; pass the right {spell('freq', '<step>', raw=True)}")
            return None
        grid_values = np.arange(int(ints[0]), int(ints[-1]) + 1, step, dtype=np.int64)
        on_grid = (ints - ints[0]) % step == 0
        present = np.isin(grid_values, ints)
        grid, off, fs = pd.Index(grid_values, dtype="int64"), step, step
        unit, of_freq = "time step", f"for step {step}"
        off_grid = f"on the grid of step {step} that starts at {ints[0]}"
        regularise = "aggregate or drop them first"
        not_it = f"if the step is not {step}"
    given = f" ({spell('freq', freq)} was given)" if freq is not None else ""
    other_freq = "" if freq is not None else f", or pass {spell('freq', '...', raw=True)} {not_it}"
    if not on_grid.all():
        pos = np.flatnonzero(~on_grid)
        listed = ", ".join(f"{_fmt_time(values[i])} at {at(int(rows[i]))}" for i in pos[:_MAX_LISTED])
        count = f"{len(pos)} {unit}s are" if len(pos) > 1 else f"1 {unit} is"
        problems.append(
            f"{where}: {count} not {off_grid}{given}: {listed}{_more(len(pos), min(len(pos), _MAX_LISTED))}; "
            f"{regularise}{other_freq}"
        )
        return None
    index = pd.DatetimeIndex(grid, freq=off) if isinstance(grid, pd.DatetimeIndex) else grid
    missing = np.flatnonzero(~present)
    if len(missing) == 0:
        return index, fs, None
    if fill_missing and nan_policy != "error":
        return index, fs, present
    gaps = _describe_gaps(grid, present, rows, at)
    n_missing = f"{len(missing)} missing {unit}s" if len(missing) > 1 else f"1 missing {unit}"
    in_gaps = f" in {len(gaps)} gaps" if len(gaps) > 1 else ""
    listed = ", ".join(gaps[:_MAX_LISTED]) + _more(len(gaps), min(len(gaps), _MAX_LISTED), " gaps")
    fill = spell("nan_policy", "interpolate", "ffill")
    them, their = ("them", "their values") if len(missing) > 1 else ("it", "its value")
    if fill_missing:  # nan_policy="error"
        problems.append(f"{where}: {spell('fill_missing', True)} added {n_missing} {of_freq}{in_gaps}: "
                        f"{listed}, with NaN as {their}; pass {fill} to fill {them}")
    else:
        problems.append(f"{where}: {n_missing} {of_freq}{given}{in_gaps}: {listed}; to add {them} and "
                        f"fill {their} pass {spell('fill_missing', True)} with {fill}{other_freq}")
    return None


def _spread(col: pd.Series, present: np.ndarray | None) -> np.ndarray:
    """A value column (float64) on the regular index: NaN at the timestamps added by fill_missing."""
    v = col.to_numpy(dtype=np.float64)
    if present is None:
        return v
    full = np.full(len(present), np.nan)
    full[present] = v
    return full


def _describe_gaps(grid: pd.Index, present: np.ndarray, rows: np.ndarray, at: _Rows) -> list[str]:
    """Each run of missing grid points with the rows on either side: ``2020-01-11 .. 2020-01-13
    (3 timestamps, between line 12 and line 13)``."""
    missing = np.flatnonzero(~present)
    starts = np.r_[0, np.flatnonzero(np.diff(missing) > 1) + 1]
    ends = np.r_[starts[1:], len(missing)]
    observed_before = np.cumsum(present)  # observed points up to and including each grid point
    out = []
    for a, b in zip(starts, ends):
        p, q = int(missing[a]), int(missing[b - 1])
        k = int(observed_before[p])  # the observed point before the gap is the k-th (1-based)
        around = f"between {at(int(rows[k - 1]))} and {at(int(rows[k]))}"
        if p == q:
            out.append(f"{_fmt_time(grid[p])} ({around})")
        else:
            out.append(f"{_fmt_time(grid[p])} .. {_fmt_time(grid[q])} ({q - p + 1} {'timestamps' if isinstance(grid, pd.DatetimeIndex) else 'steps'}, {around})")
    return out


def _fix_missing(v: np.ndarray, policy: str, *, column: str, sid: str | None, rows: np.ndarray,
                 problems: list[str], labels: pd.Index | None, at: _Rows, spell: _Spell) -> np.ndarray:
    """Apply ``nan_policy`` to the NaN/inf of one column; rows < 0 are timestamps added by fill_missing."""
    bad = ~np.isfinite(v)
    if not bad.any():
        return v
    where = f"column {column!r}" + (f" of series {sid!r}" if sid is not None else "")
    if policy == "error":
        pos = np.flatnonzero(bad & (rows >= 0))
        if len(pos) == 0:
            return v
        kind = "NaN" if np.isnan(v[pos[0]]) else "inf"
        when = f" ({_fmt_time(labels[pos[0]])})" if labels is not None else ""
        problems.append(
            f"{where} has {kind} at {at(int(rows[pos[0]]))}{when}{_more(len(pos), 1)}; "
            f"clean it or pass {spell('nan_policy', 'interpolate', 'ffill')}"
        )
        return v
    s = pd.Series(np.where(bad, np.nan, v))
    if s.isna().all():
        problems.append(f"{where} has no finite values")
        return v
    if policy == "interpolate":
        s = s.interpolate(method="linear", limit_direction="both")
    else:  # ffill
        s = s.ffill()
    if s.isna().any():
        first = int(np.flatnonzero(s.isna().to_numpy())[0])
        problems.append(
            f"{where}: {spell('nan_policy', policy)} cannot fill {at(int(rows[first]))} "
            f"(no earlier value); use {spell('nan_policy', 'interpolate')} or drop the leading rows"
        )
        return v
    return s.to_numpy()
