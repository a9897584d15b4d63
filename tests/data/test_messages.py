"""Dead ends in lstmkit.data's messages (issue 14, item 8): a forgotten id column is named as one,
"(and N more)" counts what was not listed, and sequence errors name the id, column and time."""

import re

import numpy as np
import pandas as pd
import pytest

from lstmkit.data import check_min_length, read_series
from lstmkit.data.sequences import to_sequences
from lstmkit.errors import DataError

DAYS = pd.date_range("2021-01-01", periods=20, freq="D").strftime("%Y-%m-%d")


def stores(ids=("a", "b", "c")):
    return pd.concat([pd.DataFrame({"store": s, "date": DAYS, "sales": np.arange(20.0) + k})
                      for k, s in enumerate(ids)], ignore_index=True)


ID_HINT = r"'store' looks like a series id \(3 distinct values, each timestamp repeated once per value\): pass id_col='store'"


# --- (a) a forgotten id_col ----------------------------------------------------------------------


def test_forgotten_id_col_is_named_as_a_series_id(tmp_path):
    path = tmp_path / "sales.csv"
    stores().to_csv(path, index=False)
    for source in (stores(), path):
        with pytest.raises(DataError, match=rf"^{ID_HINT}$"):
            read_series(source, time_col="date", target="sales")
    with pytest.raises(DataError, match=r"^'store' looks like a series id .*: pass --id-col store$"):
        read_series(path, time_col="date", target="sales", spelling="cli")


def test_forgotten_id_col_without_time_col():
    # time defaults to the first column: 'date' when it comes first, else the store ids
    with pytest.raises(DataError, match=rf"^{ID_HINT}$"):
        read_series(stores()[["date", "store", "sales"]], target="sales")
    with pytest.raises(DataError) as err:
        read_series(stores(), target="sales")
    assert "column 'date' holds dates, not numbers; pass it as time_col='date'" in str(err.value)
    assert re.search(ID_HINT, str(err.value))


def test_forgotten_numeric_id_col_named_at_the_duplicate_timestamps():
    df = stores(ids=(1, 2, 3))
    with pytest.raises(DataError, match=rf"duplicate timestamp 2021-01-01 at rows 0 and 20 \(and 39 more\); {ID_HINT}$"):
        read_series(df, time_col="date", target="sales")


def test_a_text_covariate_is_still_not_numeric():
    df = stores()[lambda d: d.store == "a"].drop(columns="store").assign(weather=["sun", "rain"] * 10)
    with pytest.raises(DataError, match=r"column 'weather' is not numeric: row 0 holds 'sun' \(and 19 more\)"):
        read_series(df, time_col="date", target="sales")
    ss = read_series(stores(), time_col="date", target="sales", id_col="store")
    assert ss.ids == ["a", "b", "c"]


def test_to_sequences_names_a_column_that_looks_like_the_id():
    X = pd.DataFrame({"seq": np.repeat(["u", "v"], 5), "time": np.tile(np.arange(5), 2), "temp": np.arange(10.0)})
    with pytest.raises(DataError, match=r"needs an id column 'id' .*; 'seq' looks like the sequence id: pass id_col='seq'"):
        to_sequences(X)
    assert to_sequences(X, id_col="seq")[1] == ["u", "v"]


# --- (b) "(and N more)" ------------------------------------------------------------------------


def test_min_length_count_is_of_unlisted_series():
    two = read_series(stores(ids=("a", "b")), time_col="date", target="sales", id_col="store")
    with pytest.raises(DataError, match=r"'a' has 20, 'b' has 20; use a shorter"):  # was "(and 1 more)"
        check_min_length(two, 30, why="lookback 25 + horizon 5")
    five = read_series(stores(ids="abcde"), time_col="date", target="sales", id_col="store")
    with pytest.raises(DataError, match=r"'a' has 20, 'b' has 20, 'c' has 20 \(and 2 more\); use a shorter"):
        check_min_length(five, 30, why="lookback 25 + horizon 5")


