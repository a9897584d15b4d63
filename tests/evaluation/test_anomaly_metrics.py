"""Anomaly metrics against hand-worked values and a loop-by-loop VUS reference; baseline detectors."""

import math

import os

import numpy as np
import pytest

from lstmkit.errors import ConfigError, DataError
from lstmkit.evaluation.anomaly import (
    anomaly_ranges,
    anomaly_report,
    auc_pr,
    best_f1,
    dominant_period,
    matrix_profile_discord,
    point_adjust,
    point_adjusted_f1,
    point_f1,
    range_auc_pr,
    range_precision_recall,
    rolling_zscore,
    vus_pr,
)


def _labels(T, ranges):
    y = np.zeros(T, dtype=int)
    for s, e in ranges:
        y[s:e + 1] = 1
    return y


# ----------------------------------------------------------------------------- slow VUS reference


def _ref_runs(x):
    """Runs of nonzero values, inclusive (start, end), one point at a time."""
    out, start = [], None
    for i, v in enumerate(x):
        if v != 0 and start is None:
            start = i
        if v == 0 and start is not None:
            out.append((start, i - 1))
            start = None
    if start is not None:
        out.append((start, len(x) - 1))
    return out


def _ref_extend(y, buffer):
    T = len(y)
    ext = [float(v) for v in y]
    for s, e in _ref_runs(y):
        for x in range(e, min(e + buffer // 2, T)):
            ext[x] += math.sqrt(1 - (x - e) / buffer)
        for x in range(max(s - buffer // 2, 0), s):
            ext[x] += math.sqrt(1 - (s - x) / buffer)
    return [min(1.0, v) for v in ext]


def _ref_range_auc_pr(y, scores, buffer):
    T = len(y)
    desc = sorted(scores, reverse=True)
    thresholds = [desc[int(p)] for p in np.linspace(0, T - 1, 250)]
    ext = _ref_extend(y, buffer)
    segments = _ref_runs(ext)
    P = sum(y)
    P_new = (P + sum(ext)) / 2
    tpr, prec = [0.0], [1.0]
    for th in thresholds:
        pred = [1 if v >= th else 0 for v in scores]
        tp = sum(a * b for a, b in zip(ext, pred))
        recall = min(tp / P_new, 1)
        hit = sum(1 for s, e in segments if any(pred[s:e + 1]))
        tpr.append(recall * hit / len(segments))
        prec.append(tp / sum(pred))
    return sum((tpr[j] - tpr[j - 1]) * (prec[j] + prec[j - 1]) / 2 for j in range(1, len(tpr)))


def test_vus_pr_equals_slow_reference_with_ties():
    rng = np.random.default_rng(0)
    T = 240  # fewer points than thresholds: repeated threshold positions too
    # ranges at both ends and two close ranges whose buffers overlap
    y = _labels(T, [(0, 3), (40, 49), (55, 57), (120, 120), (200, 239)])
    for scores in (rng.integers(0, 4, T).astype(float),  # heavy ties
                   rng.normal(size=T) + 0.8 * y):
        ref = [_ref_range_auc_pr(list(y), list(scores), b) for b in range(13)]
        for b in (0, 1, 2, 3, 7, 12):
            assert range_auc_pr(y, scores, b) == pytest.approx(ref[b], abs=1e-12)
        assert vus_pr(y, scores, max_buffer=12) == pytest.approx(np.mean(ref), abs=1e-12)


def test_vus_pr_is_fast_enough():
    import time

    rng = np.random.default_rng(1)
    T = 10_000
    y = np.zeros(T, dtype=int)
    for s in rng.choice(T - 50, 40, replace=False):
        y[s:s + rng.integers(1, 50)] = 1
    scores = rng.normal(size=T) + y
    t0 = time.perf_counter()
    v = vus_pr(y, scores, max_buffer=100)
    assert time.perf_counter() - t0 < 2.0
    assert 0 < v < 1


def test_perfect_scores():
    y = _labels(20, [(5, 9)])
    assert auc_pr(y, y.astype(float)) == pytest.approx(1.0)
    # without a buffer (0 or 1) nothing is softened: a perfect score gets exactly 1
    assert vus_pr(y, y.astype(float), max_buffer=1) == pytest.approx(1.0)
    # buffer 2 softens the point before the range: 0.7071 = sqrt(1 - 1/2); P = 5, P_new = 5 + 0.7071/2.
    # At threshold 1 the labels are predicted: recall r = 5 / 5.35355 = 0.93396, precision 1;
    # at threshold 0 everything: recall 1, precision (5 + 0.7071)/20.
    r = 5 / (5 + math.sqrt(0.5) / 2)
    expected = r * 1 + (1 - r) * (1 + (5 + math.sqrt(0.5)) / 20) / 2
    assert range_auc_pr(y, y, 2) == pytest.approx(expected)
    assert expected < 1  # TSB-UAD's VUS caps a perfect binary score below 1 once the buffer softens labels
    # a random score is far below
    rng = np.random.default_rng(0)
    assert vus_pr(y, rng.random(20), max_buffer=4) < 0.9


def test_anomaly_ranges():
    assert anomaly_ranges([1, 1, 0, 0, 1, 0, 1]) == [(0, 1), (4, 4), (6, 6)]
    assert anomaly_ranges(np.array([False, True, True])) == [(1, 2)]
    assert anomaly_ranges([0.0, 0.0]) == []


# ----------------------------------------------------------------------------- range precision / recall


def test_range_recall_flat_and_cardinality():
    T = 60
    y = _labels(T, [(10, 19)])  # one real range of 10 points
    # predicted [10, 14] covers 5 of the 10 points: flat recall 5/10; it lies inside the real range: precision 1
    r = range_precision_recall(y, _labels(T, [(10, 14)]))
    assert r["recall"] == pytest.approx(0.5)
    assert r["precision"] == pytest.approx(1.0)
    assert r["f1"] == pytest.approx(2 * 0.5 / 1.5)
    # two predicted ranges [10, 12], [15, 17] cover 6/10; they split the range: cardinality 1/2 -> 0.3
    two = _labels(T, [(10, 12), (15, 17)])
    assert range_precision_recall(y, two)["recall"] == pytest.approx(0.3)
    assert range_precision_recall(y, two, cardinality="one")["recall"] == pytest.approx(0.6)
    assert range_precision_recall(y, two)["precision"] == pytest.approx(1.0)
    # a false predicted range halves precision: (1 + 0) / 2
    assert range_precision_recall(y, _labels(T, [(10, 14), (40, 44)]))["precision"] == pytest.approx(0.5)
    # existence reward: real ranges [10,19], [30,39]; predicted [10,11]
    # range 1: 0.5 * 1 + 0.5 * 2/10 = 0.6; range 2: 0 -> mean 0.3
    y2 = _labels(T, [(10, 19), (30, 39)])
    assert range_precision_recall(y2, _labels(T, [(10, 11)]), alpha=0.5)["recall"] == pytest.approx(0.3)
    # no prediction: precision 0 by convention, f1 0
    assert range_precision_recall(y, np.zeros(T, dtype=int)) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}


def test_range_recall_positional_bias():
    T = 60
    y = _labels(T, [(10, 19)])  # length 10
    early, late = _labels(T, [(10, 14)]), _labels(T, [(15, 19)])
    # front: weights 10, 9, ..., 1 (sum 55); the first half holds 10+9+8+7+6 = 40
    assert range_precision_recall(y, early, bias="front")["recall"] == pytest.approx(40 / 55)
    assert range_precision_recall(y, late, bias="front")["recall"] == pytest.approx(15 / 55)
    # back mirrors it
    assert range_precision_recall(y, late, bias="back")["recall"] == pytest.approx(40 / 55)
    # middle: weights 1,2,3,4,5,5,4,3,2,1 (sum 30); [13, 16] is positions 4..7: 4+5+5+4 = 18
    mid = _labels(T, [(13, 16)])
    assert range_precision_recall(y, mid, bias="middle")["recall"] == pytest.approx(18 / 30)
    assert range_precision_recall(y, mid)["recall"] == pytest.approx(4 / 10)


# ----------------------------------------------------------------------------- point-wise, adjustment


def test_point_f1_and_point_adjust():
    y = _labels(20, [(5, 9)])
    p = _labels(20, [(7, 7), (15, 15)])  # one hit inside the range, one false alarm
    assert point_f1(y, p) == pytest.approx({"precision": 0.5, "recall": 0.2, "f1": 2 * 0.1 / 0.7})
    adjusted = point_adjust(y, p)
    np.testing.assert_array_equal(adjusted, _labels(20, [(5, 9), (15, 15)]))
    # the single hit now counts as the whole range: 5 TP, 1 FP
    assert point_adjusted_f1(y, p) == pytest.approx({"precision": 5 / 6, "recall": 1.0, "f1": 2 * (5 / 6) / (11 / 6)})
    scores = np.arange(20, dtype=float)
    np.testing.assert_array_equal(point_adjust(y, scores)[5:10], 9.0)
    assert point_f1(y, np.zeros(20))["precision"] == 0.0


def test_point_adjusted_best_f1_is_inflated_on_random_scores():
    rng = np.random.default_rng(0)
    T = 2000
    y = _labels(T, [(200, 399), (800, 999), (1400, 1599)])  # 30% anomalous, long ranges
    scores = rng.random(T)  # no information at all
    plain = best_f1(y, scores)
    adjusted = best_f1(y, scores, point_adjusted=True)
    assert plain["f1"] < 0.5  # about predicting everything: 2 * 0.3 / 1.3
    assert adjusted["f1"] > 0.9  # the inflation the docstrings warn about
    assert set(adjusted) == {"f1", "precision", "recall", "threshold"}
    # the threshold applies to the raw scores: threshold, then adjust, gives the same F1
    pred = (scores >= adjusted["threshold"]).astype(int)
    assert point_adjusted_f1(y, pred)["f1"] == pytest.approx(adjusted["f1"])
    assert point_f1(y, (scores >= plain["threshold"]).astype(int))["f1"] == pytest.approx(plain["f1"])


def test_anomaly_report():
    rng = np.random.default_rng(0)
    y = _labels(300, [(50, 69), (200, 209)])
    scores = rng.random(300) + y
    rep = anomaly_report(y, scores, max_buffer=10)
    assert set(rep) == {"auc_pr", "vus_pr", "best_f1", "best_f1_point_adjusted_optimistic"}
    assert rep["vus_pr"] == pytest.approx(vus_pr(y, scores, max_buffer=10))
    rep = anomaly_report(y, scores, (scores > 1).astype(int), max_buffer=10)
    assert rep["point_f1"] == pytest.approx(point_f1(y, scores > 1)["f1"])
    assert rep["range_recall"] == pytest.approx(range_precision_recall(y, scores > 1)["recall"])
    assert all(isinstance(v, float) for v in rep.values())


# ----------------------------------------------------------------------------- errors


def test_bad_input():
    y = _labels(10, [(2, 3)])
    with pytest.raises(DataError, match=r"labels must contain only 0 and 1, got 2 at index 4"):
        auc_pr([0, 0, 1, 1, 2, 0, 0, 0, 0, 0], np.zeros(10))
    with pytest.raises(DataError, match=r"scores must be finite, got nan at index 3"):
        vus_pr(y, [0, 0, 0, np.nan, 0, 0, 0, 0, 0, 0])
    with pytest.raises(DataError, match=r"same length, got 10 and 9"):
        best_f1(y, np.zeros(9))
    with pytest.raises(DataError, match="no anomaly"):
        vus_pr(np.zeros(10), np.zeros(10))
    with pytest.raises(DataError, match=r"predictions must contain only 0 and 1, got 0.5 at index 0"):
        point_f1(y, [0.5] + [0] * 9)
    with pytest.raises(DataError, match=r"labels .*got 2 at index 0; scores must be finite, got inf at index 1"):
        auc_pr([2, 1], [0.0, np.inf])  # several problems in one message
    with pytest.raises(ConfigError, match=r"bias must be one of .*got 'frnt' \(did you mean 'front'\?\)"):
        range_precision_recall(y, y, bias="frnt")
    with pytest.raises(ConfigError, match="max_buffer must be an int >= 0, got -1"):
        vus_pr(y, y, max_buffer=-1)
    with pytest.raises(DataError, match=r"labels must be a 1-D array"):
        anomaly_ranges(np.zeros((3, 2)))


# ----------------------------------------------------------------------------- baselines


def test_rolling_zscore_flags_spike():
    t = np.arange(1000)
    x = np.sin(2 * np.pi * t / 50)
    x[600] += 5.0
    z = rolling_zscore(x, window=100)
    assert z.shape == (1000,) and z[0] == 0 and z[1] == 0
    assert int(np.argmax(z)) == 600 and z[600] > 5
    assert int(np.argmax(rolling_zscore(x, window=100, differences=True))) == 600
    # multivariate: the max over columns, so the spike in column 1 wins
    X = np.stack([np.sin(2 * np.pi * t / 37), x], axis=1)
    np.testing.assert_allclose(rolling_zscore(X), np.maximum(rolling_zscore(X[:, 0]), z))
    assert np.all(rolling_zscore(np.ones(50)) == 0)


@pytest.mark.skipif(os.environ.get("LSTMKIT_STUMPY_TESTS") != "1",
                    reason="stumpy compiles its numba kernels on its first call (about a minute on 2 cores, over the "
                           "suite's budget): set LSTMKIT_STUMPY_TESTS=1 to run it; benchmarks/bench_anomaly.py runs "
                           "the same baseline on every benchmark run")
def test_matrix_profile_discord_finds_distortion():
    pytest.importorskip("stumpy", reason="stumpy (optional) is not installed: pip install stumpy")
    rng = np.random.default_rng(0)
    t = np.arange(1000)
    x = np.sin(2 * np.pi * t / 50) + 0.01 * rng.normal(size=1000)
    x[510:520] = 0.0  # flatten part of one cycle
    score = matrix_profile_discord(x, m=50)
    assert score.shape == (1000,) and np.all(np.isfinite(score))
    assert score[510:520].max() == score.max()
    with pytest.raises(DataError, match="univariate"):
        matrix_profile_discord(np.zeros((100, 2)), m=10)
    with pytest.raises(ConfigError, match=r"m must be an int with 3 <= m <= T // 2 = 500"):
        matrix_profile_discord(x, m=600)


def test_matrix_profile_discord_without_stumpy(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "stumpy", None)  # makes `import stumpy` raise ImportError
    with pytest.raises(ImportError, match="pip install stumpy"):
        matrix_profile_discord(np.sin(np.arange(200.0)), m=20)


def test_dominant_period():
    t = np.arange(2000)
    assert abs(dominant_period(np.sin(2 * np.pi * t / 50)) - 50) <= 1
    assert dominant_period(np.arange(300.0)) == 100  # a trend: no positive peak after the zero crossing
    assert dominant_period(np.ones(100)) == 100
    # the same rule on statsmodels' ACF gives the same lag
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    rng = np.random.default_rng(0)
    for x in (np.sin(2 * np.pi * t[:600] / 37) + 0.3 * rng.normal(size=600),
              np.sin(2 * np.pi * t[:900] / 24) + 0.7 * np.sin(2 * np.pi * t[:900] / 120)):
        acf = stattools.acf(x, nlags=200, fft=True)
        k = np.arange(int(np.flatnonzero(acf < 0)[0]) + 1, 200)
        peaks = k[(acf[k] > acf[k - 1]) & (acf[k] >= acf[k + 1]) & (acf[k] > 0)]
        assert dominant_period(x, max_period=200) == peaks[np.argmax(acf[peaks])]
