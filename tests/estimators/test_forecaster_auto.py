"""LSTMForecaster's "auto" settings: season length, lookback, transform chosen on validation, and
short series left-padded (issue 15)."""

import json

import numpy as np
import pandas as pd
import pytest

import lstmkit
from lstmkit.data.seasonality import detect_season_length, naive_scale, season_length_for
from lstmkit.data.timeseries import read_series
from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators import LSTMForecaster
from lstmkit.estimators.forecaster import auto_settings
from lstmkit.evaluation.metrics import mase

TINY = {"max_epochs": 3, "batch_size": 32, "lr": 1e-2, "patience": None, "quiet": True}


def cycle(n, period, noise=0.2, seed=0, level=10.0, trend=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + trend * t + np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n)


@pytest.mark.parametrize("freq, m", [("MS", 12), ("ME", 12), ("BMS", 12), ("QS", 4), ("BQS", 4), ("W-SUN", 52), ("D", 7),
                                     ("B", 5), ("h", 24), ("2h", 12), ("5h", 1), ("min", 60), ("15min", 4), ("s", 60),
                                     ("ms", 1), ("YS", 1), ("BYS", 1), (None, 1), (1, 1)])
def test_season_length_from_the_frequency(freq, m):
    assert season_length_for(freq) == m


def test_detected_season_length_of_known_cycles():
    assert detect_season_length([cycle(300, 10)]) == 10
    assert detect_season_length([cycle(200, 7, trend=0.05)]) == 7  # a trend does not hide the cycle
    # many short series sharing one period: the mean ACF finds what each alone barely shows
    assert detect_season_length([cycle(40, 5, noise=0.8, seed=k) for k in range(30)]) == 5
    rng = np.random.default_rng(0)
    assert detect_season_length([rng.normal(size=300)]) == 1
    assert detect_season_length([rng.normal(size=5)]) == 1  # too short to tell
    assert detect_season_length([cycle(300, 10)], max_lag=8) == 1  # the cycle is beyond the lags looked at


def test_mase_scale_is_the_in_sample_seasonal_naive_error():
    train = np.array([1.0, 3.0, 2.0, 5.0, 4.0])
    assert naive_scale(train) == pytest.approx(np.mean([2, 1, 3, 1]))
    assert naive_scale(train, 2) == pytest.approx(np.mean([1, 2, 2]))
    assert mase([6.0, 6.0], [5.0, 7.0], train) == pytest.approx(1 / 1.75)


def test_auto_rules_pick_what_the_docstring_says():
    monthly = [cycle(120, 12)]
    st = auto_settings(monthly, "MS", horizon=6, val_size=6)
    assert st == {"season_length": 12, "lookback": 36, "transforms": [None, "log"]}  # max(4H, 3m) = 36
    assert auto_settings(monthly, "MS", horizon=12, val_size=12)["lookback"] == 48  # 4H beats 3m
    # capped at (T - H) // 2: a single series of 120 training points, horizon 24: 48, not 96
    assert auto_settings(monthly, "MS", horizon=24, val_size=24)["lookback"] == 48
    yearly = [cycle(300, 10)]
    assert auto_settings(yearly, "YS", horizon=5, val_size=5)["season_length"] == 10  # detected: yearly has no usual period
    assert auto_settings(yearly, "YS", horizon=5, val_size=5)["lookback"] == 30  # 3m beats 4H
    # the cap follows the longest series
    assert auto_settings([cycle(20, 12), cycle(16, 12)], "MS", horizon=6, val_size=6)["lookback"] == 7
    # negative values: log is no candidate; no validation split: nothing to choose on
    assert auto_settings([cycle(120, 12, level=0.0)], "MS", horizon=6, val_size=6)["transforms"] == [None]
    assert auto_settings(monthly, "MS", horizon=6, val_size=0)["transforms"] == [None]
    # given values pass through
    st = auto_settings(monthly, "MS", horizon=6, val_size=6, season_length=4, lookback=10, transform="log1p")
    assert st == {"season_length": 4, "lookback": 10, "transforms": ["log1p"]}


