"""Time-series input validation: every bad input raises DataError naming column and row."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import check_min_length, read_series
from lstmkit.errors import ConfigError, DataError


def frame(n=30):
    t = pd.date_range("2020-01-01", periods=n, freq="D")
    return pd.DataFrame({"date": t.strftime("%Y-%m-%d"), "y": np.arange(n, dtype=float) + 1, "x": np.ones(n)})


def test_good_frame_parses_with_frequency():
    ss = read_series(frame(), time_col="date", target="y")
    (s,) = ss.series
    assert ss.freq == "D" and ss.covariate_names == ["x"]
    assert isinstance(s.index, pd.DatetimeIndex) and s.index.freq == "D"
    np.testing.assert_array_equal(s.target, np.arange(30) + 1.0)
    assert s.covariates.shape == (30, 1)


def test_unparsable_timestamp_names_column_and_row():
    df = frame()
    df.loc[7, "date"] = "2020-13-45"
    with pytest.raises(DataError, match=r"column 'date' \(time\): cannot parse '2020-13-45' at row 7"):
        read_series(df, time_col="date", target="y")


def test_duplicate_timestamp_names_both_rows():
    df = frame()
    df.loc[5, "date"] = df.loc[4, "date"]
    with pytest.raises(DataError, match=r"duplicate timestamp 2020-01-05.* rows 4 and 5"):
        read_series(df, time_col="date", target="y")


def test_missing_timestamp_named_with_the_rows_around_it():
    df = frame().drop(index=10).reset_index(drop=True)
    with pytest.raises(DataError, match=r"1 missing timestamp for frequency 'D': 2020-01-11 \(between row 9 and row 10\)"):
        read_series(df, time_col="date", target="y")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_errors_by_default(bad):
    df = frame()
    df.loc[3, "y"] = bad
    with pytest.raises(DataError, match=r"column 'y' has (NaN|inf) at row 3 .*nan_policy='interpolate'"):
        read_series(df, time_col="date", target="y")


def test_nan_policies_fill():
    df = frame()
    df.loc[3, "y"] = np.nan
    df.loc[4, "y"] = np.inf
    interp = read_series(df, time_col="date", target="y", nan_policy="interpolate").series[0].target
    np.testing.assert_allclose(interp[2:6], [3.0, 4.0, 5.0, 6.0])
    ffill = read_series(df, time_col="date", target="y", nan_policy="ffill").series[0].target
    np.testing.assert_allclose(ffill[2:6], [3.0, 3.0, 3.0, 6.0])


def test_ffill_cannot_fill_leading_nan():
    df = frame()
    df.loc[0, "y"] = np.nan
    with pytest.raises(DataError, match=r"nan_policy='ffill' cannot fill row 0"):
        read_series(df, time_col="date", target="y", nan_policy="ffill")


def test_unknown_nan_policy_suggests():
    with pytest.raises(ConfigError, match=r"did you mean 'ffill'"):
        read_series(frame(), time_col="date", target="y", nan_policy="fill")


def test_non_numeric_column_names_column_and_row():
    df = frame()
    df["x"] = df["x"].astype(object)
    df.loc[6, "x"] = "high"
    with pytest.raises(DataError, match=r"column 'x' is not numeric: row 6 holds 'high'"):
        read_series(df, time_col="date", target="y")


def test_missing_column_suggests():
    with pytest.raises(DataError, match=r"target: column 'yy' not found \(did you mean 'y'\?\)"):
        read_series(frame(), time_col="date", target="yy")


def test_several_problems_reported_together():
    df = frame()
    df.loc[2, "y"] = np.nan
    df["x"] = df["x"].astype(object)
    df.loc[4, "x"] = "?"
    with pytest.raises(DataError) as err:
        read_series(df, time_col="date", target="y")
    assert "column 'x' is not numeric" in str(err.value)


def test_long_format_many_series_and_per_series_errors():
    parts = []
    for k in range(3):
        f = frame(20)
        f["store"] = f"s{k}"
        parts.append(f.sample(frac=1, random_state=k))  # unsorted rows are fine
    df = pd.concat(parts, ignore_index=True)
    ss = read_series(df, time_col="date", target="y", id_col="store")
    assert ss.ids == ["s0", "s1", "s2"]
    assert all(np.array_equal(s.target, np.arange(20) + 1.0) for s in ss)
    bad = df.copy()
    row = int(np.flatnonzero((bad["store"] == "s1").to_numpy())[3])
    bad.loc[row, "y"] = np.nan
    with pytest.raises(DataError, match=rf"column 'y' of series 's1' has NaN at row {row}"):
        read_series(bad, time_col="date", target="y", id_col="store")


def test_short_series_named():
    ss = read_series(frame(10), time_col="date", target="y")
    with pytest.raises(DataError, match=r"need at least 20 points .*'y' has 10"):
        check_min_length(ss, 20, why="lookback 15 + horizon 5")


def test_csv_and_parquet_round_trip(tmp_path):
    df = frame()
    df.to_csv(tmp_path / "d.csv", index=False)
    df.to_parquet(tmp_path / "d.parquet")
    a = read_series(tmp_path / "d.csv", time_col="date", target="y").series[0]
    b = read_series(str(tmp_path / "d.parquet"), time_col="date", target="y").series[0]
    np.testing.assert_array_equal(a.target, b.target)
    assert a.index.equals(b.index)
    with pytest.raises(DataError, match="does not exist"):
        read_series(tmp_path / "missing.csv")
    (tmp_path / "d.xlsx").write_text("x")
    with pytest.raises(DataError, match=r"expected a \.csv, \.tsv or \.parquet"):
        read_series(tmp_path / "d.xlsx")


def test_series_and_arrays():
    s = pd.Series(np.arange(24.0), index=pd.date_range("2000-01", periods=24, freq="MS"), name="sales")
    ss = read_series(s)
    assert ss.target_name == "sales" and ss.freq == "MS"
    arr = read_series(np.arange(12.0).reshape(3, 4))
    assert len(arr) == 3 and arr.freq == 1 and list(arr.series[2].target) == [8, 9, 10, 11]
    with pytest.raises(DataError, match="must be numeric"):
        read_series(np.array(["a", "b"]))
    with pytest.raises(DataError, match="has NaN at row 1"):
        read_series(np.array([1.0, np.nan, 3.0]))


def test_first_column_is_time_by_default_when_target_given(tmp_path):
    # documented default: time_col is the first column when the index holds no time
    df = frame()
    df.to_csv(tmp_path / "d.csv", index=False)
    for source in (df, tmp_path / "d.csv"):
        ss = read_series(source, target="y")
        (s,) = ss.series
        assert ss.time_name == "date" and ss.freq == "D" and ss.covariate_names == ["x"]
        assert s.index[0] == pd.Timestamp("2020-01-01")
    # the first column is the target (or a named covariate): time is the row position
    ss = read_series(df[["y", "x"]], target="y")
    assert ss.time_name is None and ss.freq == 1 and ss.covariate_names == ["x"]
    ss = read_series(df[["x", "y"]], target="y", covariates=["x"])
    assert ss.time_name is None and list(ss.series[0].index[:3]) == [0, 1, 2]
    # a defaulted first column that is not a time says so and names the fix
    bad = df.assign(date="soon")
    with pytest.raises(DataError, match=r"column 'date' \(time\): cannot parse 'soon' at row 0.*pass time_col="):
        read_series(bad, target="y")
