"""Plots of many series: one chosen series or a grid of small multiples, ConfigErrors naming the
argument (not matplotlib's TypeError on a (id, time) MultiIndex)."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMForecaster
from lstmkit.evaluation import backtest
from lstmkit.viz import plot_backtest, plot_forecast

PNG = b"\x89PNG\r\n\x1a\n"


def long_table(ids=(1, 2, 3, 4), n=42):
    """Daily values per store, long format, dates as strings (as read from a CSV), integer ids."""
    t = np.arange(n)
    return pd.concat([pd.DataFrame({"store": sid, "date": pd.date_range("2024-01-01", periods=n, freq="D").astype(str),
                                    "sales": 10.0 * sid + np.sin(2 * np.pi * t / 7)}) for sid in ids], ignore_index=True)


def forecast_of(ids=(1, 2, 3, 4), start="2024-02-12", h=7):
    """What LSTMForecaster.predict returns for a long table: index (store, date), mean and quantiles."""
    idx = pd.MultiIndex.from_product([[str(i) for i in ids], pd.date_range(start, periods=h, freq="D")],
                                     names=["store", "date"])
    mean = np.repeat([10.0 * i for i in ids], h)
    return pd.DataFrame({"mean": mean, "q0.1": mean - 1, "q0.5": mean, "q0.9": mean + 1}, index=idx)


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


def test_many_series_forecast_is_a_grid_of_small_multiples(tmp_path):
    fig = plot_forecast(long_table(), forecast_of(), path=tmp_path / "grid.png")  # base: matplotlib TypeError
    assert (tmp_path / "grid.png").read_bytes()[:8] == PNG
    assert titles(fig) == ["store 1", "store 2", "store 3", "store 4"]
    history, band, mean = fig.axes[2].lines[0], fig.axes[2].collections[0], fig.axes[2].lines[1]
    np.testing.assert_allclose(history.get_ydata(), long_table()["sales"][long_table()["store"] == 3])
    np.testing.assert_allclose(mean.get_ydata(), 30.0)
    assert band is not None
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["history", "80% interval", "lstmkit forecast"]
    assert all(ax.get_legend() is None for ax in fig.axes[1:])

    fig = plot_forecast(long_table(), forecast_of(), max_series=3)
    assert len(fig.axes) == 3 and "first 3 of 4 series" in fig.get_suptitle()
    fig = plot_forecast(long_table(), forecast_of(), series=[4, "2"])  # ids as given, ints or strings
    assert titles(fig) == ["store 4", "store 2"]


def test_one_chosen_series_is_drawn_like_a_single_series(tmp_path):
    df = long_table()
    actual = forecast_of()["mean"].rename("sales") + 0.5  # a Series indexed by (store, date)
    fig = plot_forecast(df, forecast_of(), actual=actual, series=2, last=14, path=tmp_path / "one.svg")
    assert b"<svg" in (tmp_path / "one.svg").read_bytes()[:500]
    (ax,) = fig.axes
    assert ax.get_title() == "Forecast: store 2" and ax.get_ylabel() == "sales"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["history", "80% interval", "lstmkit forecast", "actual"]
    assert len(ax.lines[0].get_ydata()) == 14
    np.testing.assert_allclose(ax.lines[-1].get_ydata(), 20.5)
    y2 = df[df["store"] == 2].set_index("date")["sales"]  # one plain Series is enough for one series
    assert len(plot_forecast(y2, forecast_of(), series="2").axes) == 1


def test_many_series_mistakes_raise_config_errors_naming_the_argument():
    df, fc = long_table(), forecast_of()
    y1 = df[df["store"] == 1].set_index("date")["sales"]
    with pytest.raises(ConfigError, match=r"history must be the long table with column 'store'"):
        plot_forecast(y1, fc)  # base: matplotlib TypeError
    with pytest.raises(ConfigError, match=r"series: no series '5'.*the 4 series are \['1', '2', '3', '4'\]"):
        plot_forecast(df, fc, series=[1, 5])
    with pytest.raises(ConfigError, match=r"series lists 3 series, more than max_series=2"):
        plot_forecast(df, fc, series=[1, 2, 3], max_series=2)
    with pytest.raises(ConfigError, match=r"max_series must be a positive int, got 0"):
        plot_forecast(df, fc, max_series=0)
    with pytest.raises(ConfigError, match=r"history has no column\(s\) \['store'\]"):
        plot_forecast(df.rename(columns={"store": "shop"}), fc)
    with pytest.raises(ConfigError, match=r"history: cannot tell the target among the columns \['sales', 'promo'\]"):
        plot_forecast(df.assign(promo=0.0), fc)
    assert len(plot_forecast(df.assign(promo=0.0), fc, target_col="sales").axes) == 4
    with pytest.raises(ConfigError, match=r"history has no rows for series \['4'\]"):
        plot_forecast(df[df["store"] != 4], fc)
    with pytest.raises(ConfigError, match=r"forecast must be a DataFrame with a 'mean' column"):
        plot_forecast(df, fc.drop(columns="mean"))
    single = fc.loc["1"]
    with pytest.raises(ConfigError, match=r"series picks series of a forecast indexed by \(id, time\)"):
        plot_forecast(y1, single, series="1")
    with pytest.raises(ConfigError, match=r"history must be a pandas Series indexed by time"):
        plot_forecast(df, single)


def test_a_fitted_forecaster_of_many_series_plots_its_forecast(tmp_path):
    df = long_table(ids=(1, 2, 3))
    f = LSTMForecaster(horizon=7, lookback=14, hidden_size=4, id_col="store", time_col="date", target_col="sales",
                       trainer={"max_epochs": 2, "batch_size": 32}).fit(df)
    pred = f.predict()
    assert isinstance(pred.index, pd.MultiIndex)
    fig = plot_forecast(df, pred, series="3", path=tmp_path / "store3.png")
    assert (tmp_path / "store3.png").read_bytes()[:8] == PNG and len(fig.axes) == 1
    np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), pred.loc["3", "mean"])
    assert len(plot_forecast(df, pred).axes) == 3


def test_backtest_of_many_series_plots_per_series(tmp_path):
    df = long_table(n=49)
    r = backtest(None, df, horizon=7, n_origins=2, id_col="store", time_col="date", baselines=("naive", "seasonal_naive"))
    fig = plot_backtest(df, r, last=14, path=tmp_path / "bt.png")
    assert (tmp_path / "bt.png").read_bytes()[:8] == PNG
    assert titles(fig) == ["store 1", "store 2", "store 3", "store 4"]
    fig = plot_backtest(df, r, series="2", models=["seasonal_naive"])
    (ax,) = fig.axes
    assert ax.get_title() == "Backtest: store 2"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["actual", "seasonal_naive 80% interval", "seasonal_naive"]
    assert len(plot_backtest(df, r, max_series=2).axes) == 2
    with pytest.raises(ConfigError, match=r"models: no model 'seasonal' \(did you mean 'seasonal_naive'\?\)"):
        plot_backtest(df, r, models=["seasonal"])
    with pytest.raises(ConfigError, match=r"y must be the long table with column 'store'"):
        plot_backtest(df[df["store"] == 1].set_index("date")["sales"], r)
    y = pd.Series(np.arange(48.0), index=pd.date_range("2000-01", periods=48, freq="MS"), name="y")
    one = backtest(None, y, horizon=6, baselines=("naive",))
    with pytest.raises(ConfigError, match=r"series picks series of a backtest over many series"):
        plot_backtest(y, one, series="y")
    with pytest.raises(ConfigError, match=r"y must be the pandas Series the backtest was run on, got DataFrame"):
        plot_backtest(df, one)
