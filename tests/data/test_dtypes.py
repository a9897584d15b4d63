"""pandas 3 column dtypes (issue 14, item 4): every column check in lstmkit.data accepts numbers in
any storage (NumPy, nullable Int64/Float64 with pd.NA, Arrow-backed, categorical of numbers) and
refuses text (object, both StringDtype variants, Arrow strings, categorical of text) with a
DataError naming the column, never a TypeError from NumPy."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lstmkit.data import ForecastPipeline, LabelEncoder, SequencePipeline, read_series
from lstmkit.data.sequences import to_sequences
from lstmkit.errors import DataError

NUMERIC = {
    "Int64": "Int64",
    "Float64": "Float64",
    "boolean": "boolean",
    "int64[pyarrow]": "int64[pyarrow]",
    "double[pyarrow]": "double[pyarrow]",
    "category": "category",  # categories are numbers
}
TEXT = {
    "object": object,
    "string (pd.NA)": pd.StringDtype("python"),
    "str (NaN)": pd.StringDtype("python", na_value=np.nan),
    "string[pyarrow]": "string[pyarrow]",
    "str[pyarrow] (NaN)": pd.StringDtype("pyarrow", na_value=np.nan),
    "ArrowDtype(string)": pd.ArrowDtype(pa.string()),
    "category of text": "category",
}


def numbers(dtype, n=12, na_at=None):
    values = np.arange(n) % 2 if dtype == "boolean" else np.arange(n)
    s = pd.Series(values, dtype=dtype if dtype != "category" else "int64")
    if dtype == "boolean":
        s = s.astype(bool).astype("boolean")
    if dtype == "category":
        s = s.astype("category")
    if na_at is not None:
        s = s.astype(object)
        s[na_at] = None
        s = s.astype(dtype) if dtype != "category" else s.astype("category")
    return s


def frame(y, x=None, n=12):
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})
    if x is not None:
        df["x"] = x
    return df


@pytest.mark.parametrize("dtype", list(NUMERIC.values()), ids=list(NUMERIC))
def test_read_series_accepts_numbers_in_any_storage(dtype):
    expected = numbers(dtype).astype(float).to_numpy()
    ss = read_series(frame(numbers(dtype), numbers(dtype)), time_col="date", target="y")
    (s,) = ss.series
    assert s.target.dtype == np.float64 and s.covariates.dtype == np.float64
    np.testing.assert_array_equal(s.target, expected)
    np.testing.assert_array_equal(s.covariates[:, 0], expected)


@pytest.mark.parametrize("dtype", list(NUMERIC.values()), ids=list(NUMERIC))
def test_read_series_missing_values_of_nullable_columns_follow_nan_policy(dtype):
    y = numbers(dtype, na_at=4)
    assert y.isna().sum() == 1
    with pytest.raises(DataError, match=r"column 'y' has NaN at row 4 \(2020-01-05\)"):
        read_series(frame(y), time_col="date", target="y")
    s = read_series(frame(y), time_col="date", target="y", nan_policy="ffill").series[0]
    assert np.isfinite(s.target).all() and s.target[4] == s.target[3]


@pytest.mark.parametrize("dtype", list(TEXT.values()), ids=list(TEXT))
def test_read_series_refuses_text_naming_the_column(dtype):
    x = pd.Series(["low", "high"] * 6, dtype=dtype)
    with pytest.raises(DataError, match=r"column 'x' is not numeric: row 0 holds 'low' \(and 11 more\)"):
        read_series(frame(np.arange(12.0), x), time_col="date", target="y")


@pytest.mark.parametrize("dtype", list(TEXT.values()), ids=list(TEXT))
def test_read_series_reads_numbers_written_as_text(dtype):
    y = pd.Series([str(v) for v in range(12)], dtype=dtype)
    np.testing.assert_array_equal(read_series(frame(y), time_col="date", target="y").series[0].target, np.arange(12.0))


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]", pd.StringDtype("python", na_value=np.nan), "category",
                                   pd.ArrowDtype(pa.string())])
def test_read_series_time_and_id_columns_of_extension_dtypes(dtype):
    days = pd.date_range("2020-01-01", periods=6, freq="D").strftime("%Y-%m-%d")
    df = pd.DataFrame({"date": list(days) * 2, "store": ["a"] * 6 + ["b"] * 6, "y": np.arange(12.0)})
    df = df.astype({"date": dtype, "store": dtype})
    ss = read_series(df, time_col="date", target="y", id_col="store")
    assert ss.ids == ["a", "b"] and ss.freq == "D"
    assert ss.series[1].index[0] == pd.Timestamp("2020-01-01")


@pytest.mark.parametrize("dtype", ["Int64", "int64[pyarrow]", pd.ArrowDtype(pa.timestamp("ns")),
                                   pd.ArrowDtype(pa.timestamp("us", tz="UTC"))])
def test_read_series_time_column_numbers_and_arrow_timestamps(dtype):
    if isinstance(dtype, pd.ArrowDtype):
        t = pd.Series(pd.date_range("2020-01-01", periods=12, freq="h", tz=dtype.pyarrow_dtype.tz)).astype(dtype)
    else:
        t = pd.Series(np.arange(0, 24, 2), dtype=dtype)
    s = read_series(pd.DataFrame({"t": t, "y": np.arange(12.0)}), time_col="t", target="y").series[0]
    assert len(s) == 12
    if isinstance(dtype, pd.ArrowDtype):
        assert s.index.freqstr == "h" and s.index.tz is None
    else:
        assert list(s.index[:3]) == [0, 2, 4]


def test_read_series_on_a_csv_read_with_the_arrow_backend(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("date,store,units,promo,note\n" + "".join(
        f"2020-01-0{d},{s},{d * 2},{'' if (s, d) == ('b', 3) else d * 10},x\n" for s in "ab" for d in range(1, 8)))
    df = pd.read_csv(path, dtype_backend="pyarrow")
    with pytest.raises(DataError, match=r"column 'note' is not numeric"):
        read_series(df, time_col="date", target="units", id_col="store")
    df = df.drop(columns="note")
    with pytest.raises(DataError, match=r"column 'promo' of series 'b' has NaN at row 9 \(2020-01-03\)"):
        read_series(df, time_col="date", target="units", id_col="store")
    ss = read_series(df, time_col="date", target="units", id_col="store", nan_policy="interpolate")
    assert ss.ids == ["a", "b"] and ss.covariate_names == ["promo"]
    np.testing.assert_array_equal(ss.by_id()["b"].covariates[:, 0], [10, 20, 30, 40, 50, 60, 70])


# --- to_sequences ---------------------------------------------------------------------------


def long_frame(feature, n_ids=3, T=4):
    return pd.DataFrame({"id": np.repeat([f"s{i}" for i in range(n_ids)], T), "time": np.tile(np.arange(T), n_ids),
                         "temp": feature})


@pytest.mark.parametrize("dtype", list(NUMERIC.values()), ids=list(NUMERIC))
def test_to_sequences_accepts_numbers_in_any_storage(dtype):
    feature = numbers(dtype)
    seqs, ids = to_sequences(long_frame(feature))
    assert ids == ["s0", "s1", "s2"] and all(s.dtype == np.float32 and s.shape == (4, 1) for s in seqs)
    np.testing.assert_array_equal(np.concatenate(seqs)[:, 0], feature.astype(float).to_numpy())


@pytest.mark.parametrize("dtype", list(NUMERIC.values()), ids=list(NUMERIC))
def test_to_sequences_missing_values_named_by_id_column_and_time(dtype):
    with pytest.raises(DataError, match=r"X: sequence id 's1', column 'temp', time 2 \(row 6\) is NaN"):
        to_sequences(long_frame(numbers(dtype, na_at=6)))


@pytest.mark.parametrize("dtype", list(TEXT.values()), ids=list(TEXT))
def test_to_sequences_refuses_text_naming_the_column(dtype):
    df = long_frame(np.arange(12.0)).assign(label=pd.Series(["walk", "run"] * 6, dtype=dtype))
    with pytest.raises(DataError, match=r"X: column 'label' is not numeric \(dtype .*, e\.g\. 'walk' at row 0\); "
                                        r"feature columns must be numeric"):
        to_sequences(df)


@pytest.mark.parametrize("dtype", ["string", "string[pyarrow]", pd.StringDtype("python", na_value=np.nan), "category",
                                   pd.ArrowDtype(pa.string())])
def test_to_sequences_id_column_of_extension_dtypes(dtype):
    df = long_frame(np.arange(12.0)).astype({"id": dtype, "time": "Int64"}).iloc[::-1]
    seqs, ids = to_sequences(df)
    assert [str(i) for i in ids] == ["s2", "s1", "s0"]
    np.testing.assert_array_equal(seqs[0][:, 0], [8, 9, 10, 11])  # sorted by time within each id


def test_sequence_pipeline_on_a_classify_csv_with_a_text_column(tmp_path):
    # the classify CLI's case: the label left in X gave "TypeError: Cannot interpret
    # '<StringDtype(na_value=nan)>' as a data type"
    path = tmp_path / "walk.csv"
    long_frame(np.arange(12.0)).assign(label=["walk"] * 12).to_csv(path, index=False)
    X = pd.read_csv(path)
    with pytest.raises(DataError, match=r"column 'label' is not numeric \(dtype str, e\.g\. 'walk' at row 0\)"):
        SequencePipeline().fit_transform(X)
    seqs = SequencePipeline(scaler="none").fit_transform(X.drop(columns="label"))
    assert len(seqs) == 3


def test_forecast_pipeline_future_covariates_of_extension_dtypes():
    df = pd.DataFrame({"date": pd.date_range("2020-01-01", periods=10, freq="D"), "y": np.arange(10.0),
                       "promo": np.arange(10) % 2})
    pipe, _ = ForecastPipeline.fit(read_series(df, time_col="date", target="y"), lookback=3, transform=None,
                                   scaler="none", past_covariates=None, val_size=0)
    contexts = pipe.contexts_for(None, keep_single_scaler=True)
    future = pd.date_range("2020-01-11", periods=3, freq="D")
    ok = pd.DataFrame({"promo": pd.array([1, 0, 1], dtype="Int64")}, index=future)
    np.testing.assert_array_equal(pipe.future_covariates(ok, contexts, 3)["y"][:, 0], [1, 0, 1])
    with pytest.raises(DataError, match=r"X_future has NaN/inf"):
        pipe.future_covariates(pd.DataFrame({"promo": pd.array([1, None, 1], dtype="Int64")}, index=future),
                               contexts, 3)
    with pytest.raises(DataError, match=r"X_future: covariate column\(s\) \['promo'\] are not numeric"):
        pipe.future_covariates(pd.DataFrame({"promo": pd.array(["yes", "no", "yes"], dtype="string")}, index=future),
                               contexts, 3)


# --- labels -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["str", "string", "string[pyarrow]", "category", pd.ArrowDtype(pa.string())])
def test_label_encoder_on_text_dtypes(dtype):
    le = LabelEncoder()
    np.testing.assert_array_equal(le.fit_transform(pd.Series(["run", "walk", "run"], dtype=dtype)), [0, 1, 0])
    assert le.to_dict() == {"values": ["run", "walk"], "dtype": "object"}
    # a missing label used to become a class of its own (and failed only at save time)
    with pytest.raises(DataError, match=r"y contains missing labels \(None, NaN or pd.NA\) at index 1 \(and 1 more\)"):
        LabelEncoder().fit_transform(pd.Series(["run", None, None, "walk"], dtype=dtype))
