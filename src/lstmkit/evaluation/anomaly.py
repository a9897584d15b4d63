"""Anomaly-detection metrics and simple baseline detectors (NumPy, pandas, scikit-learn).

Every function takes ``labels``, a 0/1 array (T,) that marks the anomalous points (bool, or
ints/floats exactly 0 or 1), and either ``scores``, a finite float array (T,) where higher
means more anomalous, or ``predictions``, a 0/1 array (T,). An anomaly *range* is a maximal
run of 1s; ranges are reported as inclusive ``(start, end)`` indices.

Which metric to report (the order of trust):

- :func:`vus_pr` (Paparrizos et al. 2022) and :func:`auc_pr`: threshold-free, scored on the
  raw anomaly scores. VUS-PR also gives partial credit to scores that rise just before or
  after a labelled range, so it is robust to small label misalignment.
- :func:`range_precision_recall` (Tatbul et al. 2018) and :func:`point_f1` at the detector's
  own threshold.
- :func:`best_f1` with ``point_adjusted=True`` and :func:`point_adjusted_f1`: reported because
  papers report them, but optimistic (see :func:`point_adjust`).

Baselines every learned detector should beat: :func:`rolling_zscore` and
:func:`matrix_profile_discord` (the optional package ``stumpy``); :func:`dominant_period`
sizes the subsequence length and the VUS buffer. :func:`anomaly_report` gathers the metrics.

Input errors raise :class:`~lstmkit.errors.DataError` (bad labels, scores or predictions,
naming the argument, the value and its index) or :class:`~lstmkit.errors.ConfigError` (bad
options).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, precision_recall_curve

from lstmkit.data.anomaly import flag_runs
from lstmkit.errors import ConfigError, DataError, MissingDependencyError, suggest

__all__ = [
    "anomaly_ranges",
    "anomaly_report",
    "auc_pr",
    "best_f1",
    "dominant_period",
    "evaluate_detector",
    "matrix_profile_discord",
    "point_adjust",
    "point_adjusted_f1",
    "point_f1",
    "range_auc_pr",
    "range_precision_recall",
    "rolling_zscore",
    "vus_pr",
]

_BIASES = ("flat", "front", "back", "middle")
_CARDINALITIES = ("reciprocal", "one")
_N_THRESHOLDS = 250  # TSB-UAD's fixed number of thresholds for VUS
_FALLBACK_PERIOD = 100


# ----------------------------------------------------------------------------- validation


def _binary(value, name: str, problems: list[str]) -> np.ndarray | None:
    """``value`` as an int64 0/1 array (T,), or None with the problem appended."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        problems.append(f"{name} must be a 1-D array (T,) of 0/1, got shape {arr.shape}")
        return None
    if arr.size == 0:
        problems.append(f"{name} must not be empty, got 0 points")
        return None
    if arr.dtype == bool:
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.number):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            problems.append(f"{name} must contain only 0 and 1, got non-numeric values of dtype {arr.dtype}")
            return None
    if np.iscomplexobj(arr):
        problems.append(f"{name} must contain only 0 and 1, got complex dtype {arr.dtype}")
        return None
    bad = ~((arr == 0) | (arr == 1))  # NaN is bad too
    if bad.any():
        i = int(np.argmax(bad))
        problems.append(f"{name} must contain only 0 and 1, got {arr[i].item()!r} at index {i}")
        return None
    return arr.astype(np.int64)


def _real(value, name: str, problems: list[str], ndim: tuple[int, ...] = (1,)) -> np.ndarray | None:
    """``value`` as a finite float64 array with ``ndim`` in ``ndim``, or None with the problem appended."""
    arr = np.asarray(value)
    shapes = {1: "(T,)", 2: "(T, F)"}
    if arr.ndim not in ndim:
        want = " or ".join(f"{d}-D {shapes[d]}" for d in ndim)
        problems.append(f"{name} must be a {want} array, got shape {arr.shape}")
        return None
    if arr.size == 0:
        problems.append(f"{name} must not be empty, got shape {arr.shape}")
        return None
    if np.iscomplexobj(arr):
        problems.append(f"{name} must be real numbers, got complex dtype {arr.dtype}")
        return None
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        problems.append(f"{name} must be numbers, got values of dtype {arr.dtype}")
        return None
    bad = ~np.isfinite(arr)
    if bad.any():
        flat = int(np.argmax(bad.ravel()))
        idx = np.unravel_index(flat, arr.shape)
        where = idx[0] if arr.ndim == 1 else tuple(int(i) for i in idx)
        problems.append(f"{name} must be finite, got {arr[idx].item()!r} at index {where}")
        return None
    return arr


