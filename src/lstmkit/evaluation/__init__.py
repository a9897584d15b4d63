"""Evaluation: forecast metrics, classical baselines, rolling-origin backtests, and anomaly-detection
metrics with their baselines (:mod:`lstmkit.evaluation.anomaly`), and scores of generated text
(BLEU, chrF, exact match; defined in :mod:`lstmkit.models.text_scores` so that the estimators
below this package can use them).

Backtests train models, so this package sits above :mod:`lstmkit.train`; the metrics are
pure NumPy.
"""

from lstmkit.evaluation.anomaly import (
    anomaly_report,
    auc_pr,
    best_f1,
    point_adjust,
    range_precision_recall,
    rolling_zscore,
    vus_pr,
)
from lstmkit.evaluation.backtest import BacktestResult, backtest, holdout_origins
from lstmkit.evaluation.baselines import AR, SARIMA, HoltWinters, Naive, SeasonalNaive, make_baseline
from lstmkit.evaluation.metrics import coverage, mae, mape, mase, rmse, smape
from lstmkit.models.text_scores import bleu, chrf, exact_match, score_by_length

__all__ = ["backtest", "BacktestResult", "holdout_origins", "mae", "rmse", "mape", "smape", "mase", "coverage",
           "Naive", "SeasonalNaive", "HoltWinters", "SARIMA", "AR", "make_baseline",
           "anomaly_report", "auc_pr", "vus_pr", "range_precision_recall", "best_f1", "point_adjust", "rolling_zscore",
           "bleu", "chrf", "exact_match", "score_by_length"]
