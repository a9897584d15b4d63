"""Gaps in the timestamps (issue 14, item 3): named by count, timestamp and file line, filled on
request (``fill_missing``), with the fix spelled for Python or the command line."""

import re

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import read_series
from lstmkit.data.timeseries import from_pandas
from lstmkit.errors import ConfigError, DataError

DAYS = pd.date_range("2021-01-01", periods=60, freq="D")


def stores(drop=(), nan_at=None):
    """Three stores' daily sales in long format, rows of store a, then b, then c."""
    df = pd.concat(
        [pd.DataFrame({"date": DAYS.strftime("%Y-%m-%d"), "store": s, "sales": np.arange(60.0) + 100 * k})
         for k, s in enumerate("abc")],
        ignore_index=True,
    )
    if nan_at is not None:
        df.loc[nan_at, "sales"] = np.nan
    return df.drop(index=list(drop)).reset_index(drop=True)


def line_of(path, text):
    """1-based line of the file that starts with ``text``."""
    return next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if ln.startswith(text))


@pytest.fixture
def gappy(tmp_path):
    """Store b lacks 2021-01-11 .. 2021-01-13, store c lacks 2021-02-20."""
    path = tmp_path / "sales.csv"
    stores(drop=[70, 71, 72, 170]).to_csv(path, index=False)
    return path


KW = dict(time_col="date", target="sales", id_col="store")


def test_gap_error_counts_missing_timestamps_with_file_lines(gappy):
    with pytest.raises(DataError) as err:
        read_series(gappy, **KW)
    msg = str(err.value)
    b_before, b_after = line_of(gappy, "2021-01-10,b"), line_of(gappy, "2021-01-14,b")
    c_before, c_after = line_of(gappy, "2021-02-19,c"), line_of(gappy, "2021-02-21,c")
    assert b_after == b_before + 1 and c_after == c_before + 1
    assert (f"column 'date' of series 'b': 3 missing timestamps for frequency 'D': 2021-01-11 .. 2021-01-13 "
            f"(3 timestamps, between line {b_before} and line {b_after})") in msg
    assert (f"column 'date' of series 'c': 1 missing timestamp for frequency 'D': 2021-02-20 "
            f"(between line {c_before} and line {c_after})") in msg
    assert "pass fill_missing=True with nan_policy='interpolate' or 'ffill'" in msg
    assert "more)" not in msg  # the old message counted every shifted row: "(and 298 more)"


def test_gap_error_from_a_dataframe_names_rows():
    df = stores(drop=[70, 71, 72])
    with pytest.raises(DataError, match=r"3 missing timestamps for frequency 'D': 2021-01-11 \.\. 2021-01-13 "
                                         r"\(3 timestamps, between row 69 and row 70\)"):
        from_pandas(df, **KW)


@pytest.mark.parametrize("extra", [dict(freq="D"), dict(nan_policy="interpolate"), dict(freq="D", nan_policy="ffill")])
def test_every_suggested_fix_without_fill_missing_says_what_works(gappy, extra):
    # freq="D" and a nan_policy used to fail with the same "irregular frequency ... pass freq=..." message
    with pytest.raises(DataError, match=r"3 missing timestamps for frequency 'D'.*pass fill_missing=True"):
        read_series(gappy, **KW, **extra)


@pytest.mark.parametrize("policy", ["interpolate", "ffill"])
def test_fill_missing_reindexes_then_applies_nan_policy(gappy, policy):
    ss = read_series(gappy, **KW, fill_missing=True, nan_policy=policy)
    assert ss.freq == "D" and ss.ids == ["a", "b", "c"]
    for s in ss:
        assert len(s) == 60 and s.index.equals(pd.DatetimeIndex(DAYS, freq="D")) and s.index.freq == "D"
    b = ss.by_id()["b"].target
    expected = np.arange(60.0) + 100
    if policy == "ffill":
        expected[10:13] = expected[9]
    np.testing.assert_allclose(b, expected)
    np.testing.assert_allclose(ss.by_id()["a"].target, np.arange(60.0))