def test_counts_of_single_listed_problems():
    df = stores()[lambda d: d.store == "a"].drop(columns="store").reset_index(drop=True)
    nan = df.copy()
    nan.loc[[2, 5, 9], "sales"] = np.nan
    with pytest.raises(DataError, match=r"has NaN at row 2 \(2021-01-03\) \(and 2 more\);"):
        read_series(nan, time_col="date", target="sales")
    text = df.astype({"sales": object})
    text.loc[[4, 6], "sales"] = "n/a"
    with pytest.raises(DataError, match=r"row 4 holds 'n/a' \(and 1 more\);"):
        read_series(text, time_col="date", target="sales")
    bad_time = df.copy()
    bad_time.loc[[3, 8], "date"] = "never"
    with pytest.raises(DataError, match=r"cannot parse 'never' at row 3 as a timestamp \(and 1 more\);"):
        read_series(bad_time, time_col="date", target="sales")
    one = df.copy()
    one.loc[7, "sales"] = np.nan
    with pytest.raises(DataError) as err:
        read_series(one, time_col="date", target="sales")
    assert "more)" not in str(err.value)


def test_off_grid_count_and_problem_cap():
    t = pd.date_range("2021-01-01", periods=30, freq="D") + pd.to_timedelta([0] * 25 + [1, 2, 3, 4, 5], unit="h")
    with pytest.raises(DataError, match=r"5 timestamps are not on the regular 'D' grid .*: 2021-01-26 01:00:00 at row 25, "
                                        r"2021-01-27 02:00:00 at row 26, 2021-01-28 03:00:00 at row 27 \(and 2 more\);"):
        read_series(pd.Series(np.arange(30.0), index=t))
    many = pd.concat([stores(ids=[f"s{k}"]) for k in range(14)], ignore_index=True)
    many.loc[many.index % 20 == 3, "sales"] = np.nan  # one NaN in each of 14 series
    with pytest.raises(DataError) as err:
        read_series(many, time_col="date", target="sales", id_col="store")
    msg = str(err.value)
    assert msg.count("has NaN") == 10 and msg.endswith("(and 4 more problems)")


def test_to_sequences_lists_text_columns_with_a_right_count():
    X = pd.DataFrame({"id": ["u"] * 3, "time": range(3), **{c: ["x"] * 3 for c in "abcde"}})
    with pytest.raises(DataError) as err:
        to_sequences(X)
    msg = str(err.value)
    assert msg.count("is not numeric") == 3 and "(and 2 more)" in msg


# --- (c) sequence errors name the id, column and time ----------------------------------------


def sensors():
    """Four sensor sequences of 30 steps, rows shuffled; 'temp' and 'hum' per step."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"id": np.repeat(["s0", "s1", "s2", "s3"], 30), "time": np.tile(np.arange(30), 4),
                       "temp": rng.normal(size=120), "hum": rng.normal(size=120)})
    return df.sample(frac=1, random_state=1).reset_index(drop=True)


def test_to_sequences_nan_named_by_id_column_time_and_row():
    X = sensors()
    row = int(np.flatnonzero(((X["id"] == "s3") & (X["time"] == 27)).to_numpy())[0])
    X.loc[row, "temp"] = np.nan
    with pytest.raises(DataError, match=rf"^X: sequence id 's3', column 'temp', time 27 \(row {row}\) is NaN; impute"):
        to_sequences(X)
    X.loc[row, "temp"] = 0.0
    later = int(np.flatnonzero(((X["id"] == "s1") & (X["time"] == 4)).to_numpy())[0])
    for r in sorted([row, later]):
        X.loc[r, "hum"] = np.inf
    first = min(row, later)
    sid, t = X.loc[first, "id"], X.loc[first, "time"]
    with pytest.raises(DataError, match=rf"sequence id '{sid}', column 'hum', time {t} \(row {first}\) is inf \(and 1 more\)"):
        to_sequences(X)


def test_to_sequences_without_time_column_names_the_step_and_integer_ids():
    X = pd.DataFrame({"id": [7, 7, 7, 9, 9], "temp": [1.0, 2.0, 3.0, 4.0, np.nan]})
    with pytest.raises(DataError, match=r"^X: sequence id 9, column 'temp', step 1 \(row 4\) is NaN"):
        to_sequences(X, time_col=None)


def test_to_sequences_refuses_missing_ids():
    X = sensors()
    X.loc[5, "id"] = None
    with pytest.raises(DataError, match=r"X: column 'id' \(id_col\) is empty at row 5; every row needs a sequence id"):
        to_sequences(X)
