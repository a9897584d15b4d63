"""LSTMClassifier's MiniRocket half (``minirocket=True``; on by default): what it averages, that
it learns alone, that it saves and loads whole, exports whole, and what refuses it."""

import json

import numpy as np
import pytest
import torch

import lstmkit
from lstmkit.data.sequences import pad_sequences
from lstmkit.errors import ConfigError
from lstmkit.estimators import LSTMClassifier


def _data(n, rng):
    """Three classes of variable length: a sine, a square wave and a chirp, with noise."""
    X, y = [], rng.integers(0, 3, n)
    for c in y:
        T = int(rng.integers(40, 80))
        t = np.linspace(0, 4 * np.pi, T) + rng.uniform(0, 2 * np.pi)
        s = [np.sin(t), np.sign(np.sin(t)), np.sin(t * t / 8)][c]
        X.append((s + 0.4 * rng.standard_normal(T)).reshape(-1, 1))
    return X, np.array(["sine", "square", "chirp"])[y]


FAST = {"minirocket": True, "hidden_size": 4, "fcn_filters": (4, 4, 4), "trainer": {"max_steps": 3, "quiet": True}}


def _parts(clf, X):
    """(network probabilities, MiniRocket probabilities), each (n, C), computed apart from predict_proba."""
    net = LSTMClassifier()
    net.pipeline_, net.networks_, net.history_, net.minirocket_ = clf.pipeline_, clf.networks_, [], None
    steps = clf.pipeline_.inputs.transform(X, scaled_only=True)
    with torch.no_grad():
        rocket = clf.minirocket_(*pad_sequences(steps)).numpy()
    return net.predict_proba(X), rocket


def test_probabilities_average_the_network_and_minirocket():
    rng = np.random.default_rng(0)
    X, y = _data(40, rng)
    clf = LSTMClassifier(**FAST).fit(X, y)
    net, rocket = _parts(clf, X)
    np.testing.assert_allclose(clf.predict_proba(X), (net + rocket) / 2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X, part="network"), net, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.predict_proba(X, part="minirocket"), rocket, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rocket.sum(1), 1.0, rtol=0, atol=1e-12)
    assert (rocket > 0).all()
    off = LSTMClassifier(**{**FAST, "minirocket": False}).fit(X, y)
    assert off.minirocket_ is None
    np.testing.assert_allclose(off.predict_proba(X), _parts(clf, X)[0], rtol=0, atol=1e-12)  # same seed, same network


def test_minirocket_half_learns_a_small_task_with_an_untrained_network():
    rng = np.random.default_rng(1)
    (X, y), (Xt, yt) = _data(45, rng), _data(90, rng)
    clf = LSTMClassifier(**FAST).fit(X, y)  # 3 steps: the network is near chance
    net, rocket = _parts(clf, Xt)
    accuracy = lambda P: float(np.mean(clf.classes_[P.argmax(1)] == yt))  # noqa: E731
    assert accuracy(rocket) >= 0.9
    assert accuracy(net) <= 0.7  # so the score below comes from the MiniRocket half
    assert clf.score(Xt, yt) >= 0.85


def test_minirocket_saves_and_loads_whole(tmp_path):
    rng = np.random.default_rng(2)
    X, y = _data(30, rng)
    clf = LSTMClassifier(**FAST).fit(X, y)
    path = clf.save(tmp_path / "m")
    back = lstmkit.load(path)
    assert back.minirocket is True and back.minirocket_ is not None
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert json.loads((path / "config.json").read_text())["state"]["minirocket"] is True
    off = LSTMClassifier(**{**FAST, "minirocket": False}).fit(X, y)
    back = lstmkit.load(off.save(tmp_path / "off"))
    assert back.minirocket_ is None
    np.testing.assert_array_equal(back.predict_proba(X), off.predict_proba(X))


def test_onnx_graph_is_the_whole_classifier(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install 'lstmkit[export]')")
    rng = np.random.default_rng(3)
    X, y = _data(24, rng)
    clf = LSTMClassifier(n_models=2, **FAST).fit(X, y)
    report = clf.to_onnx(tmp_path / "m.onnx")
    assert "MiniRocket" in report.covers and report.max_abs_error < 1e-4
    x, lengths = pad_sequences(clf.pipeline_.inputs.transform(X))
    (log_probs,) = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": x.numpy(), "lengths": lengths.numpy()})
    np.testing.assert_allclose(np.exp(log_probs), clf.predict_proba(X), rtol=0, atol=1e-5)  # exported in float32
    assert clf.onnx_members() == [None] and LSTMClassifier(**{**FAST, "minirocket": False, "n_models": 2}).fit(
        X, y).onnx_members() == [0, 1]
    with pytest.raises(ConfigError, match=r"member=0: with minirocket=True the graph is the whole classifier"):
        clf.to_onnx(tmp_path / "m0.onnx", member=0)
    patched = LSTMClassifier(architecture="lstm", patch_size=4, **FAST).fit(X, y)
    with pytest.raises(ConfigError, match=r"reads patches .* fit with minirocket=False or patch_size=1"):
        patched.to_onnx(tmp_path / "p.onnx")
    assert not (tmp_path / "m0.onnx").exists() and not (tmp_path / "p.onnx").exists()


def test_bad_minirocket_value_is_named():
    X, y = _data(12, np.random.default_rng(4))
    assert LSTMClassifier().minirocket is True  # the default since 2026-12-02 (RESULTS.md)
    clf = LSTMClassifier(**{**FAST, "minirocket": False}).fit(X, y)
    with pytest.raises(ConfigError, match="part='minirocket': this LSTMClassifier was fitted with minirocket=False"):
        clf.predict_proba(X, part="minirocket")
    with pytest.raises(ConfigError, match="part must be 'both', 'network' or 'minirocket', got 'rocket'"):
        clf.predict_proba(X, part="rocket")
    with pytest.raises(ConfigError, match="minirocket must be True or False, got 'yes'"):
        LSTMClassifier(**{**FAST, "minirocket": "yes"}).fit(X, y)
