"""Forecast metrics against hand-computed values; baselines and rolling-origin backtests."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.datasets import load
from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluation import backtest, coverage, holdout_origins, mae, mape, mase, rmse, smape
from lstmkit.evaluation.baselines import Naive, SeasonalNaive, make_baseline
from lstmkit.models.forecaster import LSTMForecaster
from lstmkit.train import TrainerConfig


def test_metrics_by_hand():
    a, f = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 2.0])
    assert mae(a, f) == pytest.approx(1.0)
    assert rmse(a, f) == pytest.approx(np.sqrt(5 / 3))
    assert mape(a, f) == pytest.approx(100 * (1 + 0 + 0.5) / 3)
    assert smape(a, f) == pytest.approx(100 * (2 / 3 + 0 + 2 * 2 / 6) / 3)
    assert mase(a, f, train=[0.0, 1.0, 3.0, 6.0], season_length=1) == pytest.approx(1.0 / 2.0)
    assert coverage(a, [0, 0, 5], [1.5, 1.5, 6]) == pytest.approx(100 / 3)
    assert np.isnan(mape([0.0, 1.0], [1.0, 1.0]))
    with pytest.raises(DataError, match="same length"):
        mae([1, 2], [1])


def test_airline_seasonal_naive_matches_the_published_figures():
    y = load("airline")
    for h, expected in ((12, 9.99), (24, 15.52)):
        p = SeasonalNaive(12).fit(y.iloc[:-h]).predict(h)
        assert round(mape(y.iloc[-h:], p["mean"]), 2) == expected
        assert p.index.equals(y.index[-h:])
    naive = Naive().fit(y.iloc[:-12]).predict(12)
    assert (naive["mean"] == y.iloc[-13]).all() and (naive["lower"] < naive["mean"]).all()


def test_holdout_origins():
    assert holdout_origins(100, 10) == [90]
    assert holdout_origins(100, 10, n_origins=3, stride=5) == [80, 85, 90]
    with pytest.raises(ConfigError, match="unknown baseline 'arma'"):
        make_baseline("arma")


@pytest.fixture
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_backtest_rolling_origin_without_refit(one_thread):
    y = load("airline")
    tc = TrainerConfig(max_epochs=3, batch_size=32, lr=1e-2, seed=0, device="cpu")
    f = LSTMForecaster(horizon=6, lookback=12, hidden_size=8, transform="log", trainer=tc)
    r = backtest(f, y, horizon=6, n_origins=3, stride=6, refit=False, baselines=("naive", "seasonal_naive"))
    assert list(r.summary.index) == ["lstmkit", "naive", "seasonal_naive"]
    assert set(r.summary.columns) >= {"MAE", "RMSE", "MAPE", "sMAPE", "MASE", "coverage"}
    assert len(r.forecasts) == 3 * 3 * 6
    assert r.origins == list(y.index[[126, 132, 138]])
    sn = r.forecasts[r.forecasts["model"] == "seasonal_naive"]
    np.testing.assert_allclose(sn["mean"].to_numpy(), y.iloc[np.r_[126:144] - 12].to_numpy())
    assert r.table() is not None
    with pytest.raises(DataError, match="one series"):
        backtest(f, pd.DataFrame({"a": [1.0]}))
