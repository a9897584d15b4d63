"""Plots (matplotlib, PNG/SVG): forecasts with intervals, backtests, training curves."""

from lstmkit.viz.forecast import plot_backtest, plot_forecast, plot_training_curves, save_figure

__all__ = ["plot_forecast", "plot_backtest", "plot_training_curves", "save_figure"]
