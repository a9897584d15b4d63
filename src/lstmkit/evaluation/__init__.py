"""Evaluation: forecast metrics, classical baselines and rolling-origin backtests.

Backtests train models, so this package sits above :mod:`lstmkit.train`; the metrics are
pure NumPy.
"""

from lstmkit.evaluation.backtest import BacktestResult, backtest, holdout_origins
from lstmkit.evaluation.baselines import AR, SARIMA, HoltWinters, Naive, SeasonalNaive, make_baseline
from lstmkit.evaluation.metrics import coverage, mae, mape, mase, rmse, smape

__all__ = ["backtest", "BacktestResult", "holdout_origins", "mae", "rmse", "mape", "smape", "mase", "coverage",
           "Naive", "SeasonalNaive", "HoltWinters", "SARIMA", "AR", "make_baseline"]
