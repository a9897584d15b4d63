"""Backtests over every series of a long table: one global LSTM fit per origin, baselines and
scores per series, the summary as the mean over series, and ``series=[...]`` to pick some."""

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators import LSTMForecaster
from lstmkit.evaluation import backtest

SCORES = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "coverage"]


def stores(n=56, ids=("north", "south", "east"), lengths=None):
    """Daily sales of a few stores (weekly season), long format; ``lengths`` cuts series' starts."""
    rng = np.random.default_rng(0)
    parts = []
    for k, sid in enumerate(ids):
        t = np.arange(n)
        v = 20 + 10 * k + (k + 1) * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n)
        part = pd.DataFrame({"store": sid, "date": pd.date_range("2024-01-01", periods=n, freq="D"), "sales": v})
        parts.append(part.iloc[n - lengths[k]:] if lengths else part)
    return pd.concat(parts, ignore_index=True)


def one(df, sid):
    part = df[df["store"] == sid]
    return pd.Series(part["sales"].to_numpy(), index=pd.DatetimeIndex(part["date"], freq="D"), name="sales")


def scores(result, sid, model):
    ps = result.per_series
    got = ps[(ps["series"] == sid) & (ps["model"] == model)].set_index("metric")["value"]
    return got.reindex(SCORES)


def test_baselines_per_series_equal_single_series_backtests_and_summary_is_their_mean():
    df = stores()
    df.loc[df["store"] == "east", "sales"] *= 100  # MASE is scaled per series: unchanged by a factor
    kw = {"horizon": 7, "n_origins": 2, "baselines": ("naive", "seasonal_naive")}
    r = backtest(None, df, id_col="store", time_col="date", target_col="sales", **kw)
    assert list(r.forecasts.columns) == ["series", "model", "origin", "time", "actual", "mean", "lower", "upper"]
    assert len(r.forecasts) == 3 * 2 * 2 * 7  # series x models x origins x steps
    assert list(r.per_series.columns) == ["series", "model", "metric", "value"]
    assert len(r.per_series) == 3 * 2 * len(SCORES)
    assert r.series == ["north", "south", "east"]
    assert r.origins["north"] == list(pd.to_datetime(["2024-02-12", "2024-02-19"]))
    assert (r.id_col, r.time_col, r.target_col) == ("store", "date", "sales")
    for sid in ("north", "south", "east"):
        single = backtest(None, one(df, sid), **kw)
        for model in ("naive", "seasonal_naive"):
            np.testing.assert_allclose(scores(r, sid, model).to_numpy(), single.summary.loc[model, SCORES].to_numpy(float))
    for model in ("naive", "seasonal_naive"):
        mean = np.mean([scores(r, sid, model).to_numpy() for sid in r.series], axis=0)
        np.testing.assert_allclose(r.summary.loc[model, SCORES].to_numpy(float), mean)
    assert list(r.summary.columns) == [*SCORES, "fit_s"]
    east = backtest(None, one(df, "east") / 100, **kw).summary
    assert scores(r, "east", "seasonal_naive")["MASE"] == pytest.approx(east.loc["seasonal_naive", "MASE"])
    assert r.table() is not None


def test_series_of_different_lengths_hold_out_their_own_last_points():
    df = stores(lengths=[56, 49, 42])
    r = backtest(None, df, horizon=7, id_col="store", time_col="date", baselines=("seasonal_naive",))
    last = r.forecasts.groupby("series")["time"].max()
    assert (last == pd.Timestamp("2024-02-25")).all()  # every series ends on the same day here
    assert r.forecasts.groupby("series")["origin"].first().to_dict() == {"north": 49, "south": 42, "east": 35}


class CountingForecaster(LSTMForecaster):
    fits: ClassVar[list] = []

    def fit(self, y, X=None):
        CountingForecaster.fits.append(sorted(y[self.id_col].unique()) + [len(y)])
        return super().fit(y, X)


def tiny(**kw):
    return CountingForecaster(horizon=7, lookback=14, hidden_size=4, id_col="store", time_col="date",
                              target_col="sales", trainer={"max_epochs": 2, "batch_size": 32}, **kw)


def test_lstm_is_fitted_once_per_origin_on_every_series_and_scored_on_the_chosen():
    df = stores()
    CountingForecaster.fits = []
    r = backtest(tiny(), df, n_origins=2, refit=True, baselines=("seasonal_naive",), series=["south", "east"])
    ids = ["east", "north", "south"]
    assert CountingForecaster.fits == [ids + [3 * 42], ids + [3 * 49]]  # all series, cut at each origin
    assert r.series == ["south", "east"] and set(r.forecasts["series"]) == {"south", "east"}
    lstm = r.forecasts[r.forecasts["model"] == "lstmkit"]
    assert len(lstm) == 2 * 2 * 7 and lstm["lower"].le(lstm["upper"]).all()
    assert lstm["time"].equals(r.forecasts[r.forecasts["model"] == "seasonal_naive"]["time"].set_axis(lstm.index))
    assert list(r.summary.index) == ["lstmkit", "seasonal_naive"]
    mean = np.mean([scores(r, sid, "lstmkit").to_numpy() for sid in ("south", "east")], axis=0)
    np.testing.assert_allclose(r.summary.loc["lstmkit", SCORES].to_numpy(float), mean)
    assert isinstance(r.models["lstmkit"], LSTMForecaster) and set(r.models["seasonal_naive"]) == {"south", "east"}
    assert r.level == pytest.approx(0.8)

    CountingForecaster.fits = []
    backtest(tiny(), df, n_origins=2, refit=False, baselines=(), series="north")
    assert CountingForecaster.fits == [ids + [3 * 42]]


def test_series_picks_by_id_with_clear_errors():
    df = stores()
    df["store"] = df["store"].map({"north": 1, "south": 2, "east": 3})  # integer ids
    r = backtest(None, df, horizon=7, id_col="store", time_col="date", baselines=("naive",), series=[3, 1])
    assert r.series == ["1", "3"]  # ids are read as strings, in the table's order
    with pytest.raises(ConfigError, match=r"series: no series '4'.*the 3 series are \['1', '2', '3'\]"):
        backtest(None, df, horizon=7, id_col="store", time_col="date", baselines=("naive",), series=[4])
    df = stores()
    with pytest.raises(ConfigError, match=r"no series 'nort' \(did you mean 'north'\?\)"):
        backtest(None, df, horizon=7, id_col="store", time_col="date", baselines=("naive",), series="nort")
    with pytest.raises(ConfigError, match="series picks series of a long DataFrame"):
        backtest(None, one(df, "north"), horizon=7, baselines=("naive",), series=["north"])


def test_bad_many_series_inputs_name_the_problem():
    df = stores()
    with pytest.raises(DataError, match=r"covariate column\(s\) \['promo'\]"):
        backtest(None, df.assign(promo=1.0), horizon=7, id_col="store", time_col="date", target_col="sales",
                 baselines=("naive",))
    short = stores(lengths=[56, 56, 12])
    with pytest.raises(DataError, match=r"series too short.*'east' has 12"):
        backtest(None, short, horizon=7, id_col="store", time_col="date", baselines=("naive",))
    with pytest.raises(ConfigError, match=r"id_col='shop' differs from the forecaster's id_col='store'"):
        backtest(tiny(), df, id_col="shop")
    with pytest.raises(DataError, match="one series .* or a long DataFrame with id_col"):
        backtest(None, df, horizon=7)