def _check(labels, other=None, other_name: str = "scores", *, binary_other: bool = False,
           need_anomaly: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate ``labels`` and one array of the same length; raise one DataError listing every problem.

    ``need_anomaly`` names the metric that needs at least one anomalous point (None: no check).
    """
    problems: list[str] = []
    y = _binary(labels, "labels", problems)
    z = None
    if other is not None:
        z = _binary(other, other_name, problems) if binary_other else _real(other, other_name, problems)
    if y is not None and z is not None and y.shape[0] != z.shape[0]:
        problems.append(f"labels and {other_name} must have the same length, got {y.shape[0]} and {z.shape[0]}")
    if problems:
        raise DataError("; ".join(problems))
    if need_anomaly is not None and not y.any():
        raise DataError(f"labels contain no anomaly (no 1 among {y.size} points); {need_anomaly} needs at least "
                        f"one anomalous point")
    return y, z


def _int_option(value, name: str, minimum: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _choice(value, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
                          + (suggest(value, choices) if isinstance(value, str) else ""))
    return value


# ----------------------------------------------------------------------------- ranges


def anomaly_ranges(labels) -> list[tuple[int, int]]:
    """The anomaly ranges of ``labels``: inclusive ``(start, end)`` indices of each run of 1s, in order.

    ``labels``: 0/1 array (T,). Returns ``[]`` when there is no anomaly. Raises DataError for
    labels that are not 1-D 0/1.
    """
    y, _ = _check(labels)
    starts, ends = flag_runs(y == 1)
    return [(int(s), int(e)) for s, e in zip(starts, ends)]


# ----------------------------------------------------------------------------- threshold-free


def auc_pr(labels, scores) -> float:
    """Area under the precision-recall curve (average precision, scikit-learn's
    ``average_precision_score``), in [0, 1]; a random score gets about the anomaly rate.

    ``labels``: 0/1 (T,); ``scores``: finite floats (T,), higher = more anomalous. Point-wise:
    each anomalous point counts once, so long ranges weigh more than short ones. Raises
    DataError for bad input or labels without an anomaly.
    """
    y, s = _check(labels, scores, need_anomaly="auc_pr")
    return float(average_precision_score(y, s))


def _extend_labels(y: np.ndarray, starts: np.ndarray, ends: np.ndarray, buffer: int) -> np.ndarray:
    """TSB-UAD's ``extend_postive_range``: soft labels (T,) in [0, 1] around each range.

    With h = buffer // 2, the points s - h .. s - 1 before a range [s, e] get
    sqrt(1 - (s - x) / buffer) and the points e + 1 .. e + h - 1 after it get
    sqrt(1 - (x - e) / buffer) (one point fewer after than before, as in the reference);
    contributions of neighbouring ranges add up, then everything is capped at 1.
    """
    T = y.shape[0]
    ext = y.astype(np.float64)
    h = buffer // 2
    if h == 0:
        return ext
    d_before = np.arange(1, h + 1)  # (h,)
    d_after = np.arange(1, h)  # (h-1,); the reference's d = 0 adds to e, which stays 1 after the cap
    xb = starts[:, None] - d_before[None, :]  # (R, h)
    xa = ends[:, None] + d_after[None, :]  # (R, h-1)
    wb = np.broadcast_to(np.sqrt(1 - d_before / buffer), xb.shape)
    wa = np.broadcast_to(np.sqrt(1 - d_after / buffer), xa.shape)
    kb, ka = xb >= 0, xa < T
    idx = np.concatenate((xb[kb], xa[ka]))
    ext += np.bincount(idx, weights=np.concatenate((wb[kb], wa[ka])), minlength=T)
    return np.minimum(ext, 1.0)


class _Sweep:
    """The threshold sweep shared by every buffer: scores sorted once.

    thresholds (K,) are the scores at ``linspace(0, T-1, 250).astype(int)`` of the descending
    sort (TSB-UAD); at threshold k the prediction is ``scores >= thresholds[k]``, i.e. the first
    ``n_pred[k]`` points of the descending order (ties all included).
    """

    def __init__(self, s: np.ndarray) -> None:
        T = s.shape[0]
        self.scores = s
        self.order = np.argsort(-s, kind="stable")  # (T,) descending
        ascending = s[self.order[::-1]]  # (T,)
        positions = np.linspace(0, T - 1, _N_THRESHOLDS).astype(int)  # (K,)
        self.thresholds = ascending[::-1][positions]  # (K,)
        self.n_pred = T - np.searchsorted(ascending, self.thresholds, side="left")  # (K,) >= 1
        self.padded = np.append(s, -np.inf)  # (T+1,) for segment maxima ending at T-1

    def average_precision(self, y: np.ndarray, starts: np.ndarray, ends: np.ndarray, buffer: int) -> float:
        ext = _extend_labels(y, starts, ends, buffer)  # (T,)
        tp = np.cumsum(ext[self.order])[self.n_pred - 1]  # (K,) sum of soft labels over predicted points
        p_new = (y.sum() + ext.sum()) / 2
        recall = np.minimum(tp / p_new, 1.0)
        # existence: share of the soft ranges (runs of ext > 0) with a predicted point, i.e. whose
        # highest score reaches the threshold
        es, ee = flag_runs(ext > 0)
        bounds = np.stack((es, ee + 1), axis=1).ravel()  # (2R,)
        range_max = np.sort(np.maximum.reduceat(self.padded, bounds)[::2])  # (R,)
        hit = range_max.size - np.searchsorted(range_max, self.thresholds, side="left")  # (K,)
        tpr = np.concatenate(([0.0], recall * hit / range_max.size))  # (K+1,)
        precision = np.concatenate(([1.0], tp / self.n_pred))  # (K+1,)
        return float(np.sum(np.diff(tpr) * (precision[1:] + precision[:-1]) / 2))


def range_auc_pr(labels, scores, buffer: int) -> float:
    """Range-AUC-PR for one buffer length (Paparrizos et al. 2022; the TSB-UAD implementation).

    ``labels``: 0/1 (T,); ``scores``: finite floats (T,); ``buffer`` ℓ: an int >= 0, in time
    steps. The labels are softened around each range [s, e]: the ℓ//2 points before s get
    sqrt(1 - (s - x)/ℓ) and the ℓ//2 - 1 points after e get sqrt(1 - (x - e)/ℓ) (capped at 1).
    For each of 250 thresholds (scores at evenly spaced ranks of the descending sort; predicted
    = ``scores >= threshold``): TP = sum of soft labels over predicted points; recall =
    min(TP / ((P + sum(soft labels)) / 2), 1) with P the number of anomalous points; TPR =
    recall times the share of soft ranges with a predicted point; precision = TP / #predicted.
    The area is the trapezoid rule over (TPR, precision), starting at (0, 1).

    Returns a float in [0, 1]. With ℓ <= 1 nothing is softened and a score equal to the labels
    gets 1; with ℓ >= 2 such a perfect binary score gets less than 1, because the soft points
    it misses at the top threshold count in the recall's denominator. Raises DataError for bad
    input or labels without an anomaly; ConfigError for a bad ``buffer``.
    """
    buffer = _int_option(buffer, "buffer", 0)
    y, s = _check(labels, scores, need_anomaly="range_auc_pr")
    starts, ends = flag_runs(y == 1)
    return _Sweep(s).average_precision(y, starts, ends, buffer)


def vus_pr(labels, scores, max_buffer: int = 100) -> float:
    """VUS-PR, the volume under the precision-recall surface (Paparrizos, Boniol, Palpanas, Tsay,
    Elmore & Franklin, "Volume Under the Surface: A New Accuracy Evaluation Measure for
    Time-Series Anomaly Detection", PVLDB 15(11), 2022), as the reference TSB-UAD code computes it.

    The mean of :func:`range_auc_pr` over the buffer lengths ℓ = 0, 1, ..., ``max_buffer``
    (time steps; a natural choice is about one period of the series, see
    :func:`dominant_period`). Threshold-free and tolerant of labels that are off by a few steps.
    ``labels``: 0/1 (T,); ``scores``: finite floats (T,). Returns a float in [0, 1]; a perfect
    binary score gets 1 only when ``max_buffer`` <= 1 (see :func:`range_auc_pr`).

    Vectorised over thresholds (cumulative sums over the descending sort), with the reference's
    tie semantics (``scores >= threshold``): T = 10,000 with ``max_buffer`` = 100 takes a
    fraction of a second. Raises DataError for bad input or labels without an anomaly;
    ConfigError for a bad ``max_buffer``.
    """
    max_buffer = _int_option(max_buffer, "max_buffer", 0)
    y, s = _check(labels, scores, need_anomaly="vus_pr")
    return _vus_pr(y, s, max_buffer)


def _vus_pr(y: np.ndarray, s: np.ndarray, max_buffer: int) -> float:
    starts, ends = flag_runs(y == 1)
    sweep = _Sweep(s)
    return float(np.mean([sweep.average_precision(y, starts, ends, b) for b in range(max_buffer + 1)]))


# ----------------------------------------------------------------------------- range-based P/R


def _bias_weights(length: int, bias: str) -> np.ndarray:
    """Tatbul et al.'s positional bias δ(i, length) for i = 1..length, as an array (length,)."""
    i = np.arange(1, length + 1, dtype=np.float64)
    if bias == "flat":
        return np.ones(length)
    if bias == "front":
        return length - i + 1
    if bias == "back":
        return i
    return np.where(i <= length / 2, i, length - i + 1)  # middle


def _range_scores(of_s, of_e, other_mask, other_s, other_e, bias, cardinality) -> np.ndarray:
    """Cardinality x ω for each range [of_s, of_e] against the ranges of ``other_mask`` (R,)."""
    out = np.empty(of_s.shape[0])
    # ranges of the other set that overlap [s, e]: those with start <= e and end >= s
    n_overlap = np.searchsorted(other_s, of_e, side="right") - np.searchsorted(other_e, of_s, side="left")
    for k, (s, e) in enumerate(zip(of_s, of_e)):
        w = _bias_weights(e - s + 1, bias)
        omega = float(w @ other_mask[s:e + 1]) / float(w.sum())
        x = n_overlap[k]
        factor = 1.0 if x <= 1 or cardinality == "one" else 1.0 / x
        out[k] = factor * omega
    return out


def _f1(precision: float, recall: float) -> float:
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def range_precision_recall(labels, predictions, alpha: float = 0.0, bias: str = "flat",
                           cardinality: str = "reciprocal") -> dict[str, float]:
    """Range-based precision and recall (Tatbul, Lee, Zdonik, Alam & Gottschlich, "Precision and
    Recall for Time Series", NeurIPS 2018).

    ``labels``, ``predictions``: 0/1 (T,); their runs of 1s are the real ranges R_i and the
    predicted ranges P_j. Recall = mean over R_i of
    ``alpha * Existence(R_i) + (1 - alpha) * Cardinality(R_i) * sum_j ω(R_i, R_i ∩ P_j, δ)``:
    Existence is 1 when some P_j overlaps R_i; ω is the share of R_i's positional weight
    δ(i, len) that the overlap covers, with ``bias`` δ: "flat" (1), "front" (len - i + 1, early
    detection counts more), "back" (i), "middle" (i up to len/2, then len - i + 1); the
    cardinality factor is 1 when R_i overlaps at most one P_j, else 1/x for x overlapping
    ranges (``cardinality="reciprocal"``) or 1 (``"one"``). Precision = mean over P_j of
    ``Cardinality(P_j) * sum_i ω(P_j, P_j ∩ R_i, δ)`` (alpha = 0 always; the same ``bias``).

    By convention precision is 0 when there is no predicted range. Returns
    ``{"precision", "recall", "f1"}``, floats in [0, 1], f1 their harmonic mean (0 when both are
    0). Raises DataError for bad input or labels without an anomaly; ConfigError for an
    ``alpha`` outside [0, 1] or an unknown ``bias`` / ``cardinality``.
    """
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)) \
            or not 0.0 <= float(alpha) <= 1.0:
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}")
    _choice(bias, "bias", _BIASES)
    _choice(cardinality, "cardinality", _CARDINALITIES)
    y, p = _check(labels, predictions, "predictions", binary_other=True, need_anomaly="range_precision_recall")
    return _range_prf(y, p, float(alpha), bias, cardinality)


