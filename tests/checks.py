"""The one shared check of every task estimator: ``check_estimator(case, tmp_path)``.

A new estimator adds one :class:`Case` to ``CASES`` (a tiny estimator, tiny data, how to predict,
which bad inputs must fail and how) and ``tests/estimators/test_checks.py`` runs every check on it.
The fresh-process load reads this module too (``python -c`` with ``tests/`` on the path), so each
case's data and predict function are plain module-level code: nothing is pickled.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

import lstmkit
from lstmkit.errors import ConfigError, LstmkitError, NotFittedError
from lstmkit.data.pianoroll import PianoRoll
from lstmkit.estimators import (ESRNNForecaster, Estimator, LSTMAnomalyDetector, LSTMCaptioner, LSTMClassifier, LSTMForecaster,
                                LSTMLanguageModel, LSTMMusicModel, LSTMSeq2Seq, LSTMTagger, LSTMTranscriber)
from lstmkit.persist import config_from_dict

TINY_TRAINER = {"max_epochs": 2, "batch_size": 8, "lr": 1e-2, "quiet": True}


@dataclasses.dataclass
class Case:
    """How to exercise one estimator class on tiny data."""

    cls: type[Estimator]
    params: dict[str, Any]  # a tiny, fast configuration
    fit_args: Callable[[], tuple]  # () -> positional arguments of fit
    predict: Callable[[Any], Any]  # fitted estimator -> predictions (arrays, frames or lists)
    bad_inputs: list[tuple[str, Callable[[], tuple], str]]  # (what, () -> fit args, regex the error must match)
    grid_score: Callable[[Any, tuple], float] | None = None  # scorer for GridSearchCV when fit takes no y
    sklearn_check: str | None = None  # None: run scikit-learn's check_estimator; else why it is skipped

    def make(self, **params: Any) -> Estimator:
        return self.cls(**{**self.params, **params})


# --- data of the cases ------------------------------------------------------------------------
def _series() -> tuple:
    idx = pd.date_range("2000-01-01", periods=40, freq="MS")
    return (pd.Series(10 + np.sin(np.arange(40) / 2.0), index=idx, name="sales"),)


def _sequences() -> tuple:
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(4, 9)), 2)).astype(np.float32) + (1 if i % 2 else -1) for i in range(16)]
    return X, np.array(["down", "up"] * 8)


def _sentences() -> tuple:
    sents = [["the", "dog"], ["a", "cat"], ["dogs", "run"], ["the", "cats", "run"]] * 3
    tags = [["DET", "NOUN"], ["DET", "NOUN"], ["NOUN", "VERB"], ["DET", "NOUN", "VERB"]] * 3
    return sents, tags


def zen_lines() -> list[str]:
    """The Zen of Python (PEP 20), 19 lines of real English that ship with every Python."""
    import codecs
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints the poem
        import this
    return codecs.decode(this.s, "rot13").splitlines()


def _text() -> tuple:
    return (zen_lines(),)


def cadences() -> list[PianoRoll]:
    """Six 16-frame four-voice pieces: I-IV-V-I cadences in C, G, F, D, A and Bb, two frames per chord."""
    pieces = []
    for tonic in (0, 7, 5, 2, 9, 10):
        s = np.zeros((16, 128), dtype=bool)
        o = np.zeros_like(s)
        for k, chord in enumerate([(0, 4, 7, 12), (5, 9, 12, 17), (7, 11, 14, 19), (0, 4, 7, 12)] * 2):
            for p in chord:
                s[2 * k:2 * k + 2, 48 + tonic + p] = True
                o[2 * k, 48 + tonic + p] = True
        pieces.append(PianoRoll(s, o, 1, 4, 0, (tonic, "major"), f"cadence in {tonic}"))
    return pieces


def _telemetry() -> tuple:
    t = np.arange(120)
    return (pd.DataFrame({"a": np.sin(t / 3.0), "b": np.cos(t / 5.0) + 0.1 * np.sin(t), "label": 0}),)


def _pieces() -> tuple:
    return (cadences(),)


MONTHS = ("january", "february", "march", "april", "may", "june")


def date_pairs() -> tuple:
    """Tiny date normalisation: "3 march 2002" -> "2002-03-03"."""
    X = [f"{d} {MONTHS[m]} {2000 + y}" for d, m, y in ((d, (d * 7) % 6, d % 5) for d in range(1, 25))]
    y = [f"{2000 + yy}-{m + 1:02d}-{d:02d}" for d, m, yy in ((d, (d * 7) % 6, d % 5) for d in range(1, 25))]
    return X, y


def picture_captions() -> tuple:
    """Tiny captioning: 12 images of 16 x 12 px, a bright square left or right, one or two references."""
    images = np.zeros((12, 16, 12, 3), np.uint8)
    captions: list[Any] = []
    for i in range(12):
        left = i % 2 == 0
        images[i, 4:10, (1 if left else 7):(5 if left else 11), i % 3] = 255
        words = f"a {('red', 'green', 'blue')[i % 3]} square on the {'left' if left else 'right'}"
        captions.append(words if i % 4 else [words, words.replace("a ", "one ", 1)])
    return images, captions


def glyph_lines() -> tuple:
    """Tiny transcription: 16 grey line images 8 px high, each letter a fixed 8 x 4 glyph."""
    rng = np.random.default_rng(0)
    glyphs = {c: (rng.random((8, 4)) > 0.5).astype(np.float32) for c in "abc"}
    X, y = [], []
    for i in range(16):
        text = "abc"[i % 3] + "abc"[(i // 3) % 3] + ("c" if i % 2 else "")
        X.append(np.concatenate([np.pad(glyphs[ch], ((0, 0), (1, 1))) for ch in text], axis=1))
        y.append(text)
    return X, y


CASES: dict[str, Case] = {
    "LSTMForecaster": Case(
        LSTMForecaster, dict(horizon=3, lookback=6, hidden_size=4, trainer=TINY_TRAINER), _series,
        predict=lambda est: est.predict(),
        bad_inputs=[
            ("horizon", lambda: _series(), r"horizon must be a positive int, got -1"),
            ("y", lambda: (pd.Series([1.0, np.nan, 3.0] * 10, index=pd.date_range("2000", periods=30, freq="D")),), r"NaN"),
            ("y", lambda: (pd.Series(np.arange(3.0), index=pd.date_range("2000", periods=3, freq="D")),), r"series too short"),
        ],
        grid_score=lambda est, args: -float(np.abs(est.predict()["mean"].to_numpy()).mean()),
        sklearn_check="fit(y, X) takes a time series, not scikit-learn's (n_samples, n_features) tables",
    ),
    "ESRNNForecaster": Case(
        ESRNNForecaster, dict(horizon=3, lookback=6, season_length=4, hidden_size=4, trainer=TINY_TRAINER), _series,
        predict=lambda est: est.predict(),
        bad_inputs=[
            ("season_length", lambda: _series(), r"season_length must be a positive int or 'auto', got 0"),
            ("y", lambda: (pd.Series(np.arange(40.0), index=pd.date_range("2000", periods=40, freq="D")),),
             r"ESRNNForecaster is multiplicative .* needs values > 0; series 'y' has 0.0 at position 0"),
            ("y", lambda: (pd.Series([1.0, 2.0, 3.0], index=pd.date_range("2000", periods=3, freq="D")),), r"series too short"),
        ],
        grid_score=lambda est, args: -float(np.abs(est.predict()["mean"].to_numpy()).mean()),
        sklearn_check="fit(y) takes a time series, not scikit-learn's (n_samples, n_features) tables",
    ),
    "LSTMClassifier": Case(
        LSTMClassifier, dict(hidden_size=4, head_hidden_size=4, fcn_filters=(4, 4, 4), trainer=TINY_TRAINER), _sequences,
        predict=lambda est: est.predict_proba(_sequences()[0]),
        bad_inputs=[
            ("pooling", lambda: _sequences(), r"pooling must be one of"),
            ("X", lambda: ([np.array([[np.nan, 1.0]], np.float32)] * 2, ["a", "b"]), r"X\[0\] has a non-finite value"),
            ("y", lambda: (_sequences()[0], ["a"] * 16), r"at least 2 classes"),
        ],
        sklearn_check=None,
    ),
    "LSTMTagger": Case(
        LSTMTagger, dict(embedding_dim=4, hidden_size=4, char_dim=3, char_filters=3, trainer=TINY_TRAINER), _sentences,
        predict=lambda est: est.predict([["the", "cat"], ["unseen", "run"]]),
        bad_inputs=[
            ("unk_replace", lambda: _sentences(), r"unk_replace must be in \[0, 1\], got 2"),
            ("X", lambda: ([["the", "dog"], []], [["DET", "NOUN"], []]), r"X\[1\] is an empty sentence"),
            ("y", lambda: ([["the", "dog"]], [["DET"]]), r"y\[0\] has 1 tags for 2 steps"),
        ],
        sklearn_check="fit(X, y) takes token sentences with one tag per token, not (n_samples, n_features) tables",
    ),
    "LSTMLanguageModel": Case(
        LSTMLanguageModel, dict(level="char", embedding_dim=8, hidden_size=8, num_layers=1, bptt=16, val_size=0.1,
                                trainer={**TINY_TRAINER, "optimizer": "adam"}), _text,
        predict=lambda est: [est.generate("Beautiful is", 12, temperature=0), est.evaluate(zen_lines()[:3])["loss"],
                             est.generate("Flat", 8, seed=3)],
        bad_inputs=[
            ("level", lambda: _text(), r"level must be one of \['word', 'char'\], got 'wrod'"),
            ("X", lambda: ("   \n ",), r"X is empty"),
            ("X", lambda: ("two words",), r"the training text holds \d+ tokens; it needs more than 2 x batch_size"),
        ],
        grid_score=lambda est, args: est.score(args[0]),
        sklearn_check="fit(X) takes text (a str, lines or a file), not scikit-learn's (n_samples, n_features) tables",
    ),
    "LSTMMusicModel": Case(
        LSTMMusicModel, dict(hidden_size=8, nade_hidden_size=4, val_size=0.2, trainer=TINY_TRAINER), _pieces,
        predict=lambda est: [est.evaluate(cadences()[:2])["nll"], est.generate(bars=2, seed=1).notes(),
                             est.generate(cadences()[0], 1, temperature=0, include_primer=False).notes()],
        bad_inputs=[
            ("grid", lambda: _pieces(), r"grid must be one of \['quarter', 'eighth', 'sixteenth'\], got 'quater'"),
            ("X", lambda: ([],), r"X is empty"),
            ("X", lambda: ([PianoRoll(np.zeros((4, 128), bool), np.zeros((4, 128), bool))],), r"X\[0\] holds no notes"),
        ],
        grid_score=lambda est, args: est.score(args[0]),
        sklearn_check="fit(X) takes pieces of music (piano rolls or score files), not (n_samples, n_features) tables",
    ),
    "LSTMAnomalyDetector": Case(
        LSTMAnomalyDetector, dict(hidden_size=4, num_layers=1, window=8, trainer=TINY_TRAINER), _telemetry,
        predict=lambda est: [est.decision_function(_telemetry()[0]).tolist(), est.predict(_telemetry()[0]).tolist(),
                             [est.update([0.1, 0.2])[0] for _ in range(3)]],
        bad_inputs=[
            ("threshold", lambda: _telemetry(), r"threshold must be one of \['dynamic', 'quantile', 'contamination'\], got 'dynamc'"),
            ("X", lambda: (pd.DataFrame({"a": np.ones(40)}),), r"column\(s\) \['a'\] are constant in the training series"),
            ("X", lambda: (np.arange(10.0),), r"holds 10 points; window=8 needs at least 16"),
        ],
        grid_score=lambda est, args: est.score(args[0]),
        sklearn_check="fit(X) takes one time series whose rows are ordered time steps, not exchangeable samples",
    ),
    "LSTMSeq2Seq": Case(
        LSTMSeq2Seq, dict(embedding_dim=6, hidden_size=8, trainer=TINY_TRAINER), date_pairs,
        predict=lambda est: [est.predict(date_pairs()[0][:4]), est.predict(["", "7 décembre 1999 !"], num_beams=2),
                             est.translate(date_pairs()[0][:1])[0].attention.round(6).tolist()],
        bad_inputs=[
            ("attention", lambda: date_pairs(), r"attention must be one of \['none', 'additive', 'dot', 'general'\], got 'additiv'"),
            ("X", lambda: ([], []), r"X holds no texts"),
            ("y", lambda: (date_pairs()[0], date_pairs()[1][:3]), r"X has 24 texts and y has 3"),
            ("X", lambda: (["a", 3], ["b", "c"]), r"X\[1\] must be a str, got int"),
        ],
        sklearn_check="fit(X, y) takes lists of texts (str), not scikit-learn's (n_samples, n_features) tables",
    ),
    "LSTMCaptioner": Case(
        LSTMCaptioner, dict(conv_channels=4, conv_blocks=2, embedding_dim=4, hidden_size=8, trainer=TINY_TRAINER),
        picture_captions,
        predict=lambda est: [est.predict(picture_captions()[0][:3]), est.predict(picture_captions()[0][:2], num_beams=2),
                             est.describe(picture_captions()[0][:1])[0].attention.round(6).tolist()],
        bad_inputs=[
            ("attention", lambda: picture_captions(), r"attention must be one of \['none', 'additive', 'dot', 'general'\], got 'additiv'"),
            ("X", lambda: (np.zeros((4, 16)), ["a"] * 4), r"X must be images \(N, H, W, C\) or clips \(N, T, H, W, C\), got shape \(4, 16\)"),
            ("y", lambda: (picture_captions()[0], ["a square"] * 3), r"y has 3 entries for 12 images"),
            ("X", lambda: (picture_captions()[0] * 2.0, picture_captions()[1]), r"float images must be in \[0, 1\]"),
        ],
        sklearn_check="fit(X, y) takes images (N, H, W, C) and captions (text), not (n_samples, n_features) tables",
    ),
    "LSTMTranscriber": Case(
        LSTMTranscriber, dict(conv_channels=3, hidden_size=8, num_layers=1, trainer=TINY_TRAINER), glyph_lines,
        predict=lambda est: [est.predict(glyph_lines()[0][:3]),
                             est.predict(glyph_lines()[0][:2], decoder="beam", num_beams=3, lm_weight=0.5)],
        bad_inputs=[
            ("decoder", lambda: glyph_lines(), r"decoder must be one of \['greedy', 'beam'\], got 'greddy'"),
            ("X", lambda: ([], []), r"X holds no inputs"),
            ("y", lambda: (glyph_lines()[0], glyph_lines()[1][:3]), r"y has 3 transcripts for 16 inputs"),
            ("y", lambda: (glyph_lines()[0][:2], ["abcabcabcabc", "a"]), r"cannot fit their input under CTC: y\[0\] needs"),
        ],
        sklearn_check="fit(X, y) takes images or frame sequences of varying length and their transcripts (text)",
    ),
}

_BAD_PARAMS = {"ESRNNForecaster": {"season_length": 0}, "LSTMAnomalyDetector": {"threshold": "dynamc"}, "LSTMForecaster": {"horizon": -1}, "LSTMClassifier": {"pooling": "avrage"}, "LSTMTagger": {"unk_replace": 2},
               "LSTMLanguageModel": {"level": "wrod"}, "LSTMMusicModel": {"grid": "quater"},
               "LSTMSeq2Seq": {"attention": "additiv"}, "LSTMCaptioner": {"attention": "additiv"},
               "LSTMTranscriber": {"decoder": "greddy"}}


def _canonical(pred: Any) -> Any:
    """Predictions as JSON values (exact floats: JSON writes repr)."""
    if isinstance(pred, pd.DataFrame):
        return {"index": [str(i) for i in pred.index], **{c: pred[c].tolist() for c in pred.columns}}
    if isinstance(pred, np.ndarray):
        return pred.tolist()
    return pred


# --- the check --------------------------------------------------------------------------------
def check_estimator(case: Case, tmp_path: Path) -> None:
    """Every check a task estimator must pass (see the module docstring)."""
    name = case.cls.__name__
    est = case.make()

    # parameters: nested trainer fields over the estimator's defaults; clone keeps them
    params = est.get_params()
    assert params["trainer__max_epochs"] == (case.params.get("trainer") or {}).get("max_epochs")
    given = case.params.get("trainer") or {}
    untouched = next((k for k in case.cls.trainer_defaults if k not in given), None)
    if untouched:
        assert params[f"trainer__{untouched}"] == case.cls.trainer_defaults[untouched]  # defaults merged, not replaced
    est.set_params(trainer__lr=5e-3)
    assert est.trainer_config().lr == 5e-3 and est.trainer_config().max_epochs == TINY_TRAINER["max_epochs"]
    with pytest.raises(ConfigError, match=r"unknown trainer field 'lrr' \(did you mean 'lr'\?\)"):
        est.set_params(trainer__lrr=1.0)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "networks_")

    # not fitted yet
    with pytest.raises(NotFittedError):
        case.predict(est)

    # fit on tiny data; the learned attributes are the ones declared once
    args = case.fit_args()
    assert est.fit(*args) is est
    for attr in case.cls.learned_attributes:
        assert hasattr(est, attr), attr
    pred = _canonical(case.predict(est))

    # network config round trip
    net = est.networks_[0]
    assert type(net).from_config(net.get_config()).get_config() == net.get_config()
    assert config_from_dict(type(net).config_class, net.get_config()) == net.config

    # save -> load in this process and in a fresh one: identical predictions and parameters
    path = est.save(tmp_path / name)
    again = lstmkit.load(path)
    assert type(again) is case.cls and _canonical(case.predict(again)) == pred
    assert again.get_params() == est.get_params()
    out = tmp_path / f"{name}.json"
    # the same thread count as this process: GEMMs split over threads round differently
    code = (f"import json, torch, lstmkit; torch.set_num_threads({torch.get_num_threads()}); "
            "from checks import CASES, _canonical; "
            f"est = lstmkit.load({str(path)!r}); "
            f"json.dump(_canonical(CASES[{name!r}].predict(est)), open({str(out)!r}, 'w'))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
    assert json.loads(out.read_text()) == json.loads(json.dumps(pred))

    # ONNX export (every task model, present and future): onnxruntime agrees with PyTorch on other
    # batch sizes and lengths, and across a continued stream where the network carries state
    if importlib.util.find_spec("onnxruntime") is not None:
        report = again.to_onnx(tmp_path / f"{name}.onnx")
        assert report.max_abs_error < 1e-4 and len(report.checks) >= 3

    # bad input: lstmkit errors naming the argument, before any training
    for what, bad_args, pattern in case.bad_inputs:
        bad = case.make(**(_BAD_PARAMS[name] if what in _BAD_PARAMS[name] else {}))
        with pytest.raises(LstmkitError, match=pattern):
            bad.fit(*bad_args())


def check_grid_search(case: Case) -> None:
    """``GridSearchCV`` over a nested trainer field runs and refits the best setting."""
    args = case.fit_args()
    kw: dict[str, Any] = {"cv": 2, "error_score": "raise"}
    if case.grid_score is not None:  # fit(y): no labels to split by; score the fitted forecasts
        whole = np.arange(len(args[0]))  # a time series is not split at random: each fold fits the whole series
        kw.update(cv=[(whole, whole)] * 2, scoring=lambda est, *_: case.grid_score(est, args))
        search = GridSearchCV(case.make(), {"trainer__lr": [1e-3, 3e-3]}, **kw)
        search.fit(*args)
    else:
        search = GridSearchCV(case.make(), {"trainer__lr": [1e-3, 3e-3]}, **kw).fit(*args)
    assert search.best_params_["trainer__lr"] in (1e-3, 3e-3)
    assert search.best_estimator_.trainer_config().lr == search.best_params_["trainer__lr"]
