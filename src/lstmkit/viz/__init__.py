"""Plots (matplotlib, Agg backend; PNG/SVG written atomically): forecasts with intervals (one
series or a grid of many), backtests, training curves, confusion matrices."""

from lstmkit.viz.confusion import plot_confusion_matrix
from lstmkit.viz.forecast import plot_backtest, plot_forecast, plot_training_curves, save_figure

__all__ = ["plot_forecast", "plot_backtest", "plot_training_curves", "plot_confusion_matrix", "save_figure"]