def _range_prf(y, p, alpha, bias, cardinality) -> dict[str, float]:
    rs, re_ = flag_runs(y == 1)
    ps, pe = flag_runs(p == 1)
    overlap = _range_scores(rs, re_, p, ps, pe, bias, cardinality)  # (Nr,)
    exists = np.array([p[s:e + 1].any() for s, e in zip(rs, re_)], dtype=np.float64)  # (Nr,)
    recall = float(np.mean(alpha * exists + (1 - alpha) * overlap))
    precision = float(np.mean(_range_scores(ps, pe, y, rs, re_, bias, cardinality))) if ps.size else 0.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


# ----------------------------------------------------------------------------- point-wise, point adjustment


def _point_prf(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    tp = float(np.sum((y == 1) & (p == 1)))
    n_pred = float(np.sum(p == 1))
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / float(np.sum(y == 1))
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall)}


def point_f1(labels, predictions) -> dict[str, float]:
    """Point-wise precision, recall and F1 of 0/1 ``predictions`` (T,) against ``labels`` (T,).

    Every point counts once (long ranges dominate). Precision is 0 when nothing is predicted.
    Returns ``{"precision", "recall", "f1"}``, floats in [0, 1]. Raises DataError for bad input
    or labels without an anomaly.
    """
    y, p = _check(labels, predictions, "predictions", binary_other=True, need_anomaly="point_f1")
    return _point_prf(y, p)


