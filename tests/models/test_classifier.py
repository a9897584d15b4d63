"""LSTMClassifier: scikit-learn behaviour, variable lengths, persistence, learning, bad input."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline

import lstmkit
import lstmkit.datasets
from lstmkit.errors import ConfigError, DataError, NotFittedError, ShapeError
from lstmkit.estimators import LSTMClassifier
from lstmkit.models.classifier import ClassifierNetwork
from lstmkit.models.heads import LSTMEncoder, SequencePooling


def quick(**kw):
    return LSTMClassifier(hidden_size=8, head_hidden_size=8, trainer=dict(max_epochs=3, batch_size=8, seed=0), **kw)


def toy(n=24, seed=0, ragged=True):
    """Class = sign of the mean of the series; lengths 5..12 when ragged."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        T = int(rng.integers(5, 13)) if ragged else 10
        label = ["neg", "pos"][i % 2]
        X.append((rng.normal(size=(T, 2)) + (1.5 if label == "pos" else -1.5)).astype(np.float32))
        y.append(label)
    return X, np.array(y)


def test_clone_and_params():
    clf = LSTMClassifier(hidden_size=16, pooling="attention")
    params = clf.get_params()
    assert params["hidden_size"] == 16 and params["pooling"] == "attention"
    c2 = clone(clf).set_params(hidden_size=32, pooling="max")
    assert c2.hidden_size == 32 and clf.hidden_size == 16 and not hasattr(c2, "networks_")
    with pytest.raises(ValueError, match="unknown parameter .hiden_size. .did you mean .hidden_size"):
        clf.set_params(hiden_size=3)


def test_fit_ragged_list_proba_and_labels_of_any_type():
    X, y = toy()
    y_int = np.where(y == "pos", 7, -3)  # integer labels
    clf = quick().fit(X, y_int)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-12)
    assert set(clf.predict(X)) <= {7, -3}
    assert clf.classes_.tolist() == [-3, 7]
    mixed = np.array([1 if v == "pos" else "one" for v in y], dtype=object)  # unorderable mix
    clf2 = quick().fit(X, mixed)
    assert set(clf2.predict(X).tolist()) <= {1, "one"} and len(clf2.classes_) == 2
    tuples = [("a", 1) if v == "pos" else ("b", 2) for v in y]  # tuple labels stay whole
    clf3 = quick().fit(X, tuples)
    assert set(clf3.predict(X).tolist()) <= {("a", 1), ("b", 2)}


def test_variable_lengths_use_lengths_not_padding():
    """Padding must not change a sequence's output: same logits alone and in a padded batch."""
    torch.manual_seed(0)
    for pooling in ("last", "mean", "max", "attention"):
        enc = LSTMEncoder(3, 5, bidirectional=True)
        pool = SequencePooling(pooling, enc.output_size)
        x = torch.randn(2, 9, 3)
        lengths = torch.tensor([9, 4])
        out, last = enc(x, lengths)
        pooled = pool(out, last, lengths)
        out1, last1 = enc(x[1:, :4], lengths[1:])
        torch.testing.assert_close(pooled[1:], pool(out1, last1, lengths[1:]), atol=1e-6, rtol=1e-5)
        x[1, 4:] = 1e6  # garbage in the padding changes nothing
        out2, last2 = enc(x, lengths)
        torch.testing.assert_close(pool(out2, last2, lengths)[1], pooled[1], atol=1e-6, rtol=1e-5)


def test_padded_array_with_lengths_equals_list():
    X, y = toy(8)
    T = max(len(s) for s in X)
    padded = np.zeros((len(X), T, 2), dtype=np.float32)
    for i, s in enumerate(X):
        padded[i, : len(s)] = s
    clf = quick().fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(padded, lengths=[len(s) for s in X]), clf.predict_proba(X), atol=1e-6)


def test_long_dataframe_input():
    X, y = toy(10)
    rows = [dict(id=f"s{i}", time=t, a=float(s[t, 0]), b=float(s[t, 1])) for i, s in enumerate(X) for t in range(len(s))]
    df = pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # shuffled rows: time column orders them
    labels = pd.Series(y, index=[f"s{i}" for i in range(len(X))]).sample(frac=1.0, random_state=1)
    clf = quick().fit(df, labels)
    ids = list(dict.fromkeys(df["id"]))
    ref = quick().fit([X[int(k[1:])] for k in ids], labels.loc[ids].to_numpy())
    np.testing.assert_allclose(clf.predict_proba(df), ref.predict_proba([X[int(k[1:])] for k in ids]), atol=1e-6)


def test_sklearn_pipeline_cross_val_and_grid_search():
    X, y = toy(24, ragged=False)
    X = np.stack(X)
    pipe = Pipeline([("clf", quick())])
    scores = cross_val_score(pipe, X, y, cv=2)
    assert scores.shape == (2,)
    grid = GridSearchCV(quick(), {"pooling": ["mean", "last"]}, cv=2).fit(X, y)
    assert grid.best_params_["pooling"] in ("mean", "last")


def test_save_load_predicts_identically(tmp_path):
    X, y = toy()
    clf = quick(pooling="attention", class_weight="balanced").fit(X, y)
    clf.save(tmp_path / "m")
    back = lstmkit.load(tmp_path / "m")
    assert isinstance(back, LSTMClassifier) and back.get_params()["pooling"] == "attention"
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    assert back.predict(X).tolist() == clf.predict(X).tolist()
    # the task model alone round-trips too
    clf.network_.save(tmp_path / "core")
    core = lstmkit.load(tmp_path / "core")
    assert isinstance(core, ClassifierNetwork)