def test_fit_chooses_the_transform_on_validation_and_saves_what_it_chose(tmp_path):
    # multiplicative growth: the seasonal swing grows with the level
    t = np.arange(96)
    v = np.exp(0.03 * t) * (10 + 4 * np.sin(2 * np.pi * t / 12))
    y = pd.Series(v, index=pd.date_range("2000-01", periods=96, freq="MS"), name="y")
    f = LSTMForecaster(horizon=6, hidden_size=8, trainer=TINY).fit(y)
    st = f.settings_
    assert st["season_length"] == 12 and st["lookback"] == 36 and st["transforms"] == [None, "log"]
    scores = st["validation_mase"]
    assert set(scores) == {"None", "log"} and all(np.isfinite(s) for s in scores.values())
    assert str(st["transform"]) == min(scores, key=scores.get)
    assert f.pipeline_.transform.kind == st["transform"]  # the kept model is the winner's
    assert f.network_.config.lookback == 36
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    assert g.settings_ == st
    np.testing.assert_allclose(g.predict()["mean"], f.predict()["mean"], rtol=0, atol=1e-9)


def test_validation_mase_is_the_mean_scaled_error_of_the_last_horizon():
    # one series, val_size = horizon: one validation window, the last 6 points
    y = pd.Series(cycle(60, 12), index=pd.date_range("2000-01", periods=60, freq="MS"), name="y")
    f = LSTMForecaster(horizon=6, hidden_size=4, transform="auto", trainer=TINY).fit(y)
    expected = {}
    for kind in ("None", "log"):
        g = LSTMForecaster(horizon=6, hidden_size=4, transform=None if kind == "None" else kind, trainer=TINY).fit(y)
        pred = g.predict(y=y.iloc[:-6])["mean"].to_numpy()
        expected[kind] = mase(y.iloc[-6:].to_numpy(), pred, y.iloc[:-6].to_numpy(), 12)
    assert f.settings_["validation_mase"] == pytest.approx(expected, rel=1e-5)


def test_short_series_are_padded_and_never_a_target():
    # lookback 24 ((54 - 6) // 2) + horizon 6 + val 6 = 36 points would be needed; "c" is too short to
    # spare 6 for validation
    lengths = {"a": 60, "b": 20, "c": 10}
    frames = [pd.DataFrame({"id": k, "t": pd.date_range("2000-01", periods=n, freq="MS"), "v": cycle(n, 12, seed=i)})
              for i, (k, n) in enumerate(lengths.items())]
    df = pd.concat(frames)
    args = dict(horizon=6, hidden_size=4, transform=None, id_col="id", time_col="t", target_col="v", trainer=TINY)
    f = LSTMForecaster(**args).fit(df)
    assert f.settings_["padded_series"] == 2 and f.settings_["lookback"] == 24 and f.settings_["series_without_validation"] == 1
    pred = f.predict()
    assert pred.index.get_level_values(0).unique().tolist() == ["a", "b", "c"] and np.isfinite(pred["mean"]).all()
    # the windows themselves: every training target is a real point of its series
    f._settings = dict(f.settings_)
    prepared = f._prepare(read_series(df, time_col="t", target="v", id_col="id"))
    train = prepared.train(f.trainer_config()) if callable(prepared.train) else prepared.train
    ids, seen = list(lengths), {}
    for i in range(len(train)):
        s, start = train.window_bounds(i)
        pad = {"a": 0, "b": 16, "c": 20}[ids[s]]  # to lookback + horizon + its validation part
        assert start + 24 >= pad + 1, (ids[s], start)  # at least one real point before the first target
        seen[ids[s]] = seen.get(ids[s], 0) + 1
    # a: ends 30..54 (25 windows); b and c: the one window whose past holds a real point
    assert seen == {"a": 25, "b": 1, "c": 1}
    assert len(prepared.val) == 2  # a and b
    too_short = pd.concat([df, pd.DataFrame({"id": "d", "t": pd.date_range("2000-01", periods=6, freq="MS"),
                                             "v": cycle(6, 12)})])
    with pytest.raises(DataError, match=r"need at least 7 points \(horizon 6 \+ 1 past point\); 'd' has 6"):
        LSTMForecaster(**args).fit(too_short)
    # a val_size given is asked of every series
    with pytest.raises(DataError, match=r"need at least 13 points \(horizon 6 \+ val_size 6 \+ 1 past point\); 'c' has 10"):
        LSTMForecaster(**args, val_size=6).fit(df)