def _adjust(y: np.ndarray, v: np.ndarray) -> np.ndarray:
    out = v.copy()
    starts, ends = flag_runs(y == 1)
    for s, e in zip(starts, ends):
        out[s:e + 1] = out[s:e + 1].max()
    return out


def point_adjust(labels, predictions_or_scores) -> np.ndarray:
    """The point-adjustment protocol (Xu et al., "Unsupervised Anomaly Detection via Variational
    Auto-Encoder for Seasonal KPIs in Web Applications" (Donut), WWW 2018): within every true
    anomaly range, every point takes the range's maximum, so one detected point counts as the
    whole range detected.

    ``labels``: 0/1 (T,); ``predictions_or_scores``: 0/1 predictions or finite scores (T,).
    Returns a new float64 array (T,); points outside the ranges are unchanged.

    Optimistic by construction (Kim, Choi, Choi, Lee & Yoon, "Towards a Rigorous Evaluation of
    Time-Series Anomaly Detection", AAAI 2022; Wu & Keogh, "Current Time Series Anomaly
    Detection Benchmarks are Flawed and are Creating the Illusion of Progress", IEEE TKDE 2021):
    a single lucky point inside a long range earns credit for every point of it, so on data
    with long anomaly ranges even random scores reach a high point-adjusted F1, and a detector
    that flags one point per range looks as good as one that finds the whole range. Report it
    only next to :func:`vus_pr`, :func:`auc_pr` or unadjusted F1. Raises DataError for bad input.
    """
    y, v = _check(labels, predictions_or_scores, "predictions_or_scores")
    return _adjust(y, v)


