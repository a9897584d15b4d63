"""LSTMAnomalyDetector: it learns a normal pattern and finds a distortion, streaming equals batch,
the thresholds do what their docstrings say, and bad input gets a clear error."""

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit.errors import ConfigError, DataError
from lstmkit.estimators import LSTMAnomalyDetector
from lstmkit.evaluation.anomaly import evaluate_detector
from lstmkit.models.anomaly import dynamic_threshold, ewma, pruned_count

TINY = dict(hidden_size=12, num_layers=1, window=24, dropout=0.0)


def pattern(n: int, seed: int = 0) -> np.ndarray:
    """A pseudo-periodic signal: a sawtooth-like cycle of 25 points plus a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(4 * np.pi * t / 25) + 0.05 * rng.normal(size=n)


@pytest.fixture(scope="module")
def fitted():
    det = LSTMAnomalyDetector(**TINY, random_state=0, trainer={"max_epochs": 40, "quiet": True})
    return det.fit(pattern(500))


def distorted() -> tuple[np.ndarray, int]:
    x = pattern(800, seed=1)
    x[600:606] = x[600:606][::-1] + 1.0  # a short, out-of-shape bump
    return x, 600


def test_learns_the_pattern_and_finds_the_distortion(fitted):
    x, at = distorted()
    s = fitted.decision_function(x)
    assert s.shape == (800,) and s[0] == 0.0 and np.all(np.isfinite(s))
    assert at - 5 <= int(np.argmax(s[50:])) + 50 <= at + 20  # the top score is at the bump
    assert np.median(s[100:590]) * 4 < s.max()  # far above the normal level
    found = fitted.detect(x)
    assert list(found.columns) == ["start", "end", "peak", "peak_score", "length"]
    top = found.sort_values("peak_score").iloc[-1]
    assert top.start <= at + 10 and top.end >= at and top.peak_score == pytest.approx(s.max())
    # the fitted network predicts better than "the next point equals this one" on normal data
    z = fitted.pipeline_.select(fitted._read(pattern(400, seed=2)))
    err = fitted._errors(z)[30:]
    assert np.abs(err).mean() < 0.5 * np.abs(np.diff(z[:, 0]))[29:].mean()


@pytest.mark.parametrize("scorer", ["prediction", "reconstruction"])
def test_streaming_equals_batch(scorer, fitted):
    det = fitted if scorer == "prediction" else LSTMAnomalyDetector(
        "reconstruction", **{**TINY, "window": 12}, threshold="quantile", random_state=0,
        trainer={"max_epochs": 2, "quiet": True}).fit(pattern(120))
    x, _ = distorted()
    x = x[560:680] if scorer == "reconstruction" else x
    batch = det.decision_function(x)
    stream = det.stream()
    live = [stream.update(v) for v in x]
    np.testing.assert_allclose([s for s, _ in live], batch, rtol=0, atol=1e-9)
    assert all(isinstance(f, bool) for _, f in live)
    if scorer == "reconstruction":
        assert np.all(batch[:11] == 0) and np.all(batch[11:] > 0)  # no score before a whole window
        assert [f for _, f in live] == list(det.predict(x).astype(bool))  # "quantile" is causal: same labels
    # the default stream continues across calls; reset starts it again
    det.reset_stream()
    first = [det.update(v)[0] for v in x[:10]]
    det.reset_stream()
    assert [det.update(v)[0] for v in x[:10]] == first


def test_thresholds(fitted):
    x, at = distorted()
    s = fitted.decision_function(x)
    q = fitted.set_params(threshold="quantile")
    np.testing.assert_array_equal(q.labels_from_scores(s), (s >= q.pipeline_.threshold).astype(np.int8))
    train_s = fitted.decision_function(pattern(500))
    assert q.pipeline_.threshold == pytest.approx(np.quantile(train_s[1:], 0.999), rel=1e-9)  # point 0 has no score
    c = fitted.set_params(threshold="contamination", contamination=0.02)
    flags = c.labels_from_scores(s)
    assert abs(flags.sum() - 16) <= 1 and flags[at:at + 12].any()
    d = fitted.set_params(threshold="dynamic", threshold_window=200)
    flags = d.labels_from_scores(s)
    assert flags[at:at + 12].any() and flags.mean() < 0.1
    # causal: the labels up to a point do not change when later points are added
    np.testing.assert_array_equal(d.labels_from_scores(s[:620])[:600], flags[:600])
    # streaming labels look back only: none before 20 scores are in, then the bump is flagged
    for rule in ("dynamic", "contamination"):
        stream = fitted.set_params(threshold=rule).stream()
        live = np.array([stream.update(v)[1] for v in x])
        assert not live[:20].any() and live[at:at + 12].any() and live.mean() < 0.1, rule
    fitted.set_params(threshold="dynamic", threshold_window=2000, contamination=0.01)


def test_dynamic_threshold_by_hand():
    rng = np.random.default_rng(0)
    e = np.abs(rng.normal(size=1000)) * 0.1
    e[500:505] = 3.0  # a clear sequence
    eps, flags = dynamic_threshold(e, error_buffer=2)
    assert np.isfinite(eps) and flags[500:505].all() and flags[498:507].sum() == 9 and flags.sum() == 9
    # pruning by hand: maxima 3.0, 1.0, 0.95 and the largest normal error 0.9: the drops are 67 %,
    # 5 % and 5 %, so the two trailing runs return to normal (p = 0.13) and only the first stays
    assert pruned_count(np.array([3.0, 1.0, 0.95]), 0.9, 0.13) == 1
    assert pruned_count(np.array([3.0, 1.0, 0.95]), 0.9, 0.04) == 3  # a smaller p keeps all three
    assert pruned_count(np.array([3.0, 2.9]), 0.5, 0.13) == 2  # a small drop followed by a big one: both stay
    assert pruned_count(np.array([1.0]), 0.95, 0.13) == 0
    assert dynamic_threshold(np.full(100, 0.3))[1].sum() == 0  # no variation: nothing flagged
    np.testing.assert_allclose(ewma(np.array([1.0, 0.0, 0.0]), 3), [1.0, 0.5, 0.25])


def test_multivariate_and_missing_column():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": pattern(200), "b": pattern(200, seed=3) * 2 + 1, "c": rng.normal(size=200),
                       "label": 0})
    det = LSTMAnomalyDetector(**TINY, trainer={"max_epochs": 2, "quiet": True}).fit(df)
    assert det.pipeline_.columns == ["a", "b", "c"]  # the label column is never a feature
    named = LSTMAnomalyDetector(**TINY, label_col="label", trainer={"max_epochs": 1, "quiet": True}).fit(df)
    assert named.decision_function(df.drop(columns="label")).shape == (200,)  # live data has no labels
    s = det.decision_function(df[["c", "a", "b"]])  # columns are found by name
    np.testing.assert_allclose(s, det.decision_function(df))
    with pytest.raises(DataError, match=r"lacks the column\(s\) \['b'\] the detector was fitted on"):
        det.decision_function(df[["a", "c"]])
    with pytest.raises(DataError, match=r"x_t must hold 3 value\(s\)"):
        det.stream().update([1.0, 2.0])
    with pytest.raises(DataError, match=r"has 2 column\(s\); the detector was fitted on 3"):
        det.decision_function(np.zeros((50, 2)))
    # time columns are never values unless named; a label or time column cannot be a value column
    timed = df.assign(time=np.arange(200.0))
    assert LSTMAnomalyDetector(**TINY, trainer={"max_epochs": 1, "quiet": True}).fit(timed).pipeline_.columns == ["a", "b", "c"]
    with pytest.raises(DataError, match=r"column 'label' is the label_col of X; it cannot also be a value column"):
        LSTMAnomalyDetector(**TINY, columns=["a", "label"]).fit(df)
    # a numeric column with a typo is an error naming the row, not a silently dropped column
    typo = df.astype({"a": object})
    typo.loc[7, "a"] = "1,5"
    with pytest.raises(DataError, match=r"column 'a' of X must be numeric; row 7 holds '1,5'"):
        LSTMAnomalyDetector(**TINY).fit(typo)
    # a refit starts a fresh default stream (the old one used the old network and columns)
    det.update([0.1, 0.2, 0.3])
    det.fit(df[["a"]])
    assert isinstance(det.update(0.1)[0], float)


def test_bad_input():
    base = dict(**TINY, trainer={"max_epochs": 1, "quiet": True})
    x = pattern(200)
    gappy = x.copy()
    gappy[[10, 11, 50]] = np.nan
    with pytest.raises(DataError, match=r"column 'value' of X has 3 missing .* row\(s\) 10, 11, 50; .*nan_policy='interpolate'"):
        LSTMAnomalyDetector(**base).fit(gappy)
    filled = LSTMAnomalyDetector(**base, nan_policy="interpolate").fit(gappy)
    assert np.isfinite(filled.decision_function(gappy)).all()
    with pytest.raises(DataError, match=r"constant in the training series .*cannot learn"):
        LSTMAnomalyDetector(**base).fit(np.full(200, 3.0))
    with pytest.raises(DataError, match=r"holds 30 points; window=24 needs at least 48"):
        LSTMAnomalyDetector(**base).fit(x[:30])
    with pytest.raises(DataError, match=r"label column 'label' of X must hold only 0 and 1; row 3 holds 2"):
        LSTMAnomalyDetector(**base).fit(pd.DataFrame({"v": x, "label": [0, 0, 0, 2] + [0] * 196}))
    with pytest.raises(ConfigError, match=r"threshold must be one of .*got 'dynamc' \(did you mean 'dynamic'\?\)"):
        LSTMAnomalyDetector(threshold="dynamc").fit(x)
    with pytest.raises(DataError, match=r"x_t must be finite"):
        filled.stream().update(float("nan"))
    with pytest.raises(DataError, match=r"x_t must be a number or 1 numbers, got 'abc'"):
        filled.stream().update("abc")
    rec = LSTMAnomalyDetector("reconstruction", **base).fit(x)
    with pytest.raises(DataError, match=r"the series holds 10 points; .* window=24 points, so it needs at least 24"):
        rec.decision_function(x[:10])
    with pytest.raises(DataError, match=r"X has no label column"):
        evaluate_detector(filled, x)
    labelled = pd.DataFrame({"value": x, "label": 0})
    with pytest.raises(DataError, match=r"X holds no labelled anomaly at or after point 0"):
        evaluate_detector(filled, labelled)


def test_streaming_refreshes_the_dynamic_threshold_every_tenth_of_its_window(fitted, monkeypatch):
    """Once the history was full, the refresh test (len(history) % step) held at every point, so the
    threshold was recomputed per point: streaming ran at half speed."""
    import lstmkit.estimators.anomaly as module

    calls = []
    real = module.dynamic_threshold
    monkeypatch.setattr(module, "dynamic_threshold", lambda e, **kw: calls.append(len(e)) or real(e, **kw))
    stream = fitted.set_params(threshold="dynamic", threshold_window=100).stream()
    for v in pattern(1000, seed=4):
        stream.update(v)
    fitted.set_params(threshold_window=2000)
    assert len(calls) == 99 and max(calls) == 100  # every 10 points (a tenth of 100), not at each point


@pytest.mark.parametrize("likelihood", ["mse", "gaussian"])
def test_horizon_errors_are_the_multi_step_predictions(likelihood):
    """horizon=L (Malhotra 2015's l): point t's k-th error is against the prediction made k + 1
    steps earlier for k + 1 points ahead; the first L points score 0; streaming equals batch."""
    L = 3
    det = LSTMAnomalyDetector(**TINY, horizon=L, likelihood=likelihood, random_state=0,
                              trainer={"max_epochs": 3, "quiet": True}).fit(pattern(300))
    assert det.networks_[0].config.horizon == L
    x, _ = distorted()
    x = x[550:700]
    z = det.pipeline_.select(det._read(x))
    err = det._errors(z)  # (T, L, F)
    assert err.shape == (150, L, 1)
    net = det._net64()
    state, preds = None, []
    for t in range(12):  # an independent step-by-step reference
        mu, sd, state = net.step(torch.from_numpy(z[t])[None], state)  # (1, L, F)
        preds.append((mu[0].numpy(), sd[0].numpy()))
    for t in range(L + 1, 12):
        for k in range(L):
            mu, sd = preds[t - 1 - k]
            assert err[t, k, 0] == pytest.approx(float((z[t, 0] - mu[k, 0]) / sd[k, 0]), abs=1e-12)
    s = det.decision_function(x)
    assert np.all(s[:L] == 0) and np.all(s[L:] > 0)
    stream = det.stream()
    np.testing.assert_allclose([stream.update(v)[0] for v in x], s, rtol=0, atol=1e-9)
    with pytest.raises(ConfigError, match=r"horizon must be smaller than window \(24\), got 24"):
        LSTMAnomalyDetector(**TINY, horizon=24).fit(pattern(300))
    with pytest.raises(ConfigError, match=r"horizon must be a positive int, got 0"):
        LSTMAnomalyDetector(**TINY, horizon=0).fit(pattern(300))
