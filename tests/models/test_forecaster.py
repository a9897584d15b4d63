"""LSTMForecaster: sklearn contract, global model over many scales, exact save/load, options."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

import lstmkit
from lstmkit.errors import ConfigError, DataError, NotFittedError
from lstmkit.estimators import LSTMForecaster
from lstmkit.models.forecaster import ForecasterNetwork, ForecasterNetworkConfig
from lstmkit.train import TrainerConfig

FAST = TrainerConfig(max_epochs=40, batch_size=32, lr=1e-2, patience=None, seed=0, quiet=True, device="cpu")


def seasonal(n=96, level=10.0, amp=1.0, period=12, noise=0.0, seed=0, freq="MS", start="2000-01-01"):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    v = level + amp * np.sin(2 * np.pi * t / period) + noise * rng.normal(size=n)
    return pd.Series(v, index=pd.date_range(start, periods=n, freq=freq), name="y")


def test_init_stores_params_and_clone_get_set_params():
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=8, trainer=FAST)
    params = f.get_params()
    assert params["horizon"] == 6 and params["lookback"] == 12 and params["trainer"] is FAST
    assert not any(k.endswith("_") for k in vars(f))  # nothing learned in __init__
    g = clone(f)
    assert g.get_params()["hidden_size"] == 8 and g is not f
    g.set_params(hidden_size=16, horizon=3)
    assert g.hidden_size == 16 and f.hidden_size == 8
    with pytest.raises(ValueError):
        f.set_params(hiden_size=3)
    g.set_params(trainer__lr=5e-4, trainer__max_epochs=7)  # nested trainer fields (grid search)
    assert g.trainer.lr == 5e-4 and g.trainer.max_epochs == 7 and f.trainer.lr == FAST.lr
    with pytest.raises(ConfigError, match=r"unknown trainer field 'l_r'"):
        g.set_params(trainer__l_r=1.0)
    with pytest.raises(NotFittedError):
        f.predict()


def test_bad_params_raise_config_error():
    y = seasonal()
    with pytest.raises(ConfigError, match=r"horizon must be a positive int, got 0"):
        LSTMForecaster(horizon=0).fit(y)
    with pytest.raises(ConfigError, match=r"did you mean 'direct'"):
        LSTMForecaster(horizon=3, decoder="direkt", trainer=FAST).fit(y)
    with pytest.raises(ConfigError, match=r"val_size must be 0 or at least horizon"):
        LSTMForecaster(horizon=6, val_size=2, trainer=FAST).fit(y)


def test_core_config_round_trip_and_validation():
    core = ForecasterNetwork(ForecasterNetworkConfig(n_features=3, n_future=1, lookback=5, horizon=4, hidden_size=8))
    again = ForecasterNetwork.from_config(core.get_config())
    assert again.config == core.config
    with pytest.raises(ConfigError, match="quantiles must be increasing"):
        ForecasterNetworkConfig(quantiles=[0.9, 0.1])


def test_short_series_is_a_data_error():
    # shorter than lookback + horizon + val_size is padded; below horizon + val_size + 1 nothing can be learned
    with pytest.raises(DataError, match=r"need at least 19 points \(horizon 6 \+ val_size 12 \+ 1 past point\)"):
        LSTMForecaster(horizon=6, lookback=24, val_size=12, trainer=FAST).fit(seasonal(18))


def test_log_transform_needs_positive_values():
    y = seasonal(level=0.0)
    with pytest.raises(DataError, match=r"transform='log' needs positive values; series 'y'"):
        LSTMForecaster(horizon=6, lookback=12, transform="log", trainer=FAST).fit(y)


def test_fit_predict_shape_index_columns_and_learns():
    y = seasonal(84, noise=0.05)
    f = LSTMForecaster(horizon=12, lookback=12, hidden_size=16, trainer=FAST).fit(y.iloc[:-12])
    p = f.predict()
    assert list(p.columns) == ["mean", "q0.1", "q0.5", "q0.9"]
    assert p.index.equals(y.index[-12:])
    assert (p["q0.1"] <= p["mean"]).all() and (p["mean"] <= p["q0.9"]).all()
    mae = np.mean(np.abs(p["mean"].to_numpy() - y.iloc[-12:].to_numpy()))
    assert mae < 0.3  # amplitude 1: the seasonal shape was learned (naive level forecast: ~0.64)
    with pytest.warns(UserWarning, match=r"horizon 30 exceeds the trained horizon 12: steps 13..30 are forecast from the model's own"):
        longer = f.predict(horizon=30)  # beyond the trained horizon: chunks fed back
    assert len(longer) == 30 and np.allclose(longer["mean"].to_numpy()[:12], p["mean"].to_numpy())


def test_global_model_predicts_each_series_in_its_own_scale():
    scales = np.geomspace(1e-2, 1e4, 12)
    frames = []
    for k, s in enumerate(scales):
        v = seasonal(60, level=3.0, amp=1.0, seed=k, noise=0.02).to_numpy() * s
        phase = k % 3  # different shapes too
        v = np.roll(v, phase)
        frames.append(pd.DataFrame({"id": f"s{k}", "t": pd.date_range("2001-01-01", periods=60, freq="MS"), "v": v}))
    df = pd.concat(frames, ignore_index=True).sample(frac=1, random_state=0)
    train = df[df["t"] < "2005-01-01"]
    test = df[df["t"] >= "2005-01-01"].set_index(["id", "t"])["v"].sort_index()
    f = LSTMForecaster(horizon=12, lookback=12, hidden_size=16, time_col="t", target_col="v", id_col="id",
                       trainer=FAST).fit(train)
    assert len(f.pipeline_.scalers) == 12
    p = f.predict()
    assert p.index.names == ["id", "t"] and len(p) == 12 * 12
    for k, s in enumerate(scales):
        pred = p.loc[f"s{k}", "mean"].to_numpy()
        act = test.loc[f"s{k}"].to_numpy()
        rel = np.mean(np.abs(pred - act)) / s  # error in units of this series' scale
        assert rel < 0.15, (k, s, rel)  # amplitude 1 in this scale


def test_save_load_predicts_exactly_the_same(tmp_path):
    y = seasonal(48, noise=0.1)
    X = pd.DataFrame({"promo": (np.arange(48) % 5 == 0).astype(float)}, index=y.index)
    tc = dataclasses.replace(FAST, max_epochs=3)
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=8, n_models=2, transform="log", scaler="robust", trainer=tc).fit(y.iloc[:-6], X=X.iloc[:-6])
    Xf = X.iloc[-6:]
    before = f.predict(X_future=Xf)
    path = f.save(tmp_path / "model")
    g = lstmkit.load(path)
    assert isinstance(g, LSTMForecaster) and g.get_params()["n_models"] == 2
    after = g.predict(X_future=Xf)
    pd.testing.assert_frame_equal(before, after, check_exact=True)
    assert dataclasses.asdict(g.trainer) == dataclasses.asdict(tc)
    with pytest.raises(DataError, match=r"X_future is required: .*\['promo'\]"):
        g.predict()


@pytest.mark.parametrize("decoder,likelihood", [("autoregressive", "quantile"), ("direct", "mse")])
def test_other_heads_train_and_predict(decoder, likelihood):
    y = seasonal(60)
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=8, decoder=decoder, likelihood=likelihood,
                       quantiles=(0.05, 0.5, 0.95), trainer=dataclasses.replace(FAST, max_epochs=5)).fit(y)
    p = f.predict()
    assert list(p.columns) == ["mean", "q0.05", "q0.5", "q0.95"] and np.isfinite(p.to_numpy()).all()
    hist = f.history_
    assert len(hist) == 5 and "val_loss" in hist[0]


def test_past_covariates_and_array_input():
    n = 70
    y = np.sin(np.arange(n) / 2.0) + 5
    x = np.cos(np.arange(n) / 2.0)
    f = LSTMForecaster(horizon=4, lookback=8, hidden_size=8, past_covariates=["x0"], val_size=0,
                       trainer=dataclasses.replace(FAST, max_epochs=3)).fit(y, X=x)
    p = f.predict()
    assert list(p.index) == list(range(n, n + 4))
    with pytest.raises(ConfigError, match="past-only covariates"):
        f.predict(horizon=8)


def test_predict_from_new_history_uses_fitted_scaler():
    y = seasonal(60)
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=8, trainer=dataclasses.replace(FAST, max_epochs=3)).fit(y)
    a = f.predict()
    b = f.predict(y=y)
    pd.testing.assert_frame_equal(a, b)
    c = f.predict(y=y.iloc[:-6])
    assert c.index.equals(y.index[-6:])


def test_long_format_with_known_future_covariates():
    t = pd.date_range("2020-01-06", periods=40, freq="W-MON")
    rows = []
    for sid, scale in (("a", 1.0), ("b", 50.0)):
        promo = (np.arange(40) % 4 == 0).astype(float)
        rows.append(pd.DataFrame({"id": sid, "week": t, "sales": scale * (5 + 2 * promo), "promo": promo}))
    df = pd.concat(rows, ignore_index=True)
    train = df[df["week"] < t[34]]
    f = LSTMForecaster(horizon=6, lookback=8, hidden_size=8, time_col="week", target_col="sales", id_col="id",
                       trainer=dataclasses.replace(FAST, max_epochs=60)).fit(train)
    future = df[df["week"] >= t[34]].drop(columns="sales")
    p = f.predict(X_future=future)
    assert p.index.names == ["id", "week"] and len(p) == 12
    for sid, scale in (("a", 1.0), ("b", 50.0)):
        got = p.loc[sid, "mean"].to_numpy()
        want = df[(df["id"] == sid) & (df["week"] >= t[34])]["sales"].to_numpy()
        assert np.mean(np.abs(got - want)) / scale < 0.5  # the promo weeks (+2) come from X_future
    with pytest.raises(DataError, match="X_future must cover the 6 steps"):
        f.predict(X_future=future.iloc[:3])


def test_saved_forecaster_with_missing_keys_is_a_model_file_error(tmp_path):
    import json

    f = LSTMForecaster(horizon=3, lookback=6, hidden_size=4, trainer=dataclasses.replace(FAST, max_epochs=1)).fit(seasonal(30))
    path = f.save(tmp_path / "model")
    meta = json.loads((path / "config.json").read_text())
    del meta["config"]["params"]["quantiles"], meta["config"]["network"]["num_layers"]
    (path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(lstmkit.ModelFileError) as info:
        lstmkit.load(path)
    msg = str(info.value)
    assert "LSTMForecaster parameters: ['quantiles']" in msg and "ForecasterNetworkConfig: ['num_layers']" in msg


@pytest.mark.parametrize("kind", ["standard", "minmax"])
def test_scaler_is_fitted_on_the_training_part_only(kind):
    y = seasonal(48)
    y.iloc[-6:] = 1000.0  # the validation tail (val_size=6) is far outside the training range
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=4, scaler=kind, val_size=6, transform=None,
                       trainer=dataclasses.replace(FAST, max_epochs=1)).fit(y)
    sc = f.pipeline_.scalers["y"].to_dict()
    train = y.to_numpy()[:-6]
    if kind == "standard":
        np.testing.assert_allclose(sc["center"], [train.mean()])
        np.testing.assert_allclose(sc["scale"], [train.std()])
    else:
        np.testing.assert_allclose(sc["center"], [train.min()])
        np.testing.assert_allclose(sc["scale"], [train.max() - train.min()])