def point_adjusted_f1(labels, predictions) -> dict[str, float]:
    """Point-wise precision, recall and F1 after :func:`point_adjust` of the 0/1 ``predictions`` (T,).

    Optimistic (Kim et al. AAAI 2022; Wu & Keogh 2021): one predicted point inside a true
    range counts as the whole range found, so random predictions score high on data with long
    ranges; see :func:`point_adjust`. Returns ``{"precision", "recall", "f1"}``. Raises
    DataError for bad input or labels without an anomaly.
    """
    y, p = _check(labels, predictions, "predictions", binary_other=True, need_anomaly="point_adjusted_f1")
    return _point_prf(y, _adjust(y, p))


def _best_f1(y: np.ndarray, s: np.ndarray, point_adjusted: bool) -> dict[str, float]:
    if point_adjusted:
        s = _adjust(y, s)
    precision, recall, thresholds = precision_recall_curve(y, s)
    precision, recall = precision[:-1], recall[:-1]  # drop the (recall 0, precision 1) end point
    den = precision + recall
    f1 = np.divide(2 * precision * recall, den, out=np.zeros_like(den), where=den > 0)
    k = int(np.argmax(f1))
    return {"f1": float(f1[k]), "precision": float(precision[k]), "recall": float(recall[k]),
            "threshold": float(thresholds[k])}


def best_f1(labels, scores, point_adjusted: bool = False) -> dict[str, float]:
    """The best point-wise F1 over all thresholds of ``scores`` (scikit-learn's
    ``precision_recall_curve``; predicted = ``scores >= threshold``).

    ``labels``: 0/1 (T,); ``scores``: finite floats (T,). With ``point_adjusted=True`` the
    scores are first :func:`point_adjust`-ed; the threshold then applies to the raw scores too
    (thresholding and adjusting the predictions gives the same F1). Returns ``{"f1",
    "precision", "recall", "threshold"}`` (threshold in the scores' units).

    Both flavours are optimistic because the threshold is chosen with the labels; the
    point-adjusted one much more so (Kim et al. AAAI 2022; Wu & Keogh 2021): one high score
    inside a long range counts as the whole range detected, so random scores can reach a
    point-adjusted F1 close to 1. Raises DataError for bad input or labels without an anomaly.
    """
    y, s = _check(labels, scores, need_anomaly="best_f1")
    return _best_f1(y, s, bool(point_adjusted))


