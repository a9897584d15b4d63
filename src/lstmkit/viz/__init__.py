"""Plots (matplotlib, Agg backend; PNG/SVG written atomically): forecasts with intervals (one
series or a grid of many), backtests, training curves, confusion matrices, and the inside of an
LSTM (gate and cell-state heat maps, saturation, cell-state traces; interactive plotly versions
written as offline HTML). :mod:`lstmkit.viz.report` turns a training run folder into one web page."""

from lstmkit.viz.confusion import plot_confusion_matrix
from lstmkit.viz.forecast import plot_backtest, plot_forecast, plot_training_curves, save_figure
from lstmkit.viz.gates import (
    gate_arrays,
    plot_cell_trace,
    plot_cell_trace_interactive,
    plot_gates,
    plot_gates_interactive,
    plot_saturation,
    record_gates,
    save_html,
    text_activation_html,
    top_units,
    unit_summary,
)

__all__ = ["plot_forecast", "plot_backtest", "plot_training_curves", "plot_confusion_matrix", "save_figure",
           "record_gates", "gate_arrays", "unit_summary", "top_units", "plot_gates", "plot_saturation",
           "plot_cell_trace", "plot_gates_interactive", "plot_cell_trace_interactive", "save_html",
           "text_activation_html"]