def test_fill_missing_also_fills_nan_values_and_from_pandas_has_it():
    df = stores(drop=[70, 71], nan_at=5)
    ss = from_pandas(df, **KW, fill_missing=True, nan_policy="interpolate")
    np.testing.assert_allclose(ss.by_id()["a"].target, np.arange(60.0))
    np.testing.assert_allclose(ss.by_id()["b"].target, np.arange(60.0) + 100)


def test_fill_missing_with_nan_policy_error_names_the_added_timestamps(gappy):
    with pytest.raises(DataError) as err:
        read_series(gappy, **KW, fill_missing=True)
    msg = str(err.value)
    assert "series 'b': fill_missing=True added 3 missing timestamps for frequency 'D': 2021-01-11 .. 2021-01-13" in msg
    assert "with NaN as their values; pass nan_policy='interpolate' or 'ffill' to fill them" in msg
    assert "series 'c': fill_missing=True added 1 missing timestamp" in msg


def test_given_freq_fills_on_its_grid():
    y = pd.Series(np.arange(10.0), index=pd.date_range("2020-01-06", periods=10, freq="W-MON")).drop(
        pd.Timestamp("2020-01-20"))
    with pytest.raises(DataError, match=r"1 missing timestamp for frequency 'W-MON' \(freq='W-MON' was given\): 2020-01-20"):
        read_series(y, freq="W-MON")
    s = read_series(y, freq="W-MON", fill_missing=True, nan_policy="interpolate").series[0]
    assert len(s) == 10 and s.index.freqstr == "W-MON" and s.target[2] == 2.0


@pytest.mark.parametrize(
    "index,drop,freq",
    [
        (pd.bdate_range("2024-01-01", periods=60), [10, 11, 30], "B"),  # weekends are not gaps
        (pd.date_range("2000-01-01", periods=40, freq="MS"), [5, 20, 21], "MS"),  # months of 28..31 days
        (pd.date_range("2000-01-01", periods=100, freq="h"), [1, 50, 51, 52], "h"),
    ],
)
def test_frequency_inferred_despite_gaps(index, drop, freq):
    y = pd.Series(np.arange(float(len(index))), index=index).drop(index[drop])
    with pytest.raises(DataError, match=rf"{len(drop)} missing timestamps for frequency '{freq}'"):
        read_series(y)
    s = read_series(y, fill_missing=True, nan_policy="interpolate").series[0]
    assert s.index.equals(index) and s.index.freqstr == freq
    np.testing.assert_allclose(s.target, np.arange(float(len(index))))


def test_many_gaps_listed_with_a_right_count():
    y = pd.Series(np.arange(60.0), index=DAYS).drop(DAYS[[3, 10, 11, 20, 30, 40]])
    with pytest.raises(DataError) as err:
        read_series(y)
    msg = str(err.value)
    assert "6 missing timestamps for frequency 'D' in 5 gaps: 2021-01-04 (between row 2 and row 3), " in msg
    assert "2021-01-11 .. 2021-01-12 (2 timestamps, between row 8 and row 9), 2021-01-21 (between" in msg
    assert "(and 2 more gaps)" in msg


def test_timestamps_off_the_grid_are_not_gaps(tmp_path):
    df = stores()[lambda d: d.store == "a"].drop(columns="store")
    df.loc[7, "date"] = "2021-01-08 12:00"
    path = tmp_path / "a.csv"
    df.to_csv(path, index=False)
    line = line_of(path, "2021-01-08 12:00")
    for extra in ({}, dict(fill_missing=True, nan_policy="interpolate")):
        with pytest.raises(DataError, match=rf"1 timestamp is not on the regular 'D' grid that starts at 2021-01-01: "
                                            rf"2021-01-08 12:00:00 at line {line}; resample to one frequency first"):
            read_series(path, time_col="date", target="sales", **extra)