# ----------------------------------------------------------------------------- baselines


def _zscore_columns(X: np.ndarray, window: int) -> np.ndarray:
    """|x_t - mean(prev)| / std(prev) per column of X (T, F) over the previous ``window`` points (T, F)."""
    df = pd.DataFrame(X)
    roll = df.rolling(window, min_periods=2)
    mean = roll.mean().shift(1).to_numpy()  # (T, F): stats of x[t-window .. t-1]
    std = roll.std(ddof=0).shift(1).to_numpy()  # (T, F), population std
    scale = X.std(axis=0)  # (F,)
    eps = np.where(scale > 0, 1e-12 * scale, 1.0)  # a constant column scores 0
    z = np.abs(X - mean) / np.maximum(std, eps)
    return np.nan_to_num(z, nan=0.0)  # fewer than 2 previous points: 0


def rolling_zscore(x, window: int = 100, differences: bool = False) -> np.ndarray:
    """Rolling z-score anomaly score, the simplest baseline.

    ``x``: finite floats (T,) or (T, F). score_t = |x_t - m_t| / s_t where m_t and s_t are the
    mean and population standard deviation of the previous ``window`` points (fewer at the
    start: an expanding window), with s_t floored at 1e-12 times the series' standard deviation
    (so a change after a constant stretch scores very high, a constant series scores 0). The
    first two points score 0: the first has no history and the std of a single point is 0.
    With ``differences=True`` the same is computed on ``np.diff(x)`` (for trending series), the
    score aligned to the later point of each difference (score[0] = 0). For (T, F) input the
    score is the maximum over the F columns.

    Returns float64 scores (T,), unitless (standard deviations). Raises DataError for bad ``x``;
    ConfigError for a ``window`` that is not an int >= 1.
    """
    window = _int_option(window, "window", 1)
    problems: list[str] = []
    arr = _real(x, "x", problems, ndim=(1, 2))
    if problems:
        raise DataError("; ".join(problems))
    X = arr.reshape(arr.shape[0], -1)  # (T, F)
    if differences:
        z = _zscore_columns(np.diff(X, axis=0), window)  # (T-1, F)
        z = np.concatenate((np.zeros((1, X.shape[1])), z), axis=0)  # (T, F)
    else:
        z = _zscore_columns(X, window)
    return z.max(axis=1)