def test_learns_italy_power_demand():
    d = lstmkit.datasets.load("ItalyPowerDemand")
    # 40 epochs: at 25 the test accuracy still depends on the seed (0.69-0.87 over seeds 0-3), and a
    # change of rounding in the kernel moved seed 0 from above 0.85 to 0.849; at 40: 0.91-0.93.
    # the plain LSTM with the trainer of its time (constant rate, no step cap); LSTM-FCN, the
    # default, learns in tests/models/test_lstm_fcn.py
    clf = LSTMClassifier(hidden_size=32, scaler="sequence", architecture="lstm", patch_size=1, val_size=0,
                         trainer=dict(max_epochs=40, batch_size=16, lr=3e-3, seed=0, max_steps=None, schedule="constant",
                                      warmup_steps=0, patience=None))
    clf.fit(d.X_train, d.y_train)
    acc = clf.score(d.X_test, d.y_test)
    assert acc > 0.85, acc  # chance is 0.5


def test_class_weight_balanced_and_dict():
    X, y = toy()
    clf = quick(class_weight={"pos": 3.0}).fit(X, y)
    assert clf.network_.config.class_weight == [1.0, 3.0]
    with pytest.raises(ConfigError, match="not in y"):
        quick(class_weight={"posx": 3.0}).fit(X, y)


def test_bad_input_errors():
    X, y = toy(8)
    with pytest.raises(NotFittedError):
        LSTMClassifier().predict(X)
    nan_X = [s.copy() for s in X]
    nan_X[3][2, 1] = np.nan
    with pytest.raises(DataError, match=r"X\[3\] has a non-finite value .* at step 2, feature 1"):
        quick().fit(nan_X, y)
    # ragged data padded with NaN, passed without lengths
    T = max(len(s) for s in X)
    padded = np.full((len(X), T, 2), np.nan, dtype=np.float32)
    for i, s in enumerate(X):
        padded[i, : len(s)] = s
    with pytest.raises(DataError, match="pass lengths="):
        quick().fit(padded, y)
    with pytest.raises(DataError, match="lengths= disagrees"):
        quick().fit(X, y, lengths=[3] * len(X))
    with pytest.raises(DataError, match=r"lengths must be integers in \[1, "):
        quick().fit(np.nan_to_num(padded), y, lengths=[T + 1] * len(X))
    clf = quick().fit(X, y)
    with pytest.raises(DataError, match=r"never seen at fit time: 'maybe'"):
        clf.score(X, np.where(y == "pos", "maybe", y))
    with pytest.raises(DataError, match=r"X\[3\] has a non-finite value .*; impute or drop missing values first"):
        clf.predict(nan_X)
    w = np.arange(len(X), dtype=float)
    assert clf.score(X, y, sample_weight=w) == pytest.approx(np.sum(w * (clf.predict(X) == y)) / w.sum())
    for bad, got, error in ((np.ones(5), r"got shape \(5,\)", ShapeError), (np.zeros(len(X)), "min 0, sum 0", DataError),
                            (-w, "min -7, sum -28", DataError)):
        with pytest.raises(error, match=rf"sample_weight must be 8 finite weights >= 0, not all 0 .*{got}"):
            clf.score(X, y, sample_weight=bad)
    with pytest.raises(ShapeError, match="3 features per step, but the model was fitted with 2"):
        clf.predict([np.zeros((4, 3))])
    with pytest.raises(ConfigError, match="pooling must be one of .*did you mean 'mean'"):
        quick(pooling="meen").fit(X, y)
    with pytest.raises(DataError, match="at least 2 classes"):
        quick().fit(X, ["a"] * len(X))



def test_task_model_config_round_trip():
    clf = quick(pooling="max").fit(*toy(8))
    cfg = clf.network_.get_config()
    rebuilt = ClassifierNetwork.from_config(cfg)
    assert rebuilt.get_config() == cfg
    with pytest.raises(ConfigError, match="unknown key 'hiden_size' .*did you mean 'hidden_size'"):
        ClassifierNetwork.from_config({**cfg, "hiden_size": 3})


def test_validation_split_feeds_early_stopping():
    X, y = toy(24)
    clf = LSTMClassifier(hidden_size=8, val_size=0.25,
                         trainer=dict(max_epochs=4, patience=2, seed=0)).fit(X, y)
    assert {"val_loss", "val_accuracy"} <= set(clf.history_[-1])
    with pytest.raises(ConfigError, match=r"val_size must be a fraction in \[0, 1\) or a count"):
        quick(val_size=1.5).fit(X, y)


def test_mixed_label_list_keeps_label_types():
    X, y = toy()
    labels = [1 if v == "pos" else "one" for v in y]  # a plain list: np.asarray would make '1' of 1
    clf = quick().fit(X, labels)
    assert sorted(map(repr, clf.classes_.tolist())) == ["'one'", "1"]
    assert 0.0 <= clf.score(X, labels) <= 1.0
    assert set(clf.predict(X).tolist()) <= {1, "one"}
    with pytest.raises(DataError, match=r"never seen at fit time: '1'"):
        clf.score(X, ["1" if v == 1 else v for v in labels])


@pytest.mark.parametrize("weights", [{"pos": 3.0}, {7: 3.0, -3: 0.5}, {1: 2.0, "one": 0.5}])
def test_dict_class_weight_survives_save_load(tmp_path, weights):
    X, y = toy()
    keys = list(weights)
    labels = [keys[0] if v == "pos" else (keys[1] if len(keys) > 1 else v) for v in y]
    clf = quick(class_weight=weights).fit(X, labels)
    clf.save(tmp_path / "m")
    back = lstmkit.load(tmp_path / "m")
    got = back.get_params()["class_weight"]
    assert got == weights and [type(k) for k in got] == [type(k) for k in weights]
    refit = clone(back).fit(X, labels)
    assert refit.network_.config.class_weight == clf.network_.config.class_weight
