"""Forecast plots write real PNG/SVG files (atomically) and reject other suffixes."""

import numpy as np
import pandas as pd
import pytest

from lstmkit.errors import ConfigError
from lstmkit.evaluation import backtest
from lstmkit.viz import plot_backtest, plot_forecast, plot_training_curves


def series():
    return pd.Series(10 + np.sin(np.arange(48) / 2), index=pd.date_range("2000-01", periods=48, freq="MS"), name="y")


def test_forecast_plot_png_and_svg(tmp_path):
    y = series()
    idx = pd.date_range("2004-01", periods=6, freq="MS")
    fc = pd.DataFrame({"mean": np.full(6, 10.0), "q0.1": np.full(6, 9.0), "q0.9": np.full(6, 11.0)}, index=idx)
    fig = plot_forecast(y, fc, actual=pd.Series(np.full(6, 10.5), index=idx), path=tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["history", "80% interval", "lstmkit forecast", "actual"]
    plot_forecast(y, fc, path=tmp_path / "f.svg")
    assert b"<svg" in (tmp_path / "f.svg").read_bytes()[:500]
    with pytest.raises(ConfigError, match=r"\.png or \.svg"):
        plot_forecast(y, fc, path=tmp_path / "f.jpg")


def test_backtest_and_training_curves(tmp_path):
    y = series()
    r = backtest(None, y, horizon=6, n_origins=2, baselines=("naive", "seasonal_naive"))
    plot_backtest(y, r, path=tmp_path / "b.png")
    hist = [{"epoch": i + 1, "train_loss": 1 / (i + 1), "val_loss": 1.2 / (i + 1)} for i in range(5)]
    fig = plot_training_curves([hist, hist], path=tmp_path / "c.png")
    assert len(fig.axes[0].lines) == 4
    assert (tmp_path / "b.png").stat().st_size > 1000 and (tmp_path / "c.png").stat().st_size > 1000
