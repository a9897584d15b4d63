"""Forecast metrics against hand-computed values; baselines and rolling-origin backtests."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.datasets import load
from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluation import backtest, coverage, holdout_origins, mae, mape, mase, rmse, smape
from lstmkit.evaluation.baselines import AR, SARIMA, HoltWinters, Naive, SeasonalNaive, make_baseline
from lstmkit.estimators import LSTMForecaster
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


def test_backtest_rolling_origin_without_refit():
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


def test_holt_winters_and_sarima_beat_seasonal_naive_on_airline():
    y = load("airline")
    train, test = y.iloc[:-12], y.iloc[-12:]
    naive_mape = mape(test, SeasonalNaive(12).fit(train).predict(12)["mean"])
    assert round(naive_mape, 2) == 9.99
    hw = HoltWinters(12).fit(train).predict(12)
    sarima = SARIMA().fit(train).predict(12)  # the airline model: log, (0,1,1)(0,1,1)12
    assert hw.index.equals(test.index) and sarima.index.equals(test.index)
    hw_mape, sarima_mape = mape(test, hw["mean"]), mape(test, sarima["mean"])
    assert hw_mape < naive_mape / 2 and sarima_mape < naive_mape / 2, (hw_mape, sarima_mape)  # about 2.2% and 2.9%
    assert (sarima["lower"] < sarima["mean"]).all() and (sarima["mean"] < sarima["upper"]).all()


def test_ar9_on_yearly_sunspots_matches_the_published_rmse():
    y = load("sunspots")
    train, test = y[y.index.year < 1989], y[y.index.year >= 1989]
    assert len(test) == 20
    p = AR(9).fit(train).predict(len(test))
    assert p.index.equals(test.index)
    assert rmse(test, p["mean"]) == pytest.approx(14.2, abs=0.5)  # the code gives 14.17


def test_backtest_refit_fits_once_per_origin():
    fits = []

    class CountingForecaster(LSTMForecaster):
        def fit(self, y, X=None):
            fits.append(len(y))
            return super().fit(y, X)

    y = load("airline")
    tc = TrainerConfig(max_epochs=2, batch_size=32, lr=1e-2, seed=0, quiet=True, device="cpu")
    f = CountingForecaster(horizon=6, lookback=12, hidden_size=4, transform="log", trainer=tc)
    runs = {}
    for refit in (True, False, 2):
        fits.clear()
        r = backtest(f, y, horizon=6, n_origins=3, stride=6, refit=refit, baselines=("naive",))
        runs[refit] = (list(fits), r.forecasts[r.forecasts["model"] == "lstmkit"])
    assert runs[True][0] == [126, 132, 138]  # one fit per origin, on all data before it
    assert runs[False][0] == [126]
    assert runs[2][0] == [126, 138]
    t, nf = runs[True][1], runs[False][1]
    first = t["origin"] == t["origin"].iloc[0]
    np.testing.assert_array_equal(t.loc[first, "mean"], nf.loc[first, "mean"])  # same fit at the first origin
    assert not np.allclose(t.loc[~first, "mean"], nf.loc[~first, "mean"])  # refitted models differ later
