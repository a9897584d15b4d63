"""``LSTMAnomalyDetector``: LSTM anomaly detection for univariate and multivariate series.

Fit on a normal (or mostly normal) stretch of a series; score any later series point by point;
threshold the scores; report the anomalous ranges; or follow a live series one point at a time.

Scores (higher = more anomalous), per point t of a series standardised with the training
mean and std of each column:

- ``scorer="prediction"`` (default; Malhotra et al. 2015; Hundman et al. KDD 2018, "telemanom"):
  an LSTM stack reads the series with its state carried and, at every step, predicts the next
  ``horizon`` points (Malhotra's l), so point t has ``horizon`` errors ``e_{t,k} = x_t -
  x_hat_{t,k}``, predicted from the context ending k + 1 points earlier; the raw score is the
  mean over those k and the columns of ``|e_{t,k}| / median_train|e_k|``, smoothed with an
  EWMA of span ``smoothing_span`` (telemanom's smoothing). The first ``horizon`` points score 0.
- ``scorer="reconstruction"`` (Malhotra et al. 2016, EncDec-AD): an LSTM encoder-decoder
  reconstructs the window of ``window`` points ending at t; each point's error vector e gets
  the Mahalanobis score ``(e - mu)^T S^-1 (e - mu)`` of a Gaussian fitted to the training
  errors, and the window's score is their mean (so an anomaly raises the scores of the
  ``window`` points that follow it). The first ``window - 1`` points score 0.

Labels (``predict``), by ``threshold``:

- ``"dynamic"`` (default): telemanom's nonparametric dynamic threshold with pruning
  (:func:`lstmkit.models.anomaly.dynamic_threshold`) over windows of ``threshold_window``
  points stepping by a tenth of that; a point is anomalous if any window flags it.
- ``"quantile"``: a fixed threshold, the ``threshold_quantile`` quantile of the training scores.
- ``"contamination"``: the ``contamination`` share of the scored series' points with the
  highest scores.

Streaming (:meth:`LSTMAnomalyDetector.stream` / :meth:`update`): the prediction scorer carries
the LSTM state and the EWMA from point to point (O(1) per point), the reconstruction scorer keeps
the last ``window`` points; scores equal the batch scores (both run in float64). Streaming labels
can only look back: ``"dynamic"`` and ``"contamination"`` apply their rule to the trailing
``threshold_window`` scores, refreshed every tenth of it.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from lstmkit.data.anomaly import NAN_POLICIES, AnomalyPipeline, LabelledSeries, read_anomaly_series
from lstmkit.errors import ConfigError, DataError, suggest
from lstmkit.estimators.base import Estimator, Prepared
from lstmkit.models.anomaly import LIKELIHOODS, SCORERS, AnomalyNetwork, AnomalyNetworkConfig, dynamic_threshold, ewma, ranges_of
from lstmkit.persist import register
from lstmkit.train.tbptt import StreamLoader

__all__ = ["LSTMAnomalyDetector", "AnomalyStream", "THRESHOLDS"]

THRESHOLDS = ("dynamic", "quantile", "contamination")
_STREAM_SPAN = 4  # prediction scorer: a training stream spans this many windows (TBPTT chunks)


@register
class LSTMAnomalyDetector(Estimator):
    """LSTM anomaly detector (see the module docstring for the scores and thresholds).

    Args:
        scorer: ``"prediction"`` (next-step errors) or ``"reconstruction"`` (encoder-decoder).
        hidden_size, num_layers, dropout: the LSTM stack (telemanom: 2 layers of 80, dropout 0.3).
        horizon: prediction: points predicted ahead from each step (Malhotra et al. 2015's l);
            each point's score averages the errors of the ``horizon`` predictions made for it.
        window: prediction: steps per truncated-BPTT chunk (a training stream spans 4 chunks);
            reconstruction: points per encoded window. The training series must hold at least
            ``2 * window`` points.
        smoothing_span: EWMA span of the prediction scorer's errors (1 = none).
        threshold: ``"dynamic"``, ``"quantile"`` or ``"contamination"``.
        threshold_quantile: level of the ``"quantile"`` rule, in (0, 1).
        contamination: share of points flagged by the ``"contamination"`` rule, in (0, 0.5).
        threshold_window: points per window of the dynamic threshold (telemanom: 2100).
        min_decrease: the dynamic threshold's pruning parameter p (telemanom: 0.13).
        error_buffer: points added on each side of an error above the dynamic threshold.
        val_size: share of the training series (its end) kept for early stopping and, for the
            reconstruction scorer, the error Gaussian; 0 for none.
        trainer: :class:`~lstmkit.train.TrainerConfig` or dict over ``trainer_defaults``
            (100 epochs, batch 16, Adam lr 3e-3, patience 10).
        columns: value columns of a DataFrame or file (default: every numeric column but the
            label and time columns).
        label_col: 0/1 label column (default: ``label``, ``is_anomaly`` or ``anomaly`` if present);
            never used for fitting, read by :func:`lstmkit.evaluation.anomaly.evaluate_detector`.
        time_col: time column, the index of :meth:`detect`'s ranges.
        nan_policy: ``"error"``, ``"interpolate"`` or ``"ffill"`` for NaN gaps.
        random_state: seed.

    Raises:
        ConfigError: a bad argument (at fit). DataError: bad data: a constant column, a training
        series shorter than ``2 * window``, labels other than 0/1, NaN under ``nan_policy="error"``,
        a fitted column missing at scoring time.

    Example::

        >>> det = LSTMAnomalyDetector().fit(train)          # (T,) or (T, F) array, Series, DataFrame, CSV
        >>> scores = det.decision_function(test)            # (T,), higher = more anomalous
        >>> det.detect(test)                                # DataFrame: start, end, peak, peak_score, length
        >>> score, alarm = det.update(x_t)                  # live, one point at a time
    """

    network_class = AnomalyNetwork
    pipeline_class = AnomalyPipeline
    trainer_defaults: ClassVar[dict[str, Any]] = {"max_epochs": 100, "batch_size": 16, "lr": 3e-3, "patience": 10,
                                                  "optimizer": "adam", "device": "cpu"}

    def __init__(
        self,
        scorer: str = "prediction",
        *,
        hidden_size: int = 64,
        num_layers: int = 2,
        dropout: float = 0.2,
        window: int = 64,
        likelihood: str = "mse",
        horizon: int = 1,
        smoothing_span: int = 10,
        threshold: str = "dynamic",
        threshold_quantile: float = 0.999,
        contamination: float = 0.01,
        threshold_window: int = 2000,
        min_decrease: float = 0.13,
        error_buffer: int = 10,
        val_size: float = 0.2,
        trainer: Any = None,
        columns: list[str] | None = None,
        label_col: str | None = None,
        time_col: str | None = None,
        nan_policy: str = "error",
        random_state: int = 0,
    ) -> None:
        self.scorer = scorer
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.window = window
        self.likelihood = likelihood
        self.horizon = horizon
        self.smoothing_span = smoothing_span
        self.threshold = threshold
        self.threshold_quantile = threshold_quantile
        self.contamination = contamination
        self.threshold_window = threshold_window
        self.min_decrease = min_decrease
        self.error_buffer = error_buffer
        self.val_size = val_size
        self.trainer = trainer
        self.columns = columns
        self.label_col = label_col
        self.time_col = time_col
        self.nan_policy = nan_policy
        self.random_state = random_state

    # --- parameters -------------------------------------------------------------------------
    def _check_params(self) -> None:
        p = []
        for n in ("hidden_size", "num_layers", "window", "horizon", "smoothing_span", "threshold_window"):
            if not _is_int(getattr(self, n), 1):
                p.append(f"{n} must be a positive int, got {getattr(self, n)!r}")
        if not _is_int(self.error_buffer, 0):
            p.append(f"error_buffer must be an int >= 0, got {self.error_buffer!r}")
        if self.scorer not in SCORERS:
            p.append(f"scorer must be one of {list(SCORERS)}, got {self.scorer!r}{suggest(str(self.scorer), SCORERS)}")
        if self.likelihood not in LIKELIHOODS:
            p.append(f"likelihood must be one of {list(LIKELIHOODS)}, got {self.likelihood!r}"
                     f"{suggest(str(self.likelihood), LIKELIHOODS)}")
        if self.threshold not in THRESHOLDS:
            p.append(f"threshold must be one of {list(THRESHOLDS)}, got {self.threshold!r}"
                     f"{suggest(str(self.threshold), THRESHOLDS)}")
        if self.nan_policy not in NAN_POLICIES:
            p.append(f"nan_policy must be one of {list(NAN_POLICIES)}, got {self.nan_policy!r}"
                     f"{suggest(str(self.nan_policy), NAN_POLICIES)}")
        for n, lo, hi in (("threshold_quantile", 0.0, 1.0), ("contamination", 0.0, 0.5), ("min_decrease", 0.0, 1.0),
                          ("dropout", -1e-300, 1.0)):
            v = getattr(self, n)
            if not _is_num(v) or not lo < v < hi:
                p.append(f"{n} must be in ({max(lo, 0):g}, {hi:g}), got {v!r}" if n != "dropout"
                         else f"dropout must be in [0, 1), got {v!r}")
        if not _is_num(self.val_size) or not 0.0 <= self.val_size < 1.0:
            p.append(f"val_size must be in [0, 1), got {self.val_size!r}")
        if p:
            raise ConfigError("LSTMAnomalyDetector: " + "; ".join(p))

    # --- data -------------------------------------------------------------------------------
    def _read(self, X: Any, name: str = "X", *, strict: bool = False) -> LabelledSeries:
        """The series of ``X``; ``strict`` (fitting) also requires the named label/time columns."""
        return read_anomaly_series(X, columns=self.columns, label_col=self.label_col, time_col=self.time_col,
                                   nan_policy=self.nan_policy, name=name, strict=strict)

    # --- fit --------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any = None, *, resume: bool = False) -> "LSTMAnomalyDetector":
        """Learn normal behaviour from the series ``X`` (see :func:`lstmkit.data.anomaly.read_anomaly_series`
        for the forms). ``y`` is ignored (scikit-learn's unsupervised convention); a label
        column is never used for fitting. ``resume``: continue from ``trainer.run_dir``."""
        self._default_stream = None  # a live stream of an earlier fit would use the old network
        self._net64_cache = None
        try:
            self._fit(X, resume=resume)
            self._calibrate(self._data)
        finally:
            self.__dict__.pop("_data", None)  # the training series, kept by _prepare for calibration only
        return self

    def _prepare(self, X: Any) -> Prepared:
        data = self._read(X, strict=True)
        W = int(self.window)
        if len(data) < 2 * W:
            raise DataError(f"the training series holds {len(data)} points; window={W} needs at least {2 * W} "
                            f"(2 x window): give a longer series or a smaller window")
        L = int(self.horizon) if self.scorer == "prediction" else 1
        if L >= W:
            raise ConfigError(f"LSTMAnomalyDetector: horizon must be smaller than window ({W}), got {L}")
        pipe = AnomalyPipeline.fit(data)
        z = torch.from_numpy(pipe.select(data)).float()  # (T, F)
        self._data = data
        n_val = int(round(len(z) * float(self.val_size)))
        if n_val and n_val < W:
            n_val = 0  # a validation tail shorter than one window tells nothing: train on everything
        train, val = z[: len(z) - n_val], z[len(z) - n_val:]
        config = AnomalyNetworkConfig(n_features=z.shape[1], scorer=self.scorer, hidden_size=self.hidden_size,
                                      num_layers=self.num_layers, dropout=float(self.dropout), window=W,
                                      likelihood=self.likelihood, horizon=L)
        if self.scorer == "prediction":
            streams = _streams(train, W * _STREAM_SPAN, W, L)

            def training_data(cfg: Any) -> StreamLoader:
                return StreamLoader(streams, batch_size=cfg.batch_size, chunk_length=W, shuffle_streams=True,
                                    seed=cfg.seed)

            val_loader = StreamLoader(_streams(val, len(val), len(val), L), batch_size=1, chunk_length=W) if n_val else None
            return Prepared(pipe, config, training_data, val_loader)
        return Prepared(pipe, config, _Windows(train, W), _Windows(val, W) if n_val else None)

    def _calibrate(self, data: LabelledSeries) -> None:
        """Error statistics and the quantile threshold from the training series' own errors."""
        pipe = self.pipeline_
        z = pipe.select(data)
        err = self._errors(z)  # (T, F) or (N, W, F)
        n_val = int(round(len(z) * float(self.val_size)))
        held_out = n_val >= self.window  # as _prepare: a shorter tail was trained on
        if self.scorer == "prediction":
            L = err.shape[1]
            e = np.abs(err[len(z) - n_val + L:] if held_out else err[L:])  # (N, L, F): points the network did not fit
            e = e.reshape(len(e), -1)  # (N, L * F)
            med = np.median(e, axis=0)
            med = np.where(med > 0, med, np.maximum(e.mean(0), 1e-12))
            pipe.error_center = np.zeros(e.shape[1])
            pipe.error_precision = np.diag(1.0 / med)
        else:
            e = err[-max(1, n_val - self.window + 1):].reshape(-1, err.shape[-1]) if held_out else \
                err.reshape(-1, err.shape[-1])
            mu = e.mean(0)
            cov = np.atleast_2d(np.cov(e, rowvar=False))
            cov = cov + np.eye(len(mu)) * max(1e-6 * float(np.trace(cov)) / len(mu), 1e-12)
            pipe.error_center, pipe.error_precision = mu, np.linalg.inv(cov)
        scores = self._scores_of(err, len(z))
        first = self._horizon() if self.scorer == "prediction" else self.window - 1  # the points that have a score
        pipe.threshold = float(np.quantile(scores[first:], float(self.threshold_quantile)))

    # --- scores -----------------------------------------------------------------------------
    def _net64(self) -> AnomalyNetwork:
        net = getattr(self, "_net64_cache", None)
        if net is None or net[0] is not self.networks_[0]:
            net = (self.networks_[0], copy.deepcopy(self.networks_[0]).double().eval())
            self._net64_cache = net
        return net[1]

    def _horizon(self) -> int:
        """L: the fitted network's horizon (1 for the reconstruction scorer)."""
        return int(getattr(self.networks_[0].config, "horizon", 1)) if self.scorer == "prediction" else 1

    @torch.no_grad()
    def _errors(self, z: np.ndarray) -> np.ndarray:
        """Prediction: (T, L, F) errors, ``[t, k] = (x_t - x_hat) / scale`` of the prediction made
        k + 1 steps before t (zero where t < k + 1). Reconstruction: (N, W, F) errors of the
        N = T - W + 1 windows (window k ends at point k + W - 1)."""
        net = self._net64()
        x = torch.from_numpy(z)[None]  # (1, T, F)
        if self.scorer == "prediction":
            mu, sigma, _ = net.predict_ahead(x)  # (1, T, L, F): [t, k] about x[t + 1 + k]
            mu, sigma = mu[0].numpy(), sigma[0].numpy()
            T, L = len(z), mu.shape[1]
            err = np.zeros((T, L, z.shape[1]))
            for k in range(min(L, T - 1)):
                err[k + 1:, k] = (z[k + 1:] - mu[: T - 1 - k, k]) / sigma[: T - 1 - k, k]
            return err
        W = self.window
        if len(z) < W:
            raise DataError(f"the series holds {len(z)} points; the reconstruction scorer scores windows of "
                            f"window={W} points, so it needs at least {W}")
        windows = x[0].unfold(0, W, 1).permute(0, 2, 1)  # (N, W, F)
        out = [net.reconstruct(windows[s:s + 512], teacher_forcing=False) for s in range(0, len(windows), 512)]
        return (windows - torch.cat(out)).numpy()

    def _point_scores(self, err: np.ndarray) -> np.ndarray:
        """Mahalanobis-style score of each error vector (..., F) -> (...)."""
        pipe = self.pipeline_
        if self.scorer == "prediction":
            d = err.reshape(err.shape[:-2] + (-1,)) - pipe.error_center  # (..., L * F)
            return np.abs(d) @ np.diag(pipe.error_precision) / d.shape[-1]
        d = err - pipe.error_center
        return np.einsum("...i,ij,...j->...", d, pipe.error_precision, d)

    def _scores_of(self, err: np.ndarray, T: int) -> np.ndarray:
        if self.scorer == "prediction":
            raw = self._point_scores(err)  # (T,)
            raw[: err.shape[1]] = 0.0  # the first L points lack some of their L predictions
            return ewma(raw, int(self.smoothing_span))
        out = np.zeros(T)
        if len(err):
            out[self.window - 1:] = self._point_scores(err).mean(1)
        return out

    def decision_function(self, X: Any) -> np.ndarray:
        """Anomaly scores (T,) of the series ``X``, higher = more anomalous (see the module docstring).

        Raises:
            DataError: bad data, or a column the detector was fitted on is missing.
        """
        self._check_fitted()
        data = self._read(X)
        z = self.pipeline_.select(data)
        return self._scores_of(self._errors(z), len(z))

    def score_samples(self, X: Any) -> np.ndarray:
        """scikit-learn's outlier convention (IsolationForest): the negated anomaly score."""
        return -self.decision_function(X)

    def score(self, X: Any, y: Any = None) -> float:
        """Minus the mean anomaly score of ``X`` (greater is better: a model that finds normal
        data normal), so GridSearchCV can compare settings on held-out normal data."""
        return -float(self.decision_function(X).mean())

    # --- labels -----------------------------------------------------------------------------
    def labels_from_scores(self, scores: np.ndarray) -> np.ndarray:
        """0/1 labels (T,) from scores (T,) by the ``threshold`` rule (batch: sees the whole series)."""
        self._check_fitted()
        s = np.asarray(scores, dtype=np.float64)
        if self.threshold == "quantile":
            return ((s >= self.pipeline_.threshold) & (s > 0)).astype(np.int8)
        if self.threshold == "contamination":
            if len(s) == 0:
                return np.zeros(0, np.int8)
            return ((s >= np.quantile(s, 1.0 - float(self.contamination))) & (s > 0)).astype(np.int8)
        W = int(self.threshold_window)
        step = max(1, W // 10)
        flags = np.zeros(len(s), dtype=bool)
        for end in range(min(step, len(s)), len(s) + step, step):  # telemanom: a window per batch of new points
            end = min(end, len(s))
            lo = max(0, end - W)
            _, f = dynamic_threshold(s[lo:end], min_decrease=float(self.min_decrease), error_buffer=int(self.error_buffer))
            keep = 0 if lo == 0 else (end - lo) - step  # the first windows decide on all their points, later ones on
            flags[lo + keep:end] |= f[keep:]            # their newest batch only: no label looks ahead more than step
            if end == len(s):
                break
        return (flags & (s > 0)).astype(np.int8)

    def predict(self, X: Any) -> np.ndarray:
        """0/1 labels (T,) of the series ``X`` (1 = anomalous) by the ``threshold`` rule."""
        return self.labels_from_scores(self.decision_function(X))

    def detect(self, X: Any) -> pd.DataFrame:
        """The anomalous ranges of ``X``: one row per run of flagged points, in time order.

        Columns: ``start``, ``end`` (inclusive, in the series' index: its time column or row
        numbers), ``peak`` (where the score is highest), ``peak_score``, ``length`` (points).
        """
        data, scores, flags = self.scored(X)
        return ranges_frame(flags, scores, data.index)

    def scored(self, X: Any, name: str = "X") -> tuple[LabelledSeries, np.ndarray, np.ndarray]:
        """(the series read from ``X``, its scores (T,), its 0/1 labels (T,)) in one pass;
        :func:`lstmkit.evaluation.anomaly.evaluate_detector` measures them against the series' labels."""
        self._check_fitted()
        data = self._read(X, name)
        scores = self._scores_of(self._errors(self.pipeline_.select(data, name)), len(data))
        return data, scores, self.labels_from_scores(scores)

    # --- streaming --------------------------------------------------------------------------
    def stream(self) -> "AnomalyStream":
        """A new live stream: ``stream.update(x_t) -> (score, is_anomaly)``, from an empty history."""
        self._check_fitted()
        return AnomalyStream(self)

    def update(self, x_t: Any) -> tuple[float, bool]:
        """Score one new point of the detector's default live stream (see :meth:`stream`);
        :meth:`reset_stream` starts it again."""
        if getattr(self, "_default_stream", None) is None:
            self._default_stream = self.stream()
        return self._default_stream.update(x_t)

    def reset_stream(self) -> None:
        """Forget the default live stream's history."""
        self._default_stream = None


class AnomalyStream:
    """One live series scored point by point (see the module docstring of
    :mod:`lstmkit.estimators.anomaly`). Not thread-safe: one stream per series."""

    def __init__(self, detector: LSTMAnomalyDetector) -> None:
        self.detector = detector
        self.net = detector._net64()
        self.pipe = detector.pipeline_
        self.t = 0
        self.state: Any = None
        self.preds: deque = deque(maxlen=detector._horizon())  # (mean, scale) (L, F) made at t-1, t-2, ... (newest last)
        self.smoothed = 0.0
        self.recent: deque = deque(maxlen=detector.window)
        self.history: deque = deque(maxlen=int(detector.threshold_window))
        self.eps = float("inf")

    def _point(self, x_t: Any) -> np.ndarray:
        try:
            x = np.asarray(x_t, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise DataError(f"x_t must be a number or {len(self.pipe.columns)} numbers, got {x_t!r}") from None
        F = len(self.pipe.columns)
        if x.shape != (F,):
            raise DataError(f"x_t must hold {F} value(s) (columns {self.pipe.columns}), got shape {np.shape(x_t)}")
        if not np.all(np.isfinite(x)):
            raise DataError(f"x_t must be finite, got {x.tolist()} (fill gaps before streaming)")
        return (x - self.pipe.center) / self.pipe.scale

    @torch.no_grad()
    def update(self, x_t: Any) -> tuple[float, bool]:
        """Score the next point x_t (F,) (a float for one column): (score, is_anomaly)."""
        z = self._point(x_t)
        det = self.detector
        if det.scorer == "prediction":
            L = self.preds.maxlen
            raw = 0.0
            if self.t >= L:  # e[k]: the prediction made k + 1 steps ago, its k-th point ahead
                e = np.stack([(z - mu[k]) / sd[k] for k, (mu, sd) in enumerate(reversed(self.preds))])  # (L, F)
                raw = float(det._point_scores(e[None])[0])
            a = 2.0 / (int(det.smoothing_span) + 1)
            score = raw if self.t == 0 or det.smoothing_span <= 1 else a * raw + (1 - a) * self.smoothed
            self.smoothed = score
            mu, sigma, self.state = self.net.step(torch.from_numpy(z)[None], self.state)  # (1, F) each
            self.preds.append((mu[0].numpy(), sigma[0].numpy()))
        else:
            self.recent.append(z)
            score = 0.0
            if len(self.recent) == det.window:
                w = torch.from_numpy(np.stack(self.recent))[None]  # (1, W, F)
                err = (w - self.net.reconstruct(w, teacher_forcing=False)).numpy()
                score = float(det._point_scores(err).mean())
        self.t += 1
        return score, self._flag(score)

    def _flag(self, score: float) -> bool:
        """The label of the newest score: against the fixed threshold, or against the threshold
        the rule set on the scores before it (refreshed every tenth of ``threshold_window``;
        no label until that many scores are in)."""
        det = self.detector
        if det.threshold == "quantile":
            return bool(score >= self.pipe.threshold and score > 0)
        step = max(1, int(det.threshold_window) // 10)
        seen = self.t - 1  # scores before this one (the history holds the last threshold_window of them)
        if seen >= step and (seen % step == 0 or not np.isfinite(self.eps)):
            h = np.fromiter(self.history, dtype=np.float64)
            if det.threshold == "contamination":
                self.eps = float(np.quantile(h, 1.0 - float(det.contamination)))
            else:
                self.eps, _ = dynamic_threshold(h, min_decrease=float(det.min_decrease), error_buffer=int(det.error_buffer))
        flag = bool(score >= self.eps and score > 0)
        self.history.append(score)
        return flag


def ranges_frame(labels: np.ndarray, scores: np.ndarray, index: pd.Index | None = None) -> pd.DataFrame:
    """Runs of 1 in labels (T,) as a DataFrame: start, end, peak, peak_score, length."""
    idx = pd.RangeIndex(len(labels)) if index is None else index
    rows = []
    for s, e in ranges_of(np.asarray(labels, dtype=bool)):
        k = s + int(np.argmax(scores[s:e + 1]))
        rows.append({"start": idx[s], "end": idx[e], "peak": idx[k], "peak_score": float(scores[k]),
                     "length": e - s + 1})
    return pd.DataFrame(rows, columns=["start", "end", "peak", "peak_score", "length"])


class _Windows(torch.utils.data.Dataset):
    """Every window of W points of z (T, F), stride 1: {"x": (W, F)}."""

    def __init__(self, z: torch.Tensor, W: int) -> None:
        self.z, self.W = z, W

    def __len__(self) -> int:
        return max(0, len(self.z) - self.W + 1)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.z[i:i + self.W]}


def _streams(z: torch.Tensor, span: int, stride: int, horizon: int = 1) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Overlapping (x (span, F), y (span, L * F)) streams of ``span`` steps every ``stride`` points
    of z (T, F); y[t] holds the L = ``horizon`` points after x[t]."""
    L = horizon
    n = len(z) - L  # steps with all L targets
    ahead = torch.cat([z[1 + k: n + 1 + k] for k in range(L)], 1)  # (n, L * F)
    span = min(span, n)
    starts = list(range(0, n - span + 1, stride))
    if starts[-1] != n - span:
        starts.append(n - span)
    return [(z[s:s + span], ahead[s:s + span]) for s in starts]


def _is_int(v: Any, lo: int) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= lo


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float, np.floating, np.integer)) and not isinstance(v, bool)