def test_integer_time_gaps():
    df = pd.DataFrame({"t": [0, 1, 2, 4, 5, 6, 9, 10], "y": [0.0, 1, 2, 4, 5, 6, 9, 10]})
    with pytest.raises(DataError, match=r"3 missing time steps for step 1 in 2 gaps: 3 \(between row 2 and row 3\), "
                                         r"7 \.\. 8 \(2 steps, between row 5 and row 6\)"):
        read_series(df, time_col="t", target="y")
    s = read_series(df, time_col="t", target="y", fill_missing=True, nan_policy="interpolate").series[0]
    assert list(s.index) == list(range(11))
    np.testing.assert_allclose(s.target, np.arange(11.0))


def test_lines_are_counted_past_blank_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("date,y\n2020-01-01,1\n\n2020-01-02,2\n2020-01-03,\n2020-01-04,4\n")
    with pytest.raises(DataError, match=r"column 'y' has NaN at line 5 \(2020-01-03\)"):
        read_series(path)


def test_cli_spelling_of_every_hint(gappy, tmp_path):
    with pytest.raises(DataError) as err:
        read_series(gappy, **KW, spelling="cli")
    msg = str(err.value)
    assert "pass --fill-missing with --nan-policy interpolate or ffill, or pass --freq ... if 'D' is not the frequency" in msg
    assert "fill_missing=" not in msg and "nan_policy=" not in msg
    with pytest.raises(DataError, match=r"--fill-missing added 3 missing timestamps.*pass --nan-policy interpolate or ffill"):
        read_series(gappy, **KW, fill_missing=True, spelling="cli")
    with pytest.raises(DataError, match=r"'store' looks like a series id .*: pass --id-col store$"):
        read_series(gappy, time_col="date", target="sales", spelling="cli")
    nan = tmp_path / "nan.csv"
    stores(nan_at=4).to_csv(nan, index=False)
    with pytest.raises(DataError, match=r"has NaN at line 6 \(2021-01-05\); clean it or pass --nan-policy interpolate or ffill$"):
        read_series(nan, **KW, spelling="cli")
    with pytest.raises(DataError, match=r"--nan-policy ffill cannot fill row 0 \(no earlier value\); use --nan-policy interpolate"):
        read_series(stores(nan_at=0), **KW, nan_policy="ffill", spelling="cli")
    with pytest.raises(DataError, match=r"no --time-col was given, so the first column 'when' is the time column; pass --time-col <column>"):
        read_series(pd.DataFrame({"when": ["soon"] * 4, "y": np.arange(4.0)}), target="y", spelling="cli")
    with pytest.raises(DataError, match=r"--target-col: cannot guess the target column .*; pass --target-col <column>"):
        read_series(pd.DataFrame({"date": DAYS[:4], "u": np.ones(4), "v": np.ones(4)}), time_col="date",
                    covariates=[], spelling="cli")
    with pytest.raises(ConfigError, match=r"--nan-policy must be one of"):
        read_series(gappy, **KW, nan_policy="zero", spelling="cli")


def test_bad_spelling_and_fill_missing_values():
    with pytest.raises(ConfigError, match=r"spelling must be one of \['python', 'cli'\], got 'CLI'"):
        read_series(stores(), **KW, spelling="CLI")
    with pytest.raises(ConfigError, match=r"fill_missing must be True or False, got 'yes'"):
        read_series(stores(), **KW, fill_missing="yes")
    with pytest.raises(ConfigError, match=r"freq must be a pandas frequency .* got 'day'"):
        read_series(stores(), **KW, freq="day")


def test_python_spelling_is_the_default():
    with pytest.raises(DataError) as err:
        read_series(stores(drop=[3]), **KW)
    assert "fill_missing=True with nan_policy='interpolate' or 'ffill'" in str(err.value)
    assert not re.search(r"--\w", str(err.value))
