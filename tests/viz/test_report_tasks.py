"""Reports of task-estimator runs: the evaluation table against baselines and the gate views."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from lstmkit import LSTMClassifier, LSTMForecaster, LSTMTagger
from lstmkit.train.run_record import EVALUATION_FILE, HELDOUT_FILE, read_heldout

pytest.importorskip("plotly", reason="the report needs plotly (the viz extra)")
from lstmkit.viz.report import write_report  # noqa: E402

TINY = {"max_epochs": 2, "batch_size": 16, "quiet": True}


def _rows(run):
    doc = json.loads((run / EVALUATION_FILE).read_text())
    return doc, {r["model"]: r for r in doc["rows"]}


def test_classifier_run_records_validation_scores_beside_the_majority_class(tmp_path):
    rng = np.random.default_rng(0)
    y = np.array(["a"] * 30 + ["b"] * 10)
    X = rng.normal(size=(40, 6, 2)) + (y == "b")[:, None, None]
    run = tmp_path / "run"
    clf = LSTMClassifier(hidden_size=4, val_size=0.25, random_state=0, trainer={**TINY, "run_dir": str(run)}).fit(X, y)
    doc, rows = _rows(run)
    assert doc["split"].startswith("validation") and doc["n_samples"] == 10
    majority = next(v for k, v in rows.items() if k.startswith("majority class ('a'"))
    assert majority["accuracy"] == pytest.approx(0.8)  # stratified 10 of 30 'a' + 10 'b': 8 'a' and 2 'b' held out
    model = rows["lstmkit ClassifierNetwork"]
    batch = read_heldout(run)
    assert set(doc["heldout"]["keys"]) == set(batch) == {"x", "lengths", "y"} and batch["x"].shape[0] == 8
    # The table's model figure is the network's own validation accuracy (what the trainer logged last).
    assert model["accuracy"] == pytest.approx(clf.history_[-1]["val_accuracy"])
    page = write_report(run, tmp_path / "r.html", n_sequences=2).read_text()
    for piece in ('id="evaluation"', "Evaluation against baselines", "majority class", "Sample 1 (6 steps)",
                  "validation split"):
        assert piece in page, piece
    assert "Sample 2" not in page and 'class="note"' not in page


def test_tagger_without_validation_says_its_figures_are_on_training_data(tmp_path):
    X = [["the", "cat", "sat"], ["a", "dog", "ran"], ["the", "dog", "sat"]] * 4
    y = [["D", "N", "V"]] * 12
    run = tmp_path / "run"
    LSTMTagger(hidden_size=4, embedding_dim=4, random_state=0, trainer={**TINY, "run_dir": str(run)}).fit(X, y)
    doc, rows = _rows(run)
    assert doc["split"].startswith("training data")
    assert rows["each token's most frequent training tag"]["token_accuracy"] == 1.0  # every token has one tag
    assert rows["most frequent tag (of the training tags)"]["token_accuracy"] == pytest.approx(1 / 3)
    page = write_report(run, tmp_path / "r.html", n_sequences=1).read_text()
    assert "figures on seen data" in page and "Sample 0 (3 steps)" in page


def test_forecaster_run_scores_the_naive_forecast_on_the_validation_windows(tmp_path):
    t = np.arange(120)
    y = pd.Series(10 + np.sin(2 * np.pi * t / 12), index=pd.date_range("2000-01", periods=120, freq="MS"))
    run = tmp_path / "run"
    LSTMForecaster(horizon=3, lookback=12, hidden_size=4, transform=None, random_state=0,
                   trainer={**TINY, "run_dir": str(run)}).fit(y)
    doc, rows = _rows(run)
    batch = read_heldout(run)
    past, fut = batch["past"][..., 0], batch["y"]
    assert doc["split"].startswith("validation") and "scaled space" in doc["units"]
    assert set(rows) == {"lstmkit ForecasterNetwork", "naive (last observed value)", "mean of the lookback window"}
    assert doc["n_samples"] == 1  # val_size = horizon: one 3-step window per series
    assert rows["naive (last observed value)"]["mae"] == pytest.approx(float((fut - past[:, -1:]).abs().mean()), rel=1e-6)
    page = write_report(run, tmp_path / "r.html").read_text()
    assert "naive (last observed value)" in page and "Sample 0 (12 steps)" in page  # the encoder reads the lookback


def test_a_run_folder_from_before_the_record_gets_a_note(tmp_path):
    rng = np.random.default_rng(1)
    run = tmp_path / "run"
    LSTMClassifier(hidden_size=4, random_state=0, trainer={**TINY, "run_dir": str(run)}).fit(
        rng.normal(size=(12, 5, 1)), [0, 1] * 6)
    (run / EVALUATION_FILE).unlink()
    (run / HELDOUT_FILE).write_bytes(b"not safetensors")
    page = write_report(run, tmp_path / "r.html").read_text()
    assert f"No <code>{EVALUATION_FILE}</code>" in page and "holds no samples to draw" in page


def test_language_model_run_reports_perplexity_beside_a_unigram_model(tmp_path):
    from checks import zen_lines

    from lstmkit import LSTMLanguageModel

    run = tmp_path / "run"
    text = "\n".join(zen_lines() * 4) + "\n"
    LSTMLanguageModel(level="char", embedding_dim=8, hidden_size=16, num_layers=1, bptt=16, val_size=0.25,
                      trainer={"max_epochs": 3, "batch_size": 4, "optimizer": "adam", "lr": 1e-2, "quiet": True,
                               "run_dir": str(run)}).fit(text)
    doc, rows = _rows(run)
    assert doc["split"].startswith("validation text") and "zero state" in doc["units"]
    unigram = rows["unigram (training frequencies)"]
    assert unigram["perplexity"] == pytest.approx(np.exp(unigram["loss"]))
    assert 10 < unigram["perplexity"] < 40  # English characters: about 2^4.2 = 18
    batch = read_heldout(run)
    assert set(batch) == {"x", "y"} and batch["x"].shape == (8, 64) and torch.equal(batch["x"][0, 1:], batch["y"][0, :-1])
    page = write_report(run, tmp_path / "r.html", n_sequences=1).read_text()
    assert "unigram (training frequencies)" in page and "Sample 0 (64 steps)" in page and 'class="note"' not in page