def matrix_profile_discord(x, m: int, mapping: str = "max") -> np.ndarray:
    """Matrix-profile discord score (Yeh et al., "Matrix Profile I", ICDM 2016), computed with
    ``stumpy.stump`` (Law, JOSS 2019; optional: ``pip install stumpy``).

    ``x``: finite floats (T,) or (T, 1); ``m``: subsequence length in time steps, an int with
    3 <= m <= T // 2 (about one period: :func:`dominant_period`). The matrix profile gives each
    of the T - m + 1 subsequences its z-normalised Euclidean distance to its nearest
    non-overlapping neighbour; a high distance is a discord. Point score, by ``mapping``:

    - ``"max"`` (default): each point takes the maximum distance over the subsequences that
      contain it, so every point of the most anomalous subsequence shares the top score (the
      anomaly is located to within m points);
    - ``"center"``: each subsequence's distance goes to its middle point, the ends padded with
      the first and last distances (TSB-UAD's mapping, used by the VUS paper's benchmark).

    The two give different VUS-PR (``"max"`` spreads each discord over 2m - 1 points), so a
    report names the mapping it used.

    Returns float64 scores (T,), in z-normalised distance units (0 .. 2 sqrt(m)). Raises DataError
    for bad ``x`` or multivariate ``x`` (score each column separately), ConfigError for a bad
    ``m``, and MissingDependencyError (an ImportError) naming ``pip install stumpy`` when stumpy
    is not installed.
    """
    problems: list[str] = []
    arr = _real(x, "x", problems, ndim=(1, 2))
    if problems:
        raise DataError("; ".join(problems))
    if arr.ndim == 2 and arr.shape[1] != 1:
        raise DataError(f"matrix_profile_discord needs a univariate series, got x of shape {arr.shape} "
                        f"({arr.shape[1]} columns); score each column separately")
    series = np.ascontiguousarray(arr.ravel())  # (T,)
    T = series.shape[0]
    if isinstance(m, (bool, np.bool_)) or not isinstance(m, (int, np.integer)) or not 3 <= m <= T // 2:
        raise ConfigError(f"m must be an int with 3 <= m <= T // 2 = {T // 2} (T = {T}), got {m!r}")
    try:
        import stumpy
    except ImportError:
        raise MissingDependencyError("matrix_profile_discord needs the package 'stumpy': pip install stumpy") from None
    if mapping not in ("max", "center"):
        raise ConfigError(f"mapping must be 'max' or 'center', got {mapping!r}")
    profile = np.asarray(stumpy.stump(series, int(m))[:, 0], dtype=np.float64)  # (T-m+1,)
    if mapping == "center":
        m = int(m)
        return np.concatenate([np.full((m - 1) - (m - 1) // 2, profile[0]), profile,
                               np.full((m - 1) // 2, profile[-1])])  # (T,): subsequence i -> point i + ceil((m-1)/2)
    padded = np.concatenate((profile, np.full(int(m) - 1, np.nan)))  # (T,): subsequence i starts at i
    # point t is in subsequences t-m+1 .. t: a trailing rolling max over the start positions
    return pd.Series(padded).rolling(int(m), min_periods=1).max().to_numpy()


def dominant_period(x, max_period: int = 1000) -> int:
    """The dominant period of a series, in time steps: the lag of the highest autocorrelation
    peak after the autocorrelation function (ACF) first goes below zero.

    ``x``: finite floats (T,) or (T, 1); ``max_period``: the largest lag considered, an int >= 2
    (capped at T - 1). The ACF is the usual biased estimate (as ``statsmodels.tsa.stattools.acf``,
    computed here with NumPy's FFT); a peak is a local maximum with a positive ACF. Returns 100
    when there is none (no zero crossing, no positive peak after it, a constant series). Used to
    size :func:`matrix_profile_discord`'s ``m`` and :func:`vus_pr`'s ``max_buffer``. Raises
    DataError for bad or multivariate ``x``; ConfigError for a bad ``max_period``.
    """
    max_period = _int_option(max_period, "max_period", 2)
    problems: list[str] = []
    arr = _real(x, "x", problems, ndim=(1, 2))
    if problems:
        raise DataError("; ".join(problems))
    if arr.ndim == 2 and arr.shape[1] != 1:
        raise DataError(f"dominant_period needs a univariate series, got x of shape {arr.shape}")
    series = arr.ravel() - arr.mean()  # (T,)
    T = series.shape[0]
    nlags = min(max_period, T - 1)
    if nlags < 2:
        return _FALLBACK_PERIOD
    n = 1 << int(np.ceil(np.log2(2 * T)))  # zero-padded FFT length: no circular wrap-around
    spectrum = np.fft.rfft(series, n)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), n)[: nlags + 1]  # (nlags+1,)
    if acov[0] <= 0:
        return _FALLBACK_PERIOD
    acf = acov / acov[0]
    negative = np.flatnonzero(acf < 0)
    if negative.size == 0:
        return _FALLBACK_PERIOD
    k = np.arange(int(negative[0]) + 1, nlags)  # interior lags after the first negative one
    peaks = k[(acf[k] > acf[k - 1]) & (acf[k] >= acf[k + 1]) & (acf[k] > 0)]
    if peaks.size == 0:
        return _FALLBACK_PERIOD
    return int(peaks[np.argmax(acf[peaks])])


# ----------------------------------------------------------------------------- report


def anomaly_report(labels, scores, predictions=None, *, max_buffer: int = 100) -> dict[str, float]:
    """The anomaly metrics of one detector in one flat dict of floats.

    ``labels``: 0/1 (T,); ``scores``: finite floats (T,); ``predictions``: optional 0/1 (T,) at
    the detector's own threshold; ``max_buffer``: VUS buffer in time steps (:func:`vus_pr`).
    Keys: ``auc_pr``, ``vus_pr``, ``best_f1`` (best point F1 over thresholds),
    ``best_f1_point_adjusted_optimistic`` (after point adjustment: optimistic, see
    :func:`point_adjust`); with ``predictions`` also ``point_precision``, ``point_recall``,
    ``point_f1`` and ``range_precision``, ``range_recall``, ``range_f1`` (Tatbul et al. 2018,
    flat bias, reciprocal cardinality, alpha 0). Raises DataError for bad input or labels
    without an anomaly; ConfigError for a bad ``max_buffer``.
    """
    max_buffer = _int_option(max_buffer, "max_buffer", 0)
    y, s = _check(labels, scores, need_anomaly="anomaly_report")
    p = None
    if predictions is not None:
        _, p = _check(y, predictions, "predictions", binary_other=True)
    report = {
        "auc_pr": float(average_precision_score(y, s)),
        "vus_pr": _vus_pr(y, s, max_buffer),
        "best_f1": _best_f1(y, s, False)["f1"],
        "best_f1_point_adjusted_optimistic": _best_f1(y, s, True)["f1"],
    }
    if p is not None:
        report.update({f"point_{k}": v for k, v in _point_prf(y, p).items()})
        report.update({f"range_{k}": v for k, v in _range_prf(y, p, 0.0, "flat", "reciprocal").items()})
    return report


# ----------------------------------------------------------------------------- a detector's report


def evaluate_detector(detector, X, *, start: int = 0, max_buffer: int | None = None, baselines: bool = True,
                      seed: int = 0, scored: tuple | None = None) -> dict:
    """Measure a fitted detector on a labelled series, beside baselines scored in the same call.

    Args:
        detector: a fitted :class:`~lstmkit.estimators.LSTMAnomalyDetector` (anything with
            ``scored(X) -> (series, scores, labels)``).
        X: the series with its 0/1 label column (any form the detector reads).
        start: measure points ``start`` ... T-1 (e.g. after the training part); every score is
            computed on the whole series, so the detector's state is warm at ``start``.
        max_buffer: the VUS buffer; default :func:`dominant_period` of the first column's first
            ``max(start, 200)`` points (the baselines' window too).
        baselines: also score rolling z-scores on values and on first differences, the
            matrix-profile discord (univariate; skipped with a note when stumpy is missing) and a
            random score (uniform, ``seed``), each with :func:`anomaly_report`.
        scored: ``detector.scored(X)`` if the caller already has it (not scored again).

    Returns:
        {"rows": {name: anomaly_report dict}, "from": start, "max_buffer": buffer,
        "labelled": anomalous points measured, "notes": [str]}; the detector's row is
        ``"LSTM detector"`` and includes its own labels' point and range figures.

    Raises:
        DataError: ``X`` has no label column, ``start`` is out of range, or no labelled anomaly
            lies at or after ``start``.
    """
    series, scores, flags = detector.scored(X) if scored is None else scored
    if series.labels is None:
        raise DataError("X has no label column: name it with label_col (a 0/1 column; 'label', 'is_anomaly' "
                        "or 'anomaly' are found without it)")
    T = len(series)
    if not isinstance(start, (int, np.integer)) or isinstance(start, bool) or not 0 <= start < T:
        raise DataError(f"start must be an int in [0, {T - 1}], got {start!r}")
    labels = series.labels[start:]
    if not labels.any():
        raise DataError(f"X holds no labelled anomaly at or after point {start}: nothing to measure")
    values = series.values
    buffer = max_buffer if max_buffer is not None else dominant_period(values[:max(start, 200), 0])
    rows = {"LSTM detector": anomaly_report(labels, scores[start:], flags[start:], max_buffer=buffer)}
    notes: list[str] = []
    if baselines:
        base = {"rolling z-score (values)": rolling_zscore(values, window=buffer),
                "rolling z-score (first differences)": rolling_zscore(values, window=buffer, differences=True)}
        if values.shape[1] == 1:
            try:
                m = max(4, buffer)
                base[f"matrix-profile discord (m={m}, max mapping)"] = matrix_profile_discord(values[:, 0], m)
                base[f"matrix-profile discord (m={m}, TSB-UAD centre mapping)"] = matrix_profile_discord(
                    values[:, 0], m, mapping="center")
            except ImportError as exc:
                notes.append(f"matrix-profile baseline skipped: {exc}")
        base["random score"] = np.random.default_rng(seed).random(T)
        rows.update({k: anomaly_report(labels, s[start:], max_buffer=buffer) for k, s in base.items()})
    return {"rows": rows, "from": int(start), "max_buffer": int(buffer), "labelled": int(labels.sum()), "notes": notes}