@pytest.mark.parametrize("bad, message", [
    ({"lookback": 0}, r"lookback must be a positive int or 'auto', got 0"),
    ({"season_length": "yes"}, r"season_length must be a positive int or 'auto', got 'yes'"),
    ({"transform": "sqrt"}, r"transform must be 'auto' or one of \[None, 'log', 'log1p'\], got 'sqrt'"),
])
def test_bad_auto_settings_are_config_errors(bad, message):
    y = pd.Series(cycle(60, 12), index=pd.date_range("2000-01", periods=60, freq="MS"))
    with pytest.raises(ConfigError, match=message):
        LSTMForecaster(horizon=6, trainer=TINY, **bad).fit(y)


def test_auto_transform_checkpoints_each_candidate_and_resumes(tmp_path):
    y = pd.Series(cycle(72, 12), index=pd.date_range("2000-01", periods=72, freq="MS"), name="y")
    run = tmp_path / "run"
    args = dict(horizon=6, hidden_size=4, random_state=0, trainer={**TINY, "run_dir": str(run)})
    f = LSTMForecaster(**args).fit(y)
    assert (run / "transform-None" / "metrics.csv").is_file() and (run / "transform-log" / "metrics.csv").is_file()
    assert json.loads((run / "settings.json").read_text())["transform"] == f.settings_["transform"]
    g = LSTMForecaster(**args).fit(y, resume=True)  # both candidates finished: read back, nothing retrained
    assert g.settings_ == f.settings_
    np.testing.assert_allclose(g.predict()["mean"], f.predict()["mean"], rtol=0, atol=1e-9)


def test_log_is_no_candidate_when_a_validation_point_is_not_positive():
    # positive training part, a zero among the last horizon points (the validation part)
    y = pd.Series(np.r_[cycle(40, 7), 0.0, 1.0, 2.0], index=pd.date_range("2000", periods=43, freq="D"))
    f = LSTMForecaster(horizon=3, hidden_size=4, trainer=TINY).fit(y)
    assert f.settings_["transforms"] == [None] and f.settings_["transform"] is None


def test_the_point_forecast_is_the_reported_median():
    y = pd.Series(cycle(60, 12), index=pd.date_range("2000-01", periods=60, freq="MS"))
    f = LSTMForecaster(horizon=6, hidden_size=4, transform=None, trainer={**TINY, "max_epochs": 1}).fit(y)
    pred = f.predict()
    assert np.array_equal(pred["mean"].to_numpy(), pred["q0.5"].to_numpy())
    assert np.all(np.diff(pred[["q0.1", "q0.5", "q0.9"]].to_numpy(), axis=1) >= 0)


def test_numpy_integer_parameters_save_and_load(tmp_path):
    y = pd.Series(cycle(60, 12), index=pd.date_range("2000-01", periods=60, freq="MS"))
    f = LSTMForecaster(horizon=np.int64(6), lookback=np.int64(12), season_length=np.int64(12), hidden_size=4,
                       transform=None, trainer=TINY).fit(y)
    f.save(tmp_path / "m")
    g = lstmkit.load(tmp_path / "m")
    assert g.horizon == 6 and type(g.horizon) is int and g.season_length == 12
    np.testing.assert_allclose(g.predict()["mean"], f.predict()["mean"], rtol=0, atol=1e-9)


def test_a_history_indexed_unlike_the_training_data_is_a_data_error():
    y = pd.Series(cycle(60, 12), index=pd.date_range("2000-01", periods=60, freq="MS"), name="y")
    f = LSTMForecaster(horizon=6, hidden_size=4, transform=None, trainer=TINY).fit(y)
    with pytest.raises(DataError, match=r"indexed by integer positions .* fitted on timestamps \(frequency MS\)"):
        f.predict(y=y.to_numpy())
